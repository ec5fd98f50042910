// The tables that describe the machine to an operating system, built at machine start:
// - the MP floating pointer and configuration table (Intel MultiProcessor Specification 1.4, ch. 4): one processor,
//   one ISA bus, the I/O APIC, the ISA IRQs routed to its inputs, ExtINT and NMI on the local APIC's LINT0/LINT1;
// - ACPI (ACPI 6.4 ch. 5): RSDP → RSDT → FADT (→ FACS, DSDT) and MADT.
// The MP floating pointer and the RSDP go in the BIOS ROM (both specifications have the OS search F0000h–FFFFFh
// on 16-byte boundaries); everything ACPI points to goes in the last 64 KiB of RAM, which the E820 map reports as
// ACPI reclaimable (memory-map.ts). Both describe the same machine: ISA IRQ 0 arrives at I/O APIC input 2 (the
// 8259's ExtINT output is on input 0), the others on the input of their own number; the SCI is IRQ 9, level, high.

import { IOAPIC_BASE, LAPIC_BASE } from '../loaders/memory-map';

export const LAPIC_ID = 0;
export const IOAPIC_ID = 1;
/** Local APIC version register value: an integrated APIC (10h–15h), 4 LVT entries + 1 (SDM 3A §11.4.8). */
export const LAPIC_VERSION = 0x14;
export const IOAPIC_VERSION = 0x11;
/** I/O APIC inputs (redirection table entries). */
export const IOAPIC_PINS = 24;
/** The ISA IRQ the ACPI SCI uses (FADT.SCI_INT), level triggered, active high. */
export const SCI_IRQ = 9;
/** ACPI PM1a event block (PM1_STS, PM1_EN) and control block (PM1_CNT) in I/O space. */
export const PM1A_EVT_PORT = 0x600;
export const PM1A_CNT_PORT = 0x604;
/** SLP_TYP the DSDT's \_S5 package names: writing it with SLP_EN to PM1a_CNT powers the machine off. */
export const SLP_TYP_S5 = 5;

const OEM_ID = 'RINGSD';
const OEM_TABLE_ID = 'RINGSIDE';

/** The I/O APIC input an ISA IRQ arrives on (the MADT's one interrupt source override: IRQ 0 → GSI 2). */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}

class TableWriter {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(o: number, v: number): void {
    this.bytes[o] = v;
  }
  u16(o: number, v: number): void {
    this.view.setUint16(o, v, true);
  }
  u32(o: number, v: number): void {
    this.view.setUint32(o, v >>> 0, true);
  }
  ascii(o: number, text: string, width = text.length): void {
    for (let i = 0; i < width; i++) this.bytes[o + i] = i < text.length ? text.charCodeAt(i) : 0x20;
  }
  /** Sets byte `at` so that bytes [from, to) sum to 0 mod 256. */
  checksum(at: number, from = 0, to = this.bytes.length): void {
    this.bytes[at] = 0;
    let sum = 0;
    for (let i = from; i < to; i++) sum += this.bytes[i];
    this.bytes[at] = -sum & 0xff;
  }
}

// ---- MP specification 1.4 ----

const MP_ENTRY_PROCESSOR = 0;
const MP_ENTRY_BUS = 1;
const MP_ENTRY_IOAPIC = 2;
const MP_ENTRY_IO_INTERRUPT = 3;
const MP_ENTRY_LOCAL_INTERRUPT = 4;
const MP_INT = 0;
const MP_NMI = 1;
const MP_EXTINT = 3;
/** MP floating pointer feature byte 2, bit 7 (IMCRP): the IMCR is present and PIC mode implemented (§4.1). */
const MP_FEATURE2_IMCRP = 0x80;

export interface ProcessorInfo {
  /** CPUID leaf 1 EAX (family, model, stepping). */
  signature: number;
  /** CPUID leaf 1 EDX. */
  features: number;
}

/** The MP configuration table (header and base entries, §4.2–4.3) for a table placed at `addr`. */
export function mpConfigTable(cpu: ProcessorInfo): Uint8Array {
  const entries: Uint8Array[] = [];
  const entry = (length: number, fill: (w: TableWriter) => void) => {
    const w = new TableWriter(length);
    fill(w);
    entries.push(w.bytes);
  };
  entry(20, (w) => {
    w.u8(0, MP_ENTRY_PROCESSOR);
    w.u8(1, LAPIC_ID);
    w.u8(2, LAPIC_VERSION);
    w.u8(3, 0x03); // EN: usable, BP: the bootstrap processor
    w.u32(4, cpu.signature);
    w.u32(8, cpu.features);
  });
  entry(8, (w) => {
    w.u8(0, MP_ENTRY_BUS);
    w.u8(1, 0);
    w.ascii(2, 'ISA', 6);
  });
  entry(8, (w) => {
    w.u8(0, MP_ENTRY_IOAPIC);
    w.u8(1, IOAPIC_ID);
    w.u8(2, IOAPIC_VERSION);
    w.u8(3, 0x01); // EN
    w.u32(4, IOAPIC_BASE);
  });
  const ioInterrupt = (type: number, irq: number, pin: number) =>
    entry(8, (w) => {
      w.u8(0, MP_ENTRY_IO_INTERRUPT);
      w.u8(1, type);
      w.u16(2, 0); // polarity and trigger conform to the bus (ISA: edge, active high)
      w.u8(4, 0); // source bus: ISA
      w.u8(5, irq);
      w.u8(6, IOAPIC_ID);
      w.u8(7, pin);
    });
  ioInterrupt(MP_EXTINT, 0, 0);
  for (let irq = 0; irq < 16; irq++) if (irq !== 2) ioInterrupt(MP_INT, irq, isaIrqToGsi(irq));
  const localInterrupt = (type: number, lint: number) =>
    entry(8, (w) => {
      w.u8(0, MP_ENTRY_LOCAL_INTERRUPT);
      w.u8(1, type);
      w.u16(2, 0);
      w.u8(4, 0);
      w.u8(5, 0);
      w.u8(6, 0xff); // every local APIC
      w.u8(7, lint);
    });
  localInterrupt(MP_EXTINT, 0);
  localInterrupt(MP_NMI, 1);

  const length = 44 + entries.reduce((n, e) => n + e.length, 0);
  const w = new TableWriter(length);
  w.ascii(0, 'PCMP');
  w.u16(4, length);
  w.u8(6, 4); // specification revision 1.4
  w.ascii(8, OEM_ID, 8);
  w.ascii(16, 'RINGSIDE PC', 12);
  w.u16(34, entries.length);
  w.u32(36, LAPIC_BASE);
  let o = 44;
  for (const e of entries) {
    w.bytes.set(e, o);
    o += e.length;
  }
  w.checksum(7);
  return w.bytes;
}

/** The 16-byte MP floating pointer structure (§4.1) naming a configuration table at `tableAddr`. */
export function mpFloatingPointer(tableAddr: number): Uint8Array {
  const w = new TableWriter(16);
  w.ascii(0, '_MP_');
  w.u32(4, tableAddr);
  w.u8(8, 1); // length in 16-byte paragraphs
  w.u8(9, 4); // revision 1.4
  w.u8(11, 0); // feature byte 1: 0 = a configuration table is present
  w.u8(12, MP_FEATURE2_IMCRP);
  w.checksum(10);
  return w.bytes;
}

// ---- ACPI ----

const ACPI_HEADER = 36;

function acpiTable(signature: string, revision: number, body: number, fill: (w: TableWriter) => void): Uint8Array {
  const w = new TableWriter(ACPI_HEADER + body);
  w.ascii(0, signature);
  w.u32(4, w.bytes.length);
  w.u8(8, revision);
  w.ascii(10, OEM_ID, 6);
  w.ascii(16, OEM_TABLE_ID, 8);
  w.u32(24, 1); // OEM revision
  w.ascii(28, 'RSDE');
  w.u32(32, 1); // creator revision
  fill(w);
  w.checksum(9);
  return w.bytes;
}

/** The RSDP of ACPI 1.0 (revision 0, 20 bytes), naming the RSDT. */
export function rsdp(rsdtAddr: number): Uint8Array {
  const w = new TableWriter(20);
  w.ascii(0, 'RSD PTR ');
  w.ascii(9, OEM_ID, 6);
  w.u8(15, 0);
  w.u32(16, rsdtAddr);
  w.checksum(8);
  return w.bytes;
}

/**
 * A minimal DSDT: only `Name (\_S5, Package () { 5, 5, 0, 0 })`, the sleep type for soft-off that an OS writes to
 * PM1a_CNT.SLP_TYP (ACPI 6.4 §7.4.2). AML: NameOp "_S5_" PackageOp PkgLength NumElements BytePrefix 5 … ZeroOp ZeroOp.
 */
function dsdt(): Uint8Array {
  const aml = [0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, SLP_TYP_S5, 0x0a, SLP_TYP_S5, 0x00, 0x00];
  return acpiTable('DSDT', 1, aml.length, (w) => w.bytes.set(aml, ACPI_HEADER));
}

/** The FACS (ACPI 6.4 §5.2.10): 64 bytes, no header checksum. */
function facs(): Uint8Array {
  const w = new TableWriter(64);
  w.ascii(0, 'FACS');
  w.u32(4, 64);
  return w.bytes;
}

/** The FADT of ACPI 1.0 (revision 1, 116 bytes, §5.2.9): PM1a event and control blocks, SCI on IRQ 9, no SMI. */
function fadt(facsAddr: number, dsdtAddr: number): Uint8Array {
  return acpiTable('FACP', 1, 116 - ACPI_HEADER, (w) => {
    w.u32(36, facsAddr);
    w.u32(40, dsdtAddr);
    w.u16(46, SCI_IRQ);
    w.u32(48, 0); // SMI_CMD 0: no SMM, the hardware is in ACPI mode from the start (SCI_EN reads 1)
    w.u32(56, PM1A_EVT_PORT);
    w.u32(64, PM1A_CNT_PORT);
    w.u8(88, 4); // PM1_EVT_LEN
    w.u8(89, 2); // PM1_CNT_LEN
    w.u16(96, 101); // P_LVL2_LAT > 100: C2 not supported
    w.u16(98, 1001); // P_LVL3_LAT > 1000: C3 not supported
    w.u8(108, 0x32); // CENTURY: the CMOS register holding the century
    w.u16(109, 0x0003); // IAPC_BOOT_ARCH: LEGACY_DEVICES, 8042
    // Flags: WBINVD, PWR_BUTTON and SLP_BUTTON (no fixed-feature buttons).
    w.u32(112, 0x01 | 0x10 | 0x20);
  });
}

/** The MADT (ACPI 6.4 §5.2.12): the local APIC, the I/O APIC, IRQ 0 → GSI 2, the SCI's trigger, NMI on LINT1. */
function madt(): Uint8Array {
  const records: number[][] = [
    [0, 8, 0, LAPIC_ID, 1, 0, 0, 0], // Processor Local APIC: UID 0, APIC ID 0, enabled
    [1, 12, IOAPIC_ID, 0, ...le32(IOAPIC_BASE), ...le32(0)], // I/O APIC at GSI 0
    [2, 10, 0, 0, ...le32(isaIrqToGsi(0)), 0, 0], // Interrupt Source Override: ISA IRQ 0 → GSI 2, bus default
    [2, 10, 0, SCI_IRQ, ...le32(SCI_IRQ), 0x0d, 0], // the SCI: level triggered (11b << 2), active high (01b)
    [4, 6, 0xff, 0, 0, 1], // Local APIC NMI: every processor, LINT1
  ];
  const body = 8 + records.reduce((n, r) => n + r.length, 0);
  return acpiTable('APIC', 1, body, (w) => {
    w.u32(36, LAPIC_BASE);
    w.u32(40, 1); // PCAT_COMPAT: the machine also has the 8259 pair
    let o = 44;
    for (const r of records) {
      w.bytes.set(r, o);
      o += r.length;
    }
  });
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Offsets of the ACPI tables in the RAM area (memory-map.ts: the last 64 KiB of RAM). */
const AREA_FACS = 0x000; // 64-byte aligned (§5.2.10)
const AREA_DSDT = 0x040;
const AREA_FADT = 0x100;
const AREA_MADT = 0x200;
const AREA_RSDT = 0x300;

export interface PlatformTables {
  /** Bytes for the ROM's table area (MP floating pointer, MP configuration table, RSDP), placed at `romAddr`. */
  rom: Uint8Array;
  /** Bytes for the ACPI area of RAM, placed at `acpiAddr`; empty when the machine has too little RAM for one. */
  acpi: Uint8Array;
}

/**
 * Builds every table for a machine whose ROM table area sits at physical `romAddr` (16-byte aligned) and whose
 * ACPI area sits at `acpiAddr` (null: no ACPI tables, the MP table alone describes the machine).
 */
export function buildPlatformTables(romAddr: number, acpiAddr: number | null, cpu: ProcessorInfo): PlatformTables {
  const mpTable = mpConfigTable(cpu);
  const rom = new Uint8Array(16 + 16 + mpTable.length + 15 + 20);
  rom.set(mpFloatingPointer(romAddr + 32), 16);
  rom.set(mpTable, 32);
  const rsdpOffset = (32 + mpTable.length + 15) & ~15;
  if (acpiAddr === null) return { rom: rom.subarray(0, rsdpOffset), acpi: new Uint8Array(0) };
  const acpi = new Uint8Array(AREA_RSDT + ACPI_HEADER + 8);
  acpi.set(facs(), AREA_FACS);
  acpi.set(dsdt(), AREA_DSDT);
  acpi.set(fadt(acpiAddr + AREA_FACS, acpiAddr + AREA_DSDT), AREA_FADT);
  acpi.set(madt(), AREA_MADT);
  const rsdt = acpiTable('RSDT', 1, 8, (w) => {
    w.u32(36, acpiAddr + AREA_FADT);
    w.u32(40, acpiAddr + AREA_MADT);
  });
  acpi.set(rsdt, AREA_RSDT);
  rom.set(rsdp(acpiAddr + AREA_RSDT), rsdpOffset);
  return { rom, acpi };
}
