// The local APIC of the machine's one processor (SDM 3A ch. 11), memory-mapped at IA32_APIC_BASE (0xFEE00000).
//
// What it models: ID, version, TPR/APR/PPR, EOI, LDR/DFR, the spurious-interrupt vector register with its software
// enable, ISR/TMR/IRR, the error status register, the ICR (fixed, lowest-priority and NMI interrupts to itself,
// INIT and SIPI to processors that do not exist: accepted and dropped), the LVT (timer, thermal, performance,
// LINT0, LINT1, error) and the timer in one-shot and periodic mode with its divide configuration register.
//
// Time: the timer counts the APIC bus clock, which here is the instruction clock (one bus clock per guest
// instruction, scheduler.ts), divided by the divide configuration. The current count is computed from the
// instruction count when read, and a device timer fires at the instruction where the count reaches zero.
//
// Interrupts reach the CPU through the interrupt router (interrupt-router.ts): it asks `hasDeliverable()` and,
// in the INTA cycle, `acknowledge()`, which moves the vector from IRR to ISR (SDM 3A §11.8.4).

import type { MmioHandler } from '../bus/memory';
import type { DeviceTimer, Scheduler } from '../machine/scheduler';
import { LAPIC_ID, LAPIC_VERSION } from '../machine/firmware/platform-tables';

// Register offsets (SDM 3A Table 11-1).
export const APIC_ID = 0x020;
export const APIC_VERSION = 0x030;
export const APIC_TPR = 0x080;
export const APIC_APR = 0x090;
export const APIC_PPR = 0x0a0;
export const APIC_EOI = 0x0b0;
export const APIC_RRD = 0x0c0;
export const APIC_LDR = 0x0d0;
export const APIC_DFR = 0x0e0;
export const APIC_SVR = 0x0f0;
export const APIC_ISR = 0x100;
export const APIC_TMR = 0x180;
export const APIC_IRR = 0x200;
export const APIC_ESR = 0x280;
export const APIC_ICR_LOW = 0x300;
export const APIC_ICR_HIGH = 0x310;
export const APIC_LVT_TIMER = 0x320;
export const APIC_LVT_THERMAL = 0x330;
export const APIC_LVT_PERF = 0x340;
export const APIC_LVT_LINT0 = 0x350;
export const APIC_LVT_LINT1 = 0x360;
export const APIC_LVT_ERROR = 0x370;
export const APIC_TIMER_INITIAL = 0x380;
export const APIC_TIMER_CURRENT = 0x390;
export const APIC_TIMER_DIVIDE = 0x3e0;

/** The LVT registers in order (index = (offset - 0x320) >> 4). */
const LVT_OFFSETS = [APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_ERROR];
const LVT_TIMER = 0;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;

export const LVT_MASKED = 1 << 16;
export const LVT_TIMER_PERIODIC = 1 << 17;
/** Delivery modes (ICR and LVT bits 8–10). */
export const DM_FIXED = 0;
export const DM_LOWEST = 1;
export const DM_SMI = 2;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_STARTUP = 6;
export const DM_EXTINT = 7;
/** SVR bit 8: APIC software enable (SDM 3A §11.4.7.2). */
export const SVR_ENABLE = 1 << 8;
/** IA32_APIC_BASE bit 11: global enable. */
const APIC_BASE_ENABLE = 1 << 11;
/** ESR bit 6: received illegal vector; bit 5: send illegal vector (SDM 3A §11.5.3). */
const ESR_RECEIVE_ILLEGAL = 1 << 6;
const ESR_SEND_ILLEGAL = 1 << 5;
/** ICR bit 12: delivery status (send pending); always idle here, delivery is immediate. */
const ICR_WRITABLE_LOW = 0x000ccfff;
/** Bits of each LVT that exist (vector, delivery mode, polarity, trigger, mask, timer mode). */
const LVT_WRITABLE = [0x000300ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];
/** The LVT count the version register reports (Max LVT Entry = entries − 1). */
const MAX_LVT = LVT_OFFSETS.length - 1;

export interface LocalApicSnapshot {
  regs: number[];
  irr: number[];
  isr: number[];
  tmr: number[];
  timerStart: number;
  errorsPending: number;
  lint0: boolean;
  lint1: boolean;
}

/** 256 bits in 8 words, as the ISR, TMR and IRR are laid out (SDM 3A Figure 11-20). */
class VectorSet {
  readonly words = new Uint32Array(8);
  has(v: number): boolean {
    return (this.words[v >>> 5] & (1 << (v & 31))) !== 0;
  }
  set(v: number, on: boolean): void {
    if (on) this.words[v >>> 5] |= 1 << (v & 31);
    else this.words[v >>> 5] &= ~(1 << (v & 31));
  }
  /** The highest vector set, or -1. */
  highest(): number {
    for (let w = 7; w >= 0; w--) if (this.words[w] !== 0) return w * 32 + 31 - Math.clz32(this.words[w]);
    return -1;
  }
}

export interface LocalApicWiring {
  scheduler: Scheduler;
  /** IA32_APIC_BASE (the CPU's MSR): global enable and where the registers sit. */
  apicBase: () => number;
  /** Something the router must look at changed (a request came or went, TPR, enable). */
  changed: () => void;
  /** An NMI for the processor (ICR NMI, LINT1 as NMI). */
  nmi: () => void;
  /** An EOI for a level-triggered vector (TMR set): the I/O APIC clears its remote IRR (SDM 3A §11.8.5). */
  eoiLevel: (vector: number) => void;
}

export class LocalApic implements MmioHandler {
  /** Register values by offset >> 4 for the plain read/write ones (ID, TPR, LDR, DFR, SVR, ICR, LVT, timer). */
  private readonly regs = new Uint32Array(0x40);
  readonly irr = new VectorSet();
  readonly isr = new VectorSet();
  readonly tmr = new VectorSet();
  /** Errors seen since the last ESR write (the ESR shows them after the next write, SDM 3A §11.5.3). */
  private errorsPending = 0;
  /** Instruction time at which the current timer period began. */
  private timerStart = 0;
  private readonly timer: DeviceTimer;
  /** Levels of the LINT0 (the 8259's INTR in virtual-wire mode) and LINT1 pins. */
  private lint0 = false;
  private lint1 = false;

  constructor(private readonly wiring: LocalApicWiring) {
    this.timer = wiring.scheduler.createTimer('apic-timer', APIC_TIMER_WAKE, (at) => this.timerExpired(at));
    this.reset();
  }

  /** Power-on and INIT state (SDM 3A §11.4.7.1): ID kept, LVT masked, DFR all ones, SVR 0xFF (software disabled). */
  reset(): void {
    this.regs.fill(0);
    this.regs[APIC_ID >> 4] = LAPIC_ID << 24;
    this.regs[APIC_DFR >> 4] = 0xffffffff;
    this.regs[APIC_SVR >> 4] = 0xff;
    for (const o of LVT_OFFSETS) this.regs[o >> 4] = LVT_MASKED;
    this.irr.words.fill(0);
    this.isr.words.fill(0);
    this.tmr.words.fill(0);
    this.errorsPending = 0;
    this.timer.cancel();
  }

  get base(): number {
    return (this.wiring.apicBase() & 0xfffff000) >>> 0;
  }
  /** Globally enabled through IA32_APIC_BASE bit 11; when clear the APIC is invisible and LINT0 is plain INTR. */
  get globallyEnabled(): boolean {
    return (this.wiring.apicBase() & APIC_BASE_ENABLE) !== 0;
  }
  get softwareEnabled(): boolean {
    return (this.regs[APIC_SVR >> 4] & SVR_ENABLE) !== 0;
  }
  get id(): number {
    return this.regs[APIC_ID >> 4] >>> 24;
  }
  register(offset: number): number {
    return this.read32(this.base + offset) >>> 0;
  }
  lvt(index: number): number {
    return this.regs[LVT_OFFSETS[index] >> 4];
  }

  // ---- priorities (SDM 3A §11.8.3.1) ----

  /** PPR: the TPR when its class is at least the highest in-service class, else that class. */
  ppr(): number {
    const tpr = this.regs[APIC_TPR >> 4] & 0xff;
    const isrv = Math.max(this.isr.highest(), 0);
    return (tpr >>> 4) >= (isrv >>> 4) ? tpr : isrv & 0xf0;
  }

  /** True when the highest requested vector's class is above the processor priority class (§11.8.4). */
  hasDeliverable(): boolean {
    if (!this.globallyEnabled || !this.softwareEnabled) return false;
    const v = this.irr.highest();
    return v >= 0 && (v >>> 4) > (this.ppr() >>> 4);
  }

  /** The INTA cycle: the highest deliverable vector moves from IRR to ISR; the spurious vector if none is left. */
  acknowledge(): number {
    const v = this.irr.highest();
    if (v < 0 || (v >>> 4) <= (this.ppr() >>> 4)) return this.regs[APIC_SVR >> 4] & 0xff;
    this.irr.set(v, false);
    this.isr.set(v, true);
    this.wiring.changed();
    return v;
  }

  /** A fixed interrupt accepted for this processor (from the I/O APIC, the ICR or an LVT entry). */
  accept(vector: number, level: boolean): void {
    if (vector < 16) {
      // Vectors 0–15 are illegal for fixed delivery: the receive-illegal-vector error (§11.5.3).
      this.raiseError(ESR_RECEIVE_ILLEGAL);
      return;
    }
    if (!this.globallyEnabled) return;
    this.irr.set(vector, true);
    this.tmr.set(vector, level);
    this.wiring.changed();
  }

  /** Whether a message with this destination (ICR/redirection entry form) names this processor (§11.6.2). */
  matchesDestination(dest: number, logical: boolean): boolean {
    if (!logical) return dest === 0xff || dest === this.id;
    if (dest === 0xff) return true;
    const ldr = this.regs[APIC_LDR >> 4] >>> 24;
    const flat = (this.regs[APIC_DFR >> 4] >>> 28) === 0xf;
    if (flat) return (ldr & dest) !== 0;
    return (ldr >>> 4) === (dest >>> 4) && (ldr & dest & 0xf) !== 0;
  }

  // ---- LINT0 / LINT1 ----

  /**
   * The level of LINT0 (the 8259's INTR output in virtual-wire mode) changed. As ExtINT it is a request the
   * router satisfies from the 8259 (see `extIntActive`); as a fixed or NMI entry it fires on the rising edge.
   */
  setLint(pin: 0 | 1, level: boolean): void {
    const was = pin === 0 ? this.lint0 : this.lint1;
    if (pin === 0) this.lint0 = level;
    else this.lint1 = level;
    const entry = this.lvt(pin === 0 ? LVT_LINT0 : LVT_LINT1);
    if (level && !was) this.fireLvt(entry);
    this.wiring.changed();
  }

  /** LINT0 is programmed ExtINT and unmasked: the 8259's INTR reaches the CPU through this APIC (virtual wire). */
  extIntActive(): boolean {
    const e = this.lvt(LVT_LINT0);
    return this.globallyEnabled && (e & LVT_MASKED) === 0 && ((e >>> 8) & 7) === DM_EXTINT;
  }

  private fireLvt(entry: number): void {
    if ((entry & LVT_MASKED) !== 0 || !this.globallyEnabled) return;
    const mode = (entry >>> 8) & 7;
    if (mode === DM_NMI) this.wiring.nmi();
    else if (mode === DM_FIXED) this.accept(entry & 0xff, false);
    // ExtINT is a level the router reads; SMI and INIT from an LVT are not modelled (no SMM, one processor).
  }

  private raiseError(bits: number): void {
    const fresh = (this.errorsPending & bits) !== bits;
    this.errorsPending |= bits;
    if (fresh) this.fireLvt(this.lvt(LVT_ERROR));
  }

  // ---- the timer (SDM 3A §11.5.4) ----

  private divisor(): number {
    const v = this.regs[APIC_TIMER_DIVIDE >> 4];
    const code = (v & 3) | ((v & 8) >>> 1);
    return code === 7 ? 1 : 2 << code;
  }

  /** Bus clocks per timer period (initial count × divisor), 0 when the timer is stopped. */
  private periodLength(): number {
    return this.regs[APIC_TIMER_INITIAL >> 4] * this.divisor();
  }

  private currentCount(): number {
    const initial = this.regs[APIC_TIMER_INITIAL >> 4];
    if (initial === 0 || this.timer.deadline === Infinity) return 0;
    const elapsed = Math.floor((this.wiring.scheduler.now() - this.timerStart) / this.divisor());
    return Math.max(0, initial - elapsed);
  }

  private startTimer(at: number): void {
    this.timerStart = at;
    const length = this.periodLength();
    if (length === 0) this.timer.cancel();
    else this.timer.set(at + length);
  }

  private timerExpired(at: number): void {
    this.fireLvt(this.lvt(LVT_TIMER));
    if ((this.lvt(LVT_TIMER) & LVT_TIMER_PERIODIC) !== 0) this.startTimer(at);
    // One-shot: the count stays at zero (the deadline is gone, so currentCount reads 0).
  }

  /** Whether the timer's interrupt could reach the CPU: the halted-CPU wait skips ahead only to such timers. */
  timerCanInterrupt(): boolean {
    return this.globallyEnabled && this.softwareEnabled && (this.lvt(LVT_TIMER) & LVT_MASKED) === 0;
  }

  // ---- the ICR (SDM 3A §11.6.1) ----

  private sendIpi(low: number): void {
    const mode = (low >>> 8) & 7;
    const vector = low & 0xff;
    const shorthand = (low >>> 18) & 3;
    const dest = this.regs[APIC_ICR_HIGH >> 4] >>> 24;
    const logical = (low & (1 << 11)) !== 0;
    // 01 self, 10 all including self, 11 all excluding self (no other processor exists), 00 the destination field.
    const toSelf = shorthand === 1 || shorthand === 2 || (shorthand === 0 && this.matchesDestination(dest, logical));
    if (!toSelf) return; // to a processor that does not exist: nothing receives it (INIT and SIPI included)
    if (mode === DM_FIXED || mode === DM_LOWEST) {
      if (vector < 16) this.raiseError(ESR_SEND_ILLEGAL);
      this.accept(vector, false);
    } else if (mode === DM_NMI) {
      this.wiring.nmi();
    }
    // INIT, SIPI and SMI to itself are not modelled: the bootstrap processor ignores them here.
  }

  // ---- MMIO ----

  read32(addr: number): number {
    const offset = (addr - this.base) & 0xff0;
    if (!this.globallyEnabled) return 0xffffffff;
    switch (offset) {
      case APIC_VERSION:
        return (LAPIC_VERSION | (MAX_LVT << 16)) >>> 0;
      case APIC_APR:
        return 0;
      case APIC_PPR:
        return this.ppr();
      case APIC_EOI:
      case APIC_RRD:
        return 0;
      case APIC_TIMER_CURRENT:
        return this.currentCount() >>> 0;
      case APIC_ESR:
        return this.regs[APIC_ESR >> 4];
    }
    if (offset >= APIC_ISR && offset < APIC_ISR + 0x80) return this.isr.words[(offset - APIC_ISR) >> 4];
    if (offset >= APIC_TMR && offset < APIC_TMR + 0x80) return this.tmr.words[(offset - APIC_TMR) >> 4];
    if (offset >= APIC_IRR && offset < APIC_IRR + 0x80) return this.irr.words[(offset - APIC_IRR) >> 4];
    return this.regs[offset >> 4] >>> 0;
  }

  write32(addr: number, value: number): void {
    const offset = (addr - this.base) & 0xff0;
    if (!this.globallyEnabled) return;
    value >>>= 0;
    switch (offset) {
      case APIC_ID:
        this.regs[APIC_ID >> 4] = value & 0xff000000;
        return;
      case APIC_TPR:
        this.regs[APIC_TPR >> 4] = value & 0xff;
        this.wiring.changed();
        return;
      case APIC_EOI:
        this.endOfInterrupt();
        return;
      case APIC_LDR:
        this.regs[APIC_LDR >> 4] = value & 0xff000000;
        return;
      case APIC_DFR:
        this.regs[APIC_DFR >> 4] = value | 0x0fffffff;
        return;
      case APIC_SVR:
        this.writeSvr(value);
        return;
      case APIC_ESR:
        // A write latches the errors seen since the last write and clears them (§11.5.3).
        this.regs[APIC_ESR >> 4] = this.errorsPending;
        this.errorsPending = 0;
        return;
      case APIC_ICR_LOW:
        this.regs[APIC_ICR_LOW >> 4] = value & ICR_WRITABLE_LOW;
        this.sendIpi(value);
        return;
      case APIC_ICR_HIGH:
        this.regs[APIC_ICR_HIGH >> 4] = value & 0xff000000;
        return;
      case APIC_TIMER_INITIAL:
        this.regs[APIC_TIMER_INITIAL >> 4] = value;
        this.startTimer(this.wiring.scheduler.now());
        return;
      case APIC_TIMER_DIVIDE: {
        const count = this.currentCount();
        this.regs[APIC_TIMER_DIVIDE >> 4] = value & 0xb;
        // A running count goes on at the new rate from where it is.
        if (this.timer.deadline !== Infinity && count > 0) {
          const now = this.wiring.scheduler.now();
          this.timerStart = now - (this.regs[APIC_TIMER_INITIAL >> 4] - count) * this.divisor();
          this.timer.set(now + count * this.divisor());
        }
        return;
      }
    }
    const lvt = LVT_OFFSETS.indexOf(offset);
    if (lvt >= 0) {
      // While software-disabled every LVT entry stays masked (§11.4.7.2).
      const masked = this.softwareEnabled ? 0 : LVT_MASKED;
      this.regs[offset >> 4] = (value & LVT_WRITABLE[lvt]) | masked;
      this.wiring.changed();
    }
    // Read-only registers (version, PPR, ISR, TMR, IRR, current count) and reserved offsets ignore writes.
  }

  private writeSvr(value: number): void {
    // Bits 0–7 vector, 8 enable, 9 focus checking, 12 EOI-broadcast suppression (not supported: kept 0).
    this.regs[APIC_SVR >> 4] = value & 0x3ff;
    if (!this.softwareEnabled) for (const o of LVT_OFFSETS) this.regs[o >> 4] |= LVT_MASKED;
    this.wiring.changed();
  }

  /** EOI: the highest in-service vector is done; a level-triggered one is reported to the I/O APIC (§11.8.5). */
  private endOfInterrupt(): void {
    const v = this.isr.highest();
    if (v < 0) return;
    this.isr.set(v, false);
    if (this.tmr.has(v)) {
      this.tmr.set(v, false);
      this.wiring.eoiLevel(v);
    }
    this.wiring.changed();
  }

  read8(addr: number): number {
    return (this.read32(addr & ~3) >>> ((addr & 3) * 8)) & 0xff;
  }

  /** Byte stores to APIC registers are undefined (SDM 3A §11.4.1: 32-bit aligned accesses only); merged here. */
  write8(addr: number, value: number): void {
    const shift = (addr & 3) * 8;
    const old = this.read32(addr & ~3);
    this.write32(addr & ~3, (old & ~(0xff << shift)) | ((value & 0xff) << shift));
  }

  snapshot(): LocalApicSnapshot {
    return {
      regs: [...this.regs],
      irr: [...this.irr.words],
      isr: [...this.isr.words],
      tmr: [...this.tmr.words],
      timerStart: this.timerStart,
      errorsPending: this.errorsPending,
      lint0: this.lint0,
      lint1: this.lint1,
    };
  }

  restore(s: LocalApicSnapshot): void {
    this.regs.set(s.regs);
    this.irr.words.set(s.irr);
    this.isr.words.set(s.isr);
    this.tmr.words.set(s.tmr);
    this.timerStart = s.timerStart;
    this.errorsPending = s.errorsPending;
    this.lint0 = s.lint0;
    this.lint1 = s.lint1;
  }
}

/** The pseudo-IRQ number of the APIC timer for the scheduler's wake test (ISA IRQs are 0–15). */
export const APIC_TIMER_WAKE = 0x100;
