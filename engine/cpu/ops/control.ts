// Near control transfers: Jcc, JMP/CALL rel and r/m, RET near, LOOP/LOOPE/LOOPNE, JCXZ/JECXZ; plus BOUND and HLT
// (SDM vol. 2 Jcc, JMP, CALL, RET, LOOPcc, JCXZ, BOUND, HLT).
//
// Near targets follow the SDM's Operation sections: the new EIP is truncated to 16 bits with a 16-bit operand size,
// and a target beyond the CS limit raises #GP(0) before anything changes (the run loop leaves EIP at the
// instruction). Far transfers live in ops/far.ts.

import type { Cpu } from '../cpu';
import { CR0_PE, CS, ECX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, NO_ERROR_CODE, R_GP_PRIVILEGED, rule, VEC_BR, VEC_GP } from '../faults';

const R_GP_NEAR_LIMIT = rule('near-branch.cs-limit', 'the target instruction pointer is not within the code segment limit', 'SDM 2 JMP/CALL/RET/Jcc (#GP(0))');
const R_BR_BOUND = rule('bound.range', 'the array index is below the lower bound or above the upper bound', 'SDM 2 BOUND (#BR)');

/** Moves EIP to `target` (already the sum), truncated by operand size and checked against the CS limit. */
export function nearTarget(cpu: Cpu, i: Instr, target: number): number {
  const t = i.os32 ? target >>> 0 : target & 0xffff;
  if (t > cpu.segLimit[CS]) fault(VEC_GP, 0, R_GP_NEAR_LIMIT, `target 0x${t.toString(16)}, CS limit 0x${cpu.segLimit[CS].toString(16)}`);
  return t;
}

/** The count register of LOOP/JCXZ: CX or ECX by address size (SDM LOOPcc: "the address-size attribute"). */
function counter(cpu: Cpu, i: Instr): number {
  return i.as32 ? cpu.regs[ECX] >>> 0 : cpu.regs16[ECX << 1];
}

export const handlers: Record<string, Handler> = {
  /** Jcc rel8 / rel16/32 (70–7F, 0F 80–8F); `arg` is the condition code. */
  jcc(cpu: Cpu, i: Instr): void {
    // `bias` tells block translation which way the branch usually goes (Instr.bias).
    if (cpu.condition(i.arg)) {
      cpu.eip = nearTarget(cpu, i, cpu.eip + i.imm);
      i.bias++;
    } else i.bias--;
  },

  /** JMP rel8 / rel16/32 (EB, E9). */
  jmpRel(cpu: Cpu, i: Instr): void {
    cpu.eip = nearTarget(cpu, i, cpu.eip + i.imm);
  },

  /** CALL rel16/32 (E8): the target is checked, then the return address pushed, then EIP set. */
  callRel(cpu: Cpu, i: Instr): void {
    const target = nearTarget(cpu, i, cpu.eip + i.imm);
    cpu.push(i.size, cpu.eip);
    cpu.eip = target;
  },

  /** RET near (C3) and RET imm16 (C2): pop EIP, then release imm16 more bytes at the stack width. */
  retNear(cpu: Cpu, i: Instr): void {
    const target = nearTarget(cpu, i, cpu.peekStack(0, i.size));
    const sp = cpu.sp + i.size + i.imm;
    cpu.sp = cpu.stack32 ? sp >>> 0 : sp & 0xffff;
    cpu.eip = target;
  },

  /** JMP r/m16/32 (FF /4): an absolute offset. */
  jmpE(cpu: Cpu, i: Instr): void {
    cpu.eip = nearTarget(cpu, i, cpu.readRm(i, i.size));
  },

  /** CALL r/m16/32 (FF /2): the operand is read (with the old ESP) before the return address is pushed. */
  callE(cpu: Cpu, i: Instr): void {
    const target = nearTarget(cpu, i, cpu.readRm(i, i.size));
    cpu.push(i.size, cpu.eip);
    cpu.eip = target;
  },

  /**
   * LOOPNE (arg 0), LOOPE (1), LOOP (2) (E0–E2). The count is decremented without touching flags; the branch is
   * taken when it is not zero and, for LOOPE/LOOPNE, ZF agrees. The count is written after the target check.
   */
  loop(cpu: Cpu, i: Instr): void {
    const count = i.as32 ? (counter(cpu, i) - 1) >>> 0 : (counter(cpu, i) - 1) & 0xffff;
    let taken = count !== 0;
    if (taken && i.arg !== 2) taken = cpu.getZF() === (i.arg === 1);
    const target = taken ? nearTarget(cpu, i, cpu.eip + i.imm) : cpu.eip;
    if (i.as32) cpu.regs[ECX] = count;
    else cpu.regs16[ECX << 1] = count;
    cpu.eip = target;
  },

  /** JCXZ/JECXZ (E3): the register tested is chosen by address size. */
  jcxz(cpu: Cpu, i: Instr): void {
    if (counter(cpu, i) === 0) cpu.eip = nearTarget(cpu, i, cpu.eip + i.imm);
  },

  /**
   * BOUND r, m16&16 / m32&32 (62): signed compare of the index with the two bounds at [m] and [m + size]; out of
   * range raises #BR (vector 5), a fault, so the handler returns to BOUND itself.
   */
  bound(cpu: Cpu, i: Instr): void {
    const off = cpu.ea(i);
    const upperOff = i.as32 ? (off + i.size) >>> 0 : (off + i.size) & 0xffff;
    const lower = cpu.readMem(i.seg, off, i.size);
    const upper = cpu.readMem(i.seg, upperOff, i.size);
    const index = cpu.getReg(i.size, i.reg);
    const shift = i.size === 4 ? 0 : 16;
    const sIndex = (index << shift) >> shift;
    if (sIndex < (lower << shift) >> shift || sIndex > (upper << shift) >> shift) {
      fault(VEC_BR, NO_ERROR_CODE, R_BR_BOUND, `index ${sIndex}, bounds ${(lower << shift) >> shift}..${(upper << shift) >> shift}`);
    }
  },

  /**
   * HLT (F4): privileged — in protected and virtual-8086 mode CPL must be 0 (V86 code runs at CPL 3), else #GP(0).
   * EIP already points past HLT, so an interrupt resumes after it.
   */
  hlt(cpu: Cpu): void {
    if ((cpu.cr0 & CR0_PE) !== 0 && cpu.cpl !== 0) fault(VEC_GP, 0, R_GP_PRIVILEGED, 'HLT');
    cpu.halted = true;
  },
};
