// IRET / IRETD (SDM 2 IRET — Operation; SDM 3A §6.12.1, §7.3, §20.3.3).
//
// Stack on entry (slots of the operand size):
//     [outer SS, outer ESP]   only on a return to an outer privilege level
//     [EFLAGS]
//     [CS]
//     [EIP]   ← SP
//
//   real mode:         three slots within SS (#SS(0)); tempEIP beyond the CS limit → #GP(0); load CS:EIP;
//                      16-bit: FLAGS ← popped; 32-bit: EFLAGS ← (popped AND 257FD5H) OR (EFLAGS AND 1A0000H)
//   V86 mode:          IOPL < 3 → #GP(0); otherwise as real mode, but IOPL (and VM, VIF, VIP) keep their values
//   protected, NT = 1: task return through the TSS back link (task-switch.ts)
//   protected:         three slots within SS (#SS(0)); popped EFLAGS.VM = 1 at CPL 0 with a 32-bit operand size
//                      returns to V86 mode (returnToV86); otherwise the return-CS checks of code-segment.ts, then a
//                      same-level or outer-level return. EFLAGS bits that may change (SDM 2 IRET):
//                        always CF PF AF ZF SF TF DF OF NT; 32-bit: RF AC ID; CPL ≤ IOPL: IF; CPL = 0: IOPL
//                        (32-bit: VM VIF VIP)

import type { Cpu } from '../cpu';
import { DS, ES, ESP, FS, GS, SS } from '../cpu';
import { fault, rule, VEC_GP } from '../faults';
import { AC, AF, CF, DF, ID, IF, IOPL, IOPL_SHIFT, NT, OF, PF, RF, SF, TF, VIF, VIP, VM, ZF } from '../flags';
import { branchFarReal, checkEipInLimit, realModeCsLimit } from './code-segment';
import { returnCodeRules } from './transfer-rules';
import { adjustSp, checkPops, peekSlot } from './stack-frame';
import { returnProtected } from './protected-return';
import { loadSegmentV86 } from './segment-load';
import { iretTaskReturn } from './task-switch';
import { modelEflags } from '../model';

const SDM = 'SDM 2 IRET — Operation';

export const IRET_RULES = returnCodeRules('iret', SDM);
const R_REAL_EIP_LIMIT = rule('iret.real.eip-limit', 'tempEIP is not within the code segment limits (real-address or virtual-8086 mode)', SDM);
const R_V86_EIP_LIMIT = rule('iret.to-v86.eip-limit', 'the instruction pointer is not within the code segment limits (0xFFFF)', 'SDM 2 IRET — RETURN-TO-VIRTUAL-8086-MODE');
const R_V86_IOPL = rule('iret.v86.iopl', 'IRET in virtual-8086 mode with IOPL < 3 (CR4.VME = 0)', 'SDM 2 IRET — IRET-FROM-VIRTUAL-8086-MODE');

/** EFLAGS bits a real-mode IRETD loads (SDM: tempEFLAGS AND 257FD5H). */
const REAL_IRETD_MASK = 0x257fd5;
const ALWAYS = CF | PF | AF | ZF | SF | TF | DF | OF | NT;

export function interruptReturn(cpu: Cpu, os32: boolean): void {
  const size = os32 ? 4 : 2;
  if ((cpu.cr0 & 1) === 0) {
    realModeReturn(cpu, size);
  } else if ((cpu.flags & VM) !== 0) {
    v86Return(cpu, size);
  } else if ((cpu.flags & NT) !== 0) {
    iretTaskReturn(cpu);
  } else {
    protectedModeReturn(cpu, size);
  }
}

/** The frame's three slots, read after the caller probed them (a reused record: IRET allocates nothing). */
interface IretFrame {
  eip: number;
  cs: number;
  eflags: number;
}
const frame: IretFrame = { eip: 0, cs: 0, eflags: 0 };

function readFrame(cpu: Cpu, size: number): IretFrame {
  frame.eip = peekSlot(cpu, 0, size);
  frame.cs = cpu.peekStack(size, 2);
  frame.eflags = peekSlot(cpu, 2 * size, size);
  return frame;
}

/** Flags the CPU model has (model.ts): a 386 has no AC (alignment check), a model without CPUID no ID flag. */
function modelFlags(cpu: Cpu): number {
  return modelEflags(cpu.model);
}

function realModeReturn(cpu: Cpu, size: number): void {
  // IF top 6 (12) bytes of stack not within stack limits THEN #SS(0)
  checkPops(cpu, 3, size);
  const f = readFrame(cpu, size);
  // IF tempEIP not within code segment limits THEN #GP(0)
  checkEipInLimit(f.eip, realModeCsLimit(cpu), R_REAL_EIP_LIMIT);
  const old = cpu.getEflags();
  const eflags =
    size === 4
      ? (f.eflags & REAL_IRETD_MASK & modelFlags(cpu)) | (old & (VIP | VIF | VM))
      : (old & 0xffff0000) | f.eflags;
  branchFarReal(cpu, f.cs, f.eip, 'iret');
  adjustSp(cpu, 3 * size);
  cpu.setEflags(eflags);
}

function v86Return(cpu: Cpu, size: number): void {
  // IOPL < 3 (and no VME): #GP(0)
  if (((cpu.flags & IOPL) >> IOPL_SHIFT) !== 3) fault(VEC_GP, 0, R_V86_IOPL);
  checkPops(cpu, 3, size);
  const f = readFrame(cpu, size);
  checkEipInLimit(f.eip, realModeCsLimit(cpu), R_REAL_EIP_LIMIT);
  const old = cpu.getEflags();
  // VM, IOPL, VIP and VIF are not modified by the pop.
  const keep = size === 4 ? VM | IOPL | VIP | VIF : 0xffff0000 | IOPL;
  const eflags = (old & keep) | (f.eflags & ~keep & modelFlags(cpu));
  branchFarReal(cpu, f.cs, f.eip, 'iret');
  adjustSp(cpu, 3 * size);
  cpu.setEflags(eflags);
}

function protectedModeReturn(cpu: Cpu, size: number): void {
  // IF top 6 (12) bytes of stack not within stack limits THEN #SS(0)
  checkPops(cpu, 3, size);
  const f = readFrame(cpu, size);
  if (size === 4 && (f.eflags & VM) !== 0 && cpu.cpl === 0) {
    returnToV86(cpu, f);
    return;
  }
  returnProtected(cpu, 'iret', IRET_RULES, f.cs, f.eip, size, 3 * size, 0, protectedEflags(cpu, f.eflags, size));
}

/**
 * RETURN-TO-VIRTUAL-8086-MODE (IRETD at CPL 0 with VM = 1 in the popped EFLAGS). Below EIP, CS and EFLAGS the
 * stack holds the V86 ESP, SS, ES, DS, FS, GS (dwords, selectors in the low words). All six slots must lie within
 * SS (#SS(0)) and EIP within 0xFFFF (#GP(0)); then EFLAGS, CS:EIP, the data segments and SS:ESP are loaded the V86
 * way (base = selector × 16) and CPL becomes 3.
 */
function returnToV86(cpu: Cpu, f: IretFrame): void {
  // IF top 24 bytes of stack are not within stack segment limits THEN #SS(0)
  checkPops(cpu, 6, 4, 12);
  // IF instruction pointer not within code segment limits THEN #GP(0)
  checkEipInLimit(f.eip, 0xffff, R_V86_EIP_LIMIT);
  const esp = cpu.peekStack(12, 4) >>> 0;
  const ss = cpu.peekStack(16, 2);
  const data = [cpu.peekStack(20, 2), cpu.peekStack(24, 2), cpu.peekStack(28, 2), cpu.peekStack(32, 2)];
  cpu.setEflags(f.eflags & modelFlags(cpu));
  branchFarReal(cpu, f.cs, f.eip & 0xffff, 'iret');
  [ES, DS, FS, GS].forEach((seg, k) => loadSegmentV86(cpu, seg, data[k], 'iret'));
  loadSegmentV86(cpu, SS, ss, 'iret');
  cpu.regs[ESP] = esp | 0;
  cpu.cpl = 3;
}

/**
 * EFLAGS after a protected-mode IRET, by the rules of the current (old) CPL and IOPL. Exported for the monitor's
 * direct return (engine/monitor/monitor.ts), which gives the CPU exactly what its IRET would.
 */
export function protectedEflags(cpu: Cpu, popped: number, size: number): number {
  return iretEflags(cpu, cpu.getEflags(), cpu.cpl, popped, size);
}

/**
 * protectedEflags for a given old EFLAGS image and CPL: the monitor's IRET completed in place
 * (engine/monitor/monitor.ts iretInPlace) applies the guest's, which the deprivileged CPU does not hold.
 */
export function iretEflags(cpu: Cpu, old: number, cpl: number, popped: number, size: number): number {
  const iopl = (old & IOPL) >> IOPL_SHIFT;
  let mask = ALWAYS;
  if (size === 4) mask |= RF | AC | ID;
  if (cpl <= iopl) mask |= IF;
  if (cpl === 0) {
    mask |= IOPL;
    if (size === 4) mask |= VM | VIF | VIP;
  }
  mask &= modelFlags(cpu);
  return ((old & ~mask) | (popped & mask)) >>> 0;
}
