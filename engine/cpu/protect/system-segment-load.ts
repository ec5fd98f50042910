// Loading LDTR (LLDT) and TR (LTR) from the GDT (SDM 2 LLDT, LTR — Operation; SDM 3A §7.2.4).
//
//   LLDT  NULL → LDTR becomes unusable (later TI = 1 selectors fail their table-limit check); TI = 1 → #GP(sel);
//         beyond the GDT → #GP(sel); not an LDT descriptor → #GP(sel); not present → #NP(sel)
//   LTR   NULL → #GP(0); TI = 1 → #GP(sel); beyond the GDT → #GP(sel); not an available TSS → #GP(sel);
//         not present → #NP(sel); then the descriptor is marked busy in memory and TR loaded
//
// The caller (ops/system.ts) has already checked the mode (#UD in real and V86 mode) and CPL 0.

import type { Cpu } from '../cpu';
import { LDTR, TR } from '../cpu';
import { fault, rule, selectorError, VEC_GP, VEC_NP } from '../faults';
import { accessRightsOf, Descriptor, describeType, TSS_BUSY_BIT } from './descriptor';
import { fetchDescriptor, hex4, isNullSelector, SELECTOR_TI, writeDescriptorType } from './descriptor-table';

const SDM_LLDT = 'SDM 2 LLDT — Operation';
const SDM_LTR = 'SDM 2 LTR — Operation';

export const R_LLDT_TI = rule('lldt.ti', 'the selector operand does not point into the Global Descriptor Table', SDM_LLDT);
export const R_LLDT_TABLE_LIMIT = rule('lldt.table-limit', 'the selector offset is beyond the descriptor table limit', SDM_LLDT);
export const R_LLDT_TYPE = rule('lldt.type', 'the entry in the GDT is not a Local Descriptor Table (LDT) segment descriptor', SDM_LLDT);
export const R_LLDT_NOT_PRESENT = rule('lldt.not-present', 'the LDT descriptor is not present (#NP)', SDM_LLDT);
export const R_LTR_NULL = rule('ltr.null', 'the source operand contains a NULL segment selector', SDM_LTR);
export const R_LTR_TI = rule('ltr.ti', 'the source selector points into the LDT', SDM_LTR);
export const R_LTR_TABLE_LIMIT = rule('ltr.table-limit', 'the selector offset is beyond the descriptor table limit', SDM_LTR);
export const R_LTR_TYPE = rule('ltr.type', 'the segment descriptor is not for an available TSS', SDM_LTR);
export const R_LTR_NOT_PRESENT = rule('ltr.not-present', 'the TSS is marked not present (#NP)', SDM_LTR);

const scratch = new Descriptor();

export function loadLdtr(cpu: Cpu, selector: number): void {
  selector &= 0xffff;
  if (isNullSelector(selector)) {
    // LDTR ← INVALID: references through TI = 1 selectors now fail (SDM 3A §3.5.1).
    cpu.loadSegmentCache(LDTR, selector, 0, 0, 0, false, 'lldt');
    return;
  }
  const err = selectorError(selector);
  if ((selector & SELECTOR_TI) !== 0) fault(VEC_GP, err, R_LLDT_TI, `selector 0x${hex4(selector)}`);
  const d = fetchDescriptor(cpu, selector, VEC_GP, R_LLDT_TABLE_LIMIT, scratch);
  if (d.kind !== 'ldt') fault(VEC_GP, err, R_LLDT_TYPE, `selector 0x${hex4(selector)} names a ${describeType(d)}`);
  if (!d.p) fault(VEC_NP, err, R_LLDT_NOT_PRESENT, `selector 0x${hex4(selector)} is not present`);
  cpu.loadSegmentCache(LDTR, selector, d.base, d.limit, accessRightsOf(d), true, 'lldt');
}

export function loadTr(cpu: Cpu, selector: number): void {
  selector &= 0xffff;
  if (isNullSelector(selector)) fault(VEC_GP, 0, R_LTR_NULL, `selector 0x${hex4(selector)}`);
  const err = selectorError(selector);
  if ((selector & SELECTOR_TI) !== 0) fault(VEC_GP, err, R_LTR_TI, `selector 0x${hex4(selector)}`);
  const d = fetchDescriptor(cpu, selector, VEC_GP, R_LTR_TABLE_LIMIT, scratch);
  if (d.kind !== 'tss' || d.busy) fault(VEC_GP, err, R_LTR_TYPE, `selector 0x${hex4(selector)} names a ${describeType(d)}`);
  if (!d.p) fault(VEC_NP, err, R_LTR_NOT_PRESENT, `selector 0x${hex4(selector)} is not present`);
  // TSSsegmentDescriptor(busy) ← 1, then TR ← selector and descriptor.
  writeDescriptorType(cpu, selector, d, d.type | TSS_BUSY_BIT);
  cpu.loadSegmentCache(TR, selector, d.base, d.limit, accessRightsOf(d), true, 'ltr');
}
