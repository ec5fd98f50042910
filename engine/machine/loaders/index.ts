// Image loaders: write a guest image into physical memory and say how the CPU must start. The machine applies the
// returned StartState and, for boot images, attaches the returned disk.

import type { PhysicalMemory } from '../../bus/memory';
import { loadBootDisk } from './boot-disk';
import { detectFormat } from './detect';
import { loadElf } from './elf';
import { loadFlatBinary } from './flat-binary';
import { ImageError } from './image-error';
import { loadMultiboot } from './multiboot';
import { loadLinux } from './linux';
import { loadRom } from './rom';
import { IMAGE_FORMATS } from './types';
import type { LoadedImage, LoadOptions } from './types';

export type { ImageFormat, LoadOptions, StartState, LoadedImage, LoadedSegment, ImageSymbol, LineRow } from './types';
export { IMAGE_FORMATS } from './types';
export { ImageError } from './image-error';
export { detectFormat } from './detect';
export { pcMemoryMap, E820_RAM, E820_RESERVED } from './memory-map';
export { MULTIBOOT_BOOTLOADER_MAGIC } from './multiboot';
export { DEFAULT_LOAD_ADDRESS } from './flat-binary';
export { readElfDebugInfo } from './elf';
export { isBzImage, linuxLayout } from './linux';

export function loadImage(mem: PhysicalMemory, bytes: Uint8Array, opts: LoadOptions = {}): LoadedImage {
  if (opts.format !== undefined && !IMAGE_FORMATS.includes(opts.format)) {
    throw new ImageError(`unknown image format "${opts.format}" (expected one of ${IMAGE_FORMATS.join(', ')})`);
  }
  if (opts.mode !== undefined && opts.mode !== 'real' && opts.mode !== 'protected') {
    throw new ImageError(`unknown start mode "${opts.mode}" (expected real or protected)`);
  }
  for (const [name, v] of [['load address', opts.loadAddress], ['entry', opts.entry]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new ImageError(`the ${name} ${v} is not a 32-bit address`);
    }
  }
  if (bytes.length === 0) throw new ImageError('the image is empty');
  const format = opts.format ?? detectFormat(bytes);
  if (format !== 'linux' && (opts.initrd !== undefined || opts.append !== undefined)) {
    throw new ImageError(`an initrd and a kernel command line need a Linux bzImage (format linux), this image is ${format}`);
  }
  switch (format) {
    case 'bin':
      return loadFlatBinary(mem, bytes, opts);
    case 'elf':
      return loadElf(mem, bytes, opts);
    case 'multiboot':
      return loadMultiboot(mem, bytes, opts.cpuModel);
    case 'rom':
      return loadRom(mem, bytes);
    case 'boot':
      return loadBootDisk(mem, bytes, opts.cpuModel);
    case 'linux':
      return loadLinux(mem, bytes, opts);
  }
}
