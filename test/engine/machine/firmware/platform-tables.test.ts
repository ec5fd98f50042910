// The tables an OS reads to learn the machine: the BIOS data area and E820 map through a guest that reads them
// (test/fixtures/boot/platform-probe.asm), and the MP and ACPI tables parsed back from guest memory by a parser
// of our own (below), with every checksum and the consistency between them checked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../../engine/machine/machine';
import { pcMemoryMap, E820_RAM } from '../../../../engine/machine/loaders';
import type { PhysicalMemory } from '../../../../engine/bus/memory';
import { cpuModel, CPU_MODEL_NAMES } from '../../../../engine/cpu/model';

const BOOT = join(__dirname, '..', '..', '..', 'fixtures', 'boot');
const probe = new Uint8Array(readFileSync(join(BOOT, 'platform-probe.bin')));
const MiB = 0x100000;
const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, '0');

function bootProbe(memoryMB: number): { m: Machine; lines: string[] } {
  const m = new Machine({ memoryMB });
  m.load(probe);
  const r = m.run(30_000_000);
  expect(r.reason).toBe('exit');
  return { m, lines: m.consoleText().split('\r\n') };
}

// ---- a small parser for the MP and ACPI tables ----

function sum(mem: PhysicalMemory, addr: number, length: number): number {
  let s = 0;
  for (let i = 0; i < length; i++) s += mem.peek(addr + i, 1);
  return s & 0xff;
}
function text(mem: PhysicalMemory, addr: number, length: number): string {
  return String.fromCharCode(...mem.readBytes(addr, length));
}
function scan(mem: PhysicalMemory, signature: string, from: number, to: number): number[] {
  const hits: number[] = [];
  for (let a = from; a < to; a += 16) if (text(mem, a, signature.length) === signature) hits.push(a);
  return hits;
}

interface AcpiTable {
  addr: number;
  signature: string;
  length: number;
}
function acpiTable(mem: PhysicalMemory, addr: number): AcpiTable {
  const length = mem.peek(addr + 4, 4);
  expect(sum(mem, addr, length), `checksum of ${text(mem, addr, 4)}`).toBe(0);
  return { addr, signature: text(mem, addr, 4), length };
}

describe('platform tables and BIOS data area', () => {
  it('a guest reads COM1 in the BDA, the equipment word, memory sizes, EBDA and keyboard flags, and the E820 map', () => {
    const { lines } = bootProbe(32);
    expect(lines).toContain('com 03F8 0000 0000 0000 '); // COM1 present (GRUB's serial --unit=0), COM2-4 absent
    expect(lines).toContain('lpt 0000 0000 0000 '); // no parallel port
    expect(lines).toContain('equip 0220 0220'); // one serial port (bits 9-11), 80x25 colour; INT 11h agrees
    expect(lines).toContain('mem 027F 027F 9FC0'); // 639 KiB below the EBDA at 9FC0h; INT 12h agrees
    expect(lines).toContain('kbd 00 10'); // no shift keys down; a 101/102-key keyboard
    const e820 = lines.filter((l) => l.startsWith('e820'));
    expect(e820).toEqual(
      pcMemoryMap(32 * MiB).map((r) => `e820 ${hex(r.base, 16)} ${hex(r.length, 16)} ${hex(r.type, 2)}`),
    );
    // The machine's real layout: RAM, EBDA, BIOS, ACPI (type 3) at the top of RAM, the two APICs, the ROM alias.
    expect(e820).toContain(`e820 ${hex(32 * MiB - 0x10000, 16)} ${hex(0x10000, 16)} 03`);
    expect(e820).toContain(`e820 ${hex(0xfee00000, 16)} ${hex(0x1000, 16)} 02`);
    expect(e820).toContain(`e820 ${hex(0xfec00000, 16)} ${hex(0x1000, 16)} 02`);
    expect(lines.filter((l) => l.startsWith('mp ')).length).toBe(1);
    expect(lines.filter((l) => l.startsWith('rsdp ')).length).toBe(1);
  });

  it('the E820 ranges are sorted and do not overlap, and RAM ends where the ACPI tables begin', () => {
    for (const mb of [2, 3, 16, 256]) {
      const map = pcMemoryMap(mb * MiB);
      for (let i = 1; i < map.length; i++) expect(map[i].base).toBeGreaterThanOrEqual(map[i - 1].base + map[i - 1].length);
      const ram = map.filter((r) => r.type === E820_RAM).reduce((n, r) => n + r.length, 0);
      const acpi = map.filter((r) => r.type === 3).reduce((n, r) => n + r.length, 0);
      expect(ram + acpi).toBe(mb * MiB - MiB + 0x9fc00);
    }
  });

  it('the MP table describes one processor, the ISA bus, the I/O APIC and every ISA IRQ, checksums right', () => {
    const { m } = bootProbe(16);
    const mem = m.mem;
    const [fp] = scan(mem, '_MP_', 0xf0000, 0x100000);
    expect(fp).toBeDefined();
    expect(mem.peek(fp + 8, 1)).toBe(1); // 16 bytes
    expect(sum(mem, fp, 16)).toBe(0);
    expect(mem.peek(fp + 11, 1)).toBe(0); // a configuration table exists
    expect(mem.peek(fp + 12, 1) & 0x80).toBe(0x80); // IMCR present
    const table = mem.peek(fp + 4, 4);
    expect(text(mem, table, 4)).toBe('PCMP');
    const length = mem.peek(table + 4, 2);
    expect(sum(mem, table, length)).toBe(0);
    expect(mem.peek(table + 36, 4)).toBe(0xfee00000);
    const count = mem.peek(table + 34, 2);
    const sizes: Record<number, number> = { 0: 20, 1: 8, 2: 8, 3: 8, 4: 8 };
    let o = table + 44;
    const processors: number[] = [];
    const buses: string[] = [];
    const ioapics: { id: number; addr: number }[] = [];
    const routes = new Map<number, number>(); // ISA IRQ → I/O APIC input, INT entries
    const locals: [number, number][] = [];
    for (let i = 0; i < count; i++) {
      const type = mem.peek(o, 1);
      if (type === 0) processors.push(mem.peek(o + 1, 1));
      if (type === 1) buses.push(text(mem, o + 2, 6).trim());
      if (type === 2) ioapics.push({ id: mem.peek(o + 1, 1), addr: mem.peek(o + 4, 4) });
      if (type === 3 && mem.peek(o + 1, 1) === 0) routes.set(mem.peek(o + 5, 1), mem.peek(o + 7, 1));
      if (type === 3 && mem.peek(o + 1, 1) === 3) expect(mem.peek(o + 7, 1)).toBe(0); // ExtINT on input 0
      if (type === 4) locals.push([mem.peek(o + 1, 1), mem.peek(o + 7, 1)]);
      o += sizes[type];
    }
    expect(o - table).toBe(length);
    expect(processors).toEqual([0]);
    expect(buses).toEqual(['ISA']);
    expect(ioapics).toEqual([{ id: 1, addr: 0xfec00000 }]);
    expect(routes.get(0)).toBe(2);
    for (const irq of [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]) expect(routes.get(irq)).toBe(irq);
    expect(locals).toEqual([
      [3, 0], // ExtINT → LINT0
      [1, 1], // NMI → LINT1
    ]);
  });

  it("the MP table's processor entry carries the machine's own CPU signature and FPU flag, for every model", () => {
    for (const name of CPU_MODEL_NAMES) {
      const m = new Machine({ memoryMB: 16, model: name });
      m.load(probe);
      const [fp] = scan(m.mem, '_MP_', 0xf0000, 0x100000);
      const entry = m.mem.peek(fp + 4, 4) + 44; // the first entry is the processor (MP spec 1.4 §4.3.1)
      expect(m.mem.peek(entry, 1), name).toBe(0);
      const { family, model, stepping, fpu } = cpuModel(name);
      // CPUID leaf 1 EAX: stepping in bits 3-0, model in 7-4, family in 11-8 (SDM 2 CPUID, Figure 3-6).
      expect(m.mem.peek(entry + 4, 4), name).toBe((family << 8) | (model << 4) | stepping);
      expect(m.mem.peek(entry + 8, 4) & 1, `${name}: the FPU flag`).toBe(fpu ? 1 : 0);
    }
  });

  it('ACPI: RSDP → RSDT → FADT (FACS, DSDT with \\_S5) and MADT agree with the MP table and lie in the ACPI range', () => {
    const { m } = bootProbe(16);
    const mem = m.mem;
    const [rsdp] = scan(mem, 'RSD PTR ', 0xe0000, 0x100000);
    expect(rsdp).toBeDefined();
    expect(sum(mem, rsdp, 20)).toBe(0);
    const rsdt = acpiTable(mem, mem.peek(rsdp + 16, 4));
    expect(rsdt.signature).toBe('RSDT');
    const tables = new Map<string, AcpiTable>();
    for (let o = 36; o < rsdt.length; o += 4) {
      const t = acpiTable(mem, mem.peek(rsdt.addr + o, 4));
      tables.set(t.signature, t);
    }
    expect([...tables.keys()].sort()).toEqual(['APIC', 'FACP']);
    const fadt = tables.get('FACP')!;
    const facs = mem.peek(fadt.addr + 36, 4);
    expect(text(mem, facs, 4)).toBe('FACS');
    expect(facs % 64).toBe(0);
    const dsdt = acpiTable(mem, mem.peek(fadt.addr + 40, 4));
    expect(dsdt.signature).toBe('DSDT');
    expect(text(mem, dsdt.addr + 36, dsdt.length - 36)).toContain('_S5_');
    expect(mem.peek(fadt.addr + 46, 2)).toBe(9); // SCI on IRQ 9
    expect(mem.peek(fadt.addr + 64, 4)).toBe(0x604); // PM1a control block
    expect(mem.peek(fadt.addr + 89, 1)).toBe(2);
    const madt = tables.get('APIC')!;
    expect(mem.peek(madt.addr + 36, 4)).toBe(0xfee00000);
    expect(mem.peek(madt.addr + 40, 4) & 1).toBe(1); // PCAT_COMPAT: 8259s present
    const overrides = new Map<number, number>();
    let lapics = 0;
    let ioapic: number | null = null;
    for (let o = madt.addr + 44; o < madt.addr + madt.length; o += mem.peek(o + 1, 1)) {
      const type = mem.peek(o, 1);
      if (type === 0) lapics++;
      if (type === 1) ioapic = mem.peek(o + 4, 4);
      if (type === 2) overrides.set(mem.peek(o + 3, 1), mem.peek(o + 4, 4));
    }
    expect(lapics).toBe(1);
    expect(ioapic).toBe(0xfec00000);
    expect(overrides.get(0)).toBe(2); // as the MP table routes IRQ 0
    expect(overrides.get(9)).toBe(9);
    // Every table lies in the E820 ACPI range.
    const acpi = pcMemoryMap(16 * MiB).find((r) => r.type === 3)!;
    for (const t of [rsdt, fadt, madt, dsdt]) {
      expect(t.addr).toBeGreaterThanOrEqual(acpi.base);
      expect(t.addr + t.length).toBeLessThanOrEqual(acpi.base + acpi.length);
    }
  });

  it('with 2 MiB of RAM there is no room for ACPI: the MP table alone describes the machine', () => {
    const { m, lines } = bootProbe(2);
    expect(lines.filter((l) => l.startsWith('mp ')).length).toBe(1);
    expect(lines.filter((l) => l.startsWith('rsdp ')).length).toBe(0);
    expect(lines.filter((l) => l.endsWith(' 03')).length).toBe(0);
    expect(scan(m.mem, '_MP_', 0xf0000, 0x100000).length).toBe(1);
  });
});
