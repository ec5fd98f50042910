// Intel 8254 programmable interval timer at 0x40–0x43 (8254 data sheet: modes 0–5, the counter latch and
// read-back commands, the status byte). Channel 0's output drives IRQ 0; channel 2's gate and output are wired to
// port 0x61 (system-port-b.ts); channel 1 (DRAM refresh on a PC) is a plain counter.
//
// The counters are not stepped: each channel keeps its count, the PIT tick at which it was loaded and its mode,
// and its value and OUT level at any tick are computed from those. Channel 0 has one scheduler timer, armed at its
// next OUT transition, which is when the PIC sees an edge. PIT tick k is instruction time k × 8 (scheduler.ts).
//
// Timing rules kept from the data sheet: a count written at tick t is loaded on the next clock, t + 1; a count of 0
// means 65536 (binary) or 10000 (BCD); in modes 2 and 3 a new count written while counting takes effect at the end
// of the current period; in mode 0 the first byte of a two-byte count stops the counter until the second arrives;
// the gate (channel 2 only: on a PC the gates of channels 0 and 1 are tied high) suspends counting in modes 0 and 4,
// forces OUT high and reloads on its rising edge in modes 2 and 3, and triggers modes 1 and 5.
// A count of 1 in modes 2 and 3, which the data sheet calls illegal, leaves OUT high.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { INSTRUCTIONS_PER_PIT_TICK, type DeviceTimer, type Scheduler } from '../machine/scheduler';

export const PIT_BASE = 0x40;
export const PIT_CONTROL = 0x43;
export const PIT_IRQ = 0;

// Access modes (control word bits 5–4).
const ACCESS_LATCH = 0;
const ACCESS_LSB = 1;
const ACCESS_MSB = 2;
const ACCESS_WORD = 3;
const READBACK = 3; // SC1 SC0 = 11 selects the read-back command
const NOT_COUNTING = -1;

export interface PitChannelState {
  mode: number;
  access: number;
  bcd: boolean;
  /** The count register (1–65536, or 1–10000 in BCD). */
  reload: number;
  /** PIT tick at which `reload` was in the counter and counting began; NOT_COUNTING when idle. */
  start: number;
  /** Before `start`: the previous period's parameters (modes 2 and 3 reload at the end of a period). */
  prevReload: number;
  prevStart: number;
  /** Value and OUT while not counting. */
  heldValue: number;
  heldOut: boolean;
  /** Elapsed ticks when the gate suspended counting in mode 0 or 4 (-1 when not suspended). */
  suspendedAt: number;
  gate: boolean;
  /** A count has been written since the control word (modes 1 and 5 wait for a trigger with it). */
  hasCount: boolean;
  writeHigh: boolean;
  lowByte: number;
  readHigh: boolean;
  /** Latched count (-1 = none) and which of its bytes comes next. */
  latched: number;
  latchedHigh: boolean;
  /** Latched status byte (-1 = none). */
  status: number;
}

/**
 * A channel after power-on, which the data sheet leaves undefined: idle, OUT high (so that programming any mode
 * but 0 makes no edge), mode 3 with a count of 0.
 */
function idleChannel(gate: boolean): PitChannelState {
  return {
    mode: 3, access: ACCESS_WORD, bcd: false, reload: 0x10000, start: NOT_COUNTING, prevReload: 0,
    prevStart: NOT_COUNTING, heldValue: 0, heldOut: true, suspendedAt: -1, gate, hasCount: false,
    writeHigh: false, lowByte: 0, readHigh: false, latched: -1, latchedHigh: false, status: -1,
  };
}

const toBcd = (v: number) => ((v / 1000) % 10 << 12) | ((v / 100) % 10 << 8) | ((v / 10) % 10 << 4) | v % 10;
const fromBcd = (v: number) => ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);

/** A period's parameters: count N loaded at tick `start`. */
interface Regime {
  mode: number;
  n: number;
  start: number;
  modulus: number;
}

/** OUT of a counting channel `e` ticks after loading (data sheet waveforms). */
function outAfter(r: Regime, e: number): boolean {
  switch (r.mode) {
    case 0:
    case 1:
      return e >= r.n;
    case 2:
      return r.n === 1 || e % r.n !== r.n - 1;
    case 3:
      return r.n === 1 || e % r.n < Math.ceil(r.n / 2);
    default: // 4, 5: one low tick when the count reaches 0
      return e !== r.n;
  }
}

/** The counter's value `e` ticks after loading. */
function valueAfter(r: Regime, e: number): number {
  switch (r.mode) {
    case 2:
      return (r.n - (e % r.n)) % r.modulus;
    case 3: {
      const high = Math.ceil(r.n / 2);
      const p = e % r.n;
      const v = p < high ? r.n - 2 * p : r.n - 2 * (p - high);
      return (v % r.modulus) & ~1;
    }
    default: // 0, 1, 4, 5 count down and wrap
      return (((r.n - e) % r.modulus) + r.modulus) % r.modulus;
  }
}

/** The first tick after `e` (elapsed) at which OUT changes, as elapsed ticks; Infinity when it never will. */
function nextChangeAfter(r: Regime, e: number): number {
  switch (r.mode) {
    case 0:
    case 1:
      return e < r.n ? r.n : Infinity;
    case 2: {
      if (r.n === 1) return Infinity;
      const base = e - (e % r.n);
      return e % r.n < r.n - 1 ? base + r.n - 1 : base + r.n;
    }
    case 3: {
      if (r.n === 1) return Infinity;
      const high = Math.ceil(r.n / 2);
      const base = e - (e % r.n);
      return e % r.n < high ? base + high : base + r.n;
    }
    default:
      if (e < r.n) return r.n;
      return e === r.n ? r.n + 1 : Infinity;
  }
}

export class Pit implements PortDevice {
  readonly channels: PitChannelState[] = [idleChannel(true), idleChannel(true), idleChannel(false)];
  private readonly timer: DeviceTimer;
  /** The IRQ 0 level last driven. */
  private out0 = true;

  constructor(
    scheduler: Scheduler,
    /** Drives IRQ 0 with channel 0's OUT. */
    private readonly setIrq0: (level: boolean) => void,
  ) {
    this.now = scheduler.now;
    this.timer = scheduler.createTimer('pit channel 0', PIT_IRQ, (at) => this.channel0Edge(at));
  }
  private readonly now: () => number;

  attach(io: IoBus): void {
    io.register(PIT_BASE, 4, this);
  }

  private tick(): number {
    return Math.floor(this.now() / INSTRUCTIONS_PER_PIT_TICK);
  }

  private modulus(c: PitChannelState): number {
    return c.bcd ? 10000 : 0x10000;
  }

  /** The regime in force at tick `t`, or null when the channel is not counting then. */
  private regimeAt(c: PitChannelState, t: number): Regime | null {
    const mode = c.mode;
    const modulus = this.modulus(c);
    if (c.start !== NOT_COUNTING && t >= c.start) return { mode, n: c.reload, start: c.start, modulus };
    if (c.prevStart !== NOT_COUNTING && t >= c.prevStart) return { mode, n: c.prevReload, start: c.prevStart, modulus };
    return null;
  }

  /** Counter value and OUT of channel `c` at tick `t`. */
  stateAt(c: PitChannelState, t: number): { value: number; out: boolean } {
    const r = this.regimeAt(c, t);
    if (!r) return { value: c.heldValue, out: c.heldOut };
    return { value: valueAfter(r, t - r.start), out: outAfter(r, t - r.start) };
  }

  /**
   * OUT of channel `c` at tick `t`: stateAt's `out` without its counter value, which costs three divisions (a boot
   * loader polls port 0x61 in a loop: GRUB's PIT wait reads it 175 000 times).
   */
  private outAt(c: PitChannelState, t: number): boolean {
    const r = this.regimeAt(c, t);
    return r === null ? c.heldOut : outAfter(r, t - r.start);
  }

  /** Counter value and OUT of channel `index` now, without the side effects of a read (for the debugger). */
  counterNow(index: number): { value: number; out: boolean } {
    return this.stateAt(this.channels[index], this.tick());
  }

  /** OUT of channel `index` now (port 0x61 reads channel 2's). */
  output(index: number): boolean {
    return this.outAt(this.channels[index], this.tick());
  }

  /**
   * The guest time before which channel `index`'s OUT stays what it is now, as far as the channel's programming goes
   * (a new command or a gate edge may change it sooner); Infinity when it would not change without one. Port 61h
   * polls (system-port-b.ts steadyUntil).
   */
  outputSteadyUntil(index: number): number {
    const next = this.nextChange(this.channels[index], this.tick());
    return next === Infinity ? Infinity : next * INSTRUCTIONS_PER_PIT_TICK;
  }

  /** The first tick after `t` at which channel `c`'s OUT changes (Infinity if never without a new command). */
  private nextChange(c: PitChannelState, t: number): number {
    const r = this.regimeAt(c, t);
    if (r && r.start === c.start) return r.start + nextChangeAfter(r, t - r.start);
    if (c.start === NOT_COUNTING) return r ? r.start + nextChangeAfter(r, t - r.start) : Infinity;
    // Before the current regime: the old one's change if it comes first, else the switch itself or a later change.
    if (r) {
      const x = r.start + nextChangeAfter(r, t - r.start);
      if (x < c.start) return x;
    }
    const before = this.outAt(c, c.start - 1);
    const cur: Regime = { mode: c.mode, n: c.reload, start: c.start, modulus: this.modulus(c) };
    if (outAfter(cur, 0) !== before) return c.start;
    return c.start + nextChangeAfter(cur, 0);
  }

  // ---- channel 0 → IRQ 0 ----

  private channel0Edge(at: number): void {
    this.updateChannel0(Math.floor(at / INSTRUCTIONS_PER_PIT_TICK));
  }

  /** Drives IRQ 0 from channel 0's OUT at tick `t` and arms the timer at its next change. */
  private updateChannel0(t: number): void {
    const c = this.channels[0];
    const out = this.outAt(c, t);
    if (out !== this.out0) {
      this.out0 = out;
      this.setIrq0(out);
    }
    const next = this.nextChange(c, t);
    if (next === Infinity) this.timer.cancel();
    else this.timer.set(next * INSTRUCTIONS_PER_PIT_TICK);
  }

  private channelChanged(index: number): void {
    if (index === 0) this.updateChannel0(this.tick());
  }

  // ---- gate (channel 2, from port 0x61) ----

  setGate(index: number, level: boolean): void {
    const c = this.channels[index];
    if (c.gate === level) return;
    const t = this.tick();
    c.gate = level;
    if (!c.hasCount) return;
    const now = this.stateAt(c, t);
    switch (c.mode) {
      case 0:
      case 4:
        if (!level) {
          // Suspend: hold the value and OUT; counting resumes from here when the gate rises.
          const r = this.regimeAt(c, t);
          c.suspendedAt = r ? t - r.start : 0;
          this.hold(c, now.value, now.out);
        } else if (c.suspendedAt >= 0) {
          c.start = t + 1 - c.suspendedAt;
          c.suspendedAt = -1;
        }
        break;
      case 2:
      case 3:
        if (!level) this.hold(c, now.value, true);
        else this.load(c, t); // rising edge: reload and count from the next clock
        break;
      default: // 1, 5: a rising gate triggers a count
        if (level) {
          this.settleToCurrent(c, t);
          c.start = t + 1;
        }
    }
    this.channelChanged(index);
  }

  private hold(c: PitChannelState, value: number, out: boolean): void {
    c.heldValue = value;
    c.heldOut = out;
    c.start = NOT_COUNTING;
    c.prevStart = NOT_COUNTING;
  }

  /** Loads the count register into the counter at the next clock after tick `t`. */
  private load(c: PitChannelState, t: number): void {
    c.prevStart = NOT_COUNTING;
    const before = this.stateAt(c, t);
    c.heldValue = before.value;
    c.heldOut = c.mode === 0 ? false : before.out;
    c.start = t + 1;
  }

  /** Keeps the current period as the previous regime (for a reload at the end of it). */
  private settleToCurrent(c: PitChannelState, t: number): void {
    const s = this.stateAt(c, t);
    if (c.start !== NOT_COUNTING && t >= c.start) {
      c.prevReload = c.reload;
      c.prevStart = c.start;
    }
    c.heldValue = s.value;
    c.heldOut = s.out;
  }

  // ---- ports ----

  portIn(port: number): number {
    if (port === PIT_CONTROL) return 0xff; // the control word register cannot be read
    const c = this.channels[port - PIT_BASE];
    if (c.status >= 0) {
      const s = c.status;
      c.status = -1;
      return s;
    }
    if (c.latched >= 0) {
      const v = c.latched;
      if (c.access === ACCESS_WORD && !c.latchedHigh) {
        c.latchedHigh = true;
        return v & 0xff;
      }
      c.latched = -1;
      c.latchedHigh = false;
      return c.access === ACCESS_MSB || c.access === ACCESS_WORD ? v >> 8 : v & 0xff;
    }
    const v = this.readableCount(c);
    switch (c.access) {
      case ACCESS_LSB:
        return v & 0xff;
      case ACCESS_MSB:
        return v >> 8;
      default:
        c.readHigh = !c.readHigh;
        return c.readHigh ? v & 0xff : v >> 8;
    }
  }

  /** The count as the guest reads it (BCD-encoded in BCD mode). */
  private readableCount(c: PitChannelState): number {
    const v = this.stateAt(c, this.tick()).value;
    return c.bcd ? toBcd(v) : v & 0xffff;
  }

  portOut(port: number, value: number): void {
    if (port === PIT_CONTROL) this.writeControl(value);
    else this.writeCount(port - PIT_BASE, value);
  }

  private writeControl(value: number): void {
    const sc = value >> 6;
    const access = (value >> 4) & 3;
    if (sc === READBACK) {
      this.readBack(value);
      return;
    }
    const c = this.channels[sc];
    if (access === ACCESS_LATCH) {
      if (c.latched < 0) c.latched = this.readableCount(c); // a second latch before reading is ignored
      return;
    }
    const t = this.tick();
    let mode = (value >> 1) & 7;
    if (mode > 5) mode -= 4; // 6 and 7 are modes 2 and 3
    c.mode = mode;
    c.access = access;
    c.bcd = (value & 1) !== 0;
    c.hasCount = false;
    c.writeHigh = false;
    c.readHigh = false;
    c.latched = -1;
    c.latchedHigh = false;
    c.status = -1;
    c.suspendedAt = -1;
    // Writing the control word stops the counter; OUT goes low in mode 0 and high in every other mode.
    this.hold(c, this.stateAt(c, t).value, mode !== 0);
    this.channelChanged(sc);
  }

  /** 8254 read-back command: bit 5 = 0 latches the counts, bit 4 = 0 the status, bits 3–1 select channels 2–0. */
  private readBack(value: number): void {
    const t = this.tick();
    for (let i = 0; i < 3; i++) {
      if ((value & (2 << i)) === 0) continue;
      const c = this.channels[i];
      if ((value & 0x10) === 0 && c.status < 0) {
        const nullCount = !c.hasCount || c.start === NOT_COUNTING || t < c.start;
        c.status = (+this.outAt(c, t) << 7) | (+nullCount << 6) | (c.access << 4) | (c.mode << 1) | +c.bcd;
      }
      if ((value & 0x20) === 0 && c.latched < 0) c.latched = this.readableCount(c);
    }
  }

  private writeCount(index: number, byte: number): void {
    const c = this.channels[index];
    const t = this.tick();
    let raw: number;
    switch (c.access) {
      case ACCESS_LSB:
        raw = byte;
        break;
      case ACCESS_MSB:
        raw = byte << 8;
        break;
      default:
        if (!c.writeHigh) {
          c.writeHigh = true;
          c.lowByte = byte;
          if (c.mode === 0 && c.start !== NOT_COUNTING) {
            const s = this.stateAt(c, t);
            this.hold(c, s.value, false); // mode 0: the first byte stops counting
            this.channelChanged(index);
          }
          return;
        }
        c.writeHigh = false;
        raw = (byte << 8) | c.lowByte;
    }
    const count = c.bcd ? fromBcd(raw) : raw;
    const reload = count === 0 ? this.modulus(c) : count;
    const wasCounting = c.hasCount && c.start !== NOT_COUNTING;
    c.hasCount = true;
    switch (c.mode) {
      case 2:
      case 3:
        if (wasCounting && t < c.start) {
          c.reload = reload; // another count before the pending one was loaded replaces it
        } else if (wasCounting) {
          // The new count is loaded at the end of the current period.
          const e = t - c.start;
          const periodEnd = c.start + e - (e % c.reload) + c.reload;
          this.settleToCurrent(c, t);
          c.reload = reload;
          c.start = periodEnd;
        } else {
          c.reload = reload;
          if (c.gate) this.load(c, t);
          else c.heldValue = reload % this.modulus(c); // loaded, waiting for the gate
        }
        break;
      case 1:
      case 5:
        c.reload = reload; // waits for a gate trigger
        break;
      default: // 0, 4
        c.reload = reload;
        if (c.gate) this.load(c, t);
        else {
          c.suspendedAt = 0;
          c.heldValue = reload % this.modulus(c);
        }
    }
    this.channelChanged(index);
  }

  // ---- snapshots ----

  snapshot(): { channels: PitChannelState[]; out0: boolean } {
    return { channels: this.channels.map((c) => ({ ...c })), out0: this.out0 };
  }

  restore(s: { channels: PitChannelState[]; out0: boolean }): void {
    s.channels.forEach((c, i) => Object.assign(this.channels[i], c));
    this.out0 = s.out0;
  }
}
