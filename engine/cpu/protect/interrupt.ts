// Protected-mode interrupt and exception delivery through the IDT (SDM 2 INT n/INTO/INT3/INT1 — Operation,
// "PROTECTED-MODE"; SDM 3A §6.10–6.14).
//
// Checks, in the SDM's order (error codes: idtError(vector) names the gate, selectorError(sel) the code segment):
//   vector × 8 + 7 > IDTR.limit                          → #GP(idt + EXT)
//   gate is not an interrupt, trap or task gate            → #GP(idt + EXT)
//   software interrupt (INT n, INT3, INTO) and DPL < CPL   → #GP(idt)
//   gate not present                                       → #NP(idt + EXT)
//   task gate                                              → task switch (task-switch.ts)
//   code selector NULL                                     → #GP(EXT)
//   code selector beyond its table                         → #GP(sel + EXT)
//   not a code segment                                     → #GP(sel + EXT)
//   code DPL > CPL                                         → #GP(sel + EXT)
//   code segment not present                               → #NP(sel + EXT)
//   non-conforming with DPL < CPL                          → inner privilege: stack from the TSS (inner-stack.ts)
//   V86 mode and not going to level 0                      → #GP(sel); to level 0: the V86 frame below
//   same privilege: no room for the frame                  → #SS(EXT); new EIP beyond the limit → #GP(EXT)
//
// EXT (error code bit 0) is set for every fault raised while delivering an exception or an external interrupt
// (SOURCE_EXCEPTION, SOURCE_EXTERNAL, SOURCE_ICEBP), not for INT n, INT3 or INTO (SDM 3A §6.13); it is added once,
// where delivery ends with a fault (deliverProtected's catch), so the checks below raise plain error codes.
//
// Same-privilege frame (gate size: 2 bytes per slot for 16-bit gates, 4 for 32-bit gates):
//     [EFLAGS]
//     [CS]            zero-extended
//     [EIP]           the return address: the faulting instruction (faults) or the next one (traps, INT n)
//     [error code]    ← new SP, when the exception has one
// Then CS:EIP ← gate (CS.RPL = CPL); TF, NT, RF, VM ← 0; an interrupt gate also clears IF, a trap gate does not.

import type { Cpu } from '../cpu';
import { CS, DS, ES, ESP, FS, GS, SS } from '../cpu';
import { CpuFault, fault, idtError, rule, selectorError, VEC_GP, VEC_NP, VEC_PF, VEC_DF } from '../faults';
import { IF, NT, RF, TF, VM } from '../flags';
import { SOURCE_SOFTWARE, type InterruptSource } from '../interrupt';
import { Descriptor, decodeDescriptor, describeType } from './descriptor';
import { fetchDescriptor, hex4, isNullSelector } from './descriptor-table';
import { branchFar, checkEipInLimit } from './code-segment';
import { checkPushes } from './stack-frame';
import { checkNewStackRoom, fetchInnerStack, switchToInnerStack } from './inner-stack';
import { interruptTaskSwitch } from './task-switch';

const SDM = 'SDM 2 INT n/INTO/INT3/INT1 — Operation (protected mode); SDM 3A §6.12';

export const R_IDT_LIMIT = rule('interrupt.idt-limit', 'the interrupt vector number is outside the IDT limits', SDM);
export const R_GATE_TYPE = rule('interrupt.gate-type', 'the IDT descriptor is not an interrupt, trap, or task gate', SDM);
export const R_SOFTWARE_DPL = rule('interrupt.software.dpl', 'software interrupt (INT n, INT3, INTO) and the gate DPL < CPL', SDM);
export const R_GATE_NOT_PRESENT = rule('interrupt.gate-not-present', 'the interrupt, trap, or task gate is not present (#NP)', SDM);
export const R_CS_NULL = rule('interrupt.cs-null', "the gate's code segment selector is NULL", SDM);
export const R_CS_TABLE_LIMIT = rule('interrupt.cs-table-limit', "the gate's code segment selector index is outside its descriptor table limits", SDM);
export const R_CS_TYPE = rule('interrupt.cs-type', "the gate's selector does not name a code segment", SDM);
export const R_CS_DPL = rule('interrupt.cs-dpl', 'the code segment DPL > CPL', SDM);
export const R_CS_NOT_PRESENT = rule('interrupt.cs-not-present', 'the code segment is not present (#NP)', SDM);
export const R_V86_NOT_RING0 = rule('interrupt.v86.cs-dpl', 'interrupt from virtual-8086 mode to a code segment with DPL ≠ 0', SDM);
export const R_EIP_LIMIT = rule('interrupt.eip-limit', 'the instruction pointer is not within the code segment limits', SDM);

const gateScratch = new Descriptor();
const csScratch = new Descriptor();

export function deliverProtected(cpu: Cpu, vector: number, errorCode: number, source: InterruptSource): void {
  if (source === SOURCE_SOFTWARE) {
    deliverThroughIdt(cpu, vector, errorCode, source);
    return;
  }
  try {
    deliverThroughIdt(cpu, vector, errorCode, source);
  } catch (e) {
    // Faults while delivering an exception or external event carry EXT = 1 (page faults have their own format,
    // a double fault's error code is always 0).
    if (e instanceof CpuFault && e.vector !== VEC_PF && e.vector !== VEC_DF && e.errorCode >= 0) {
      throw new CpuFault(e.vector, e.errorCode | 1, e.rule, e.detail);
    }
    throw e;
  }
}

function deliverThroughIdt(cpu: Cpu, vector: number, errorCode: number, source: InterruptSource): void {
  const gateErr = idtError(vector);
  // IF vector number × 8 + 7 is not within the IDT limits THEN #GP(vector × 8 + 2 + EXT)
  const entry = vector * 8;
  if (entry + 7 > cpu.idtrLimit) {
    fault(VEC_GP, gateErr, R_IDT_LIMIT, `vector ${vector}: IDT entry 0x${entry.toString(16)}..0x${(entry + 7).toString(16)} beyond IDTR.limit 0x${cpu.idtrLimit.toString(16)}`);
  }
  const gate = decodeDescriptor(cpu.readLinear32(cpu.idtrBase + entry), cpu.readLinear32(cpu.idtrBase + entry + 4), gateScratch);
  // IF descriptor is not an interrupt, trap, or task gate THEN #GP(vector × 8 + 2 + EXT)
  if (gate.kind !== 'interrupt-gate' && gate.kind !== 'trap-gate' && gate.kind !== 'task-gate') {
    fault(VEC_GP, gateErr, R_GATE_TYPE, `vector ${vector}: IDT entry is a ${gate.s ? 'code/data segment descriptor' : describeType(gate)}`);
  }
  // IF software interrupt AND gate DPL < CPL THEN #GP(vector × 8 + 2)
  if (source === SOURCE_SOFTWARE && gate.dpl < cpu.cpl) {
    fault(VEC_GP, gateErr, R_SOFTWARE_DPL, `vector ${vector}: gate DPL ${gate.dpl} < CPL ${cpu.cpl}`);
  }
  // IF gate not present THEN #NP(vector × 8 + 2 + EXT)
  if (!gate.p) fault(VEC_NP, gateErr, R_GATE_NOT_PRESENT, `vector ${vector}: gate not present`);
  if (gate.kind === 'task-gate') {
    interruptTaskSwitch(cpu, gate, errorCode);
    return;
  }
  deliverThroughTrapOrInterruptGate(cpu, vector, errorCode, gate);
}

function deliverThroughTrapOrInterruptGate(cpu: Cpu, vector: number, errorCode: number, gate: Descriptor): void {
  const selector = gate.selector;
  const err = selectorError(selector);
  // IF new code segment selector is NULL THEN #GP(EXT)
  if (isNullSelector(selector)) fault(VEC_GP, 0, R_CS_NULL, `vector ${vector}: gate selector 0x${hex4(selector)}`);
  // IF new code segment selector index not within its descriptor table limits THEN #GP(selector + EXT)
  const cs = fetchDescriptor(cpu, selector, VEC_GP, R_CS_TABLE_LIMIT, csScratch);
  // IF descriptor does not indicate a code segment THEN #GP(selector + EXT)
  if (!cs.isCode) fault(VEC_GP, err, R_CS_TYPE, `vector ${vector}: selector 0x${hex4(selector)} names a ${describeType(cs)}`);
  // IF new code segment DPL > CPL THEN #GP(selector + EXT)
  if (cs.dpl > cpu.cpl) fault(VEC_GP, err, R_CS_DPL, `vector ${vector}: code DPL ${cs.dpl} > CPL ${cpu.cpl}`);
  // IF new code segment is not present THEN #NP(selector + EXT)
  if (!cs.p) fault(VEC_NP, err, R_CS_NOT_PRESENT, `vector ${vector}: selector 0x${hex4(selector)} is not present`);
  if (!cs.conforming && cs.dpl < cpu.cpl) {
    if ((cpu.flags & VM) === 0) {
      deliverInnerPrivilege(cpu, errorCode, gate, selector, cs);
      return;
    }
    // From V86 mode the handler must run at level 0: IF new code-segment DPL ≠ 0 THEN #GP(selector)
    if (cs.dpl !== 0) fault(VEC_GP, err, R_V86_NOT_RING0, `vector ${vector}: code DPL ${cs.dpl}`);
    deliverFromV86(cpu, errorCode, gate, selector, cs);
    return;
  }
  // INTRA-PRIVILEGE-LEVEL-INTERRUPT: IF EFLAGS.VM = 1 THEN #GP(new code segment selector)
  if ((cpu.flags & VM) !== 0) fault(VEC_GP, err, R_V86_NOT_RING0, `vector ${vector}: code DPL ${cs.dpl}`);
  deliverSamePrivilege(cpu, errorCode, gate, selector, cs);
}

/** EFLAGS bits delivery clears: TF, NT, RF, VM always; IF too through an interrupt gate. */
function clearedFlags(gate: Descriptor): number {
  return gate.kind === 'interrupt-gate' ? TF | NT | RF | VM | IF : TF | NT | RF | VM;
}

/**
 * INTER-PRIVILEGE-LEVEL-INTERRUPT: the handler's stack comes from the TSS; the frame on it is
 *     [old SS] [old ESP] [EFLAGS] [CS] [EIP] [error code]   (slots of the gate size, selectors zero-extended)
 */
function deliverInnerPrivilege(cpu: Cpu, errorCode: number, gate: Descriptor, selector: number, cs: Descriptor): void {
  const size = gate.is32 ? 4 : 2;
  const stack = fetchInnerStack(cpu, cs.dpl);
  // IF new stack does not have room for 24 (20) or 12 (10) bytes THEN #SS(NewSS + EXT)
  checkNewStackRoom(cpu, stack, (errorCode >= 0 ? 6 : 5) * size);
  // IF instruction pointer not within code segment limits THEN #GP(EXT)
  checkEipInLimit(gate.offset, cs.limit, R_EIP_LIMIT);
  const eflags = cpu.getEflags();
  const oldSs = cpu.segSel[SS];
  const oldEsp = cpu.regs[ESP] >>> 0;
  const oldCs = cpu.segSel[CS];
  const oldEip = cpu.eip;
  switchToInnerStack(cpu, stack, cs.dpl, 'interrupt');
  pushFrame(cpu, size, oldSs, oldEsp, eflags, oldCs, oldEip, errorCode);
  branchFar(cpu, selector, cs, gate.offset, cs.dpl, 'interrupt');
  cpu.setEflags(eflags & ~clearedFlags(gate));
}

/**
 * INTERRUPT-FROM-VIRTUAL-8086-MODE: leaves V86 mode for level 0 on the TSS's ring-0 stack, saving the V86 data
 * segment registers there and loading them with NULL:
 *     [GS] [FS] [DS] [ES] [SS] [ESP] [EFLAGS] [CS] [EIP] [error code]
 */
function deliverFromV86(cpu: Cpu, errorCode: number, gate: Descriptor, selector: number, cs: Descriptor): void {
  const size = gate.is32 ? 4 : 2;
  const stack = fetchInnerStack(cpu, 0);
  // IF new stack does not have room for 40 (36) or 20 (18) bytes THEN #SS(NewSS + EXT)
  checkNewStackRoom(cpu, stack, (errorCode >= 0 ? 10 : 9) * size);
  checkEipInLimit(gate.offset, cs.limit, R_EIP_LIMIT);
  const eflags = cpu.getEflags();
  const saved = [cpu.segSel[GS], cpu.segSel[FS], cpu.segSel[DS], cpu.segSel[ES]];
  const oldSs = cpu.segSel[SS];
  const oldEsp = cpu.regs[ESP] >>> 0;
  const oldCs = cpu.segSel[CS];
  const oldEip = cpu.eip;
  // Leave V86 mode first, so the loads below are protected-mode loads.
  cpu.setEflags(eflags & ~clearedFlags(gate));
  switchToInnerStack(cpu, stack, 0, 'interrupt');
  for (const sel of saved) cpu.push(size, sel);
  pushFrame(cpu, size, oldSs, oldEsp, eflags, oldCs, oldEip, errorCode);
  for (const seg of [GS, FS, DS, ES]) {
    cpu.loadSegmentCache(seg, 0, cpu.segBase[seg], cpu.segLimit[seg], cpu.segAr[seg], false, 'interrupt');
  }
  branchFar(cpu, selector, cs, gate.offset, 0, 'interrupt');
}

function pushFrame(cpu: Cpu, size: number, ss: number, esp: number, eflags: number, cs: number, eip: number, errorCode: number): void {
  cpu.push(size, ss);
  cpu.push(size, size === 4 ? esp : esp & 0xffff);
  cpu.push(size, size === 4 ? eflags : eflags & 0xffff);
  cpu.push(size, cs);
  cpu.push(size, size === 4 ? eip : eip & 0xffff);
  if (errorCode >= 0) cpu.push(size, size === 4 ? errorCode : errorCode & 0xffff);
}

function deliverSamePrivilege(cpu: Cpu, errorCode: number, gate: Descriptor, selector: number, cs: Descriptor): void {
  const size = gate.is32 ? 4 : 2;
  const slots = errorCode >= 0 ? 4 : 3;
  // IF current stack does not have room for the frame THEN #SS(EXT)
  checkPushes(cpu, slots, size);
  // IF instruction pointer not within code segment limits THEN #GP(EXT)
  const eip = gate.offset;
  checkEipInLimit(eip, cs.limit, R_EIP_LIMIT);
  const eflags = cpu.getEflags();
  cpu.push(size, size === 4 ? eflags : eflags & 0xffff);
  cpu.push(size, cpu.segSel[CS]);
  cpu.push(size, size === 4 ? cpu.eip : cpu.eip & 0xffff);
  if (errorCode >= 0) cpu.push(size, size === 4 ? errorCode : errorCode & 0xffff);
  branchFar(cpu, selector, cs, eip, cpu.cpl, 'interrupt');
  cpu.setEflags(eflags & ~clearedFlags(gate));
}
