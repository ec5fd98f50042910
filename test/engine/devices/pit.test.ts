// 8254 PIT through the port bus, on a clock the test moves: one PIT tick is 8 instructions (scheduler.ts).
import { describe, expect, it } from 'vitest';
import { Pit } from '../../../engine/devices/pit';
import { SystemPortB } from '../../../engine/devices/system-port-b';
import { INSTRUCTIONS_PER_PIT_TICK as TICK } from '../../../engine/machine/scheduler';
import { Rig } from './rig';

function setup() {
  const rig = new Rig();
  const pit = new Pit(rig.scheduler, rig.irq(0));
  pit.attach(rig.io);
  const portB = new SystemPortB(pit, () => rig.time);
  portB.attach(rig.io);
  return { rig, pit, portB };
}

/** Control word, then the count low byte and high byte. */
function program(rig: Rig, channel: number, mode: number, count: number, bcd = false): void {
  rig.out(0x43, (channel << 6) | 0x30 | (mode << 1) | (bcd ? 1 : 0));
  rig.out(0x40 + channel, count & 0xff, count >> 8);
}

function latchedCount(rig: Rig, channel: number): number {
  rig.out(0x43, channel << 6);
  const lo = rig.in(0x40 + channel);
  return lo | (rig.in(0x40 + channel) << 8);
}

describe('8254 PIT', () => {
  it('mode 2: IRQ 0 rises every N ticks, the first N ticks after the count is loaded (the clock after the write)', () => {
    const { rig } = setup();
    program(rig, 0, 2, 100);
    rig.advanceTo(3000);
    // Loaded at tick 1; OUT low at tick 100 (count 1), high again at tick 101, and so on.
    expect(rig.rises(0)).toEqual([101 * TICK, 201 * TICK, 301 * TICK]);
    const falls = rig.irqLog.get(0)!.filter((e) => !e.level).map((e) => e.at);
    expect(falls).toEqual([100 * TICK, 200 * TICK, 300 * TICK]);
  });

  it('mode 2: the count runs N..1 and is never 0', () => {
    const { rig } = setup();
    program(rig, 0, 2, 10);
    const seen = new Set<number>();
    for (let t = TICK; t < 40 * TICK; t += TICK) {
      rig.advanceTo(t);
      seen.add(latchedCount(rig, 0));
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('mode 3: a square wave, high for ceil(N/2) ticks and low for floor(N/2), counting down by two', () => {
    const { rig } = setup();
    program(rig, 0, 3, 7);
    rig.advanceTo(30 * TICK);
    const log = rig.irqLog.get(0)!.map((e) => [e.at / TICK, e.level]);
    expect(log).toEqual([
      [5, false], [8, true], [12, false], [15, true], [19, false], [22, true], [26, false], [29, true],
    ]);
    rig.advanceTo(30 * TICK + 3); // tick 30: one tick into a high half (started at 29)
    expect(latchedCount(rig, 0) % 2).toBe(0);
  });

  it('mode 0: OUT drops at the control word and rises once at terminal count; the counter wraps on', () => {
    const { rig, pit } = setup();
    program(rig, 0, 0, 50);
    expect(pit.output(0)).toBe(false);
    rig.advanceTo(50 * TICK);
    expect(pit.output(0)).toBe(false);
    expect(latchedCount(rig, 0)).toBe(1);
    rig.advanceTo(51 * TICK);
    expect(pit.output(0)).toBe(true);
    expect(rig.rises(0)).toEqual([51 * TICK]);
    rig.advanceTo(53 * TICK);
    expect(latchedCount(rig, 0)).toBe(0xfffe);
    rig.advanceTo(100000 * TICK);
    expect(rig.rises(0)).toEqual([51 * TICK]);
  });

  it('OUT alone (port 61h, the IRQ line) is the OUT of the full state, in every mode, tick by tick and across a reload', () => {
    for (const mode of [0, 1, 2, 3, 4, 5]) {
      for (const count of [1, 2, 3, 7, 10]) {
        const { rig, pit } = setup();
        rig.out(0x61, 0x01); // gate channel 2 on
        program(rig, 2, mode, count);
        let reloaded = false;
        for (let t = 0; t < 40 * TICK; t += 3) {
          rig.advanceTo(t);
          if (!reloaded && t >= 20 * TICK) {
            rig.out(0x42, count + 2, 0); // a new count while counting
            reloaded = true;
          }
          expect(pit.output(2), `mode ${mode}, count ${count}, time ${t}`).toBe(pit.counterNow(2).out);
        }
      }
    }
  });

  it('mode 0: the first byte of a new two-byte count stops counting until the second', () => {
    const { rig } = setup();
    program(rig, 0, 0, 1000);
    rig.advanceTo(11 * TICK);
    expect(latchedCount(rig, 0)).toBe(990);
    rig.out(0x40, 0x00);
    rig.advanceTo(500 * TICK);
    expect(latchedCount(rig, 0)).toBe(990);
    rig.out(0x40, 0x01); // count 0x100
    rig.advanceTo(502 * TICK);
    expect(latchedCount(rig, 0)).toBe(0xff);
  });

  it('mode 4: one low tick at terminal count', () => {
    const { rig } = setup();
    program(rig, 0, 4, 20);
    rig.advanceTo(100 * TICK);
    expect(rig.irqLog.get(0)!.map((e) => [e.at / TICK, e.level])).toEqual([[21, false], [22, true]]);
  });

  it('holds a latched count while the counter runs, ignores a second latch, and reads it low byte first', () => {
    const { rig } = setup();
    program(rig, 0, 2, 0x1234);
    rig.advanceTo(0x34 * TICK);
    rig.out(0x43, 0x00);
    rig.advanceTo(0x100 * TICK);
    rig.out(0x43, 0x00); // ignored: the first latch has not been read
    expect(rig.in(0x40)).toBe(0x01);
    expect(rig.in(0x40)).toBe(0x12);
    // The next latch takes the current value.
    expect(latchedCount(rig, 0)).toBe(0x1234 - 0xff);
  });

  it('reads and writes with low-byte-only and high-byte-only access', () => {
    const { rig } = setup();
    rig.out(0x43, 0x14); // channel 0, LSB only, mode 2
    rig.out(0x40, 0x80); // count 0x0080
    rig.advanceTo(2 * TICK);
    expect(rig.in(0x40)).toBe(0x7f);
    expect(rig.in(0x40)).toBe(0x7f); // no toggle: always the low byte
    rig.out(0x43, 0x24); // MSB only, mode 2
    rig.out(0x40, 0x02); // count 0x0200
    rig.advanceTo(4 * TICK); // loaded at tick 3: 0x1ff one tick later
    rig.out(0x43, 0x00);
    expect(rig.in(0x40)).toBe(0x01); // the high byte only
  });

  it('takes a count of 0 as 65536 in binary and 10000 in BCD', () => {
    const { rig } = setup();
    program(rig, 0, 2, 0);
    rig.advanceTo(150000 * TICK);
    expect(rig.rises(0)).toEqual([65537 * TICK, 131073 * TICK]);
    const bcd = setup();
    program(bcd.rig, 0, 2, 0, true);
    bcd.rig.advanceTo(3 * TICK);
    expect(latchedCount(bcd.rig, 0)).toBe(0x9998); // BCD digits of 9998
    bcd.rig.advanceTo(25000 * TICK);
    expect(bcd.rig.rises(0)).toEqual([10001 * TICK, 20001 * TICK]);
  });

  it('loads a new mode 2 count at the end of the current period', () => {
    const { rig } = setup();
    program(rig, 0, 2, 100);
    rig.advanceTo(50 * TICK);
    rig.out(0x40, 10, 0); // new count, no control word
    rig.advanceTo(140 * TICK);
    expect(rig.rises(0)).toEqual([101 * TICK, 111 * TICK, 121 * TICK, 131 * TICK]);
  });

  it('answers the read-back command with the status byte, then the count', () => {
    const { rig } = setup();
    rig.out(0x43, 0xb6); // channel 2, LSB/MSB, mode 3, binary
    // OUT high (mode 3 after its control word), null count (no count written yet), LSB/MSB, mode 3, binary.
    expect((rig.out(0x43, 0xe8), rig.in(0x42))).toBe(0x80 | 0x40 | 0x36);
    rig.out(0x42, 0x00, 0x10);
    rig.out(0x61, 0x01); // gate channel 2 on
    rig.advanceTo(5 * TICK);
    rig.out(0x43, 0xc8); // latch count and status of channel 2
    expect(rig.in(0x42)).toBe(0x80 | 0x36); // OUT high, count loaded
    const lo = rig.in(0x42);
    expect(lo | (rig.in(0x42) << 8)).toBe(0x1000 - 2 * 4);
  });

  it('gates channel 2 from port 61h: no counting while the gate is low, OUT on bit 5, the speaker on bits 0–1', () => {
    const { rig, pit, portB } = setup();
    program(rig, 2, 3, 100);
    rig.advanceTo(500 * TICK);
    expect(latchedCount(rig, 2)).toBe(100); // gate low since power-on: the count waits
    expect(rig.in(0x61) & 0x20).toBe(0x20); // OUT high
    rig.out(0x61, 0x03);
    expect(portB.speakerOn).toBe(true);
    rig.advanceTo(560 * TICK); // loaded at tick 501, OUT low from tick 551
    expect(rig.in(0x61) & 0x23).toBe(0x03);
    expect(portB.speakerOn).toBe(false);
    rig.out(0x61, 0x00);
    expect(pit.output(2)).toBe(true); // gate low forces OUT high in mode 3
    expect(rig.in(0x61) & 0x0f).toBe(0x00);
  });

  it('suspends a mode 0 count on channel 2 while its gate is low and resumes where it stopped', () => {
    const { rig } = setup();
    rig.out(0x61, 0x01);
    program(rig, 2, 0, 100);
    rig.advanceTo(41 * TICK);
    expect(latchedCount(rig, 2)).toBe(60);
    rig.out(0x61, 0x00);
    rig.advanceTo(500 * TICK);
    expect(latchedCount(rig, 2)).toBe(60);
    rig.out(0x61, 0x01); // resumes at the next clock
    rig.advanceTo(511 * TICK);
    expect(latchedCount(rig, 2)).toBe(50);
    rig.advanceTo(560 * TICK);
    expect(rig.in(0x61) & 0x20).toBe(0); // 1 left: OUT still low
    rig.advanceTo(561 * TICK);
    expect(rig.in(0x61) & 0x20).toBe(0x20);
  });

  it('starts modes 1 and 5 on a rising gate only (a one-shot low pulse, a one-tick strobe)', () => {
    const { rig, pit } = setup();
    program(rig, 2, 1, 30);
    rig.advanceTo(100 * TICK);
    expect(pit.output(2)).toBe(true); // armed, not triggered
    rig.out(0x61, 0x01); // trigger at tick 100: loaded at 101
    rig.advanceTo(101 * TICK);
    expect(pit.output(2)).toBe(false);
    rig.advanceTo(131 * TICK);
    expect(pit.output(2)).toBe(true);
    rig.out(0x61, 0x00);
    program(rig, 2, 5, 10);
    rig.out(0x61, 0x01); // trigger at tick 131
    const outs: boolean[] = [];
    for (let t = 140; t <= 144; t++) {
      rig.advanceTo(t * TICK);
      outs.push(pit.output(2));
    }
    expect(outs).toEqual([true, true, false, true, true]); // low at the count of 0 (tick 142)
  });

  it('toggles the refresh bit of port 61h every 18 PIT ticks', () => {
    const { rig } = setup();
    const bits: number[] = [];
    for (let t = 0; t < 72 * TICK; t += 9 * TICK) {
      rig.advanceTo(t);
      bits.push((rig.in(0x61) >> 4) & 1);
    }
    expect(bits).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('mode 2 and 3 with the illegal count 1 leave OUT high, with no interrupt storm', () => {
    const { rig } = setup();
    program(rig, 0, 2, 1);
    rig.advanceTo(1000 * TICK);
    expect(rig.irqLog.get(0)).toBeUndefined();
    expect(rig.scheduler.nextDeadline()).toBe(Infinity);
  });

  it('reads FFh from the control port and treats modes 6 and 7 as 2 and 3', () => {
    const { rig, pit } = setup();
    expect(rig.in(0x43)).toBe(0xff);
    rig.out(0x43, 0x3c); // mode 6
    expect(pit.channels[0].mode).toBe(2);
    rig.out(0x43, 0x3e); // mode 7
    expect(pit.channels[0].mode).toBe(3);
  });

  it('restores a snapshot: the same edges follow', () => {
    const { rig, pit } = setup();
    program(rig, 0, 2, 100);
    rig.advanceTo(150 * TICK);
    const snap = pit.snapshot();
    const timers = rig.scheduler.snapshot();
    rig.advanceTo(400 * TICK);
    const after = rig.rises(0).filter((t) => t > 150 * TICK);
    rig.time = 150 * TICK;
    pit.restore(snap);
    rig.scheduler.restore(timers);
    rig.irqLog.clear();
    rig.levels.clear();
    rig.advanceTo(400 * TICK);
    expect(rig.rises(0)).toEqual(after);
  });
});

describe('port 61h steadyUntil (jit/poll.ts)', () => {
  /**
   * At every instruction time of a range, the time steadyUntil gives for `mask` must be later than now, and every
   * read before it must return the bits a read now returns; where it is finite, a read there must differ (it is the
   * next change, not just a time before it, or a poll loop would leave out nothing). Channel 2 in every mode, gate
   * on from the start, and modes 2 and 3 with a new count written while counting (the old period ends first).
   */
  function check(mode: number, count: number, mask: number, reprogramAt?: number): void {
    const { rig, portB } = setup();
    rig.out(0x61, 0x01); // gate 2 on
    program(rig, 2, mode, count);
    for (let t = 0; t < 3 * count * TICK + 200; t++) {
      if (reprogramAt !== undefined && t === reprogramAt) rig.out(0x42, (count >> 1) & 0xff, count >> 9);
      rig.time = t;
      const now = rig.in(0x61) & mask;
      const until = portB.steadyUntil(0x61, 1, mask);
      expect(until, `mode ${mode} at ${t}`).toBeGreaterThan(t);
      const end = Math.min(until, t + 4 * count * TICK);
      // Each PIT tick (8 instruction times) and the last time before `until`.
      for (let s = t + 1; s < end; s = s + TICK < end || s === end - 1 ? s + TICK : end - 1) {
        rig.time = s;
        expect(rig.in(0x61) & mask, `mode ${mode}: read at ${s}, steady from ${t} until ${until}`).toBe(now);
      }
      if (until !== Infinity) {
        rig.time = until;
        expect(rig.in(0x61) & mask, `mode ${mode}: read at ${until}`).not.toBe(now);
      }
      t += t % 5;
    }
  }

  it('channel 2 OUT (bit 5) in modes 0-5, the refresh toggle (bit 4), both and neither', () => {
    for (const mode of [0, 1, 2, 3, 4, 5]) check(mode, 19, 0x20);
    check(2, 20, 0x20, 100);
    check(3, 20, 0x20, 171);
    check(3, 19, 0x10);
    check(0, 19, 0x30);
    check(0, 19, 0x01);
  });
});
