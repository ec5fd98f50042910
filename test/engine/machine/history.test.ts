// Reverse execution's record (engine/machine/history.ts): any moment reached again, by restoring the last
// checkpoint before it and running forward, is the same machine as the first time — every register, cache, memory
// page and device — bare and under the monitor, with recorded inputs given again, and after the record was
// trimmed to its cap.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Machine, type MachineSnapshot } from '../../../engine/machine/machine';
import { History } from '../../../engine/machine/history';
import { attachMonitor, type Monitor } from '../../../engine/monitor/monitor';
import { visibleState } from '../../../engine/monitor/lockstep';

const EXAMPLES = path.resolve(__dirname, '../../../examples');

const monitors = new WeakMap<Machine, Monitor>();

function boot(name: string, monitor: boolean): Machine {
  const m = new Machine({ devices: { onSerialByte: () => {} } });
  if (monitor) monitors.set(m, attachMonitor(m, { sbe: 'auto' }));
  m.load(readFileSync(path.join(EXAMPLES, name, `${name}.bin`)));
  return m;
}

/** A small deterministic generator, so failures reproduce. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Runs forward in chunks, taking checkpoints now and then and full snapshots at random moments as references. */
function record(m: Machine, h: History, seed: number, chunks: number): { at: number; snap: Moment }[] {
  const rnd = random(seed);
  const refs: { at: number; snap: Moment }[] = [];
  h.take(null);
  for (let i = 0; i < chunks; i++) {
    const r = m.runSlice(1 + Math.floor(rnd() * 700));
    if (rnd() < 0.3) h.take(null);
    refs.push({ at: m.cpu.icount, snap: moment(m) });
    if (r.reason !== null && r.reason !== 'stopped') break;
  }
  return refs;
}

/**
 * What the guest can observe of a machine at one moment: its visible CPU state (under the monitor, the guest's
 * view — the real CPU's fields are the deprivileged ones, and the decode cache's bookkeeping is nobody's business),
 * all of memory, every device and timer.
 */
interface Moment {
  visible: ReturnType<typeof visibleState>;
  memory: Uint8Array;
  rest: Omit<MachineSnapshot, 'memory' | 'cpu' | 'monitor'>;
}

function moment(m: Machine): Moment {
  const { memory, cpu: _cpu, monitor: _monitor, ...rest } = m.snapshot();
  return { visible: visibleState(m, monitors.get(m) ?? null), memory, rest };
}

/** Moments equal: memory compared as bytes (a generic deep compare of 16 MiB takes minutes), the rest field by field. */
function expectSame(actual: Moment, expected: Moment, what: string): void {
  const a = actual.memory;
  const b = expected.memory;
  expect(Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length)), `${what}: memory`).toBe(true);
  expect(actual.visible, what).toEqual(expected.visible);
  expect(actual.rest, what).toEqual(expected.rest);
}

function differs(actual: Moment, expected: Moment): boolean {
  try {
    expectSame(actual, expected, '');
    return false;
  } catch {
    return true;
  }
}

function travel(m: Machine, h: History, at: number): void {
  const cp = h.checkpointAtOrBefore(at);
  expect(cp, `a checkpoint at or before ${at}`).not.toBeNull();
  h.restore(cp!);
  expect(h.runTo(at, cp!)).toBeNull();
  expect(m.cpu.icount).toBe(at);
}

describe('the record of a run', () => {
  for (const name of ['timer', 'seed-sequence', 'paging', 'tasks', 'rings', 'v86']) {
    for (const monitor of [false, true]) {
      it(`${name}${monitor ? ' under the monitor' : ''}: every recorded moment is reached again exactly, in any order`, () => {
        const m = boot(name, monitor);
        const h = new History(m, { maxBytes: 512 << 20 });
        const refs = record(m, h, name.length * 7 + (monitor ? 1 : 0), 40);
        expect(refs.length).toBeGreaterThan(3);
        const order = refs.map((_, i) => i).sort((a, b) => ((a * 7919) % 13) - ((b * 7919) % 13));
        for (const i of order) {
          travel(m, h, refs[i].at);
          expectSame(moment(m), refs[i].snap, `moment ${refs[i].at}`);
        }
      });
    }
  }

  it('a travel back replays the events of the first run, consistency events included (the tracker is in the snapshot)', () => {
    const m = boot('descriptor-cache', false);
    const seen: string[] = [];
    for (const name of ['segment-load', 'cache-inconsistent', 'cache-consistent', 'descriptor-write', 'mode-change'] as const) {
      m.cpu.events.on(name, () => void seen.push(`${m.cpu.icount} ${name}`));
    }
    const h = new History(m, { maxBytes: 512 << 20 });
    h.take(null);
    const marks: number[] = [];
    for (let k = 0; k < 40; k++) {
      m.runSlice(60);
      h.take(null);
      marks.push(seen.length);
    }
    const first = [...seen];
    expect(first.some((e) => e.includes('cache-inconsistent'))).toBe(true);
    const end = m.cpu.icount;
    for (const k of [30, 15, 5]) {
      const cp = h.checkpointAtOrBefore(60 * (k + 1) + h.earliest)!;
      h.restore(cp);
      const from = seen.length;
      h.runTo(end, cp);
      const again = seen.slice(from);
      expect(again).toEqual(first.slice(first.length - again.length));
      expect(again.length).toBe(first.length - marks[k]);
    }
  });

  it('keeps only the pages that changed: a checkpoint of a quiet machine holds almost nothing', () => {
    const m = boot('timer', false);
    const h = new History(m, { maxBytes: 512 << 20 });
    const first = h.take(null)!;
    expect(first.pages.length).toBe(m.mem.size >>> 12);
    m.runSlice(2000);
    const second = h.take(null)!;
    expect(second.pages.length).toBeGreaterThan(0);
    expect(second.pages.length).toBeLessThan(8);
    // A moment already covered needs no checkpoint.
    expect(h.take(null)).toBeNull();
  });

  it('trims the oldest checkpoints past its cap and still reaches every moment it keeps', () => {
    const m = boot('paging', true);
    // The cap leaves room for about three checkpoints' state: the record must merge the oldest ones.
    const h = new History(m, { maxBytes: 3 * 16 * 1024 + 200 * 4096 });
    const refs = record(m, h, 99, 40);
    expect(h.earliest).toBeGreaterThan(refs[0].at - 800);
    const kept = refs.filter((r) => r.at >= h.earliest);
    expect(kept.length).toBeGreaterThan(0);
    for (const r of kept.reverse()) {
      travel(m, h, r.at);
      expectSame(moment(m), r.snap, `moment ${r.at}`);
    }
    expect(h.checkpointAtOrBefore(h.earliest - 1)).toBeNull();
  });

  it('gives recorded serial input again at the moment it arrived', () => {
    const m = boot('timer', false);
    const h = new History(m, { maxBytes: 512 << 20 });
    h.take(null);
    m.runSlice(500);
    h.recordInput({ kind: 'serial', bytes: [0x41, 0x42] });
    m.serialInput([0x41, 0x42]);
    m.runSlice(300);
    const reference = moment(m);
    const at = m.cpu.icount;
    travel(m, h, at);
    expectSame(moment(m), reference, 'after the input');
    // Without the input, the UART would differ: the comparison above can fail.
    h.restore(h.checkpointAtOrBefore(0)!);
    m.runSlice(at - m.cpu.icount);
    expect(differs(moment(m), reference)).toBe(true);
  });

  it('forgets the future after the debugger changed the machine', () => {
    const m = boot('timer', false);
    const h = new History(m, { maxBytes: 512 << 20 });
    const refs = record(m, h, 5, 30);
    const middle = refs[10].at;
    h.forgetFrom(middle);
    expect(h.latest).toBeLessThan(middle);
    travel(m, h, refs[5].at);
    expectSame(moment(m), refs[5].snap, 'before the edit');
    // Forgetting everything starts the record over: the next checkpoint holds every page again.
    h.forgetFrom(0);
    expect(h.count).toBe(0);
    expect(h.take(null)!.pages.length).toBe(m.mem.size >>> 12);
  });

  it('code the guest rewrote runs as it was at the moment travelled to (decoded instructions kept only where memory is unchanged)', () => {
    // Real mode at 0000:7C00: a loop that increments the immediate of its own `add ax, imm8` just before running
    // it, so each pass runs different code; word [0x8000] sums the immediates. At the end the decode cache holds the
    // add with the last immediate. A restore keeps the decoded instructions of the pages it does not rewrite: the
    // code page it does rewrite must be decoded afresh, or a replay from between the two adds a stale immediate.
    const program = Uint8Array.from([
      0xb9, 0x32, 0x00, //       mov cx, 50
      0xa1, 0x00, 0x80, //       mov ax, [0x8000]
      0xfe, 0x06, 0x0c, 0x7c, // inc byte [0x7C0C]
      0x83, 0xc0, 0x01, //       add ax, 1          ; its immediate is at 0x7C0C
      0xa3, 0x00, 0x80, //       mov [0x8000], ax
      0x49, //                   dec cx
      0x75, 0xf0, //             jnz 0x7C03
      0xf4, //                   hlt
    ]);
    const m = new Machine({ memoryMB: 1, devices: { onSerialByte: () => {} } });
    m.load(program);
    const h = new History(m, { maxBytes: 512 << 20 });
    h.take(null);
    const refs: { at: number; snap: Moment }[] = [];
    for (let k = 0; k < 36; k++) {
      m.runSlice(7 + (k % 5));
      if (k % 2 === 0) h.take(null);
      refs.push({ at: m.cpu.icount, snap: moment(m) });
    }
    expect(m.cpu.halted).toBe(true);
    expect(m.mem.read16(0x8000)).toBe((51 * 52) / 2 - 1); // 2 + 3 + … + 51: the code did change under the run
    const end = refs[refs.length - 1];
    let fromBetween = 0;
    for (let i = 1; i < refs.length - 1; i += 2) {
      // From the end, where the cache holds the last add: back to a moment after a checkpoint.
      travel(m, h, end.at);
      const cp = h.checkpointAtOrBefore(refs[i].at)!;
      // At guest time 1 the first pass starts; six instructions a pass, the add third: at 3, 9, 15, … the CPU
      // stands before an add whose immediate the inc just rewrote.
      if (cp.icount < refs[i].at && (cp.icount - 1) % 6 === 2) fromBetween++;
      travel(m, h, refs[i].at);
      expectSame(moment(m), refs[i].snap, `moment ${refs[i].at}`);
    }
    expect(fromBetween, 'replays that start between the inc and the add it patched').toBeGreaterThan(0);
  });
});
