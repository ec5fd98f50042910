// Boot sector or disk image: the built-in firmware ROM at 0xF0000 (and its alias below 4 GiB) starts from the
// reset vector, POSTs, reads sector 0 of the disk to 0000:7C00 and jumps there. The disk itself is not placed in
// memory; the machine attaches it as the ATA primary master (engine/devices/boot-disk.ts), where the firmware
// reads it.

import { installFirmware } from '../firmware';
import type { PhysicalMemory } from '../../bus/memory';
import { hasBootSignature, SECTOR_SIZE } from './detect';
import { ImageError } from './image-error';
import type { LoadedImage } from './types';
import type { CpuModelName } from '../../cpu/model';

export function loadBootDisk(mem: PhysicalMemory, bytes: Uint8Array, cpuModel?: CpuModelName): LoadedImage {
  if (bytes.length < SECTOR_SIZE) {
    throw new ImageError(`a boot image needs at least one 512-byte sector, this one has ${bytes.length} bytes`);
  }
  if (!hasBootSignature(bytes)) {
    throw new ImageError('the boot sector lacks the 0x55 0xAA signature at offset 510, so a BIOS would not boot it');
  }
  // A partial last sector reads as if padded with zeros, as a disk of whole sectors would hold it.
  const disk = new Uint8Array(Math.ceil(bytes.length / SECTOR_SIZE) * SECTOR_SIZE);
  disk.set(bytes);
  const segments = installFirmware(mem, { cpuModel });
  return { format: 'boot', start: { kind: 'reset' }, segments, symbols: [], lines: [], disk };
}
