// The PC/AT interrupt controller: two 8259A chips, the master at 0x20/0x21 and the slave at 0xA0/0xA1 with its INT
// output on the master's IR2. ISA devices raise IRQ 0–15; the pair drives the CPU's INTR line and answers the
// INTA cycle with the vector (the CPU calls `acknowledge` through cpu.acknowledgeInterrupt).
//
// A real 8259A's state after power-on is undefined until it is initialised. Ours starts as a BIOS leaves it
// (master vectors 08h–0Fh, slave 70h–77h, 8086 mode, cascade on IR2) but with every line masked, so a guest that
// was loaded without firmware and never touched the PIC receives no interrupt it has no handler for.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { Pic8259, type PicSnapshot } from './pic';

export const PIC_MASTER_PORT = 0x20;
export const PIC_SLAVE_PORT = 0xa0;
/** The master's input that carries the slave's INT output. */
export const CASCADE_IRQ = 2;

export interface PicPairSnapshot {
  master: PicSnapshot;
  slave: PicSnapshot;
}

export class PicPair implements PortDevice {
  readonly master: Pic8259;
  readonly slave: Pic8259;
  private intr = false;

  constructor(
    /** Drives the CPU's INTR input. */
    private readonly setIntr: (level: boolean) => void,
  ) {
    this.master = new Pic8259(true, () => this.update());
    this.slave = new Pic8259(false, () => this.update());
    this.powerOn();
  }

  /** The documented start state (see the header): both chips initialised, all lines masked. */
  powerOn(): void {
    const init = (pic: Pic8259, base: number, icw3: number) => {
      pic.writeCommand(0x11); // ICW1: edge triggered, cascade, ICW4 follows
      pic.writeData(base);
      pic.writeData(icw3);
      pic.writeData(0x01); // ICW4: 8086 mode
      pic.writeData(0xff);
    };
    init(this.master, 0x08, 1 << CASCADE_IRQ);
    init(this.slave, 0x70, CASCADE_IRQ);
  }

  attach(io: IoBus): void {
    io.register(PIC_MASTER_PORT, 2, this);
    io.register(PIC_SLAVE_PORT, 2, this);
  }

  /** Drives ISA interrupt line `irq` (0–15). IRQ 2 on a PC/AT is the cascade; devices wired to it use IRQ 9. */
  setIrq(irq: number, level: boolean): void {
    if (irq >= 8) this.slave.setLine(irq - 8, level);
    else this.master.setLine(irq, level);
  }

  /** A line's level at power-on, which is no request (see Pic8259.presetLine). */
  presetIrq(irq: number, level: boolean): void {
    if (irq >= 8) this.slave.presetLine(irq - 8, level);
    else this.master.presetLine(irq, level);
  }

  /** The INTA cycle: the vector of the highest request, or the IR7 vector of the answering chip when none is left. */
  acknowledge(): number {
    const m = this.master.acknowledge();
    if (m.spurious || !this.master.isCascade(m.irq)) return this.master.vector(m.irq);
    // The master put IR2 in service; the slave supplies the vector (its own IR7 if its request vanished, in which
    // case the master's ISR bit stays set and the guest must still EOI the master).
    const s = this.slave.acknowledge();
    return this.slave.vector(s.irq);
  }

  /**
   * True when a request on `irq` would reach the CPU now: unmasked and above everything in service on its chip
   * and, for slave lines, on the master's cascade input too. A halted CPU only skips ahead to such timers.
   */
  wouldDeliver(irq: number): boolean {
    if (irq < 8) return this.master.wouldPass(irq);
    return this.slave.wouldPass(irq - 8) && this.master.wouldPass(CASCADE_IRQ);
  }

  /** Recomputes the slave→master cascade line and the CPU's INTR line. */
  private update(): void {
    if (!this.slave || !this.master) return; // during construction
    this.master.setLine(CASCADE_IRQ, this.slave.output);
    const out = this.master.output;
    if (out !== this.intr) {
      this.intr = out;
      this.setIntr(out);
    }
  }

  portIn(port: number): number {
    const pic = port >= PIC_SLAVE_PORT ? this.slave : this.master;
    return (port & 1) === 0 ? pic.readCommand() : pic.readData();
  }

  portOut(port: number, value: number): void {
    const pic = port >= PIC_SLAVE_PORT ? this.slave : this.master;
    if ((port & 1) === 0) pic.writeCommand(value);
    else pic.writeData(value);
  }

  snapshot(): PicPairSnapshot {
    return { master: this.master.snapshot(), slave: this.slave.snapshot() };
  }

  restore(s: PicPairSnapshot): void {
    this.master.restore(s.master);
    this.slave.restore(s.slave);
    this.intr = this.master.output;
    this.setIntr(this.intr);
  }
}
