// The out-of-line paths of translated blocks: memory accesses, and the store of a pending flag record.
//
// Memory. A block reads and writes RAM inline when the access is aligned,
// inside the segment's window, translated by the TLB and on an ordinary page; everything else (an unaligned or
// page-crossing access, memory-mapped I/O, a watched or code page, a TLB miss, a window fault) calls one of these,
// which run the Cpu's own accessors: the same checks in the same order as the interpreter, so a fault is the
// interpreter's fault. Before the call the block has stored its registers and pending flag record into the Cpu
// (emitter.ts, "Faults"), so a fault needs nothing more from the block: it propagates straight to the run loop.

import type { Cpu } from '../cpu';

/**
 * Reads `size` bytes at seg:off for the instruction at EIP `at`, `retired` instructions into the block's run
 * (an int32 for 4 bytes, as generated code holds 32-bit values; unsigned for 1 and 2). `cpu.jitRetired` holds `retired` during the access: the devices' clock sees the time the
 * interpreter's would (Emitter.deviceTime); a fault leaves it there for the run loop, as its fault path expects.
 */
export function slowRead(cpu: Cpu, seg: number, off: number, size: number, at: number, retired: number): number {
  cpu.instrStart = at;
  cpu.jitRetired = retired;
  const v = size === 4 ? cpu.read32(seg, off >>> 0) | 0 : size === 2 ? cpu.read16(seg, off >>> 0) : cpu.read8(seg, off >>> 0);
  cpu.jitRetired = 0;
  return v;
}

/** Writes `size` bytes of `value` at seg:off, as slowRead. */
export function slowWrite(cpu: Cpu, seg: number, off: number, size: number, value: number, at: number, retired: number): void {
  cpu.instrStart = at;
  cpu.jitRetired = retired;
  if (size === 4) cpu.write32(seg, off >>> 0, value >>> 0); // unsigned, as the interpreter's stores pass it
  else if (size === 2) cpu.write16(seg, off >>> 0, value);
  else cpu.write8(seg, off >>> 0, value);
  cpu.jitRetired = 0;
}

/**
 * Stores a block's pending flag record into the Cpu's lazy fields (the ones Cpu.setLazyFlags writes, unsigned: a
 * block holds 32-bit operands as int32s), at an exit or before a call. One call instead of seven stores at each of a block's exits keeps the generated code small;
 * TurboFan inlines it.
 */
export function storeLazyFlags(cpu: Cpu, op: number, a: number, b: number, res: number, cin: number, size: number, mask: number): void {
  cpu.lazyOp = op;
  cpu.lazyA = a >>> 0;
  cpu.lazyB = b >>> 0;
  cpu.lazyRes = res >>> 0;
  cpu.lazyCin = cin;
  cpu.lazySize = size;
  cpu.lazyMask = mask;
}
