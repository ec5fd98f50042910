// The IMCR, the interrupt mode configuration register of the MP specification (§3.6.2.1): select register 70h
// through port 22h, then read or write it through port 23h. Bit 0 clear (the power-on state) is PIC mode: the
// 8259's INTR goes straight to the processor, past the local APIC. Bit 0 set is symmetric I/O mode: the 8259
// reaches the processor only through the APICs (LINT0 or an I/O APIC input programmed as ExtINT).

import type { IoBus, PortDevice } from '../bus/io-bus';

export const IMCR_SELECT_PORT = 0x22;
export const IMCR_DATA_PORT = 0x23;
const IMCR_REGISTER = 0x70;

export class Imcr implements PortDevice {
  private select = 0;
  /** Bit 0: 1 = symmetric I/O (APIC) mode. */
  value = 0;

  constructor(private readonly changed: () => void) {}

  attach(io: IoBus): void {
    io.register(IMCR_SELECT_PORT, 2, this);
  }

  get picMode(): boolean {
    return (this.value & 1) === 0;
  }

  portIn(port: number): number {
    if (port === IMCR_SELECT_PORT) return this.select;
    return this.select === IMCR_REGISTER ? this.value : 0xff;
  }

  portOut(port: number, value: number): void {
    if (port === IMCR_SELECT_PORT) {
      this.select = value;
      return;
    }
    if (this.select !== IMCR_REGISTER) return;
    this.value = value & 1;
    this.changed();
  }

  snapshot(): [number, number] {
    return [this.select, this.value];
  }

  restore(s: [number, number]): void {
    [this.select, this.value] = s;
  }
}
