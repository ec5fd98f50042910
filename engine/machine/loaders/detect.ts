// Picks an image format from the file's content, in the order the CLI documents: ELF (Multiboot when it carries a
// valid Multiboot header), a non-ELF Multiboot image (a.out kludge), a Linux bzImage (setup header "HdrS"), a
// 64/128 KiB ROM, a boot sector or disk image, and otherwise a flat binary.

import { hasElfMagic } from './elf-file';
import { isMultiboot } from './multiboot';
import { isBzImage } from './linux';
import { ROM_SIZES } from './rom';
import type { ImageFormat } from './types';

export const SECTOR_SIZE = 512;

export function hasBootSignature(bytes: Uint8Array): boolean {
  return bytes.length >= SECTOR_SIZE && bytes[510] === 0x55 && bytes[511] === 0xaa;
}

export function detectFormat(bytes: Uint8Array): ImageFormat {
  if (hasElfMagic(bytes)) return isMultiboot(bytes) ? 'multiboot' : 'elf';
  if (isMultiboot(bytes)) return 'multiboot';
  if (isBzImage(bytes)) return 'linux';
  if (ROM_SIZES.includes(bytes.length)) return 'rom';
  if (bytes.length % SECTOR_SIZE === 0 && hasBootSignature(bytes)) return 'boot';
  return 'bin';
}
