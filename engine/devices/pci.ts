// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0 §3.2.2.3.2) and the functions of a 440FX/PIIX3
// PC on bus 0, with the ids real chipsets carry, so an OS that scans PCI finds the machine it expects:
//   00:00.0  host bridge  8086:1237  (Intel 440FX PMC), class 06 00 00
//   00:01.0  ISA bridge   8086:7000  (Intel PIIX3), class 06 01 00, multi-function
//   00:01.1  IDE          8086:7010  (Intel PIIX3 IDE), class 01 01 80: both channels in compatibility (legacy)
//            mode at 1F0h/3F6h and 170h/376h on IRQ 14/15, so BARs 0–3 do not exist and read 0; bus mastering is
//            not modelled, so BAR4 reads 0 too (libata and others then use PIO).
// CONFIG_ADDRESS (0CF8h, dword): bit 31 enable, bus 23–16, device 15–11, function 10–8, register 7–2.
// CONFIG_DATA (0CFCh–0CFFh): byte, word or dword accesses at the register plus the port's low two bits.
// A function that does not exist reads all ones (the host bridge's master abort); writes to it are dropped.
// Port 0CF9h (a byte inside CONFIG_ADDRESS) is the PIIX3 reset control register: bit 2 set resets the CPU.

import type { IoBus, PortDevice } from '../bus/io-bus';

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;
export const RESET_CONTROL_PORT = 0xcf9;

export interface PciFunctionInfo {
  bus: number;
  device: number;
  function: number;
  name: string;
}

/** One PCI function's 256-byte configuration space and the bits a guest may write. */
export class PciFunction {
  readonly config = new Uint8Array(256);
  private readonly writable = new Uint8Array(256);

  constructor(
    readonly info: PciFunctionInfo,
    ids: { vendor: number; device: number; classCode: number; revision: number; headerType: number },
  ) {
    const c = this.config;
    const set16 = (o: number, v: number) => ((c[o] = v & 0xff), (c[o + 1] = v >>> 8));
    set16(0x00, ids.vendor);
    set16(0x02, ids.device);
    c[0x08] = ids.revision;
    c[0x09] = ids.classCode & 0xff; // programming interface
    c[0x0a] = (ids.classCode >>> 8) & 0xff; // subclass
    c[0x0b] = ids.classCode >>> 16; // base class
    c[0x0e] = ids.headerType;
    // Command bits 0–2 (I/O, memory, bus master) and 8 (SERR#); the latency timer; the interrupt line.
    this.allow(0x04, 0x07);
    this.allow(0x05, 0x01);
    this.allow(0x0d, 0xff);
    this.allow(0x3c, 0xff);
  }

  /** Lets the guest write bits `mask` of config byte `offset`. */
  allow(offset: number, mask: number): void {
    this.writable[offset] = mask;
  }

  set(offset: number, value: number, bytes = 1): void {
    for (let i = 0; i < bytes; i++) this.config[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  read(offset: number): number {
    return this.config[offset];
  }

  write(offset: number, value: number): void {
    const mask = this.writable[offset];
    this.config[offset] = (this.config[offset] & ~mask) | (value & mask);
  }

  get vendor(): number {
    return this.config[0] | (this.config[1] << 8);
  }
  get deviceId(): number {
    return this.config[2] | (this.config[3] << 8);
  }
  get classCode(): number {
    return (this.config[0x0b] << 16) | (this.config[0x0a] << 8) | this.config[0x09];
  }
}

export interface PciSnapshot {
  address: number;
  configs: number[][];
}

/** Command register bit 0: the function answers its I/O ports. */
const CMD_IO = 0x01;

export function i440fxFunctions(): PciFunction[] {
  const host = new PciFunction(
    { bus: 0, device: 0, function: 0, name: 'host bridge (i440FX)' },
    { vendor: 0x8086, device: 0x1237, classCode: 0x060000, revision: 0x02, headerType: 0x00 },
  );
  host.set(0x04, 0x0006, 2); // memory space, bus master
  const isa = new PciFunction(
    { bus: 0, device: 1, function: 0, name: 'ISA bridge (PIIX3)' },
    { vendor: 0x8086, device: 0x7000, classCode: 0x060100, revision: 0x00, headerType: 0x80 },
  );
  isa.set(0x04, 0x0007, 2);
  // PIRQA–D route control: routing disabled (bit 7), the reset value; writable as on the PIIX3.
  for (let o = 0x60; o <= 0x63; o++) {
    isa.set(o, 0x80);
    isa.allow(o, 0x8f);
  }
  const ide = new PciFunction(
    { bus: 0, device: 1, function: 1, name: 'IDE controller (PIIX3)' },
    { vendor: 0x8086, device: 0x7010, classCode: 0x010180, revision: 0x00, headerType: 0x00 },
  );
  ide.set(0x04, CMD_IO, 2);
  ide.set(0x3c, 14); // compatibility mode: IRQ 14 (primary) and 15 (secondary); no interrupt pin
  // IDETIM primary (40h) and secondary (42h): bit 15 IDE decode enable, so both channels answer at their ports.
  ide.set(0x40, 0x8000, 2);
  ide.set(0x42, 0x8000, 2);
  for (const o of [0x40, 0x41, 0x42, 0x43]) ide.allow(o, 0xff);
  return [host, isa, ide];
}

export class PciBus implements PortDevice {
  readonly wide = true;
  /** CONFIG_ADDRESS as last written. */
  address = 0;

  constructor(
    readonly functions: PciFunction[],
    /** The PIIX3's reset control register asks for a CPU reset. */
    private readonly resetCpu: () => void,
  ) {}

  attach(io: IoBus): void {
    io.register(PCI_CONFIG_ADDRESS, 8, this);
  }

  /** The function and register CONFIG_ADDRESS selects, or null (disabled, or nothing there). */
  private selected(): { fn: PciFunction; register: number } | null {
    const a = this.address >>> 0;
    if ((a & 0x80000000) === 0) return null;
    const bus = (a >>> 16) & 0xff;
    const device = (a >>> 11) & 0x1f;
    const func = (a >>> 8) & 7;
    const fn = this.functions.find((f) => f.info.bus === bus && f.info.device === device && f.info.function === func);
    return fn ? { fn, register: a & 0xfc } : null;
  }

  portIn(port: number, size: number): number {
    if (port >= PCI_CONFIG_DATA) {
      const sel = this.selected();
      if (sel === null) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
      let v = 0;
      const offset = sel.register + (port & 3);
      for (let i = size - 1; i >= 0; i--) v = v * 256 + sel.fn.read((offset + i) & 0xff);
      return v;
    }
    if (port === PCI_CONFIG_ADDRESS && size === 4) return this.address >>> 0;
    if (port === RESET_CONTROL_PORT && size === 1) return 0;
    return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
  }

  portOut(port: number, value: number, size: number): void {
    if (port >= PCI_CONFIG_DATA) {
      const sel = this.selected();
      if (sel === null) return;
      const offset = sel.register + (port & 3);
      for (let i = 0; i < size; i++) sel.fn.write((offset + i) & 0xff, (value >>> (8 * i)) & 0xff);
      return;
    }
    // Only dword writes reach CONFIG_ADDRESS (byte and word ones are ISA cycles, PCI 3.0 §3.2.2.3.2).
    if (port === PCI_CONFIG_ADDRESS && size === 4) this.address = value >>> 0;
    else if (port === RESET_CONTROL_PORT && size === 1 && (value & 0x04) !== 0) this.resetCpu();
  }

  snapshot(): PciSnapshot {
    return { address: this.address, configs: this.functions.map((f) => [...f.config]) };
  }

  restore(s: PciSnapshot): void {
    this.address = s.address;
    s.configs.forEach((c, i) => this.functions[i]?.config.set(c));
  }
}
