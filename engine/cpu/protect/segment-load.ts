// Loading a data or stack segment register: MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS (SDM 2 "MOV", "POP", "LDS";
// SDM 3A §3.4.3, §5.5–5.7). Far transfers load CS through code-segment.ts.
//
// Real mode:   base = selector × 16; limit and attributes stay as they are (so a limit left from protected mode
//              keeps working: "unreal mode", model.md §1). The cache becomes usable.
// V86 mode:    base = selector × 16, limit 0xFFFF, present read/write data at DPL 3 (SDM 3A §20.1.1).
// Protected:   the SDM's checks in the SDM's order, each its own rule, then the accessed bit is set in memory and
//              the cache loaded:
//   SS      null → #GP(0); beyond the table → #GP(sel); not writable data → #GP(sel); RPL ≠ CPL → #GP(sel);
//           DPL ≠ CPL → #GP(sel); not present → #SS(sel)
//   DS–GS   null → load an unusable cache (base, limit and attributes stay; any access then raises #GP(0));
//           beyond the table → #GP(sel); not data or readable code → #GP(sel); data or non-conforming code with
//           RPL > DPL or CPL > DPL → #GP(sel); not present → #NP(sel)

import type { Cpu } from '../cpu';
import { CR0_PE, SS, SEGMENT_NAMES } from '../cpu';
import type { SegmentLoadCause } from '../../events';
import { fault, rule, selectorError, VEC_GP, VEC_NP, VEC_SS } from '../faults';
import { VM } from '../flags';
import { accessRightsOf, Descriptor, describeType } from './descriptor';
import { fetchDescriptor, hex4, isNullSelector, markAccessed, selectorRpl } from './descriptor-table';

const SDM_MOV = 'SDM 2 MOV — Operation (segment register load); SDM 3A §5.5–5.7';

export const R_SS_NULL = rule('segment-load.ss.null', 'SS is loaded with a NULL segment selector', SDM_MOV);
export const R_SS_TABLE_LIMIT = rule('segment-load.ss.table-limit', 'the segment selector index is outside the descriptor table limits', SDM_MOV);
export const R_SS_TYPE = rule('segment-load.ss.type', 'the segment is not a writable data segment', SDM_MOV);
export const R_SS_RPL = rule('segment-load.ss.rpl', "the segment selector's RPL ≠ CPL", SDM_MOV);
export const R_SS_DPL = rule('segment-load.ss.dpl', 'the segment DPL ≠ CPL', SDM_MOV);
export const R_SS_NOT_PRESENT = rule('segment-load.ss.not-present', 'the segment is not marked present (#SS)', SDM_MOV);
export const R_DATA_TABLE_LIMIT = rule('segment-load.data.table-limit', 'the segment selector index is outside the descriptor table limits', SDM_MOV);
export const R_DATA_TYPE = rule('segment-load.data.type', 'the segment is not a data or readable code segment', SDM_MOV);
export const R_DATA_DPL = rule(
  'segment-load.data.dpl',
  'the segment is a data or nonconforming code segment and both RPL and CPL are not ≤ DPL',
  SDM_MOV,
);
export const R_DATA_NOT_PRESENT = rule('segment-load.data.not-present', 'the segment is not marked present (#NP)', SDM_MOV);

/** Access rights of every V86-mode segment: present, DPL 3, read/write data, accessed (SDM 3A §20.1.1). */
export const AR_V86 = 0xf3;

const scratch = new Descriptor();

/** Loads segment register `seg` (ES, SS, DS, FS, GS) with `selector` as the current mode requires. */
export function loadSegment(cpu: Cpu, seg: number, selector: number, cause: SegmentLoadCause): void {
  selector &= 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0) {
    loadSegmentReal(cpu, seg, selector, cause);
  } else if ((cpu.flags & VM) !== 0) {
    loadSegmentV86(cpu, seg, selector, cause);
  } else if (seg === SS) {
    loadStackSegmentProtected(cpu, selector, cause);
  } else {
    loadDataSegmentProtected(cpu, seg, selector, cause);
  }
}

/** Real mode: base = selector × 16, limit and attributes kept (model.md §1). */
export function loadSegmentReal(cpu: Cpu, seg: number, selector: number, cause: SegmentLoadCause): void {
  cpu.loadSegmentCache(seg, selector, selector << 4, cpu.segLimit[seg], cpu.segAr[seg], true, cause);
}

/** V86 mode: base = selector × 16, limit 0xFFFF, DPL 3. */
export function loadSegmentV86(cpu: Cpu, seg: number, selector: number, cause: SegmentLoadCause): void {
  cpu.loadSegmentCache(seg, selector, selector << 4, 0xffff, AR_V86, true, cause);
}

function loadStackSegmentProtected(cpu: Cpu, selector: number, cause: SegmentLoadCause): void {
  const cpl = cpu.cpl;
  const rpl = selectorRpl(selector);
  const err = selectorError(selector);
  // IF segment selector is NULL THEN #GP(0)
  if (isNullSelector(selector)) fault(VEC_GP, 0, R_SS_NULL, `SS load: selector 0x${hex4(selector)}`);
  // IF segment selector index is outside descriptor table limits THEN #GP(selector)
  const d = fetchDescriptor(cpu, selector, VEC_GP, R_SS_TABLE_LIMIT, scratch);
  // IF segment is not a writable data segment THEN #GP(selector)
  if (!d.writable) fault(VEC_GP, err, R_SS_TYPE, `SS load: selector 0x${hex4(selector)} names a ${describeType(d)}`);
  // IF segment selector's RPL ≠ CPL THEN #GP(selector)
  if (rpl !== cpl) fault(VEC_GP, err, R_SS_RPL, `SS load: RPL ${rpl} ≠ CPL ${cpl}`);
  // IF DPL ≠ CPL THEN #GP(selector)
  if (d.dpl !== cpl) fault(VEC_GP, err, R_SS_DPL, `SS load: DPL ${d.dpl} ≠ CPL ${cpl}`);
  // IF segment not marked present THEN #SS(selector)
  if (!d.p) fault(VEC_SS, err, R_SS_NOT_PRESENT, `SS load: selector 0x${hex4(selector)} is not present`);
  commitSegment(cpu, SS, selector, d, cause);
}

function loadDataSegmentProtected(cpu: Cpu, seg: number, selector: number, cause: SegmentLoadCause): void {
  if (isNullSelector(selector)) {
    // A NULL selector loads without a fault; the register becomes unusable and its cache keeps its other fields.
    cpu.loadSegmentCache(seg, selector, cpu.segBase[seg], cpu.segLimit[seg], cpu.segAr[seg], false, cause);
    return;
  }
  const name = SEGMENT_NAMES[seg];
  const cpl = cpu.cpl;
  const rpl = selectorRpl(selector);
  const err = selectorError(selector);
  // IF segment selector index is outside descriptor table limits THEN #GP(selector)
  const d = fetchDescriptor(cpu, selector, VEC_GP, R_DATA_TABLE_LIMIT, scratch);
  // IF segment is not a data or readable code segment THEN #GP(selector)
  if (!d.readable) fault(VEC_GP, err, R_DATA_TYPE, `${name} load: selector 0x${hex4(selector)} names a ${describeType(d)}`);
  // IF (data or nonconforming code segment) AND (RPL > DPL or CPL > DPL) THEN #GP(selector)
  if (!d.conforming && (rpl > d.dpl || cpl > d.dpl)) {
    fault(VEC_GP, err, R_DATA_DPL, `${name} load: DPL ${d.dpl} < max(CPL ${cpl}, RPL ${rpl})`);
  }
  // IF segment not marked present THEN #NP(selector)
  if (!d.p) fault(VEC_NP, err, R_DATA_NOT_PRESENT, `${name} load: selector 0x${hex4(selector)} is not present`);
  commitSegment(cpu, seg, selector, d, cause);
}

/** Every check passed: set the accessed bit in memory, then load the cache from the descriptor. */
export function commitSegment(cpu: Cpu, seg: number, selector: number, d: Descriptor, cause: SegmentLoadCause): void {
  markAccessed(cpu, selector, d);
  cpu.loadSegmentCache(seg, selector, d.base, d.limit, accessRightsOf(d), true, cause);
}
