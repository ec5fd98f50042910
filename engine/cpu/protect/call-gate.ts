// Far JMP and far CALL through a call gate (SDM 2 JMP "CALL-GATE", CALL "CALL-GATE", "MORE-PRIVILEGE",
// "SAME-PRIVILEGE"; SDM 3A §5.8.3–5.8.5).
//
// Gate checks (both):  gate DPL < CPL or gate DPL < RPL → #GP(gate sel); gate not present → #NP(gate sel);
//                      code selector NULL → #GP(0); beyond its table → #GP(code sel); not code → #GP(code sel)
//   JMP                conforming with DPL > CPL, or non-conforming with DPL ≠ CPL → #GP(code sel) (a JMP never
//                      changes privilege); not present → #NP(code sel); offset beyond the limit → #GP(0)
//   CALL               DPL > CPL → #GP(code sel); not present → #NP(code sel); then
//     non-conforming with DPL < CPL (MORE-PRIVILEGE): the new stack from the TSS (inner-stack.ts), room for the
//       parameters plus 4 slots → #SS(SS sel); offset beyond the limit → #GP(0); the frame on the new stack:
//           [old SS] [old ESP] [param n-1 … param 0, copied from the old stack] [old CS] [old EIP]
//     otherwise (SAME-PRIVILEGE): room for 2 slots → #SS(0); offset beyond the limit → #GP(0); push CS, EIP
// Slots are the gate's size (2 bytes for a 16-bit gate, 4 for a 32-bit gate), whatever the operand size.

import type { Cpu } from '../cpu';
import { CS, ESP, SS } from '../cpu';
import { fault, rule, selectorError, VEC_GP, VEC_NP, type FaultRule } from '../faults';
import { Descriptor, describeType } from './descriptor';
import { fetchDescriptor, hex4, isNullSelector, selectorRpl } from './descriptor-table';
import { branchFar, checkEipInLimit } from './code-segment';
import { checkNewStackRoom, fetchInnerStack, switchToInnerStack } from './inner-stack';
import { checkPushes } from './stack-frame';

interface GateRules {
  gateDpl: FaultRule;
  gateNotPresent: FaultRule;
  csNull: FaultRule;
  csTableLimit: FaultRule;
  csType: FaultRule;
  csDpl: FaultRule;
  csNotPresent: FaultRule;
  eipLimit: FaultRule;
}

function gateRules(prefix: 'far-jmp' | 'far-call', sdm: string, csDplText: string): GateRules {
  return {
    gateDpl: rule(`${prefix}.gate.dpl`, 'call gate DPL < CPL or call gate DPL < the RPL of the call gate selector', sdm),
    gateNotPresent: rule(`${prefix}.gate.not-present`, 'the call gate is not present (#NP)', sdm),
    csNull: rule(`${prefix}.gate.cs-null`, "the call gate's code-segment selector is NULL", sdm),
    csTableLimit: rule(`${prefix}.gate.cs-table-limit`, "the call gate's code-segment selector index is outside the descriptor table limits", sdm),
    csType: rule(`${prefix}.gate.cs-type`, "the call gate's selector does not indicate a code segment", sdm),
    csDpl: rule(`${prefix}.gate.cs-dpl`, csDplText, sdm),
    csNotPresent: rule(`${prefix}.gate.cs-not-present`, 'the code segment is not present (#NP)', sdm),
    eipLimit: rule(`${prefix}.gate.eip-limit`, "the call gate's instruction pointer is not within the code segment limit", sdm),
  };
}

const JMP_RULES = gateRules('far-jmp', 'SDM 2 JMP — CALL-GATE', 'conforming code with DPL > CPL, or non-conforming code with DPL ≠ CPL');
const CALL_RULES = gateRules('far-call', 'SDM 2 CALL — CALL-GATE', 'the code segment DPL > CPL');

const csScratch = new Descriptor();

/** The gate and target checks JMP and CALL share; returns the target code segment descriptor. */
function checkGateAndTarget(cpu: Cpu, gateSelector: number, gate: Descriptor, r: GateRules): Descriptor {
  const gateErr = selectorError(gateSelector);
  // IF call gate DPL < CPL or call gate DPL < RPL THEN #GP(call gate selector)
  if (gate.dpl < cpu.cpl || gate.dpl < selectorRpl(gateSelector)) {
    fault(VEC_GP, gateErr, r.gateDpl, `gate DPL ${gate.dpl}, CPL ${cpu.cpl}, RPL ${selectorRpl(gateSelector)}`);
  }
  // IF call gate not present THEN #NP(call gate selector)
  if (!gate.p) fault(VEC_NP, gateErr, r.gateNotPresent, `gate 0x${hex4(gateSelector)}`);
  const selector = gate.selector;
  // IF call gate code-segment selector is NULL THEN #GP(0)
  if (isNullSelector(selector)) fault(VEC_GP, 0, r.csNull, `gate 0x${hex4(gateSelector)} → 0x${hex4(selector)}`);
  // IF code-segment selector index outside descriptor table limits THEN #GP(code-segment selector)
  const cs = fetchDescriptor(cpu, selector, VEC_GP, r.csTableLimit, csScratch);
  if (!cs.isCode) fault(VEC_GP, selectorError(selector), r.csType, `0x${hex4(selector)} names a ${describeType(cs)}`);
  return cs;
}

export function jumpThroughCallGate(cpu: Cpu, gateSelector: number, gate: Descriptor): void {
  const cs = checkGateAndTarget(cpu, gateSelector, gate, JMP_RULES);
  const selector = gate.selector;
  const err = selectorError(selector);
  const cpl = cpu.cpl;
  if (cs.conforming ? cs.dpl > cpl : cs.dpl !== cpl) fault(VEC_GP, err, JMP_RULES.csDpl, `code DPL ${cs.dpl}, CPL ${cpl}`);
  if (!cs.p) fault(VEC_NP, err, JMP_RULES.csNotPresent, `0x${hex4(selector)}`);
  checkEipInLimit(gate.offset, cs.limit, JMP_RULES.eipLimit);
  branchFar(cpu, selector, cs, gate.offset, cpl, 'far-jmp');
}

export function callThroughCallGate(cpu: Cpu, gateSelector: number, gate: Descriptor): void {
  const cs = checkGateAndTarget(cpu, gateSelector, gate, CALL_RULES);
  const selector = gate.selector;
  const err = selectorError(selector);
  const cpl = cpu.cpl;
  // IF code-segment DPL > CPL THEN #GP(code-segment selector)
  if (cs.dpl > cpl) fault(VEC_GP, err, CALL_RULES.csDpl, `code DPL ${cs.dpl} > CPL ${cpl}`);
  if (!cs.p) fault(VEC_NP, err, CALL_RULES.csNotPresent, `0x${hex4(selector)}`);
  const size = gate.is32 ? 4 : 2;
  if (!cs.conforming && cs.dpl < cpl) {
    callToMorePrivilege(cpu, gate, selector, cs, size);
    return;
  }
  // SAME-PRIVILEGE: IF stack does not have room for the return address THEN #SS(0)
  checkPushes(cpu, 2, size);
  checkEipInLimit(gate.offset, cs.limit, CALL_RULES.eipLimit);
  cpu.push(size, cpu.segSel[CS]);
  cpu.push(size, size === 4 ? cpu.eip : cpu.eip & 0xffff);
  branchFar(cpu, selector, cs, gate.offset, cpl, 'far-call');
}

function callToMorePrivilege(cpu: Cpu, gate: Descriptor, selector: number, cs: Descriptor, size: number): void {
  const stack = fetchInnerStack(cpu, cs.dpl);
  const count = gate.paramCount;
  // IF stack does not have room for parameters plus 16 (8) bytes THEN #SS(SS selector)
  checkNewStackRoom(cpu, stack, (count + 4) * size);
  // IF CallGate(InstructionPointer) not within code segment limit THEN #GP(0)
  checkEipInLimit(gate.offset, cs.limit, CALL_RULES.eipLimit);
  // The parameters, read from the caller's stack before anything changes (lowest address = last pushed).
  const params: number[] = [];
  for (let k = 0; k < count; k++) params.push(cpu.peekStack(k * size, size));
  const oldSs = cpu.segSel[SS];
  const oldEsp = cpu.regs[ESP] >>> 0;
  const oldCs = cpu.segSel[CS];
  const oldEip = cpu.eip;
  switchToInnerStack(cpu, stack, cs.dpl, 'far-call');
  cpu.push(size, oldSs);
  cpu.push(size, size === 4 ? oldEsp : oldEsp & 0xffff);
  for (let k = count - 1; k >= 0; k--) cpu.push(size, params[k]);
  cpu.push(size, oldCs);
  cpu.push(size, size === 4 ? oldEip : oldEip & 0xffff);
  branchFar(cpu, selector, cs, gate.offset, cs.dpl, 'far-call');
}
