// Changes the debugger makes to the x87 of a stopped guest (setVariable on the FPU scope): a stack register by
// value, the control, status and tag words. Each keeps the derived state right as the instruction that loads the
// same thing would: FLDCW/FLDENV recompute ES and B (and FERR#) from the flags and masks, a written register is
// tagged not empty as FLD leaves it.

import type { Cpu } from '../cpu';
import type { F80 } from './float80';
import { recomputeSummary } from './ops/control';

function requireFpu(cpu: Cpu): void {
  if (!cpu.fpuPresent) throw new RangeError(`this CPU model (${cpu.model.name}) has no FPU`);
}

function checkWord(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} must be a whole number from 0 to 0xffff`);
}

/** ST(i) ← value; the register it maps to is tagged not empty (its 2-bit tag then follows the value). */
export function setFpuStackRegister(cpu: Cpu, i: number, value: F80): void {
  requireFpu(cpu);
  if (!Number.isInteger(i) || i < 0 || i > 7) throw new RangeError('ST(i) takes i from 0 to 7');
  cpu.fpu.setSt(i, value);
}

/** As FLDCW: bit 6 reads as 1 on the P6; an exception the new masks unmask becomes pending (ES, B, FERR#). */
export function setFpuControlWord(cpu: Cpu, v: number): void {
  requireFpu(cpu);
  checkWord('the control word', v);
  cpu.fpu.cw = v | 0x40;
  recomputeSummary(cpu, cpu.fpu);
}

/** As FLDENV's status word: TOP, the condition codes and flags as given; ES and B then follow flags and masks. */
export function setFpuStatusWord(cpu: Cpu, v: number): void {
  requireFpu(cpu);
  checkWord('the status word', v);
  cpu.fpu.status = v;
  recomputeSummary(cpu, cpu.fpu);
}

/** As FLDENV's tag word: 11 marks a register empty, any other tag not empty (the real tag follows the contents). */
export function setFpuTagWord(cpu: Cpu, v: number): void {
  requireFpu(cpu);
  checkWord('the tag word', v);
  cpu.fpu.tagWord = v;
}
