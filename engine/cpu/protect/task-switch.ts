// Task switching (SDM 3A §7.3, Table 7-1; SDM 2 JMP/CALL "TASK-GATE"/"TASK-STATE-SEGMENT", INT n "TASK-GATE",
// IRET "TASK-RETURN").
//
// One routine, four sources (SOURCE_*): what each does to busy bits, NT and the back link (SDM 3A Table 7-2):
//                         old TSS busy   new TSS busy   new EFLAGS.NT   new TSS link
//   JMP                   cleared        set            as in new TSS    unchanged
//   CALL, INT/exception   kept           set            set              ← old TR selector
//   IRET                  cleared        must be set    as in new TSS    unchanged        (old EFLAGS.NT saved 0)
//
// TSS layouts (offsets):       32-bit                          16-bit
//   back link                  00                               00
//   ESPn / SSn (n = 0..2)      04+8n / 08+8n                    02+4n / 04+4n
//   CR3                        1C                               —
//   EIP, EFLAGS                20, 24                           0E, 10
//   EAX ECX EDX EBX ESP EBP ESI EDI   28 … 44 (dwords)          12 … 20 (words)
//   ES CS SS DS FS GS          48 4C 50 54 58 5C                22 24 26 28 (no FS, GS)
//   LDT selector               60                               2A
//   minimum limit              67H                              2BH
//
// Order: every check on the new TSS, then probe every page the switch will touch (old TSS, new TSS, the
// descriptors whose busy bits change) so that nothing is half-done; then save the old state, update busy bits and
// the link, load TR and the new register state (CR0.TS set), and only then qualify the new task's LDT and segment
// registers — faults there happen in the new task's context (SDM 3A §7.3 step 11), so the instruction restart
// point becomes the new task's EIP.

import type { Cpu } from '../cpu';
import { CR0_PE, CR0_PG, CR0_TS, CS, DS, EAX, ES, FS, GS, LDTR, SS, TR } from '../cpu';
import { fault, rule, selectorError, VEC_GP, VEC_NP, VEC_SS, VEC_TS, type FaultRule } from '../faults';
import { NT, VM } from '../flags';
import { ACCESS_SYSTEM, ACCESS_WRITE } from './paging';
import { accessRightsOf, decodeDescriptor, Descriptor, describeType, TSS_BUSY_BIT } from './descriptor';
import { descriptorAddress, fetchDescriptor, hex4, isNullSelector, markAccessed, selectorRpl, SELECTOR_TI, writeDescriptorType } from './descriptor-table';
import { checkEipInLimit } from './code-segment';
import { loadSegmentV86 } from './segment-load';
import { stackOffset } from './stack-frame';
import { tableRegistersChanged } from './consistency-events';
import { flushTlb } from './tlb';
import { clearLocalBreakpoints, raiseTaskSwitchTrap } from '../debug-registers';

export const TASK_FROM_JMP = 0;
export const TASK_FROM_CALL = 1;
export const TASK_FROM_INT = 2;
export const TASK_FROM_IRET = 3;
export type TaskSource = number;

const SDM = 'SDM 3A §7.3, Table 7-1';
const SDM_GATE = 'SDM 2 JMP/CALL — TASK-GATE, TASK-STATE-SEGMENT; INT n — TASK-GATE; IRET — TASK-RETURN';

export const R_GATE_DPL = rule('task.gate.dpl', 'task gate DPL < CPL or task gate DPL < the RPL of the gate selector', SDM_GATE);
export const R_GATE_NOT_PRESENT = rule('task.gate.not-present', 'the task gate is not present (#NP)', SDM_GATE);
export const R_TSS_SELECTOR = rule('task.tss-selector', "the TSS segment selector's TI bit is set to local or its index is not within the GDT limits", SDM_GATE);
export const R_TSS_TYPE = rule('task.tss-type', 'the descriptor is not a TSS, or the TSS is busy (JMP, CALL, INT) / not busy (IRET)', SDM_GATE);
export const R_TSS_DPL = rule('task.tss-dpl', 'TSS DPL < CPL or TSS DPL < the RPL of the TSS selector', SDM_GATE);
export const R_TSS_NOT_PRESENT = rule('task.tss-not-present', 'the TSS is not present (#NP)', SDM_GATE);
export const R_TSS_LIMIT = rule('task.tss-limit', 'the TSS limit is less than 67H (32-bit TSS) or 2BH (16-bit TSS)', SDM);
export const R_IRET_LINK = rule('task.iret-link', 'the back link of the current TSS does not name a GDT entry', 'SDM 2 IRET — TASK-RETURN');
export const R_LDT = rule('task.ldt', "the new task's LDT selector is not valid (TI set, beyond the GDT, not an LDT, or not present)", SDM);
export const R_CS_NULL = rule('task.cs-null', "the new task's code segment selector is NULL", SDM);
export const R_CS_INVALID = rule('task.cs-invalid', "the new task's code segment selector is beyond its table or not a code segment", SDM);
export const R_CS_DPL = rule('task.cs-dpl', "the new task's code segment DPL does not match its selector's RPL (conforming: DPL > RPL)", SDM);
export const R_CS_NOT_PRESENT = rule('task.cs-not-present', "the new task's code segment is not present (#NP)", SDM);
export const R_SS_INVALID = rule('task.ss-invalid', "the new task's stack segment selector is NULL, beyond its table, or not a writable data segment", SDM);
export const R_SS_PRIVILEGE = rule('task.ss-privilege', "the new task's SS RPL or DPL ≠ the new CPL", SDM);
export const R_SS_NOT_PRESENT = rule('task.ss-not-present', "the new task's stack segment is not present (#SS)", SDM);
export const R_DATA_INVALID = rule('task.data-invalid', "a new task's data segment selector is beyond its table or not a data or readable code segment", SDM);
export const R_DATA_PRIVILEGE = rule('task.data-privilege', "a new task's data segment is data or non-conforming code with DPL < CPL or DPL < RPL", SDM);
export const R_DATA_NOT_PRESENT = rule('task.data-not-present', "a new task's data segment is not present (#NP)", SDM);
export const R_EIP_LIMIT = rule('task.eip-limit', "the new task's EIP is not within the code segment limit", SDM);
const R_ERROR_CODE_STACK = rule('task.error-code-stack', "the new task's stack has no room for the exception's error code", 'SDM 2 INT n — TASK-GATE');

const gateScratch = new Descriptor();
const tssScratch = new Descriptor();
const segScratch = new Descriptor();

/** JMP or CALL through a task gate in the GDT/LDT. */
export function taskGateTransfer(cpu: Cpu, gateSelector: number, gate: Descriptor, source: TaskSource): void {
  const err = selectorError(gateSelector);
  // IF task gate DPL < CPL or RPL THEN #GP(task gate selector)
  if (gate.dpl < cpu.cpl || gate.dpl < selectorRpl(gateSelector)) fault(VEC_GP, err, R_GATE_DPL, `gate DPL ${gate.dpl}, CPL ${cpu.cpl}`);
  // IF task gate not present THEN #NP(gate selector)
  if (!gate.p) fault(VEC_NP, err, R_GATE_NOT_PRESENT, `gate 0x${hex4(gateSelector)}`);
  const tss = fetchTssThroughGate(cpu, gate.selector);
  taskSwitch(cpu, gate.selector, tss, source, -1);
}

/** JMP or CALL straight to a TSS descriptor. */
export function tssTransfer(cpu: Cpu, selector: number, tss: Descriptor, source: TaskSource): void {
  const err = selectorError(selector);
  // IF TSS DPL < CPL or RPL, or the TSS is not available THEN #GP(TSS selector)
  if (tss.dpl < cpu.cpl || tss.dpl < selectorRpl(selector)) fault(VEC_GP, err, R_TSS_DPL, `TSS DPL ${tss.dpl}, CPL ${cpu.cpl}`);
  if (tss.busy) fault(VEC_GP, err, R_TSS_TYPE, `TSS 0x${hex4(selector)} is busy`);
  // IF TSS is not present THEN #NP(TSS selector)
  if (!tss.p) fault(VEC_NP, err, R_TSS_NOT_PRESENT, `TSS 0x${hex4(selector)}`);
  // The caller's `tss` is its own scratch object; keep a copy across the switch.
  taskSwitch(cpu, selector, decodeDescriptor(tss.lo, tss.hi), source, -1);
}

/** An interrupt or exception through a task gate in the IDT (the gate's own checks are done). */
export function interruptTaskSwitch(cpu: Cpu, gate: Descriptor, errorCode: number): void {
  const tss = fetchTssThroughGate(cpu, gate.selector);
  taskSwitch(cpu, gate.selector, tss, TASK_FROM_INT, errorCode);
}

/** IRET with EFLAGS.NT = 1: back to the task named by the current TSS's link field. */
export function iretTaskReturn(cpu: Cpu): void {
  const link = cpu.readLinear16(cpu.segBase[TR]);
  const err = selectorError(link);
  // IF link selector is local or not within the GDT limits THEN #TS(TSS selector)
  if ((link & SELECTOR_TI) !== 0 || isNullSelector(link)) fault(VEC_TS, err, R_IRET_LINK, `link 0x${hex4(link)}`);
  const d = fetchDescriptor(cpu, link, VEC_TS, R_IRET_LINK, tssScratch);
  // IF the descriptor is not a TSS or the TSS is not busy THEN #TS(TSS selector)
  if (d.kind !== 'tss' || !d.busy) fault(VEC_TS, err, R_TSS_TYPE, `link 0x${hex4(link)} names a ${describeType(d)}`);
  if (!d.p) fault(VEC_NP, err, R_TSS_NOT_PRESENT, `TSS 0x${hex4(link)}`);
  taskSwitch(cpu, link, decodeDescriptor(d.lo, d.hi), TASK_FROM_IRET, -1);
}

function fetchTssThroughGate(cpu: Cpu, selector: number): Descriptor {
  const err = selectorError(selector);
  // IF TSS selector is local or its index is not within the GDT limits THEN #GP(TSS selector)
  if ((selector & SELECTOR_TI) !== 0 || isNullSelector(selector)) fault(VEC_GP, err, R_TSS_SELECTOR, `TSS selector 0x${hex4(selector)}`);
  const d = fetchDescriptor(cpu, selector, VEC_GP, R_TSS_SELECTOR, gateScratch);
  // IF the descriptor is not an available TSS THEN #GP(TSS selector)
  if (d.kind !== 'tss' || d.busy) fault(VEC_GP, err, R_TSS_TYPE, `0x${hex4(selector)} names a ${describeType(d)}`);
  // IF TSS not present THEN #NP(TSS selector)
  if (!d.p) fault(VEC_NP, err, R_TSS_NOT_PRESENT, `TSS 0x${hex4(selector)}`);
  return decodeDescriptor(d.lo, d.hi);
}

interface TaskState {
  eip: number;
  eflags: number;
  regs: number[];
  /** ES CS SS DS FS GS (SDM sreg order). */
  sregs: number[];
  ldt: number;
  cr3: number;
  /** 32-bit TSS: the debug trap (T) flag, bit 0 of the word at 64H. */
  trap: boolean;
}

function readTaskState(cpu: Cpu, base: number, wide: boolean): TaskState {
  const r16 = (o: number): number => cpu.readLinear16(base + o);
  const r32 = (o: number): number => cpu.readLinear32(base + o) >>> 0;
  if (wide) {
    return {
      cr3: r32(0x1c),
      eip: r32(0x20),
      eflags: r32(0x24),
      regs: [0, 1, 2, 3, 4, 5, 6, 7].map((n) => r32(0x28 + 4 * n)),
      sregs: [0, 1, 2, 3, 4, 5].map((n) => r16(0x48 + 4 * n)),
      ldt: r16(0x60),
      trap: (r16(0x64) & 1) !== 0,
    };
  }
  // A 16-bit TSS: the upper halves of the general registers read as ones, FS and GS become NULL (as Bochs models it).
  return {
    cr3: cpu.cr3,
    eip: r16(0x0e),
    eflags: r16(0x10),
    regs: [0, 1, 2, 3, 4, 5, 6, 7].map((n) => (0xffff0000 | r16(0x12 + 2 * n)) >>> 0),
    sregs: [r16(0x22), r16(0x24), r16(0x26), r16(0x28), 0, 0],
    ldt: r16(0x2a),
    trap: false,
  };
}

function saveTaskState(cpu: Cpu, base: number, wide: boolean, eflags: number): void {
  if (wide) {
    cpu.writeLinear32(base + 0x20, cpu.eip);
    cpu.writeLinear32(base + 0x24, eflags);
    for (let n = 0; n < 8; n++) cpu.writeLinear32(base + 0x28 + 4 * n, cpu.regs[n]);
    for (let s = 0; s < 6; s++) cpu.writeLinear16(base + 0x48 + 4 * s, cpu.segSel[s]);
    return;
  }
  cpu.writeLinear16(base + 0x0e, cpu.eip & 0xffff);
  cpu.writeLinear16(base + 0x10, eflags & 0xffff);
  for (let n = 0; n < 8; n++) cpu.writeLinear16(base + 0x12 + 2 * n, cpu.regs[n] & 0xffff);
  for (let s = 0; s < 4; s++) cpu.writeLinear16(base + 0x22 + 2 * s, cpu.segSel[s]);
}

/** Probes a linear range for supervisor writes (page faults now rather than halfway through the switch). */
function probe(cpu: Cpu, lin: number, bytes: number): void {
  if (!cpu.pagingOn) return;
  for (let k = 0; k < bytes; k += 0x1000) cpu.translate((lin + k) | 0, ACCESS_WRITE | ACCESS_SYSTEM);
  cpu.translate((lin + bytes - 1) | 0, ACCESS_WRITE | ACCESS_SYSTEM);
}

/** SWITCH-TASKS: `tss` is the new task's TSS descriptor (checked by the caller for type, busy state and presence). */
export function taskSwitch(cpu: Cpu, selector: number, tss: Descriptor, source: TaskSource, errorCode: number): void {
  const newWide = tss.is32;
  const err = selectorError(selector);
  // IF the new TSS limit < 67H (2BH) THEN #TS(TSS selector)
  if (tss.limit < (newWide ? 0x67 : 0x2b)) fault(VEC_TS, err, R_TSS_LIMIT, `TSS 0x${hex4(selector)} limit 0x${tss.limit.toString(16)}`);
  const oldSelector = cpu.segSel[TR];
  const oldBase = cpu.segBase[TR];
  const oldWide = (cpu.segAr[TR] & 0x8) !== 0;
  const oldAddr = descriptorAddress(cpu, oldSelector);
  const newAddr = descriptorAddress(cpu, selector);
  probe(cpu, oldBase, oldWide ? 0x68 : 0x2c);
  probe(cpu, tss.base, newWide ? 0x68 : 0x2c);
  if (oldAddr !== -1) probe(cpu, oldAddr, 8);
  if (newAddr !== -1) probe(cpu, newAddr, 8);

  // Read the new state before writing anything (the two TSSs may overlap).
  const next = readTaskState(cpu, tss.base, newWide);

  // Old task: busy bit (JMP, IRET clear it), EFLAGS image (IRET saves NT = 0), state.
  const oldEflags = cpu.getEflags();
  if ((source === TASK_FROM_JMP || source === TASK_FROM_IRET) && oldAddr !== -1 && !isNullSelector(oldSelector)) {
    const old = decodeDescriptor(cpu.readLinear32(oldAddr), cpu.readLinear32(oldAddr + 4), segScratch);
    writeDescriptorType(cpu, oldSelector, old, old.type & ~TSS_BUSY_BIT);
  }
  saveTaskState(cpu, oldBase, oldWide, source === TASK_FROM_IRET ? oldEflags & ~NT : oldEflags);

  // New task: back link and NT for nesting sources, busy bit for all but IRET.
  let eflags = next.eflags;
  if (source === TASK_FROM_CALL || source === TASK_FROM_INT) {
    cpu.writeLinear16(tss.base, oldSelector);
    eflags |= NT;
  }
  if (source !== TASK_FROM_IRET) writeDescriptorType(cpu, selector, tss, tss.type | TSS_BUSY_BIT);
  const busyTss = (tss.hi | (TSS_BUSY_BIT << 8)) >>> 0;
  cpu.loadSegmentCache(TR, selector, tss.base, tss.limit, accessRightsOf(decodeDescriptor(tss.lo, busyTss)), true, 'task-switch');
  cpu.cr0 |= CR0_TS;
  // The local breakpoint enables L0–L3 belong to the old task (SDM 3A §17.2.4).
  clearLocalBreakpoints(cpu);

  // Load the register state; from here on faults belong to the new task.
  if (newWide && (cpu.cr0 & CR0_PG) !== 0) {
    cpu.cr3 = next.cr3 & 0xfffff018;
    flushTlb(cpu);
  }
  for (let n = 0; n < 8; n++) cpu.regs[EAX + n] = next.regs[n] | 0;
  cpu.eip = next.eip >>> 0;
  cpu.instrStart = cpu.eip;
  cpu.setEflags(eflags);
  // Selectors first, with unusable caches, so a fault while qualifying them shows the new task's selectors.
  for (let s = 0; s < 6; s++) cpu.loadSegmentCache(s, next.sregs[s], 0, 0, 0, false, 'task-switch');
  cpu.loadSegmentCache(LDTR, next.ldt, 0, 0, 0, false, 'task-switch');

  loadTaskLdt(cpu, next.ldt);
  if ((eflags & VM) !== 0 && (cpu.cr0 & CR0_PE) !== 0) {
    for (const s of [ES, CS, SS, DS, FS, GS]) loadSegmentV86(cpu, s, next.sregs[s], 'task-switch');
    cpu.cpl = 3;
  } else {
    loadTaskSegments(cpu, next.sregs);
  }
  cpu.modeChanged();

  tableRegistersChanged(cpu, 'task-switch');
  // The new TSS's T flag asks for a debug trap before the new task's first instruction (SDM 3A §7.2.1).
  if (next.trap) raiseTaskSwitchTrap(cpu);

  // An exception's error code goes on the new task's stack.
  if (errorCode >= 0) {
    const size = newWide ? 4 : 2;
    const sp = stackOffset(cpu, -size);
    if (sp < cpu.writeLo[SS] || sp + size - 1 > cpu.writeHi[SS]) fault(VEC_SS, 0, R_ERROR_CODE_STACK);
    cpu.push(size, errorCode);
  }
  // IF EIP not within code segment limit THEN #GP(0)
  checkEipInLimit(cpu.eip, cpu.segLimit[CS], R_EIP_LIMIT);
}

function loadTaskLdt(cpu: Cpu, ldt: number): void {
  if (isNullSelector(ldt)) return;
  const err = selectorError(ldt);
  if ((ldt & SELECTOR_TI) !== 0) fault(VEC_TS, err, R_LDT, `LDT selector 0x${hex4(ldt)} points into the LDT`);
  const d = fetchDescriptor(cpu, ldt, VEC_TS, R_LDT, segScratch);
  if (d.kind !== 'ldt' || !d.p) fault(VEC_TS, err, R_LDT, `LDT selector 0x${hex4(ldt)} names a ${d.p ? describeType(d) : 'not-present descriptor'}`);
  cpu.loadSegmentCache(LDTR, ldt, d.base, d.limit, accessRightsOf(d), true, 'task-switch');
}

function loadTaskSegments(cpu: Cpu, sregs: number[]): void {
  // CS: its RPL is the new CPL.
  const csSel = sregs[CS];
  const cpl = selectorRpl(csSel);
  const csErr = selectorError(csSel);
  if (isNullSelector(csSel)) fault(VEC_TS, csErr, R_CS_NULL);
  const cs = fetchDescriptor(cpu, csSel, VEC_TS, R_CS_INVALID, segScratch);
  if (!cs.isCode) fault(VEC_TS, csErr, R_CS_INVALID, `CS 0x${hex4(csSel)} names a ${describeType(cs)}`);
  if (cs.conforming ? cs.dpl > cpl : cs.dpl !== cpl) fault(VEC_TS, csErr, R_CS_DPL, `CS DPL ${cs.dpl}, RPL ${cpl}`);
  if (!cs.p) fault(VEC_NP, csErr, R_CS_NOT_PRESENT, `CS 0x${hex4(csSel)}`);
  markAccessed(cpu, csSel, cs);
  cpu.loadSegmentCache(CS, csSel, cs.base, cs.limit, accessRightsOf(cs), true, 'task-switch');
  cpu.cpl = cpl;

  const ssSel = sregs[SS];
  const ssErr = selectorError(ssSel);
  if (isNullSelector(ssSel)) fault(VEC_TS, ssErr, R_SS_INVALID, 'SS is NULL');
  const ss = fetchDescriptor(cpu, ssSel, VEC_TS, R_SS_INVALID, segScratch);
  if (!ss.writable) fault(VEC_TS, ssErr, R_SS_INVALID, `SS 0x${hex4(ssSel)} names a ${describeType(ss)}`);
  if (selectorRpl(ssSel) !== cpl || ss.dpl !== cpl) fault(VEC_TS, ssErr, R_SS_PRIVILEGE, `SS RPL ${selectorRpl(ssSel)}, DPL ${ss.dpl}, CPL ${cpl}`);
  if (!ss.p) fault(VEC_SS, ssErr, R_SS_NOT_PRESENT, `SS 0x${hex4(ssSel)}`);
  markAccessed(cpu, ssSel, ss);
  cpu.loadSegmentCache(SS, ssSel, ss.base, ss.limit, accessRightsOf(ss), true, 'task-switch');

  for (const seg of [DS, ES, FS, GS]) loadTaskDataSegment(cpu, seg, sregs[seg], cpl, R_DATA_INVALID);
}

function loadTaskDataSegment(cpu: Cpu, seg: number, sel: number, cpl: number, invalid: FaultRule): void {
  if (isNullSelector(sel)) return; // stays loaded as an unusable NULL selector
  const err = selectorError(sel);
  const d = fetchDescriptor(cpu, sel, VEC_TS, invalid, segScratch);
  if (!d.readable) fault(VEC_TS, err, invalid, `0x${hex4(sel)} names a ${describeType(d)}`);
  if (!d.conforming && (d.dpl < cpl || d.dpl < selectorRpl(sel))) fault(VEC_TS, err, R_DATA_PRIVILEGE, `DPL ${d.dpl}, CPL ${cpl}, RPL ${selectorRpl(sel)}`);
  if (!d.p) fault(VEC_NP, err, R_DATA_NOT_PRESENT, `0x${hex4(sel)}`);
  markAccessed(cpu, sel, d);
  cpu.loadSegmentCache(seg, sel, d.base, d.limit, accessRightsOf(d), true, 'task-switch');
}
