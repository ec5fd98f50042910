// The PC memory map the built-in firmware reports through INT 15h E820 and the Multiboot loader hands to the
// kernel. Conventional RAM ends at the EBDA (0x9FC00); the VGA window and option ROM area (0xA0000–0xF0000) are a
// hole; the BIOS ROM (0xF0000–0x100000) is reserved; extended RAM runs from 1 MiB to the top of installed memory.

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export const EBDA_START = 0x9fc00;
export const BIOS_ROM_START = 0xf0000;
export const ONE_MIB = 0x100000;

export interface MemoryRange {
  base: number;
  length: number;
  type: typeof E820_RAM | typeof E820_RESERVED;
}

export function pcMemoryMap(memSize: number): MemoryRange[] {
  const map: MemoryRange[] = [{ base: 0, length: Math.min(memSize, EBDA_START), type: E820_RAM }];
  if (memSize > EBDA_START) map.push({ base: EBDA_START, length: 0xa0000 - EBDA_START, type: E820_RESERVED });
  map.push({ base: BIOS_ROM_START, length: ONE_MIB - BIOS_ROM_START, type: E820_RESERVED });
  if (memSize > ONE_MIB) map.push({ base: ONE_MIB, length: memSize - ONE_MIB, type: E820_RAM });
  return map;
}
