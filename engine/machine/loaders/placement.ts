// Steps every loader shares: copying bytes into guest memory with a clear error when they do not fit, and picking
// start registers that a flat image can rely on.

import type { PhysicalMemory } from '../../bus/memory';
import { ImageError, hex } from './image-error';
import type { LoadedSegment, StartState } from './types';

/** Throws ImageError unless `size` bytes at `addr` lie in installed RAM. */
export function checkPlacement(mem: PhysicalMemory, addr: number, size: number, what: string): void {
  if (!Number.isInteger(addr) || addr < 0 || addr + size > mem.size) {
    throw new ImageError(`${what} (${size} bytes at ${hex(addr)}) lies outside the ${formatMemorySize(mem.size)} of guest memory`);
  }
}

/** Copies `bytes` to `addr` and zero-fills up to `memSize` bytes (bss). Throws ImageError if it does not fit. */
export function placeBytes(
  mem: PhysicalMemory,
  addr: number,
  bytes: Uint8Array,
  what: string,
  memSize = bytes.length,
): LoadedSegment {
  checkPlacement(mem, addr, memSize, what);
  mem.load(addr, bytes);
  if (memSize > bytes.length) mem.load(addr + bytes.length, new Uint8Array(memSize - bytes.length));
  return { addr, size: memSize, name: what };
}

export function formatMemorySize(bytes: number): string {
  return bytes % 0x100000 === 0 ? `${bytes / 0x100000} MiB` : `${bytes / 1024} KiB`;
}

function overlaps(segments: LoadedSegment[], lo: number, hi: number): boolean {
  return segments.some((s) => s.addr < hi && lo < s.addr + s.size);
}

/** Highest linear address a real-mode CS:IP can name: FFFF:FFFF. */
const REAL_MODE_REACH = 0xffff * 16 + 0xffff;

/**
 * Real-mode start at linear `entry`. CS stays 0 while the entry fits in the first 64 KiB (what boot sectors and
 * .COM-style images expect), else CS:IP = (entry >> 4):(entry & 0xF). The stack is 0000:7000 (4 KiB below the
 * boot-sector address, where a BIOS leaves its own) unless the image lies there; then 9000:FC00, just below the
 * EBDA; then the top of the first 64 KiB.
 */
export function realModeStart(entry: number, segments: LoadedSegment[], what: string): StartState {
  if (!Number.isInteger(entry) || entry < 0 || entry > REAL_MODE_REACH) {
    throw new ImageError(`${what}: entry ${hex(entry)} cannot be reached in real mode (above ${hex(REAL_MODE_REACH)})`);
  }
  let cs: number;
  let ip: number;
  if (entry < 0x10000) {
    cs = 0;
    ip = entry;
  } else if (entry < 0x100000) {
    cs = entry >>> 4;
    ip = entry & 0xf;
  } else {
    cs = 0xffff;
    ip = entry - 0xffff0;
  }
  const stacks = [
    { ss: 0, sp: 0x7000 },
    { ss: 0x9000, sp: 0xfc00 },
    { ss: 0, sp: 0xfff0 },
  ];
  const stack = stacks.find((s) => !overlaps(segments, s.ss * 16 + s.sp - 0x1000, s.ss * 16 + s.sp)) ?? stacks[0];
  return { kind: 'real', cs, ip, ss: stack.ss, sp: stack.sp };
}

/**
 * Flat 32-bit start. ESP is 0x90000 (below the EBDA, above where small kernels load) unless the image occupies the
 * 4 KiB below it, then the top of installed memory.
 */
export function flat32Start(entry: number, segments: LoadedSegment[], memSize: number): StartState & { kind: 'flat32' } {
  const esp = overlaps(segments, 0x8f000, 0x90000) ? memSize & ~0xf : 0x90000;
  return { kind: 'flat32', eip: entry >>> 0, esp };
}
