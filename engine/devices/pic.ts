// One Intel 8259A programmable interrupt controller (8259A data sheet, "Programming the 8259A"). The master/slave
// pair of a PC, its ports and the INTA cycle are in pic-pair.ts.
//
// Modelled: the initialization sequence ICW1–ICW4, OCW1 (IMR), OCW2 (non-specific/specific EOI, rotation, set
// priority), OCW3 (IRR/ISR read select, poll, special mask mode), edge and level triggering, automatic EOI with
// optional rotation, special fully nested mode, MCS-80/85 vector formation for a chip programmed for the wrong
// CPU, and buffered-mode bits (stored; they change nothing on a PC).
//
// Edge triggering follows the data sheet's timing rule: a rising edge on IRn sets IRR bit n, and the request must
// stay high until it is acknowledged; if the line falls first the request is gone (an INTA then finds nothing and
// answers with the IR7 vector: the "spurious interrupt").

export interface PicSnapshot {
  regs: number[];
}

/** Where the initialization sequence stands: the next data-port write is this ICW (0 = normal operation). */
const INIT_DONE = 0;
const EXPECT_ICW2 = 2;
const EXPECT_ICW3 = 3;
const EXPECT_ICW4 = 4;

// ICW1 bits.
const ICW1_IC4 = 0x01;
const ICW1_SNGL = 0x02;
const ICW1_ADI = 0x04;
const ICW1_LTIM = 0x08;
export const ICW1_INIT = 0x10;
// ICW4 bits.
const ICW4_UPM = 0x01;
const ICW4_AEOI = 0x02;
const ICW4_SFNM = 0x10;
// OCW3 bits.
export const OCW3_SELECT = 0x08;
const OCW3_RIS = 0x01;
const OCW3_RR = 0x02;
const OCW3_POLL = 0x04;
const OCW3_SMM = 0x20;
const OCW3_ESMM = 0x40;

export class Pic8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Current level of each IR input. */
  lines = 0;
  icw1 = 0;
  /** ICW2: the vector base (T7–T3 in 8086 mode) or A15–A8 of the MCS-80 CALL address. */
  icw2 = 0;
  /** ICW3: on a master, the IR lines with a slave; on a slave, its cascade identity. */
  icw3 = 0;
  icw4 = 0;
  initStep = INIT_DONE;
  /** The IR level with the lowest priority (7 after initialization: IR0 is highest). */
  lowestPriority = 7;
  readIsr = false;
  pollPending = false;
  specialMask = false;
  rotateOnAutoEoi = false;

  constructor(
    /** True for the chip whose cascade lines feed slaves (special fully nested mode applies there). */
    readonly isMaster: boolean,
    /** Called when the chip's INT output may have changed. */
    private readonly onOutputChange: () => void,
  ) {}

  private get levelTriggered(): boolean {
    return (this.icw1 & ICW1_LTIM) !== 0;
  }

  /** Drives IR input `irq` to `level`. */
  setLine(irq: number, level: boolean): void {
    const bit = 1 << irq;
    const was = (this.lines & bit) !== 0;
    if (level === was) return;
    if (level) {
      this.lines |= bit;
      this.irr |= bit; // a rising edge (edge mode) or a high level (level mode) requests
    } else {
      this.lines &= ~bit;
      this.irr &= ~bit; // in either mode the request is withdrawn when the line drops before INTA
    }
    this.onOutputChange();
  }

  /** Sets an input's level at power-on without a request (the edge sense starts out reset). */
  presetLine(irq: number, level: boolean): void {
    if (level) this.lines |= 1 << irq;
    else this.lines &= ~(1 << irq);
  }

  /** The priority rank of `irq` (0 = highest) under the current rotation. */
  private rank(irq: number): number {
    return (irq - this.lowestPriority - 1) & 7;
  }

  /** The highest-priority level in `bits`, or -1. */
  private highest(bits: number): number {
    for (let r = 0; r < 8; r++) {
      const irq = (this.lowestPriority + 1 + r) & 7;
      if (bits & (1 << irq)) return irq;
    }
    return -1;
  }

  /** In-service levels that hold back requests: in special mask mode a masked in-service level does not. */
  private blockingIsr(): number {
    return this.specialMask ? this.isr & ~this.imr : this.isr;
  }

  /**
   * The level the chip would acknowledge now, or -1: the highest unmasked request whose priority is above every
   * blocking in-service level (on a master in special fully nested mode, a slave's own level does not block it).
   */
  pendingLevel(): number {
    if (this.initStep !== INIT_DONE) return -1;
    const irq = this.highest(this.irr & ~this.imr);
    if (irq < 0) return -1;
    return this.wouldPass(irq) ? irq : -1;
  }

  /** True when a request on `irq` would be passed to the CPU now (unmasked and of higher priority than service). */
  wouldPass(irq: number): boolean {
    if (this.imr & (1 << irq)) return false;
    let blocking = this.blockingIsr();
    if (this.isMaster && (this.icw4 & ICW4_SFNM) !== 0 && (this.icw3 & (1 << irq)) !== 0) blocking &= ~(1 << irq);
    const inService = this.highest(blocking);
    return inService < 0 || this.rank(irq) < this.rank(inService);
  }

  /** Level of the INT output. */
  get output(): boolean {
    return this.pendingLevel() >= 0;
  }

  /** True when IR `irq` is a cascade input (a master with a slave there). */
  isCascade(irq: number): boolean {
    return this.isMaster && (this.icw1 & ICW1_SNGL) === 0 && (this.icw3 & (1 << irq)) !== 0;
  }

  /**
   * The INTA sequence's effect on this chip: the level it acknowledges (IR7 when nothing is pending: the spurious
   * case, with ISR untouched), moving it from IRR to ISR unless automatic EOI is on.
   */
  acknowledge(): { irq: number; spurious: boolean } {
    const irq = this.pendingLevel();
    if (irq < 0) return { irq: 7, spurious: true };
    const bit = 1 << irq;
    if (!this.levelTriggered) this.irr &= ~bit;
    if ((this.icw4 & ICW4_AEOI) !== 0) {
      if (this.rotateOnAutoEoi) this.lowestPriority = irq;
    } else {
      this.isr |= bit;
    }
    this.onOutputChange();
    return { irq, spurious: false };
  }

  /** The vector byte this chip puts on the bus for `irq` (8086 mode: ICW2's T7–T3 and the level). */
  vector(irq: number): number {
    if ((this.icw4 & ICW4_UPM) !== 0) return (this.icw2 & 0xf8) | irq;
    // MCS-80/85 mode: the second INTA byte is the low byte of the CALL address, which an x86 takes as the vector.
    if ((this.icw1 & ICW1_ADI) !== 0) return (this.icw1 & 0xe0) | (irq << 2);
    return (this.icw1 & 0xc0) | (irq << 3);
  }

  // ---- ports: A0 = 0 is the command port, A0 = 1 the data port ----

  readCommand(): number {
    if (this.pollPending) {
      // Poll command (OCW3 P): the read acknowledges the highest request as an INTA would.
      this.pollPending = false;
      const irq = this.pendingLevel();
      if (irq < 0) return 0;
      this.acknowledge();
      return 0x80 | irq;
    }
    return this.readIsr ? this.isr : this.irr;
  }

  readData(): number {
    return this.imr;
  }

  writeCommand(value: number): void {
    if (value & ICW1_INIT) this.startInit(value);
    else if (value & OCW3_SELECT) this.writeOcw3(value);
    else this.writeOcw2(value);
  }

  writeData(value: number): void {
    switch (this.initStep) {
      case EXPECT_ICW2:
        this.icw2 = value;
        this.initStep = (this.icw1 & ICW1_SNGL) === 0 ? EXPECT_ICW3 : this.afterIcw3();
        break;
      case EXPECT_ICW3:
        this.icw3 = value;
        this.initStep = this.afterIcw3();
        break;
      case EXPECT_ICW4:
        this.icw4 = value & 0x1f;
        this.initStep = INIT_DONE;
        break;
      default:
        this.imr = value; // OCW1
    }
    if (this.initStep === INIT_DONE) this.onOutputChange();
  }

  private afterIcw3(): number {
    return (this.icw1 & ICW1_IC4) !== 0 ? EXPECT_ICW4 : INIT_DONE;
  }

  /** ICW1 (data sheet): clears IMR, resets the edge sense, makes IR7 lowest, ends special mask mode, selects IRR. */
  private startInit(value: number): void {
    this.icw1 = value;
    this.initStep = EXPECT_ICW2;
    this.imr = 0;
    this.isr = 0;
    // Edge sense reset: an input already high must go low and high again; in level mode the level itself counts.
    this.irr = this.levelTriggered ? this.lines : 0;
    this.lowestPriority = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.pollPending = false;
    this.rotateOnAutoEoi = false;
    if ((value & ICW1_IC4) === 0) this.icw4 = 0; // "if IC4 = 0, all functions selected in ICW4 are set to zero"
    this.onOutputChange();
  }

  /** OCW2: R, SL, EOI in bits 7–5, the level in bits 2–0. */
  private writeOcw2(value: number): void {
    const level = value & 7;
    switch (value >> 5) {
      case 0b001: // non-specific EOI
        this.endOfInterrupt(this.highest(this.isr), false);
        break;
      case 0b011: // specific EOI
        this.endOfInterrupt(level, false);
        break;
      case 0b101: // rotate on non-specific EOI
        this.endOfInterrupt(this.highest(this.isr), true);
        break;
      case 0b111: // rotate on specific EOI
        this.endOfInterrupt(level, true);
        break;
      case 0b100:
        this.rotateOnAutoEoi = true;
        break;
      case 0b000:
        this.rotateOnAutoEoi = false;
        break;
      case 0b110: // set priority: `level` becomes the lowest
        this.lowestPriority = level;
        break;
      default: // 0b010: no operation
        return;
    }
    this.onOutputChange();
  }

  private endOfInterrupt(level: number, rotate: boolean): void {
    if (level < 0) return; // a non-specific EOI with nothing in service does nothing
    this.isr &= ~(1 << level);
    if (rotate) this.lowestPriority = level;
  }

  /** OCW3: ESMM/SMM in bits 6–5, poll in bit 2, RR/RIS in bits 1–0. */
  private writeOcw3(value: number): void {
    if (value & OCW3_ESMM) this.specialMask = (value & OCW3_SMM) !== 0;
    if (value & OCW3_RR) this.readIsr = (value & OCW3_RIS) !== 0;
    this.pollPending = (value & OCW3_POLL) !== 0;
    this.onOutputChange();
  }

  // ---- snapshots ----

  snapshot(): PicSnapshot {
    return {
      regs: [
        this.irr, this.isr, this.imr, this.lines, this.icw1, this.icw2, this.icw3, this.icw4, this.initStep,
        this.lowestPriority, +this.readIsr, +this.pollPending, +this.specialMask, +this.rotateOnAutoEoi,
      ],
    };
  }

  restore(s: PicSnapshot): void {
    const r = s.regs;
    [this.irr, this.isr, this.imr, this.lines, this.icw1, this.icw2, this.icw3, this.icw4, this.initStep] = r;
    this.lowestPriority = r[9];
    this.readIsr = r[10] !== 0;
    this.pollPending = r[11] !== 0;
    this.specialMask = r[12] !== 0;
    this.rotateOnAutoEoi = r[13] !== 0;
  }
}
