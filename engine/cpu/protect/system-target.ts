// Far JMP and far CALL whose target selector names a system descriptor: a call gate, a task gate or a TSS
// (SDM 2 JMP/CALL — "CALL-GATE", "TASK-GATE", "TASK-STATE-SEGMENT"; SDM 3A §5.8.4–5.8.6, §7.3); any other system
// descriptor is refused with #GP(selector). A call gate's size, not the operand size, decides the frame.

import type { Cpu } from '../cpu';
import { fault, selectorError, VEC_GP, type FaultRule } from '../faults';
import { describeType, type Descriptor } from './descriptor';
import { hex4 } from './descriptor-table';
import { callThroughCallGate, jumpThroughCallGate } from './call-gate';
import { TASK_FROM_CALL, TASK_FROM_JMP, taskGateTransfer, tssTransfer } from './task-switch';

export type FarTransferKind = 'jmp' | 'call';

/**
 * Follows a far JMP/CALL whose target `d` is a system descriptor and returns true; returns false for a code or
 * data segment (`d.s`), which the caller checks itself. A system descriptor other than a call gate, task gate or
 * TSS → #GP(selector) under `typeRule`.
 */
export function transferThroughSystemTarget(
  cpu: Cpu,
  kind: FarTransferKind,
  selector: number,
  d: Descriptor,
  typeRule: FaultRule,
): boolean {
  if (d.s) return false;
  if (d.kind === 'call-gate') {
    if (kind === 'jmp') jumpThroughCallGate(cpu, selector, d);
    else callThroughCallGate(cpu, selector, d);
    return true;
  }
  if (d.kind !== 'task-gate' && d.kind !== 'tss') {
    fault(VEC_GP, selectorError(selector), typeRule, `selector 0x${hex4(selector)} names a ${describeType(d)}`);
  }
  const source = kind === 'jmp' ? TASK_FROM_JMP : TASK_FROM_CALL;
  if (d.kind === 'task-gate') taskGateTransfer(cpu, selector, d, source);
  else tssTransfer(cpu, selector, d, source);
  return true;
}
