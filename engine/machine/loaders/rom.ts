// ROM image: a 64 or 128 KiB BIOS whose last byte sits at 0xFFFFF and, through the alias the chipset decodes,
// at 0xFFFFFFFF. The CPU starts from its reset state (CS base FFFF0000, EIP FFF0), so the first instruction is the
// one 16 bytes below the top of the image (SDM vol. 3 §9.1.4).

import type { PhysicalMemory } from '../../bus/memory';
import { ImageError, hex } from './image-error';
import { formatMemorySize } from './placement';
import type { LoadedImage, LoadedSegment } from './types';

export const ROM_SIZES = [0x10000, 0x20000];
const ONE_MIB = 0x100000;
const FOUR_GIB = 0x1_0000_0000;

/** Maps `rom` below 1 MiB and below 4 GiB; returns the two placements. */
export function mapBiosRom(mem: PhysicalMemory, rom: Uint8Array, name: string): LoadedSegment[] {
  if (!ROM_SIZES.includes(rom.length)) {
    throw new ImageError(`a ROM image must be 64 KiB or 128 KiB, this one is ${rom.length} bytes (${hex(rom.length)})`);
  }
  if (mem.size < ONE_MIB) {
    throw new ImageError(`a ROM image needs at least 1 MiB of guest memory, there is ${formatMemorySize(mem.size)}`);
  }
  const low = ONE_MIB - rom.length;
  const high = FOUR_GIB - rom.length;
  mem.mapRom(low, rom);
  mem.mapRom(high, rom);
  return [
    { addr: low, size: rom.length, name },
    { addr: high, size: rom.length, name: `${name} (alias below 4 GiB)` },
  ];
}

export function loadRom(mem: PhysicalMemory, bytes: Uint8Array): LoadedImage {
  const segments = mapBiosRom(mem, bytes.slice(), 'rom');
  return { format: 'rom', start: { kind: 'reset' }, segments, symbols: [], lines: [] };
}
