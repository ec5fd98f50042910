// Far JMP and far CALL whose target selector names a system descriptor: a call gate, a task gate or a TSS
// (SDM 2 JMP/CALL — "CALL-GATE", "TASK-GATE", "TASK-STATE-SEGMENT"; SDM 3A §5.8.4–5.8.6, §7.3).

import type { Cpu } from '../cpu';
import type { Descriptor } from './descriptor';
import { describeType } from './descriptor';
import { hex4 } from './descriptor-table';
import { callThroughCallGate, jumpThroughCallGate } from './call-gate';

export type FarTransferKind = 'jmp' | 'call';

/** A mechanism the engine does not model yet; raised instead of guessing at an architectural result. */
export class UnimplementedFeatureError extends Error {}

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
  throw new UnimplementedFeatureError(
    `far ${kind.toUpperCase()} through a ${describeType(d)} (selector 0x${hex4(selector)}) is not implemented yet`,
  );
}
