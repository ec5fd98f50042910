// Steps that far JMP, far CALL, far RET, IRET and interrupt delivery share when they load CS (SDM 2 JMP, CALL,
// RET, IRET, INT n — Operation; SDM 3A §5.8): the real/V86 load, the protected-mode code-segment checks of a
// direct transfer, and the final commit ("branch far").
//
// Each mechanism keeps its own rule ids (a rule names one check of one instruction), so the checks take a rule
// set (transfer-rules.ts) from the caller.

import type { Cpu } from '../cpu';
import { CR0_PE, CS } from '../cpu';
import type { SegmentLoadCause } from '../../events';
import { fault, selectorError, VEC_GP, VEC_NP, type FaultRule } from '../faults';
import type { DirectCodeRules, ReturnCodeRules } from './transfer-rules';
import { VM } from '../flags';
import { accessRightsOf, Descriptor, describeType } from './descriptor';
import { fetchDescriptor, hex4, isNullSelector, markAccessed, selectorRpl } from './descriptor-table';
import { AR_V86 } from './segment-load';

/** Reads the target descriptor of a far JMP/CALL: NULL → #GP(0), beyond the table → #GP(selector). */
export function fetchFarTarget(cpu: Cpu, selector: number, r: DirectCodeRules | ReturnCodeRules, out: Descriptor): Descriptor {
  // IF segment selector in target operand NULL THEN #GP(0)
  if (isNullSelector(selector)) fault(VEC_GP, 0, r.null, `selector 0x${hex4(selector)}`);
  // IF segment selector index not within descriptor table limits THEN #GP(new selector)
  return fetchDescriptor(cpu, selector, VEC_GP, r.tableLimit, out);
}

/**
 * The code-segment checks of a direct far JMP or CALL (CONFORMING-CODE-SEGMENT / NONCONFORMING-CODE-SEGMENT).
 * The caller has already dispatched gates and TSSs; `d` must be a code segment.
 */
export function checkCodeSegment(cpu: Cpu, selector: number, d: Descriptor, r: DirectCodeRules): void {
  const cpl = cpu.cpl;
  const err = selectorError(selector);
  if (!d.isCode) fault(VEC_GP, err, r.type, `selector 0x${hex4(selector)} names a ${describeType(d)}`);
  if (d.conforming) {
    // IF DPL > CPL THEN #GP(segment selector)
    if (d.dpl > cpl) fault(VEC_GP, err, r.conformingDpl, `conforming code DPL ${d.dpl} > CPL ${cpl}`);
  } else {
    const rpl = selectorRpl(selector);
    // IF RPL > CPL OR DPL ≠ CPL THEN #GP(code segment selector)
    if (rpl > cpl) fault(VEC_GP, err, r.rpl, `RPL ${rpl} > CPL ${cpl}`);
    if (d.dpl !== cpl) fault(VEC_GP, err, r.dpl, `non-conforming code DPL ${d.dpl} ≠ CPL ${cpl}`);
  }
  // IF segment not present THEN #NP(segment selector)
  if (!d.p) fault(VEC_NP, err, r.notPresent, `selector 0x${hex4(selector)} is not present`);
}

/** The return-CS checks of far RET and IRET, up to (not including) the same/outer privilege decision. */
export function checkReturnCodeSegment(cpu: Cpu, selector: number, d: Descriptor, r: ReturnCodeRules): void {
  const cpl = cpu.cpl;
  const rpl = selectorRpl(selector);
  const err = selectorError(selector);
  // IF return code segment descriptor is not a code segment THEN #GP(selector)
  if (!d.isCode) fault(VEC_GP, err, r.type, `return selector 0x${hex4(selector)} names a ${describeType(d)}`);
  // IF return code segment selector RPL < CPL THEN #GP(selector)
  if (rpl < cpl) fault(VEC_GP, err, r.rplLtCpl, `return RPL ${rpl} < CPL ${cpl}`);
  // IF conforming and DPL > RPL THEN #GP(selector)
  if (d.conforming && d.dpl > rpl) fault(VEC_GP, err, r.conformingDpl, `conforming code DPL ${d.dpl} > RPL ${rpl}`);
  // IF non-conforming and DPL ≠ RPL THEN #GP(selector)
  if (!d.conforming && d.dpl !== rpl) fault(VEC_GP, err, r.dpl, `non-conforming code DPL ${d.dpl} ≠ RPL ${rpl}`);
  // IF return code segment descriptor is not present THEN #NP(selector)
  if (!d.p) fault(VEC_NP, err, r.notPresent, `return selector 0x${hex4(selector)} is not present`);
}

/** IF tempEIP not within the new code segment's limit THEN #GP(0). */
export function checkEipInLimit(eip: number, limit: number, r: FaultRule): void {
  if (eip > limit) fault(VEC_GP, 0, r, `EIP 0x${(eip >>> 0).toString(16)} beyond CS limit 0x${(limit >>> 0).toString(16)}`);
}

/**
 * Commits a protected-mode far transfer: sets the accessed bit, loads CS with RPL = `cpl` and the descriptor's
 * cache, sets CPL and EIP. Call only after every check (and every stack write) has succeeded.
 */
export function branchFar(cpu: Cpu, selector: number, d: Descriptor, eip: number, cpl: number, cause: SegmentLoadCause): void {
  markAccessed(cpu, selector, d);
  noteCodeBase(cpu, d.base);
  cpu.loadSegmentCache(CS, (selector & 0xfffc) | cpl, d.base, d.limit, accessRightsOf(d), true, cause);
  if (cpu.cpl !== cpl) {
    cpu.cpl = cpl;
    // CPL changes the privilege of data accesses and the page checks.
    cpu.modeChanged();
  }
  cpu.eip = eip >>> 0;
}

/**
 * A far transfer whose target offset happens to equal the fall-through offset must not follow the run loop's link
 * to the next sequential instruction when CS's base changes: mark the code view as changed.
 */
function noteCodeBase(cpu: Cpu, base: number): void {
  if ((cpu.segBase[CS] | 0) !== (base | 0)) cpu.mappingsChanged();
}

/** Real mode or V86: the new CS limit a far transfer's EIP is checked against. */
export function realModeCsLimit(cpu: Cpu): number {
  return (cpu.flags & VM) !== 0 ? 0xffff : cpu.segLimit[CS];
}

/**
 * Real-address and V86 far transfer: CS = selector, base = selector × 16 (real mode keeps CS's limit and
 * attributes, model.md §1; V86 loads the fixed V86 attributes), EIP = `eip`. The caller checked the limit.
 */
export function branchFarReal(cpu: Cpu, selector: number, eip: number, cause: SegmentLoadCause): void {
  selector &= 0xffff;
  noteCodeBase(cpu, selector << 4);
  if ((cpu.cr0 & CR0_PE) !== 0 && (cpu.flags & VM) !== 0) {
    cpu.loadSegmentCache(CS, selector, selector << 4, 0xffff, AR_V86, true, cause);
  } else {
    cpu.loadSegmentCache(CS, selector, selector << 4, cpu.segLimit[CS], cpu.segAr[CS], true, cause);
  }
  cpu.eip = eip >>> 0;
}
