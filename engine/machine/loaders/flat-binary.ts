// Flat binary: the file's bytes at one address, started in real mode (default) or flat 32-bit protected mode.

import type { PhysicalMemory } from '../../bus/memory';
import { ImageError } from './image-error';
import { flat32Start, placeBytes, realModeStart } from './placement';
import type { LoadedImage, LoadOptions } from './types';

export const DEFAULT_LOAD_ADDRESS = 0x7c00;

export function loadFlatBinary(mem: PhysicalMemory, bytes: Uint8Array, opts: LoadOptions): LoadedImage {
  if (bytes.length === 0) throw new ImageError('the image is empty');
  const load = opts.loadAddress ?? DEFAULT_LOAD_ADDRESS;
  const entry = opts.entry ?? load;
  const segment = placeBytes(mem, load, bytes, 'binary');
  const segments = [segment];
  const start = opts.mode === 'protected' ? flat32Start(entry, segments, mem.size) : realModeStart(entry, segments, 'binary');
  return { format: 'bin', start, segments, symbols: [], lines: [] };
}
