// The one interrupt controller the CPU asks (cpu.acknowledgeInterrupt and the INTR line): it combines the 8259
// pair, the local APIC and the I/O APIC as a PC chipset wires them.
// - ISA IRQ n goes to the 8259 pair and to I/O APIC input isaIrqToGsi(n) (IRQ 0 on input 2, the rest on their own
//   number; the 8259's INTR output on input 0), as the MP table and the MADT say.
// - The 8259's INTR reaches the CPU in PIC mode (IMCR bit 0 clear, the power-on state), when the local APIC is
//   globally disabled (LINT0 is then the INTR pin), or through LINT0 or an I/O APIC input programmed ExtINT
//   (virtual wire); otherwise it is cut off.
// - The CPU's INTR is raised while either the 8259 path or the local APIC has something deliverable. In the INTA
//   cycle the local APIC answers first (its vectors are prioritised by TPR/PPR), the 8259 otherwise.

import type { Cpu } from '../cpu/cpu';
import { isaIrqToGsi } from '../machine/firmware/platform-tables';
import type { Imcr } from './imcr';
import type { IoApic } from './io-apic';
import type { LocalApic } from './local-apic';
import { APIC_TIMER_WAKE } from './local-apic';
import type { PicPair } from './pic-pair';

export interface InterruptRouterSnapshot {
  picOutput: boolean;
  extIntViaIoApic: boolean;
}

export class InterruptRouter {
  private picOutput = false;
  /** An I/O APIC input programmed ExtINT passes the 8259's INTR (set by the I/O APIC). */
  private extIntViaIoApic = false;
  lapic: LocalApic | null = null;
  ioapic: IoApic | null = null;
  imcr: Imcr | null = null;

  constructor(
    private readonly cpu: Cpu,
    private readonly pic: PicPair | null,
  ) {}

  /** The 8259 pair's INTR output changed. */
  setPicOutput(level: boolean): void {
    this.picOutput = level;
    if (this.imcr !== null && !this.imcr.picMode) this.lapic?.setLint(0, level);
    this.ioapic?.setPin(0, level);
    this.update();
  }

  setExtIntViaIoApic(level: boolean): void {
    this.extIntViaIoApic = level;
    this.update();
  }

  /** ISA interrupt line `irq` (0–15) to both controllers. */
  setIrq(irq: number, level: boolean): void {
    this.pic?.setIrq(irq, level);
    this.ioapic?.setPin(isaIrqToGsi(irq), level);
  }

  /** Whether the 8259's INTR reaches the CPU now (see the header). */
  private picPathOpen(): boolean {
    const lapic = this.lapic;
    if (lapic === null || this.imcr === null || this.imcr.picMode || !lapic.globallyEnabled) return true;
    return lapic.extIntActive() || this.extIntViaIoApic;
  }

  private picDeliverable(): boolean {
    return this.picOutput && this.picPathOpen();
  }

  /** Recomputes the CPU's INTR line. */
  update(): void {
    const level = this.picDeliverable() || (this.lapic?.hasDeliverable() ?? false);
    if (level !== this.cpu.intrLine) this.cpu.setIntrLine(level);
  }

  /** The INTA cycle: the vector the CPU takes. */
  acknowledge(): number {
    let vector: number;
    if (this.lapic?.hasDeliverable()) vector = this.lapic.acknowledge();
    else if (this.pic !== null && this.picDeliverable()) vector = this.pic.acknowledge();
    else if (this.lapic !== null && this.imcr !== null && !this.imcr.picMode) vector = this.lapic.acknowledge(); // spurious
    else vector = this.pic ? this.pic.acknowledge() : 0xff;
    this.update();
    return vector;
  }

  /** An NMI for the processor (ICR, LINT1, I/O APIC NMI entries). */
  nmi(): void {
    this.cpu.nmiPending = true;
    this.cpu.halted = false;
    this.cpu.updateAttention();
  }

  /**
   * True when an interrupt from `source` (an ISA IRQ, or APIC_TIMER_WAKE) could reach the CPU now; a halted CPU
   * skips ahead only to timers for which this holds. It may answer yes too often (the wait then goes on), never no
   * wrongly.
   */
  canInterrupt(source: number): boolean {
    if (source === APIC_TIMER_WAKE) return this.lapic?.timerCanInterrupt() ?? false;
    if (this.pic?.wouldDeliver(source)) return true;
    return this.ioapic !== null && this.lapic !== null && this.lapic.softwareEnabled && this.ioapic.wouldDeliver(isaIrqToGsi(source));
  }

  snapshot(): InterruptRouterSnapshot {
    return { picOutput: this.picOutput, extIntViaIoApic: this.extIntViaIoApic };
  }

  restore(s: InterruptRouterSnapshot): void {
    this.picOutput = s.picOutput;
    this.extIntViaIoApic = s.extIntViaIoApic;
    this.cpu.intrLine = false;
    this.update();
  }
}
