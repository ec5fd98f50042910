// The protected-mode half that far RET and IRET share once their frame is read (SDM 2 RET — Operation "PROTECTED
// MODE" and IRET — Operation "PROTECTED-MODE-RETURN"; SDM 3A §5.8.6): the return CS checks of code-segment.ts, then
// RETURN-TO-SAME-PRIVILEGE-LEVEL here, or RETURN-TO-OUTER-PRIVILEGE-LEVEL (RPL > CPL) in outer-return.ts.
//
// Each instruction keeps its own rule ids (`rules`); the frame sizes and the flags are the caller's:
//   far RET   frameBytes = 2 slots + imm16, release = imm16, no EFLAGS
//   IRET      frameBytes = 3 slots, release = 0, EFLAGS as protectedEflags computed them under the old CPL

import type { Cpu } from '../cpu';
import { branchFar, checkEipInLimit, checkReturnCodeSegment, fetchFarTarget } from './code-segment';
import { Descriptor } from './descriptor';
import { selectorRpl } from './descriptor-table';
import { returnToOuterLevel } from './outer-return';
import { adjustSp } from './stack-frame';
import type { ReturnCodeRules } from './transfer-rules';

const scratch = new Descriptor();

/**
 * Returns through `selector`:`eip` in protected mode. `frameBytes` is how far SP moves on a same-level return and
 * where the outer SS:ESP slots start on an outer-level one; `release` is RET's imm16 (released on the outer stack
 * too). `eflags`, when given, is loaded after the last check: before the outer-level loads (so they run under the
 * new flags with the old CPL's checks done), after CS:EIP and SP on a same-level return.
 */
export function returnProtected(
  cpu: Cpu,
  cause: 'far-ret' | 'iret',
  rules: ReturnCodeRules,
  selector: number,
  eip: number,
  size: number,
  frameBytes: number,
  release: number,
  eflags?: number,
): void {
  const d = fetchFarTarget(cpu, selector, rules, scratch);
  checkReturnCodeSegment(cpu, selector, d, rules);
  if (selectorRpl(selector) > cpu.cpl) {
    returnToOuterLevel(cpu, cause, selector, d, eip, size, frameBytes, release, eflags);
    return;
  }
  // RETURN-TO-SAME-PRIVILEGE-LEVEL
  checkEipInLimit(eip, d.limit, rules.eipLimit);
  branchFar(cpu, selector, d, eip, cpu.cpl, cause);
  adjustSp(cpu, frameBytes);
  if (eflags !== undefined) cpu.setEflags(eflags);
}
