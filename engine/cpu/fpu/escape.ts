// The main decoder's entry into the x87 (SDM vol. 2 App. A.4): the D8–DF escapes and WAIT/FWAIT. Without an FPU
// (`cpu.fpuPresent` false, the 486SX) an escape does nothing after its address calculation, or raises #NM when
// CR0.EM or CR0.TS says so, so the FNINIT/FNSTSW probe reads back memory unchanged.

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import { fault, R_UD_OPCODE, VEC_UD } from '../faults';
import { fpuRow } from './table';
import { checkAvailable, checkPending, checkWaitAvailable, notePointers } from './unit';

export function fpuEscape(cpu: Cpu, i: Instr): void {
  checkAvailable(cpu);
  if (!cpu.fpuPresent) return;
  const esc = i.arg;
  const modrm = i.modrm;
  const row = fpuRow(esc, modrm);
  if (row === undefined || (row.p6 && !cpu.p6)) {
    fault(VEC_UD, -1, R_UD_OPCODE, `x87 opcode ${(0xd8 + esc).toString(16).toUpperCase()} ${modrm.toString(16).toUpperCase().padStart(2, '0')}`);
  }
  const f = cpu.fpu;
  if (!row.control) {
    checkPending(cpu, f);
    notePointers(cpu, f, i, esc, modrm);
  }
  row.exec(cpu, i, f, row.arg);
}

/** WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; then a pending unmasked exception is reported. */
export function fwait(cpu: Cpu): void {
  checkWaitAvailable(cpu);
  if (cpu.fpuPresent) checkPending(cpu, cpu.fpu);
}
