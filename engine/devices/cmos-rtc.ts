// The MC146818A real-time clock and CMOS RAM of a PC/AT at 0x70 (index) and 0x71 (data), on IRQ 8. Bit 7 of an
// index write is the NMI mask (set = NMI disabled); the index port itself is write-only and reads FFh.
//
// The clock starts at a fixed time given by the machine (default 2024-01-01 00:00:00 UTC, never the host's
// clock) and advances with virtual time, so every run reads the same dates. It is kept as seconds since the Unix
// epoch, counted from a second boundary in instruction time; the date and time registers (0–9, and the century at
// 32h) are derived from it in BCD or binary and in 12- or 24-hour form as register B says. A guest write to one of
// them re-derives the seconds from the written fields (out-of-range values are normalised, as a calendar would;
// the chip would count on from them). The day of the week keeps any offset the guest writes.
//
// Register A: UIP (read-only; high during the last 244 µs before each update), the divider (010 = running; 11x
// holds the clock in reset, and the first update follows 500 ms after it is released) and the periodic rate.
// Register B: SET (stops updates), PIE/AIE/UIE, SQWE, DM, 24/12, DSE (stored). Register C: IRQF, PF, AF, UF, cleared
// by reading it; IRQ 8 follows IRQF, so a guest that does not read C gets no further interrupts. Register D: VRT.
//
// CMOS RAM: base memory (15h/16h = 640 KiB), extended memory in KiB (17h/18h and 30h/31h, up to 63 MiB), memory
// above 16 MiB in 64 KiB blocks (34h/35h, the Bochs/SeaBIOS convention), the checksum of 10h–2Dh at 2Eh/2Fh.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { INSTRUCTIONS_PER_SECOND, type DeviceTimer, type Scheduler } from '../machine/scheduler';

export const CMOS_INDEX = 0x70;
export const CMOS_DATA = 0x71;
export const RTC_IRQ = 8;
/** 2024-01-01 00:00:00 UTC, in seconds since the Unix epoch. */
export const DEFAULT_RTC_START = Date.UTC(2024, 0, 1) / 1000;

const REG_SECONDS = 0x00;
const REG_SECONDS_ALARM = 0x01;
const REG_MINUTES = 0x02;
const REG_MINUTES_ALARM = 0x03;
const REG_HOURS = 0x04;
const REG_HOURS_ALARM = 0x05;
const REG_DAY_OF_WEEK = 0x06;
const REG_DAY = 0x07;
const REG_MONTH = 0x08;
const REG_YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const REG_CENTURY = 0x32;

const A_UIP = 0x80;
const A_DIVIDER = 0x70;
const A_DIVIDER_NORMAL = 0x20;
const A_RATE = 0x0f;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
const D_VRT = 0x80;
/** An alarm byte with both top bits set matches any value. */
const ALARM_DONT_CARE = 0xc0;
/** UIP rises 244 µs before an update (MC146818A data sheet, "update cycle"). */
const UIP_LEAD = Math.round((244e-6 * INSTRUCTIONS_PER_SECOND));

export interface CmosOptions {
  /** Installed RAM in bytes, for the memory-size bytes. */
  memorySize: number;
  /** Clock start, in seconds since the Unix epoch (UTC). */
  startTime?: number;
}

export interface CmosSnapshot {
  ram: Uint8Array;
  regs: number[];
}

const bcd = (v: number) => ((Math.floor(v / 10) % 10) << 4) | v % 10;
const fromBcd = (v: number) => (v >> 4) * 10 + (v & 15);

export class CmosRtc implements PortDevice {
  /** CMOS RAM; bytes 0–0Dh are the clock registers and are served from the clock instead. */
  readonly ram = new Uint8Array(128);
  index = 0;
  nmiMasked = false;
  /** Clock seconds (since the Unix epoch) at instruction time `secondStart`. */
  private epoch: number;
  private secondStart = 0;
  private dayOfWeekOffset = 0;
  /** Interrupt flags of register C, as of instruction time `flagsAt`. */
  private flags = 0;
  private flagsAt = 0;
  private irq = false;
  private readonly timer: DeviceTimer;

  constructor(
    scheduler: Scheduler,
    private readonly setIrq8: (level: boolean) => void,
    options: CmosOptions,
  ) {
    this.now = scheduler.now;
    this.timer = scheduler.createTimer('rtc', RTC_IRQ, (at) => this.timerFired(at));
    this.epoch = Math.floor(options.startTime ?? DEFAULT_RTC_START);
    this.secondStart = this.now();
    this.flagsAt = this.secondStart;
    this.ram[REG_A] = A_DIVIDER_NORMAL | 0x06; // 1024 Hz periodic rate, as BIOSes leave it
    this.ram[REG_B] = B_24H;
    this.ram[REG_D] = D_VRT;
    this.fillMemorySize(options.memorySize);
  }
  private readonly now: () => number;

  attach(io: IoBus): void {
    io.register(CMOS_INDEX, 2, this);
  }

  private fillMemorySize(bytes: number): void {
    const set16 = (reg: number, v: number) => {
      this.ram[reg] = v & 0xff;
      this.ram[reg + 1] = (v >> 8) & 0xff;
    };
    const extendedKb = Math.min(Math.max(0, bytes - 0x100000) / 1024, 0xfc00);
    set16(0x15, 640);
    set16(0x17, extendedKb);
    set16(0x30, extendedKb);
    set16(0x34, Math.min(Math.max(0, bytes - 0x1000000) / 0x10000, 0xffff));
    let sum = 0;
    for (let r = 0x10; r <= 0x2d; r++) sum += this.ram[r];
    this.ram[0x2e] = (sum >> 8) & 0xff;
    this.ram[0x2f] = sum & 0xff;
  }

  // ---- the clock ----

  private get running(): boolean {
    return (this.ram[REG_A] & A_DIVIDER) === A_DIVIDER_NORMAL && (this.ram[REG_B] & B_SET) === 0;
  }

  /** Clock seconds at instruction time `t`. */
  private secondsAt(t: number): number {
    if (!this.running) return this.epoch;
    return this.epoch + Math.floor((t - this.secondStart) / INSTRUCTIONS_PER_SECOND);
  }

  /** Folds elapsed whole seconds into `epoch` (before the clock stops or is rewritten). */
  private settle(t: number): void {
    if (!this.running) return;
    const whole = Math.floor((t - this.secondStart) / INSTRUCTIONS_PER_SECOND);
    this.epoch += whole;
    this.secondStart += whole * INSTRUCTIONS_PER_SECOND;
  }

  private encode(v: number): number {
    return (this.ram[REG_B] & B_BINARY) !== 0 ? v : bcd(v);
  }

  private decode(v: number): number {
    return (this.ram[REG_B] & B_BINARY) !== 0 ? v : fromBcd(v);
  }

  private encodeHour(h: number): number {
    if (this.ram[REG_B] & B_24H) return this.encode(h);
    return this.encode(h % 12 || 12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.ram[REG_B] & B_24H) return this.decode(v);
    return (this.decode(v & 0x7f) % 12) + (v & 0x80 ? 12 : 0);
  }

  /** The clock registers as the guest reads them at instruction time `t`. */
  private clockRegister(reg: number, t: number): number {
    const d = new Date(this.secondsAt(t) * 1000);
    switch (reg) {
      case REG_SECONDS:
        return this.encode(d.getUTCSeconds());
      case REG_MINUTES:
        return this.encode(d.getUTCMinutes());
      case REG_HOURS:
        return this.encodeHour(d.getUTCHours());
      case REG_DAY_OF_WEEK:
        return this.encode(((d.getUTCDay() + this.dayOfWeekOffset) % 7) + 1);
      case REG_DAY:
        return this.encode(d.getUTCDate());
      case REG_MONTH:
        return this.encode(d.getUTCMonth() + 1);
      case REG_YEAR:
        return this.encode(d.getUTCFullYear() % 100);
      default: // REG_CENTURY
        return this.encode(Math.floor(d.getUTCFullYear() / 100));
    }
  }

  private writeClockRegister(reg: number, value: number, t: number): void {
    this.settle(t);
    const d = new Date(this.epoch * 1000);
    const f = {
      year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate(),
      hours: d.getUTCHours(), minutes: d.getUTCMinutes(), seconds: d.getUTCSeconds(),
    };
    switch (reg) {
      case REG_SECONDS:
        f.seconds = this.decode(value);
        break;
      case REG_MINUTES:
        f.minutes = this.decode(value);
        break;
      case REG_HOURS:
        f.hours = this.decodeHour(value);
        break;
      case REG_DAY_OF_WEEK:
        this.dayOfWeekOffset = (((this.decode(value) - 1 - d.getUTCDay()) % 7) + 7) % 7;
        return;
      case REG_DAY:
        f.day = this.decode(value);
        break;
      case REG_MONTH:
        f.month = this.decode(value) - 1;
        break;
      case REG_YEAR:
        f.year = f.year - (f.year % 100) + this.decode(value);
        break;
      default: // REG_CENTURY
        f.year = this.decode(value) * 100 + (f.year % 100);
    }
    const ms = Date.UTC(f.year, f.month, f.day, f.hours, f.minutes, f.seconds);
    if (Number.isFinite(ms)) this.epoch = Math.floor(ms / 1000);
  }

  private isClockRegister(reg: number): boolean {
    return reg === REG_SECONDS || reg === REG_MINUTES || reg === REG_HOURS || (reg >= REG_DAY_OF_WEEK && reg <= REG_YEAR) ||
      reg === REG_CENTURY;
  }

  // ---- interrupt flags ----

  /** Periodic interrupt frequency in Hz from the rate bits (0 = off; rates 1 and 2 are 256 and 128 Hz). */
  private periodicHz(): number {
    const rs = this.ram[REG_A] & A_RATE;
    if (rs === 0 || (this.ram[REG_A] & A_DIVIDER) !== A_DIVIDER_NORMAL) return 0;
    if (rs <= 2) return rs === 1 ? 256 : 128;
    return 32768 >> (rs - 1);
  }

  /** Sets PF, UF and AF for every periodic tick and update that happened in (flagsAt, t]. */
  private syncFlags(t: number): void {
    const from = this.flagsAt;
    if (t <= from) return;
    const hz = this.periodicHz();
    if (hz > 0 && Math.floor((t * hz) / INSTRUCTIONS_PER_SECOND) > Math.floor((from * hz) / INSTRUCTIONS_PER_SECOND)) {
      this.flags |= C_PF;
    }
    if (this.running) {
      const first = this.secondsAt(from) + 1;
      const last = this.secondsAt(t);
      if (last >= first) {
        this.flags |= C_UF;
        // The alarm is compared at each update; a long stretch is checked over its last day only.
        for (let s = Math.max(first, last - 86399); s <= last; s++) {
          if (this.alarmMatches(s)) {
            this.flags |= C_AF;
            break;
          }
        }
      }
    }
    this.flagsAt = t;
    this.updateIrq();
  }

  private alarmMatches(seconds: number): boolean {
    const d = new Date(seconds * 1000);
    const match = (alarm: number, now: number) => (alarm & ALARM_DONT_CARE) === ALARM_DONT_CARE || alarm === now;
    return (
      match(this.ram[REG_SECONDS_ALARM], this.encode(d.getUTCSeconds())) &&
      match(this.ram[REG_MINUTES_ALARM], this.encode(d.getUTCMinutes())) &&
      match(this.ram[REG_HOURS_ALARM], this.encodeHour(d.getUTCHours()))
    );
  }

  private updateIrq(): void {
    const b = this.ram[REG_B];
    const pending =
      ((this.flags & C_PF) !== 0 && (b & B_PIE) !== 0) ||
      ((this.flags & C_AF) !== 0 && (b & B_AIE) !== 0) ||
      ((this.flags & C_UF) !== 0 && (b & B_UIE) !== 0);
    if (pending) this.flags |= C_IRQF;
    if (pending !== this.irq) {
      this.irq = pending;
      this.setIrq8(pending);
    }
    this.armTimer();
  }

  /** Arms the timer at the next event that would raise IRQ 8 (none while IRQF is already up: C must be read). */
  private armTimer(): void {
    const b = this.ram[REG_B];
    const t = this.flagsAt;
    let next = Infinity;
    if (!this.irq) {
      const hz = this.periodicHz();
      if ((b & B_PIE) !== 0 && hz > 0) {
        const k = Math.floor((t * hz) / INSTRUCTIONS_PER_SECOND) + 1;
        next = Math.ceil((k * INSTRUCTIONS_PER_SECOND) / hz);
      }
      if ((b & (B_UIE | B_AIE)) !== 0 && this.running) {
        const whole = Math.floor((t - this.secondStart) / INSTRUCTIONS_PER_SECOND);
        next = Math.min(next, this.secondStart + (whole + 1) * INSTRUCTIONS_PER_SECOND);
      }
    }
    if (next === Infinity) this.timer.cancel();
    else this.timer.set(next);
  }

  private timerFired(at: number): void {
    this.syncFlags(at);
    this.armTimer();
  }

  // ---- ports ----

  portIn(port: number): number {
    if (port === CMOS_INDEX) return 0xff;
    const t = this.now();
    const reg = this.index;
    if (this.isClockRegister(reg)) return this.clockRegister(reg, t);
    switch (reg) {
      case REG_A: {
        const phase = this.running ? (t - this.secondStart) % INSTRUCTIONS_PER_SECOND : 0;
        return (this.ram[REG_A] & ~A_UIP) | (this.running && phase >= INSTRUCTIONS_PER_SECOND - UIP_LEAD ? A_UIP : 0);
      }
      case REG_C: {
        this.syncFlags(t);
        const v = this.flags;
        this.flags = 0;
        this.updateIrq();
        return v;
      }
      default:
        return this.ram[reg];
    }
  }

  portOut(port: number, value: number): void {
    if (port === CMOS_INDEX) {
      this.nmiMasked = (value & 0x80) !== 0;
      this.index = value & 0x7f;
      return;
    }
    const t = this.now();
    const reg = this.index;
    if (this.isClockRegister(reg)) {
      this.writeClockRegister(reg, value, t);
      return;
    }
    switch (reg) {
      case REG_A: {
        this.syncFlags(t);
        const wasRunning = this.running;
        this.settle(t);
        const wasReset = (this.ram[REG_A] & A_DIVIDER) !== A_DIVIDER_NORMAL;
        this.ram[REG_A] = value & ~A_UIP;
        if (!wasRunning && this.running) {
          // Leaving divider reset, the first update comes 500 ms later; leaving SET, a full second later.
          this.secondStart = wasReset ? t - INSTRUCTIONS_PER_SECOND / 2 : t;
        }
        this.flagsAt = t;
        this.updateIrq();
        return;
      }
      case REG_B: {
        this.syncFlags(t);
        const wasRunning = this.running;
        this.settle(t);
        // Setting SET stops updates and clears UIE (data sheet, register B bit 7).
        this.ram[REG_B] = value & B_SET ? value & ~B_UIE : value;
        if (!wasRunning && this.running) this.secondStart = t;
        this.flagsAt = t;
        this.updateIrq();
        return;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        this.ram[reg] = value;
    }
  }

  // ---- snapshots ----

  snapshot(): CmosSnapshot {
    return {
      ram: this.ram.slice(),
      regs: [
        this.index, +this.nmiMasked, this.epoch, this.secondStart, this.dayOfWeekOffset, this.flags, this.flagsAt,
        +this.irq,
      ],
    };
  }

  restore(s: CmosSnapshot): void {
    this.ram.set(s.ram);
    const r = s.regs;
    this.index = r[0];
    this.nmiMasked = r[1] !== 0;
    [, , this.epoch, this.secondStart, this.dayOfWeekOffset, this.flags, this.flagsAt] = r;
    this.irq = r[7] !== 0;
  }
}
