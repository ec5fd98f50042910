// The PC memory map: what the built-in firmware reports through INT 15h E820, the Multiboot loader hands to the
// kernel and the Linux boot protocol puts in the boot parameters. One list, so every guest sees the same machine:
// - conventional RAM up to the EBDA (0x9FC00), the EBDA itself reserved;
// - the VGA window and option ROM area (0xA0000–0xF0000) a hole; the BIOS ROM (0xF0000–0x100000) reserved;
// - extended RAM from 1 MiB up to the ACPI tables, which take the last 64 KiB of RAM (ACPI reclaimable: the OS may
//   use that RAM once it has read them; platform-tables.ts writes them there);
// - the I/O APIC (0xFEC00000) and local APIC (0xFEE00000) registers and the BIOS ROM's alias below 4 GiB reserved.
// The linear framebuffer (0xE0000000) is a PCI memory BAR, which E820 does not list (as on real PCs).

export const E820_RAM = 1;
export const E820_RESERVED = 2;
/** ACPI tables: RAM the OS may reclaim after reading them (ACPI 6.4 §15, Table 15.312: AddressRangeACPI). */
export const E820_ACPI = 3;

export const EBDA_START = 0x9fc00;
export const BIOS_ROM_START = 0xf0000;
export const ONE_MIB = 0x100000;
/** Bytes at the top of RAM that hold the ACPI tables (RSDT, MADT, FADT, DSDT, FACS). */
export const ACPI_AREA_SIZE = 0x10000;
/** The I/O APIC's register window (its default address in the MP specification and ACPI). */
export const IOAPIC_BASE = 0xfec00000;
/** The local APIC's register window (IA32_APIC_BASE after reset, SDM 3A §11.4.4). */
export const LAPIC_BASE = 0xfee00000;
export const APIC_WINDOW_SIZE = 0x1000;
/** The BIOS ROM's alias just below 4 GiB, where the CPU fetches its first instruction. */
export const BIOS_HIGH_ALIAS = 0xffff0000;
/** Where the VBE linear framebuffer sits: in the PCI memory hole, above any RAM the machine can have (3 GiB). */
export const FRAMEBUFFER_BASE = 0xe0000000;

export type E820Type = typeof E820_RAM | typeof E820_RESERVED | typeof E820_ACPI;

export interface MemoryRange {
  base: number;
  length: number;
  type: E820Type;
}

/** Base of the ACPI tables in RAM, or null when memory is too small to spare the area (up to 2 MiB of RAM). */
export function acpiAreaBase(memSize: number): number | null {
  return memSize >= 2 * ONE_MIB + ACPI_AREA_SIZE ? memSize - ACPI_AREA_SIZE : null;
}

export function pcMemoryMap(memSize: number): MemoryRange[] {
  const map: MemoryRange[] = [{ base: 0, length: Math.min(memSize, EBDA_START), type: E820_RAM }];
  if (memSize > EBDA_START) map.push({ base: EBDA_START, length: 0xa0000 - EBDA_START, type: E820_RESERVED });
  map.push({ base: BIOS_ROM_START, length: ONE_MIB - BIOS_ROM_START, type: E820_RESERVED });
  const acpi = acpiAreaBase(memSize);
  const ramTop = acpi ?? memSize;
  if (ramTop > ONE_MIB) map.push({ base: ONE_MIB, length: ramTop - ONE_MIB, type: E820_RAM });
  if (acpi !== null) map.push({ base: acpi, length: ACPI_AREA_SIZE, type: E820_ACPI });
  map.push({ base: IOAPIC_BASE, length: APIC_WINDOW_SIZE, type: E820_RESERVED });
  map.push({ base: LAPIC_BASE, length: APIC_WINDOW_SIZE, type: E820_RESERVED });
  map.push({ base: BIOS_HIGH_ALIAS, length: 0x10000, type: E820_RESERVED });
  return map;
}
