// The ACPI fixed-hardware power management registers the FADT names (ACPI 6.4 §4.8.3): the PM1a event block at
// 600h (PM1_STS, PM1_EN, 16 bits each) and the PM1a control block at 604h (PM1_CNT). There is no SMI command
// port, so SCI_EN reads 1 from the start (the machine is always in ACPI mode). Writing SLP_EN (bit 13) with
// SLP_TYP (bits 10–12) = 5, the value of the DSDT's \_S5 package, powers the machine off: the run ends with stop
// reason `halt` (exit code 0), as a machine that has switched itself off. Other sleep types are not supported and
// are ignored (the DSDT offers no \_S1–\_S4). No event ever sets a status bit, so the SCI (IRQ 9) never fires.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { PM1A_CNT_PORT, PM1A_EVT_PORT, SLP_TYP_S5 } from '../machine/firmware/platform-tables';

const SCI_EN = 0x0001;
const SLP_EN = 0x2000;
const SLP_TYP_SHIFT = 10;
/** PM1_CNT bits kept on write: SCI_EN (read-only 1 here), BM_RLD, GBL_RLS (write-only, reads 0), SLP_TYP. */
const CNT_KEPT = 0x1c06;

export class AcpiPm implements PortDevice {
  readonly wide = true;
  private status = 0;
  private enable = 0;
  private control = SCI_EN;

  constructor(private readonly powerOff: () => void) {}

  attach(io: IoBus): void {
    io.register(PM1A_EVT_PORT, 4, this);
    io.register(PM1A_CNT_PORT, 2, this);
  }

  private readByte(port: number): number {
    const o = port - PM1A_EVT_PORT;
    const reg = o < 2 ? this.status : o < 4 ? this.enable : this.control;
    return (reg >>> ((o & 1) * 8)) & 0xff;
  }

  portIn(port: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.readByte(port + i);
    return v;
  }

  portOut(port: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
    // SLP_EN and SLP_TYP live in PM1_CNT's high byte: act when a write reached it.
    const high = PM1A_CNT_PORT + 1;
    if (port > high || port + size - 1 < high) return;
    const cnt = ((value >>> ((high - port) * 8)) & 0xff) << 8;
    if ((cnt & SLP_EN) !== 0 && ((cnt >>> SLP_TYP_SHIFT) & 7) === SLP_TYP_S5) this.powerOff();
  }

  private writeByte(port: number, b: number): void {
    const o = port - PM1A_EVT_PORT;
    const shift = (o & 1) * 8;
    if (o < 2) this.status &= ~(b << shift); // write 1 to clear
    else if (o < 4) this.enable = (this.enable & ~(0xff << shift)) | (b << shift);
    else this.control = ((this.control & ~(0xff << shift)) | ((b << shift) & CNT_KEPT)) | SCI_EN;
  }

  snapshot(): number[] {
    return [this.status, this.enable, this.control];
  }

  restore(s: number[]): void {
    [this.status, this.enable, this.control] = s;
  }
}
