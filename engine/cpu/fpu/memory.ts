// Memory operands of x87 instructions: 16- to 80-bit reads and writes through the segmented access path. Multi-part
// stores check the whole operand first so a fault leaves memory untouched (the instruction restarts cleanly).

import type { Cpu } from '../cpu';

export function read64(cpu: Cpu, seg: number, off: number): bigint {
  const lo = cpu.read32(seg, off) >>> 0;
  const hi = cpu.read32(seg, off + 4) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function readBits(cpu: Cpu, seg: number, off: number, bytes: number): bigint {
  if (bytes === 2) return BigInt(cpu.read16(seg, off));
  if (bytes === 4) return BigInt(cpu.read32(seg, off) >>> 0);
  if (bytes === 8) return read64(cpu, seg, off);
  return read64(cpu, seg, off) | (BigInt(cpu.read16(seg, off + 8)) << 64n);
}

export function readBytes(cpu: Cpu, seg: number, off: number, n: number): Uint8Array {
  cpu.checkRead(seg, off, n);
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = cpu.read8(seg, off + k);
  return out;
}

export function writeBits(cpu: Cpu, seg: number, off: number, bytes: number, v: bigint): void {
  cpu.checkWrite(seg, off, bytes);
  if (bytes === 2) return cpu.write16(seg, off, Number(v & 0xffffn));
  for (let k = 0; k + 4 <= bytes; k += 4) cpu.write32(seg, off + k, Number((v >> BigInt(8 * k)) & 0xffffffffn));
  if (bytes === 10) cpu.write16(seg, off + 8, Number((v >> 64n) & 0xffffn));
}

export function writeBytes(cpu: Cpu, seg: number, off: number, b: Uint8Array): void {
  cpu.checkWrite(seg, off, b.length);
  for (let k = 0; k < b.length; k++) cpu.write8(seg, off + k, b[k]);
}
