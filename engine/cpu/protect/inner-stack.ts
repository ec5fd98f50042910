// The stack of a more privileged level, taken from the current TSS when a call gate or an interrupt raises the
// privilege (SDM 2 CALL "MORE-PRIVILEGE", INT n "INTER-PRIVILEGE-LEVEL-INTERRUPT" and "INTERRUPT-FROM-
// VIRTUAL-8086-MODE"; SDM 3A §5.8.5, §7.2.1 Figures 7-2 and 7-11).
//
// Ring stacks in the TSS:   32-bit TSS: ESPn at 4 + 8n (dword), SSn at 8 + 8n (word)
//                           16-bit TSS: SPn at 2 + 4n (word),  SSn at 4 + 4n (word)
// Checks, in the SDM's order (EXT is added by the interrupt path when it applies):
//   the ring's fields beyond the TSS limit      → #TS(TSS selector)
//   new SS NULL                                 → #TS(0)
//   new SS beyond its table                     → #TS(SS selector)
//   SS RPL ≠ DPL, SS DPL ≠ DPL, or SS not writable data → #TS(SS selector)
//   SS not present                              → #SS(SS selector)
//   no room on the new stack for the frame      → #SS(SS selector)   (checkNewStackRoom)

import type { Cpu } from '../cpu';
import { ESP, SS, TR } from '../cpu';
import type { SegmentLoadCause } from '../../events';
import { fault, rule, selectorError, VEC_SS, VEC_TS } from '../faults';
import { Descriptor, describeType } from './descriptor';
import { fetchDescriptor, hex4, isNullSelector, selectorRpl } from './descriptor-table';
import { ACCESS_SYSTEM, ACCESS_WRITE } from './paging';
import { commitSegment } from './segment-load';

const SDM = 'SDM 2 CALL (MORE-PRIVILEGE) / INT n (INTER-PRIVILEGE-LEVEL-INTERRUPT); SDM 3A §5.8.5';

export const R_TSS_STACK_LIMIT = rule('inner-stack.tss-limit', "the new level's stack pointer lies beyond the current TSS limit", SDM);
export const R_SS_NULL = rule('inner-stack.ss-null', 'the stack segment selector in the TSS is NULL', SDM);
export const R_SS_TABLE_LIMIT = rule('inner-stack.ss-table-limit', 'the stack segment selector index is not within its descriptor table limits', SDM);
export const R_SS_RPL = rule('inner-stack.ss-rpl', "the stack segment selector's RPL ≠ the DPL of the code segment", SDM);
export const R_SS_DPL = rule('inner-stack.ss-dpl', 'the stack segment DPL ≠ the DPL of the code segment', SDM);
export const R_SS_TYPE = rule('inner-stack.ss-type', 'the stack segment is not a writable data segment', SDM);
export const R_SS_NOT_PRESENT = rule('inner-stack.ss-not-present', 'the stack segment is not present (#SS)', SDM);
export const R_SS_ROOM = rule('inner-stack.room', 'the new stack does not have room for the frame', SDM);

export interface InnerStack {
  selector: number;
  esp: number;
  ss: Descriptor;
}

const scratch = new Descriptor();

/** Whether TR holds a 32-bit TSS (type 9/B) rather than a 16-bit one (1/3). */
export function tss32(cpu: Cpu): boolean {
  return (cpu.segAr[TR] & 0x8) !== 0;
}

/** Reads and checks the SS:ESP of privilege level `dpl` from the current TSS. */
export function fetchInnerStack(cpu: Cpu, dpl: number): InnerStack {
  const wide = tss32(cpu);
  const offset = wide ? (dpl << 3) + 4 : (dpl << 2) + 2;
  const last = wide ? offset + 5 : offset + 3;
  const trError = selectorError(cpu.segSel[TR]);
  // IF (TSSstackAddress + 5 (or + 3)) > current TSS limit THEN #TS(current TSS selector)
  if (last > cpu.segLimit[TR]) fault(VEC_TS, trError, R_TSS_STACK_LIMIT, `ring ${dpl} stack at TSS offset 0x${offset.toString(16)}, limit 0x${cpu.segLimit[TR].toString(16)}`);
  const base = cpu.segBase[TR];
  const selector = cpu.readLinear16(base + offset + (wide ? 4 : 2));
  const esp = wide ? cpu.readLinear32(base + offset) >>> 0 : cpu.readLinear16(base + offset);
  const err = selectorError(selector);
  // IF NewSS is NULL THEN #TS(0)
  if (isNullSelector(selector)) fault(VEC_TS, 0, R_SS_NULL, `ring ${dpl} SS 0x${hex4(selector)}`);
  // IF NewSS index not within its descriptor table limits THEN #TS(SS selector)
  const ss = fetchDescriptor(cpu, selector, VEC_TS, R_SS_TABLE_LIMIT, scratch);
  // IF NewSS RPL ≠ DPL of code segment THEN #TS(SS selector)
  if (selectorRpl(selector) !== dpl) fault(VEC_TS, err, R_SS_RPL, `SS RPL ${selectorRpl(selector)} ≠ ${dpl}`);
  // IF stack segment DPL ≠ DPL of code segment THEN #TS(SS selector)
  if (ss.dpl !== dpl) fault(VEC_TS, err, R_SS_DPL, `SS DPL ${ss.dpl} ≠ ${dpl}`);
  // IF stack segment is not a writable data segment THEN #TS(SS selector)
  if (!ss.writable) fault(VEC_TS, err, R_SS_TYPE, `SS 0x${hex4(selector)} names a ${describeType(ss)}`);
  // IF stack segment not present THEN #SS(SS selector)
  if (!ss.p) fault(VEC_SS, err, R_SS_NOT_PRESENT, `SS 0x${hex4(selector)} is not present`);
  return { selector, esp, ss };
}

/**
 * Checks that `bytes` can be pushed below `esp` on a stack segment that is not loaded yet (limit, expand-down,
 * B flag, and the pages as supervisor writes) → #SS(SS selector).
 */
export function checkNewStackRoom(cpu: Cpu, stack: InnerStack, bytes: number): void {
  const ss = stack.ss;
  const wide = ss.db;
  const top = wide ? 0xffffffff : 0xffff;
  const err = selectorError(stack.selector);
  for (let k = 1; k <= bytes; k++) {
    const off = wide ? (stack.esp - k) >>> 0 : (stack.esp - k) & 0xffff;
    const ok = ss.expandDown ? off > ss.limit && off <= top : off <= ss.limit;
    if (!ok) fault(VEC_SS, err, R_SS_ROOM, `${bytes} bytes below ESP 0x${stack.esp.toString(16)}, SS limit 0x${ss.limit.toString(16)}`);
  }
  if (cpu.pagingOn) {
    const lo = wide ? (stack.esp - bytes) >>> 0 : (stack.esp - bytes) & 0xffff;
    for (let k = 0; k < bytes; k += 4096) cpu.translate((ss.base + ((lo + k) & top)) | 0, ACCESS_WRITE | ACCESS_SYSTEM);
    cpu.translate((ss.base + ((stack.esp - 1) & top)) | 0, ACCESS_WRITE | ACCESS_SYSTEM);
  }
}

/**
 * Commits the switch: CPL ← `cpl` (so the pushes that follow are supervisor accesses), SS ← the new stack segment
 * (accessed bit set), ESP ← the new stack pointer (SP only for a 16-bit stack segment).
 */
export function switchToInnerStack(cpu: Cpu, stack: InnerStack, cpl: number, cause: SegmentLoadCause): void {
  cpu.cpl = cpl;
  commitSegment(cpu, SS, stack.selector, stack.ss, cause);
  if (stack.ss.db) cpu.regs[ESP] = stack.esp | 0;
  else cpu.regs16[ESP << 1] = stack.esp & 0xffff;
}
