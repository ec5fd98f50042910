// Stack probes for check-then-commit transfers (far CALL/RET, IRET, interrupt delivery): every slot a frame will
// write or read is checked against SS (limit, type, paging) before anything changes, so a fault leaves no
// half-pushed frame (SDM 2 CALL/RET/IRET: "IF stack not large enough … THEN #SS(0)").
//
// Slots are checked one by one because a 16-bit SP wraps within 64 KiB: a frame that straddles SP = 0 is legal
// when both pieces lie within the limit.

import type { Cpu } from '../cpu';
import { ESP, SS } from '../cpu';

/** SP moved by `delta` bytes, wrapped to the stack's address size (SS.B). */
export function stackOffset(cpu: Cpu, delta: number): number {
  return cpu.stack32 ? (cpu.sp + delta) >>> 0 : (cpu.sp + delta) & 0xffff;
}

/** Checks that `count` pushes of `size` bytes would succeed. */
export function checkPushes(cpu: Cpu, count: number, size: number): void {
  for (let k = 1; k <= count; k++) cpu.checkWrite(SS, stackOffset(cpu, -k * size), size);
}

/** Checks that `count` pops of `size` bytes from SP + `skip` would succeed. */
export function checkPops(cpu: Cpu, count: number, size: number, skip = 0): void {
  for (let k = 0; k < count; k++) cpu.checkRead(SS, stackOffset(cpu, skip + k * size), size);
}

/** The unsigned slot of `size` bytes (2 or 4) at SP + `depth`, read without popping (after checkPops probed it). */
export function peekSlot(cpu: Cpu, depth: number, size: number): number {
  return size === 4 ? cpu.peekStack(depth, 4) >>> 0 : cpu.peekStack(depth, 2);
}

/** Adds `delta` to SP or ESP by the stack's address size (the release of RET n's parameters). */
export function adjustSp(cpu: Cpu, delta: number): void {
  if (cpu.stack32) cpu.regs[ESP] = (cpu.regs[ESP] + delta) | 0;
  else cpu.regs16[ESP << 1] = (cpu.regs16[ESP << 1] + delta) & 0xffff;
}
