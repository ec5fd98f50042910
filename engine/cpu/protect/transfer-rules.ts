// Rule sets of the far transfers (SDM 2 JMP, CALL, RET, IRET — Operation). Far JMP and far CALL check a target code
// segment the same way, as do far RET and IRET a return code segment; each instruction keeps its own rule ids
// (`far-jmp.nonconforming.dpl`, `iret.not-present`, …) so a fault names the instruction and the check.
//
// This module depends only on faults.ts, so the mechanisms can build their rule sets while the CPU modules load.

import { rule, type FaultRule } from '../faults';

/** The rules a direct far JMP or CALL to a code segment checks, in the SDM's order. */
export interface DirectCodeRules {
  /** The target selector is NULL → #GP(0). */
  readonly null: FaultRule;
  /** The selector lies beyond its descriptor table → #GP(selector). */
  readonly tableLimit: FaultRule;
  /** Not a code segment, call gate, task gate or TSS → #GP(selector). */
  readonly type: FaultRule;
  /** Conforming: DPL > CPL → #GP(selector). */
  readonly conformingDpl: FaultRule;
  /** Non-conforming: RPL > CPL → #GP(selector). */
  readonly rpl: FaultRule;
  /** Non-conforming: DPL ≠ CPL → #GP(selector). */
  readonly dpl: FaultRule;
  /** Not present → #NP(selector). */
  readonly notPresent: FaultRule;
  /** The new EIP lies beyond the new CS limit → #GP(0). */
  readonly eipLimit: FaultRule;
}

/** The rules a far RET or IRET checks on the return CS (SDM 2 RET / IRET, "PROTECTED-MODE-RETURN"). */
export interface ReturnCodeRules {
  readonly null: FaultRule;
  readonly tableLimit: FaultRule;
  readonly type: FaultRule;
  /** Return selector RPL < CPL → #GP(selector). */
  readonly rplLtCpl: FaultRule;
  /** Conforming and DPL > RPL → #GP(selector). */
  readonly conformingDpl: FaultRule;
  /** Non-conforming and DPL ≠ RPL → #GP(selector). */
  readonly dpl: FaultRule;
  readonly notPresent: FaultRule;
  readonly eipLimit: FaultRule;
}

/** The direct-transfer rule set of far JMP (`far-jmp.*`) or far CALL (`far-call.*`), in the SDM's words. */
export function directCodeRules(prefix: 'far-jmp' | 'far-call', sdm: string): DirectCodeRules {
  return {
    null: rule(`${prefix}.null`, 'the segment selector in the target operand is NULL', sdm),
    tableLimit: rule(`${prefix}.table-limit`, 'the segment selector index is not within the descriptor table limits', sdm),
    type: rule(`${prefix}.type`, 'the segment type is not a conforming or nonconforming code segment, call gate, task gate, or TSS', sdm),
    conformingDpl: rule(`${prefix}.conforming.dpl`, 'conforming code segment: DPL > CPL', sdm),
    rpl: rule(`${prefix}.nonconforming.rpl`, 'nonconforming code segment: RPL > CPL', sdm),
    dpl: rule(`${prefix}.nonconforming.dpl`, 'nonconforming code segment: DPL ≠ CPL', sdm),
    notPresent: rule(`${prefix}.not-present`, 'the code segment is not present (#NP)', sdm),
    eipLimit: rule(`${prefix}.eip-limit`, 'tempEIP is not within the code segment limit', sdm),
  };
}

/** The return-CS rule set of far RET (`far-ret.*`) or IRET (`iret.*`), in the SDM's words. */
export function returnCodeRules(prefix: 'far-ret' | 'iret', sdm: string): ReturnCodeRules {
  return {
    null: rule(`${prefix}.null`, 'the return code segment selector is NULL', sdm),
    tableLimit: rule(`${prefix}.table-limit`, 'the return code segment selector addresses a descriptor beyond the descriptor table limit', sdm),
    type: rule(`${prefix}.type`, 'the return code segment descriptor is not a code segment', sdm),
    rplLtCpl: rule(`${prefix}.rpl-lt-cpl`, 'the return code segment selector RPL < CPL', sdm),
    conformingDpl: rule(`${prefix}.conforming.dpl`, 'the return code segment is conforming and its DPL > the return selector RPL', sdm),
    dpl: rule(`${prefix}.nonconforming.dpl`, 'the return code segment is non-conforming and its DPL ≠ the return selector RPL', sdm),
    notPresent: rule(`${prefix}.not-present`, 'the return code segment is not present (#NP)', sdm),
    eipLimit: rule(`${prefix}.eip-limit`, 'the return instruction pointer is not within the return code segment limit', sdm),
  };
}
