// Far JMP and far CALL whose target selector names a system descriptor: a call gate, a task gate or a TSS
// (SDM 2 JMP/CALL — "CALL-GATE", "TASK-GATE", "TASK-STATE-SEGMENT"; SDM 3A §5.8.4–5.8.6, §7.3).
//
// This is the seam where the system-architecture work (issue 4: call gates with privilege changes, task switches)
// plugs in. Until it lands, such a transfer stops the engine with a clear error rather than guessing.

import type { Cpu } from '../cpu';
import type { Descriptor } from './descriptor';
import { describeType } from './descriptor';
import { hex4 } from './descriptor-table';

export type FarTransferKind = 'jmp' | 'call';

export class UnimplementedFeatureError extends Error {}

export function farTransferThroughSystemDescriptor(
  cpu: Cpu,
  kind: FarTransferKind,
  selector: number,
  d: Descriptor,
  os32: boolean,
): void {
  void cpu;
  void os32;
  throw new UnimplementedFeatureError(
    `far ${kind.toUpperCase()} through a ${describeType(d)} (selector 0x${hex4(selector)}) is not implemented yet`,
  );
}
