// Far transfers and software interrupts: JMP ptr16:16/32 (EA), CALL ptr (9A), JMP/CALL m16:16/32 (FF /5, FF /3),
// RETF / RETF imm16 (CB, CA), IRET (CF), INT3 (CC), INT imm8 (CD), INTO (CE), INT1 (F1). The mechanisms live in
// protect/far-jmp.ts, far-call.ts, far-ret.ts, iret.ts and the interrupt delivery modules.

import type { Cpu } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, rule, VEC_BP, VEC_DB, VEC_GP, VEC_OF } from '../faults';
import { IOPL, IOPL_SHIFT, VM } from '../flags';
import { deliverInterrupt, SOURCE_ICEBP, SOURCE_SOFTWARE } from '../interrupt';
import { farJump } from '../protect/far-jmp';
import { farCall } from '../protect/far-call';
import { farReturn } from '../protect/far-ret';
import { interruptReturn } from '../protect/iret';

const R_INT_V86_IOPL = rule('int.v86.iopl', 'INT n in virtual-8086 mode with IOPL < 3', 'SDM 2 INT n — Operation');

/** Reads a far pointer m16:16 or m16:32 (offset, then selector) from the instruction's memory operand. */
function readFarPointer(cpu: Cpu, i: Instr): { offset: number; selector: number } {
  const off = cpu.ea(i);
  const offset = cpu.readMem(i.seg, off, i.size);
  const selector = cpu.readMem(i.seg, i.as32 ? (off + i.size) >>> 0 : (off + i.size) & 0xffff, 2);
  return { offset, selector };
}

function jmpFar(cpu: Cpu, i: Instr): void {
  farJump(cpu, i.imm2, i.imm, i.os32);
}

function callFar(cpu: Cpu, i: Instr): void {
  farCall(cpu, i.imm2, i.imm, i.os32);
}

function jmpFarM(cpu: Cpu, i: Instr): void {
  const p = readFarPointer(cpu, i);
  farJump(cpu, p.selector, p.offset, i.os32);
}

function callFarM(cpu: Cpu, i: Instr): void {
  const p = readFarPointer(cpu, i);
  farCall(cpu, p.selector, p.offset, i.os32);
}

/** CB: RETF; CA: RETF imm16 (releases imm16 bytes of parameters). */
function retFar(cpu: Cpu, i: Instr): void {
  farReturn(cpu, i.os32, i.opcode === 0xca ? i.imm & 0xffff : 0);
}

function iret(cpu: Cpu, i: Instr): void {
  interruptReturn(cpu, i.os32);
}

function int3(cpu: Cpu): void {
  deliverInterrupt(cpu, VEC_BP, -1, SOURCE_SOFTWARE);
}

function intIb(cpu: Cpu, i: Instr): void {
  // IF VM = 1 AND IOPL < 3 AND INT n THEN #GP(0)  (INT3 and INTO are not IOPL-sensitive)
  if ((cpu.flags & VM) !== 0 && (cpu.flags & IOPL) >> IOPL_SHIFT < 3) fault(VEC_GP, 0, R_INT_V86_IOPL);
  deliverInterrupt(cpu, i.imm & 0xff, -1, SOURCE_SOFTWARE);
}

function into(cpu: Cpu): void {
  if (cpu.getOF()) deliverInterrupt(cpu, VEC_OF, -1, SOURCE_SOFTWARE);
}

/** F1 (INT1, ICEBP): a debug trap delivered like a hardware event (no gate DPL check). */
function int1(cpu: Cpu): void {
  deliverInterrupt(cpu, VEC_DB, -1, SOURCE_ICEBP);
}

export const handlers: Record<string, Handler> = {
  jmpFar,
  callFar,
  jmpFarM,
  callFarM,
  retFar,
  iret,
  int3,
  intIb,
  into,
  int1,
};
