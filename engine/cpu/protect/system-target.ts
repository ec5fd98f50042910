// Far JMP and far CALL whose target selector names a system descriptor: a call gate, a task gate or a TSS
// (SDM 2 JMP/CALL — "CALL-GATE", "TASK-GATE", "TASK-STATE-SEGMENT"; SDM 3A §5.8.4–5.8.6, §7.3). The caller
// has dispatched here only for those three kinds.

import type { Cpu } from '../cpu';
import type { Descriptor } from './descriptor';
import { callThroughCallGate, jumpThroughCallGate } from './call-gate';
import { TASK_FROM_CALL, TASK_FROM_JMP, taskGateTransfer, tssTransfer } from './task-switch';

export type FarTransferKind = 'jmp' | 'call';

export function farTransferThroughSystemDescriptor(
  cpu: Cpu,
  kind: FarTransferKind,
  selector: number,
  d: Descriptor,
  os32: boolean,
): void {
  void os32; // a call gate's size, not the operand size, decides the frame
  if (d.kind === 'call-gate') {
    if (kind === 'jmp') jumpThroughCallGate(cpu, selector, d);
    else callThroughCallGate(cpu, selector, d);
    return;
  }
  const source = kind === 'jmp' ? TASK_FROM_JMP : TASK_FROM_CALL;
  if (d.kind === 'task-gate') taskGateTransfer(cpu, selector, d, source);
  else tssTransfer(cpu, selector, d, source);
}
