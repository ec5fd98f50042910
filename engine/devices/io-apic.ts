// The I/O APIC (Intel 82093AA data sheet), memory-mapped at 0xFEC00000: an index register IOREGSEL at +00h and a
// data window IOWIN at +10h. Registers: 00h ID, 01h version (max redirection entry in bits 16–23), 02h
// arbitration ID, 10h–3Fh the 24 redirection entries, two dwords each.
//
// Each input pin carries an ISA IRQ (pc-devices.ts wires them as the MP table and the MADT say: IRQ 0 on pin 2,
// the 8259's INTR on pin 0, the others on their own number). A redirection entry sends an edge-triggered pin's
// rising edge, or a level-triggered pin's asserted level, as a message to the local APIC. For level-triggered
// entries the remote IRR bit is set when the local APIC accepts, and cleared by its EOI for that vector; while it
// is set the pin sends nothing more (82093AA §3.2.4). Masked pins send nothing; an edge that arrives masked is lost.

import type { MmioHandler } from '../bus/memory';
import { IOAPIC_ID, IOAPIC_PINS, IOAPIC_VERSION } from '../machine/firmware/platform-tables';
import { DM_EXTINT, DM_FIXED, DM_LOWEST, DM_NMI } from './local-apic';

const IOREGSEL = 0x00;
const IOWIN = 0x10;
const REG_ID = 0x00;
const REG_VERSION = 0x01;
const REG_ARBITRATION = 0x02;
const REG_REDIRECTION = 0x10;

export const RTE_MASKED = 1 << 16;
export const RTE_LEVEL = 1 << 15;
export const RTE_REMOTE_IRR = 1 << 14;
/** Delivery status (bit 12) is always idle here: delivery is immediate. Bits the guest can write: */
const RTE_WRITABLE_LOW = 0x0001afff;

export interface IoApicSnapshot {
  select: number;
  id: number;
  low: number[];
  high: number[];
  pins: number;
}

export interface IoApicTarget {
  /** Whether the local APIC is named by this destination (physical APIC ID or logical mask). */
  matchesDestination(dest: number, logical: boolean): boolean;
  /** A fixed or lowest-priority message; `level` sets the local APIC's TMR bit. */
  accept(vector: number, level: boolean): void;
  nmi(): void;
  /** An ExtINT message: the CPU takes the vector from the 8259 (the router handles it). */
  extInt(level: boolean): void;
}

export class IoApic implements MmioHandler {
  private select = 0;
  private id = IOAPIC_ID << 24;
  readonly low = new Uint32Array(IOAPIC_PINS);
  readonly high = new Uint32Array(IOAPIC_PINS);
  /** Pin levels as a bit mask. */
  private pins = 0;

  constructor(
    readonly base: number,
    private readonly target: IoApicTarget,
  ) {
    this.reset();
  }

  /** The I/O APIC ID (register 00h, bits 24–27). */
  get apicId(): number {
    return this.id >>> 24;
  }

  /** Reset: every entry masked, edge, fixed, vector 0 (82093AA §3.2.4). */
  reset(): void {
    this.low.fill(RTE_MASKED);
    this.high.fill(0);
    this.select = 0;
  }

  /** Drives input `pin` (0–23). */
  setPin(pin: number, level: boolean): void {
    if (pin < 0 || pin >= IOAPIC_PINS) return;
    const bit = 1 << pin;
    const was = (this.pins & bit) !== 0;
    this.pins = level ? this.pins | bit : this.pins & ~bit;
    const entry = this.low[pin];
    if (((entry >>> 8) & 7) === DM_EXTINT) {
      // The 8259's INTR through an ExtINT entry follows the level (it is the 8259 that keeps the request).
      this.target.extInt(level && (entry & RTE_MASKED) === 0);
      return;
    }
    if ((entry & RTE_LEVEL) !== 0) {
      if (level) this.deliver(pin);
    } else if (level && !was) {
      this.deliver(pin);
    }
  }

  /** Sends entry `pin`'s message if it may (unmasked, and for level entries no remote IRR pending). */
  private deliver(pin: number): void {
    const entry = this.low[pin];
    if ((entry & RTE_MASKED) !== 0) return;
    const level = (entry & RTE_LEVEL) !== 0;
    if (level && (entry & RTE_REMOTE_IRR) !== 0) return;
    const logical = (entry & (1 << 11)) !== 0;
    if (!this.target.matchesDestination(this.high[pin] >>> 24, logical)) return;
    const mode = (entry >>> 8) & 7;
    if (mode === DM_FIXED || mode === DM_LOWEST) {
      if (level) this.low[pin] |= RTE_REMOTE_IRR;
      this.target.accept(entry & 0xff, level);
    } else if (mode === DM_NMI) {
      this.target.nmi();
    }
  }

  /** The local APIC's EOI for a level-triggered `vector`: clear remote IRR; a pin still asserted sends again. */
  endOfInterrupt(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      if ((this.low[pin] & RTE_REMOTE_IRR) === 0 || (this.low[pin] & 0xff) !== vector) continue;
      this.low[pin] &= ~RTE_REMOTE_IRR;
      if ((this.pins & (1 << pin)) !== 0) this.deliver(pin);
    }
  }

  /** Whether a rising edge on `pin` would reach the local APIC now (for the halted CPU's wait). */
  wouldDeliver(pin: number): boolean {
    const entry = this.low[pin] ?? RTE_MASKED;
    return (entry & RTE_MASKED) === 0 && (entry & RTE_REMOTE_IRR) === 0;
  }

  private readRegister(index: number): number {
    if (index === REG_ID) return this.id;
    if (index === REG_VERSION) return (IOAPIC_VERSION | ((IOAPIC_PINS - 1) << 16)) >>> 0;
    if (index === REG_ARBITRATION) return this.id;
    const pin = (index - REG_REDIRECTION) >> 1;
    if (index >= REG_REDIRECTION && pin < IOAPIC_PINS) return (index & 1) === 0 ? this.low[pin] : this.high[pin];
    return 0;
  }

  private writeRegister(index: number, value: number): void {
    if (index === REG_ID) {
      this.id = value & 0x0f000000;
      return;
    }
    const pin = (index - REG_REDIRECTION) >> 1;
    if (index < REG_REDIRECTION || pin >= IOAPIC_PINS) return; // version, arbitration: read-only
    if ((index & 1) === 1) {
      this.high[pin] = value & 0xff000000;
      return;
    }
    // Remote IRR and delivery status are read-only.
    this.low[pin] = ((value & RTE_WRITABLE_LOW) | (this.low[pin] & RTE_REMOTE_IRR)) >>> 0;
    if ((this.low[pin] & RTE_LEVEL) === 0) this.low[pin] &= ~RTE_REMOTE_IRR;
    const asserted = (this.pins & (1 << pin)) !== 0;
    if (((this.low[pin] >>> 8) & 7) === DM_EXTINT) this.target.extInt(asserted && (this.low[pin] & RTE_MASKED) === 0);
    // Unmasking a level-triggered pin that is asserted sends its message now.
    else if (asserted && (this.low[pin] & RTE_LEVEL) !== 0) this.deliver(pin);
  }

  read32(addr: number): number {
    const offset = (addr - this.base) & 0xff;
    if (offset === IOREGSEL) return this.select;
    if (offset === IOWIN) return this.readRegister(this.select) >>> 0;
    return 0;
  }

  write32(addr: number, value: number): void {
    const offset = (addr - this.base) & 0xff;
    if (offset === IOREGSEL) this.select = value & 0xff;
    else if (offset === IOWIN) this.writeRegister(this.select, value >>> 0);
  }

  read8(addr: number): number {
    return (this.read32(addr & ~3) >>> ((addr & 3) * 8)) & 0xff;
  }

  write8(addr: number, value: number): void {
    // IOREGSEL is commonly written as a byte.
    if (((addr - this.base) & 0xff) === IOREGSEL) this.select = value & 0xff;
    else {
      const shift = (addr & 3) * 8;
      const old = this.read32(addr & ~3);
      this.write32(addr & ~3, (old & ~(0xff << shift)) | ((value & 0xff) << shift));
    }
  }

  snapshot(): IoApicSnapshot {
    return { select: this.select, id: this.id, low: [...this.low], high: [...this.high], pins: this.pins };
  }

  restore(s: IoApicSnapshot): void {
    this.select = s.select;
    this.id = s.id;
    this.low.set(s.low);
    this.high.set(s.high);
    this.pins = s.pins;
  }
}
