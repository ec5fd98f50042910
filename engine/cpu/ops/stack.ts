// Stack instructions: PUSH/POP of registers, memory, immediates and segment registers, PUSHA/POPA, PUSHF/POPF,
// ENTER and LEAVE (SDM vol. 2 PUSH, POP, PUSHA, POPA, PUSHF, POPF, ENTER, LEAVE).
//
// Every handler checks all stack accesses before it changes a register, so a #SS or #PF leaves the instruction
// restartable. The stack width (SP or ESP) is SS.B (cpu.stack32); the width of each slot is the operand size.

import type { Cpu } from '../cpu';
import { EBP, ESP, SS } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, rule, VEC_GP } from '../faults';
import { modelEflags } from '../model';
import { AC, ARITH, DF, ID, IF, IOPL, IOPL_SHIFT, NT, RF, TF, VM } from '../flags';

const R_GP_V86_PUSHF = rule('pushf.v86-iopl', 'PUSHF in virtual-8086 mode with IOPL < 3 (and CR4.VME = 0)', 'SDM 2 PUSHF');
const R_GP_V86_POPF = rule('popf.v86-iopl', 'POPF in virtual-8086 mode with IOPL < 3 (and CR4.VME = 0)', 'SDM 2 POPF');

/** Stack offset `delta` bytes from `sp`, wrapped to the stack width. */
function stackOffset(cpu: Cpu, sp: number, delta: number): number {
  return cpu.stack32 ? (sp + delta) >>> 0 : (sp + delta) & 0xffff;
}

function sizeValue(size: number, v: number): number {
  return size === 4 ? v >>> 0 : size === 2 ? v & 0xffff : v & 0xff;
}

/** The EFLAGS bits POPF may write at all on this model (SDM 1 §3.4.3: AC from the 486 on, ID with CPUID). */
function popfModelMask(cpu: Cpu): number {
  return (ARITH | TF | IF | DF | IOPL | NT | AC | ID) & modelEflags(cpu.model);
}

/**
 * The bits POPF changes (SDM 2 POPF, Operation): IOPL only at CPL 0 (real mode counts as CPL 0); IF only when
 * CPL ≤ IOPL; VM, RF, VIF and VIP never (a 32-bit POPF clears RF). Forbidden bits keep their value silently.
 */
function popfWritableMask(cpu: Cpu, old: number, cpl: number): number {
  let mask = popfModelMask(cpu);
  if ((old & VM) !== 0) return mask & ~IOPL; // V86 with IOPL = 3 (IOPL < 3 faulted before)
  if (cpl > 0) mask &= ~IOPL;
  if (cpl > (old & IOPL) >> IOPL_SHIFT) mask &= ~IF;
  return mask;
}

/**
 * The EFLAGS a POPF of `size` bytes leaves when it pops `v` over `old` at privilege `cpl`. Shared with the monitor,
 * which completes a deprivileged guest's POPF in place with the guest's own CPL and IOPL (monitor/in-place.ts).
 */
export function popfResult(cpu: Cpu, old: number, v: number, size: number, cpl: number): number {
  let mask = popfWritableMask(cpu, old, cpl);
  if (size === 2) mask &= 0xffff;
  const next = (old & ~mask) | (v & mask);
  return size === 4 ? next & ~RF : next;
}

export const handlers: Record<string, Handler> = {
  /** PUSH r (50–57). PUSH (E)SP pushes the value it had before the instruction (SDM PUSH, 286 and later). */
  pushZ(cpu: Cpu, i: Instr): void {
    cpu.push(i.size, cpu.getReg(i.size, i.reg));
  },

  /** POP r (58–5F). POP (E)SP: the stack pointer is incremented first, then receives the popped value. */
  popZ(cpu: Cpu, i: Instr): void {
    const v = cpu.pop(i.size);
    cpu.setReg(i.size, i.reg, v);
  },

  /** PUSH r/m (FF /6): the operand is read (its address computed with the old ESP) before the push. */
  pushE(cpu: Cpu, i: Instr): void {
    cpu.push(i.size, cpu.readRm(i, i.size));
  },

  /**
   * POP r/m (8F /0). SDM POP: with ESP as a base register the address is computed after ESP is incremented; a
   * fault on the store leaves ESP at its old value (the stack pointer is committed last).
   */
  popE(cpu: Cpu, i: Instr): void {
    const oldSp = cpu.sp;
    const v = cpu.readMem(SS, oldSp, i.size);
    const newSp = stackOffset(cpu, oldSp, i.size);
    if (i.rm >= 0) {
      cpu.sp = newSp;
      cpu.setReg(i.size, i.rm, v);
      return;
    }
    cpu.sp = newSp;
    const off = cpu.ea(i);
    cpu.sp = oldSp;
    cpu.writeMem(i.seg, off, i.size, v);
    cpu.sp = newSp;
  },

  /** PUSH imm (68 Iv, 6A Ibs sign-extended to the operand size). */
  pushI(cpu: Cpu, i: Instr): void {
    cpu.push(i.size, sizeValue(i.size, i.imm));
  },

  /**
   * PUSH Sreg (06 0E 16 1E, 0F A0, 0F A8). With a 32-bit operand size the stack pointer moves by 4 but the 386 and
   * 486 store only the 16-bit selector, leaving the upper half of the slot unchanged (SDM PUSH: "If the source
   * operand is a segment register (16 bits) and the operand size is 32 bits, either a zero-extended value is pushed
   * on the stack or the segment selector is written on the stack using a 16-bit move" — the latter on these chips).
   */
  pushSeg(cpu: Cpu, i: Instr): void {
    const sp = stackOffset(cpu, cpu.sp, -i.size);
    cpu.write16(SS, sp, cpu.segSel[i.arg]);
    cpu.sp = sp;
  },

  /** PUSHA/PUSHAD (60): EAX ECX EDX EBX, the original ESP, EBP ESI EDI. All eight slots are checked first. */
  pusha(cpu: Cpu, i: Instr): void {
    const size = i.size;
    const sp = cpu.sp;
    for (let k = 1; k <= 8; k++) cpu.checkWrite(SS, stackOffset(cpu, sp, -k * size), size);
    // ESP itself changes only at the end, so its slot receives the original value.
    for (let n = 0; n < 8; n++) cpu.writeMem(SS, stackOffset(cpu, sp, -(n + 1) * size), size, cpu.getReg(size, n));
    cpu.sp = stackOffset(cpu, sp, -8 * size);
  },

  /** POPA/POPAD (61): EDI ESI EBP, (skip ESP's slot), EBX EDX ECX EAX; all reads happen before any register changes. */
  popa(cpu: Cpu, i: Instr): void {
    const size = i.size;
    const sp = cpu.sp;
    for (let k = 0; k < 8; k++) cpu.checkRead(SS, stackOffset(cpu, sp, k * size), size);
    for (let k = 0; k < 8; k++) {
      const n = 7 - k;
      if (n === ESP) continue;
      cpu.setReg(size, n, cpu.readMem(SS, stackOffset(cpu, sp, k * size), size));
    }
    cpu.sp = stackOffset(cpu, sp, 8 * size);
  },

  /**
   * PUSHF/PUSHFD (9C). The image of a 32-bit push has VM and RF cleared (SDM PUSHF). In V86 mode with IOPL < 3
   * it faults (#GP(0); CR4.VME is not modelled).
   */
  pushf(cpu: Cpu, i: Instr): void {
    const flags = cpu.getEflags();
    if ((flags & VM) !== 0 && (flags & IOPL) !== IOPL) fault(VEC_GP, 0, R_GP_V86_PUSHF);
    cpu.push(i.size, i.size === 4 ? (flags & ~(VM | RF)) >>> 0 : flags & 0xffff);
  },

  /** POPF/POPFD (9D): see popfWritableMask for which bits the popped image may change. */
  popf(cpu: Cpu, i: Instr): void {
    // The bits read here (VM, IOPL, IF and the rest POPF may keep) are never lazy, and every arithmetic flag is
    // replaced by the popped image: the pending lazy flags need not be computed (cpu.flags holds stale copies of
    // them, which the mask drops).
    const old = cpu.flags >>> 0;
    const iopl = (old & IOPL) >> IOPL_SHIFT;
    if ((old & VM) !== 0 && iopl < 3) fault(VEC_GP, 0, R_GP_V86_POPF);
    const v = cpu.pop(i.size);
    cpu.setEflags(popfResult(cpu, old, v, i.size, cpu.cpl));
  },

  /**
   * ENTER imm16, imm8 (C8), step by step after SDM 2 ENTER's Operation (non-64-bit):
   *   Push((E)BP) by operand size; FrameTemp ← SP or ESP by stack size (SS.B);
   *   for i = 1 … L−1 (L = imm8 MOD 32): (E)BP ← (E)BP − operand size, by stack size (BP on a 16-bit stack,
   *     EBP on a 32-bit one); Push([SS:(E)BP]) by operand size;
   *   if L > 0: Push(FrameTemp);
   *   operand size 32: EBP ← FrameTemp (zero-extended from SP on a 16-bit stack); ESP ← ESP − imm16 (all 32 bits);
   *   operand size 16: BP ← FrameTemp[15:0]; SP ← SP − imm16 (bits 16 and above of EBP and ESP unchanged).
   * The new stack pointer must lie within SS (#SS(0), SDM ENTER — Protected Mode Exceptions); it is checked, as
   * every stack slot is, before any register changes. The loop's (E)BP is a temporary (the final assignment
   * decides the register). Bochs and QEMU size the final stack-pointer update by the stack size instead.
   */
  enter(cpu: Cpu, i: Instr): void {
    const size = i.size;
    const allocSize = i.imm & 0xffff;
    const level = i.imm2 & 31;
    let sp = stackOffset(cpu, cpu.sp, -size);
    cpu.writeMem(SS, sp, size, cpu.getReg(size, EBP));
    const frameTemp = sp;
    if (level > 0) {
      let bp = cpu.stack32 ? cpu.regs[EBP] >>> 0 : cpu.getReg(2, EBP);
      for (let k = 1; k < level; k++) {
        bp = stackOffset(cpu, bp, -size);
        const v = cpu.readMem(SS, bp, size);
        sp = stackOffset(cpu, sp, -size);
        cpu.writeMem(SS, sp, size, v);
      }
      sp = stackOffset(cpu, sp, -size);
      cpu.writeMem(SS, sp, size, frameTemp);
    }
    // The stack pointer after the pushes keeps the upper half of ESP on a 16-bit stack.
    const espAfterPushes = cpu.stack32 ? sp : ((cpu.regs[ESP] & ~0xffff) | sp) >>> 0;
    const finalEsp = size === 4 ? (espAfterPushes - allocSize) >>> 0 : ((espAfterPushes & ~0xffff) | ((sp - allocSize) & 0xffff)) >>> 0;
    cpu.checkWrite(SS, cpu.stack32 ? finalEsp : finalEsp & 0xffff, size);
    cpu.setReg(size, EBP, frameTemp);
    cpu.regs[ESP] = finalEsp | 0;
  },

  /** LEAVE (C9): (E)SP ← (E)BP by stack width, then (E)BP ← pop by operand size. */
  leave(cpu: Cpu, i: Instr): void {
    const sp = cpu.stack32 ? cpu.regs[EBP] >>> 0 : cpu.getReg(2, EBP);
    const v = cpu.readMem(SS, sp, i.size);
    cpu.sp = stackOffset(cpu, sp, i.size);
    cpu.setReg(i.size, EBP, v);
  },
};
