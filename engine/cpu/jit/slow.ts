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
 * (unsigned result). `cpu.jitRetired` holds `retired` during the access: the devices' clock sees the time the
 * interpreter's would (Emitter.deviceTime); a fault leaves it there for the run loop, as its fault path expects.
 */
export function slowRead(cpu: Cpu, seg: number, off: number, size: number, at: number, retired: number): number {
  cpu.instrStart = at;
  cpu.jitRetired = retired;
  const v = size === 4 ? cpu.read32(seg, off >>> 0) >>> 0 : size === 2 ? cpu.read16(seg, off >>> 0) : cpu.read8(seg, off >>> 0);
  cpu.jitRetired = 0;
  return v;
}

/** Writes `size` bytes of `value` at seg:off, as slowRead. */
export function slowWrite(cpu: Cpu, seg: number, off: number, size: number, value: number, at: number, retired: number): void {
  cpu.instrStart = at;
  cpu.jitRetired = retired;
  if (size === 4) cpu.write32(seg, off >>> 0, value);
  else if (size === 2) cpu.write16(seg, off >>> 0, value);
  else cpu.write8(seg, off >>> 0, value);
  cpu.jitRetired = 0;
}

/**
 * Stores a block's pending flag record into the Cpu's lazy fields (the ones Cpu.setLazyFlags writes), at an exit
 * or before a call. One call instead of seven stores at each of a block's exits keeps the generated code small;
 * TurboFan inlines it.
 */
export function storeLazyFlags(cpu: Cpu, op: number, a: number, b: number, res: number, cin: number, size: number, mask: number): void {
  cpu.lazyOp = op;
  cpu.lazyA = a;
  cpu.lazyB = b;
  cpu.lazyRes = res;
  cpu.lazyCin = cin;
  cpu.lazySize = size;
  cpu.lazyMask = mask;
}
