// Return to an outer (less privileged) level: the second half of far RET and IRET when the return CS selector's
// RPL > CPL (SDM 2 RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL", IRET "RETURN-TO-OUTER-PRIVILEGE-LEVEL"; SDM 3A §5.8.6).
//
// Stack on entry (slots of the operand size):
//     [outer SS]
//     [outer ESP]
//     [RET: imm16 bytes of parameters]   [IRET: EFLAGS]
//     [return CS]
//     [return EIP]   ← SP
//
// Checks, in the SDM's order: the outer SS:ESP slots within SS (#SS(0)); SS NULL → #GP(0); SS beyond the table →
// #GP(SS sel); SS RPL ≠ return CS RPL → #GP(SS sel); SS not writable data → #GP(SS sel); SS DPL ≠ return CS RPL →
// #GP(SS sel); SS not present → #SS(SS sel); tempEIP beyond the CS limit → #GP(0). Then CS, CPL, SS and ESP are
// loaded, and ES, DS, FS, GS are made NULL when they hold data or non-conforming code more privileged than the new
// CPL (cache DPL < CPL), so the outer level cannot use them.

import type { Cpu } from '../cpu';
import { AR_DPL, AR_DPL_SHIFT, AR_S, CS, ES, ESP, GS, SS } from '../cpu';
import type { SegmentLoadCause } from '../../events';
import { fault, rule, selectorError, VEC_GP, VEC_SS, type FaultRule } from '../faults';
import { Descriptor, describeType, SEG_CODE, SEG_CONFORMING } from './descriptor';
import { fetchDescriptor, hex4, isNullSelector, selectorRpl } from './descriptor-table';
import { branchFar, checkEipInLimit } from './code-segment';
import { commitSegment } from './segment-load';
import { checkPops, peekSlot } from './stack-frame';

interface OuterStackRules {
  readonly ssNull: FaultRule;
  readonly ssTableLimit: FaultRule;
  readonly ssRpl: FaultRule;
  readonly ssType: FaultRule;
  readonly ssDpl: FaultRule;
  readonly ssNotPresent: FaultRule;
  readonly eipLimit: FaultRule;
}

function outerRules(prefix: 'far-ret' | 'iret', sdm: string): OuterStackRules {
  return {
    ssNull: rule(`${prefix}.outer.ss-null`, 'the return stack segment selector is NULL', sdm),
    ssTableLimit: rule(`${prefix}.outer.ss-table-limit`, 'the return stack segment selector index is not within its descriptor table limits', sdm),
    ssRpl: rule(`${prefix}.outer.ss-rpl`, 'the stack segment selector RPL ≠ the RPL of the return code segment selector', sdm),
    ssType: rule(`${prefix}.outer.ss-type`, 'the return stack segment is not a writable data segment', sdm),
    ssDpl: rule(`${prefix}.outer.ss-dpl`, 'the stack segment descriptor DPL ≠ the RPL of the return code segment selector', sdm),
    ssNotPresent: rule(`${prefix}.outer.ss-not-present`, 'the return stack segment is not present (#SS)', sdm),
    eipLimit: rule(`${prefix}.outer.eip-limit`, 'the return instruction pointer is not within the return code segment limit', sdm),
  };
}

const RULES: Record<'far-ret' | 'iret', OuterStackRules> = {
  'far-ret': outerRules('far-ret', 'SDM 2 RET — RETURN-TO-OUTER-PRIVILEGE-LEVEL'),
  iret: outerRules('iret', 'SDM 2 IRET — RETURN-TO-OUTER-PRIVILEGE-LEVEL'),
};

const ssScratch = new Descriptor();

/**
 * Checks the outer stack and the return EIP, then loads CS:EIP, CPL, SS:ESP and clears data segment registers the
 * new level may not use. `ssSlot` is the byte offset from SP of the outer ESP slot (RET: above the return address
 * and the released parameters; IRET: above EFLAGS); `release` is RET's imm16, released on the outer stack too.
 * `eflags`, when given, is loaded after the last check and before CPL changes (IRET's flags, computed under the old
 * CPL).
 */
export function returnToOuterLevel(
  cpu: Cpu,
  cause: 'far-ret' | 'iret',
  csSelector: number,
  cs: Descriptor,
  eip: number,
  size: number,
  ssSlot: number,
  release: number,
  eflags?: number,
): void {
  const r = RULES[cause];
  // IF the outer SS:ESP slots are not within stack limits THEN #SS(0)
  checkPops(cpu, 2, size, ssSlot);
  const newEsp = peekSlot(cpu, ssSlot, size);
  const ssSelector = cpu.peekStack(ssSlot + size, 2);
  const rpl = selectorRpl(csSelector);
  const err = selectorError(ssSelector);
  // IF stack segment selector is NULL THEN #GP(0)
  if (isNullSelector(ssSelector)) fault(VEC_GP, 0, r.ssNull, `return SS 0x${hex4(ssSelector)}`);
  // IF return stack segment selector index is not within its descriptor table limits THEN #GP(selector)
  const ss = fetchDescriptor(cpu, ssSelector, VEC_GP, r.ssTableLimit, ssScratch);
  // IF stack segment selector RPL ≠ RPL of the return code segment selector THEN #GP(selector)
  if (selectorRpl(ssSelector) !== rpl) fault(VEC_GP, err, r.ssRpl, `SS RPL ${selectorRpl(ssSelector)} ≠ CS RPL ${rpl}`);
  // IF stack segment is not a writable data segment THEN #GP(selector)
  if (!ss.writable) fault(VEC_GP, err, r.ssType, `return SS 0x${hex4(ssSelector)} names a ${describeType(ss)}`);
  // IF stack segment descriptor DPL ≠ RPL of the return code segment selector THEN #GP(selector)
  if (ss.dpl !== rpl) fault(VEC_GP, err, r.ssDpl, `SS DPL ${ss.dpl} ≠ CS RPL ${rpl}`);
  // IF stack segment not present THEN #SS(StackSegmentSelector)
  if (!ss.p) fault(VEC_SS, err, r.ssNotPresent, `return SS 0x${hex4(ssSelector)} is not present`);
  // IF the return instruction pointer is not within the return code segment limit THEN #GP(0)
  checkEipInLimit(eip, cs.limit, r.eipLimit);

  if (eflags !== undefined) cpu.setEflags(eflags);
  branchFar(cpu, csSelector, cs, eip, rpl, cause);
  commitSegment(cpu, SS, ssSelector, ss, cause);
  // ESP ← tempESP (+ the parameters RET n releases on the outer stack as well); SP only for a 16-bit stack.
  const esp = (newEsp + release) >>> 0;
  if (ss.db) cpu.regs[ESP] = esp | 0;
  else cpu.regs16[ESP << 1] = esp & 0xffff;
  nullifyDataSegments(cpu, cause);
}

/**
 * After a return to an outer level: ES, DS, FS and GS that hold a data or non-conforming code segment whose DPL is
 * below the new CPL become NULL (SDM 2 RET/IRET: "FOR each of segment register (ES, FS, GS, and DS) …").
 */
export function nullifyDataSegments(cpu: Cpu, cause: SegmentLoadCause): void {
  const cpl = cpu.cpl;
  for (let seg = ES; seg <= GS; seg++) {
    if (seg === CS || seg === SS || !cpu.segValid[seg]) continue;
    const ar = cpu.segAr[seg];
    const conformingCode = (ar & AR_S) !== 0 && (ar & SEG_CODE) !== 0 && (ar & SEG_CONFORMING) !== 0;
    const dpl = (ar & AR_DPL) >> AR_DPL_SHIFT;
    if (!conformingCode && dpl < cpl) {
      cpu.loadSegmentCache(seg, 0, cpu.segBase[seg], cpu.segLimit[seg], ar, false, cause);
    }
  }
}
