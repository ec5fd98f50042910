// Far RET and RET imm16 (SDM 2 RET — Operation, "far return"; SDM 3A §5.8.6).
//
// Stack on entry (operand size 2 or 4 bytes per slot):
//     [outer SS, outer ESP]   only on a return to an outer privilege level (outer-return.ts)
//     [imm16 bytes of parameters]
//     [return CS]
//     [return EIP]   ← SP
//
//   real / V86:  the two slots must lie within SS (#SS(0)); tempEIP beyond the CS limit → #GP(0);
//                EIP, CS ← popped; SP += imm16
//   protected:   slots within SS → #SS(0); return CS NULL → #GP(0); beyond the table → #GP(sel); not code →
//                #GP(sel); RPL < CPL → #GP(sel); conforming with DPL > RPL → #GP(sel); non-conforming with
//                DPL ≠ RPL → #GP(sel); not present → #NP(sel); then
//     RPL = CPL (same level)   tempEIP beyond the limit → #GP(0); load CS:EIP, SP += 2 slots + imm16
//     RPL > CPL (outer level)  outer-return.ts: the outer SS:ESP is checked and loaded
//   (the protected steps are shared with IRET in protected-return.ts)

import type { Cpu } from '../cpu';
import { rule } from '../faults';
import { branchFarReal, checkEipInLimit, realModeCsLimit } from './code-segment';
import { returnCodeRules } from './transfer-rules';
import { adjustSp, checkPops, peekSlot } from './stack-frame';
import { returnProtected } from './protected-return';

const SDM = 'SDM 2 RET — Operation (far return)';

export const FAR_RET_RULES = returnCodeRules('far-ret', SDM);
const R_REAL_EIP_LIMIT = rule('far-ret.real.eip-limit', 'tempEIP is not within the code segment limits (real-address or virtual-8086 mode)', SDM);

/** Far return; `release` is RET's imm16 (0 for RETF without an operand). */
export function farReturn(cpu: Cpu, os32: boolean, release: number): void {
  const size = os32 ? 4 : 2;
  // IF top 2 slots of stack not within stack limits THEN #SS(0)
  checkPops(cpu, 2, size);
  const eip = peekSlot(cpu, 0, size);
  const selector = cpu.peekStack(size, 2);
  if (!cpu.protectedMode) {
    checkEipInLimit(eip, realModeCsLimit(cpu), R_REAL_EIP_LIMIT);
    branchFarReal(cpu, selector, eip, 'far-ret');
    adjustSp(cpu, 2 * size + release);
    return;
  }
  returnProtected(cpu, 'far-ret', FAR_RET_RULES, selector, eip, size, 2 * size + release, release);
}
