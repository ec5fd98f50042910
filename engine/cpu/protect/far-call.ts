// Far CALL (SDM 2 CALL — Operation, "far call"; SDM 3A §5.8.3–5.8.5, §6.2 return linkage).
//
//   real / V86:  the stack must hold the return address (#SS(0)); tempEIP beyond the CS limit → #GP(0);
//                push CS, push (E)IP; CS = selector (base × 16), EIP = tempEIP
//   protected:   NULL → #GP(0); beyond the table → #GP(sel); then by descriptor type:
//     conforming code       DPL > CPL → #GP(sel); not present → #NP(sel)
//     non-conforming code   RPL > CPL or DPL ≠ CPL → #GP(sel); not present → #NP(sel)
//     either                no room for the return address → #SS(0); tempEIP beyond the limit → #GP(0);
//                           push CS (zero-extended with a 32-bit operand size), push EIP; CS.RPL ← CPL
//     call gate, task gate, TSS → system-target.ts (call-gate.ts, task-switch.ts)
//     anything else         → #GP(sel)
//
// Frame pushed (low addresses at the bottom), operand size 2 or 4 bytes per slot:
//     [old CS]
//     [return EIP]   ← new SP

import type { Cpu } from '../cpu';
import { CS } from '../cpu';
import { rule } from '../faults';
import { Descriptor } from './descriptor';
import { branchFar, branchFarReal, checkCodeSegment, checkEipInLimit, fetchFarTarget, realModeCsLimit } from './code-segment';
import { directCodeRules } from './transfer-rules';
import { checkPushes } from './stack-frame';
import { transferThroughSystemTarget } from './system-target';

const SDM = 'SDM 2 CALL — Operation (far call)';

export const FAR_CALL_RULES = directCodeRules('far-call', SDM);
const R_REAL_EIP_LIMIT = rule('far-call.real.eip-limit', 'tempEIP is beyond the code segment limit (real-address or virtual-8086 mode)', SDM);

const scratch = new Descriptor();

/** Far CALL to selector:offset; the return address is the current CS:EIP (already past the instruction). */
export function farCall(cpu: Cpu, selector: number, offset: number, os32: boolean): void {
  const size = os32 ? 4 : 2;
  const eip = os32 ? offset >>> 0 : offset & 0xffff;
  if (!cpu.protectedMode) {
    // IF stack not large enough for the return address THEN #SS(0); IF tempEIP beyond the CS limit THEN #GP(0)
    checkPushes(cpu, 2, size);
    checkEipInLimit(eip, realModeCsLimit(cpu), R_REAL_EIP_LIMIT);
    pushReturnAddress(cpu, size);
    branchFarReal(cpu, selector, eip, 'far-call');
    return;
  }
  farCallProtected(cpu, selector & 0xffff, eip, os32);
}

function farCallProtected(cpu: Cpu, selector: number, eip: number, os32: boolean): void {
  const size = os32 ? 4 : 2;
  const d = fetchFarTarget(cpu, selector, FAR_CALL_RULES, scratch);
  if (transferThroughSystemTarget(cpu, 'call', selector, d, FAR_CALL_RULES.type)) return;
  checkCodeSegment(cpu, selector, d, FAR_CALL_RULES);
  // IF stack not large enough for return address THEN #SS(0)
  checkPushes(cpu, 2, size);
  // IF tempEIP not within code segment limit THEN #GP(0)
  checkEipInLimit(eip, d.limit, FAR_CALL_RULES.eipLimit);
  pushReturnAddress(cpu, size);
  branchFar(cpu, selector, d, eip, cpu.cpl, 'far-call');
}

/** Pushes CS (zero-extended to the operand size) and the return EIP. The caller probed both slots. */
export function pushReturnAddress(cpu: Cpu, size: number): void {
  cpu.push(size, cpu.segSel[CS]);
  cpu.push(size, size === 4 ? cpu.eip : cpu.eip & 0xffff);
}
