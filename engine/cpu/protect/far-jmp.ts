// Far JMP (SDM 2 JMP — Operation, "far jump"; SDM 3A §5.8.3–5.8.4).
//
//   real / V86:  tempEIP beyond the CS limit → #GP(0); CS = selector (base × 16), EIP = tempEIP
//   protected:   NULL → #GP(0); beyond the table → #GP(sel); then by descriptor type:
//     conforming code       DPL > CPL → #GP(sel); not present → #NP(sel)
//     non-conforming code   RPL > CPL or DPL ≠ CPL → #GP(sel); not present → #NP(sel)
//     either                tempEIP beyond the limit → #GP(0); CS.RPL ← CPL
//     call gate, task gate, TSS → system-target.ts (call-gate.ts, task-switch.ts)
//     anything else         → #GP(sel)

import type { Cpu } from '../cpu';
import { rule } from '../faults';
import { Descriptor } from './descriptor';
import { branchFar, branchFarReal, checkCodeSegment, checkEipInLimit, fetchFarTarget, realModeCsLimit } from './code-segment';
import { directCodeRules } from './transfer-rules';
import { transferThroughSystemTarget } from './system-target';

const SDM = 'SDM 2 JMP — Operation (far jump)';

export const FAR_JMP_RULES = directCodeRules('far-jmp', SDM);
const R_REAL_EIP_LIMIT = rule('far-jmp.real.eip-limit', 'tempEIP is beyond the code segment limit (real-address or virtual-8086 mode)', SDM);

const scratch = new Descriptor();

/** Far JMP to selector:offset; `os32` is the operand size (a 16-bit operand size truncates the offset). */
export function farJump(cpu: Cpu, selector: number, offset: number, os32: boolean): void {
  const eip = os32 ? offset >>> 0 : offset & 0xffff;
  if (!cpu.protectedMode) {
    checkEipInLimit(eip, realModeCsLimit(cpu), R_REAL_EIP_LIMIT);
    branchFarReal(cpu, selector, eip, 'far-jmp');
    return;
  }
  farJumpProtected(cpu, selector & 0xffff, eip);
}

function farJumpProtected(cpu: Cpu, selector: number, eip: number): void {
  const d = fetchFarTarget(cpu, selector, FAR_JMP_RULES, scratch);
  if (transferThroughSystemTarget(cpu, 'jmp', selector, d, FAR_JMP_RULES.type)) return;
  checkCodeSegment(cpu, selector, d, FAR_JMP_RULES);
  checkEipInLimit(eip, d.limit, FAR_JMP_RULES.eipLimit);
  branchFar(cpu, selector, d, eip, cpu.cpl, 'far-jmp');
}
