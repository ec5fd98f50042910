// Protected-mode interrupt and exception delivery through IDT gates (SDM 3A §6.10–6.14).
// Owned by the protected-mode mechanisms work; see engine/cpu/README.md.

import type { Cpu } from '../cpu';
import type { InterruptSource } from '../interrupt';

export function deliverProtected(cpu: Cpu, vector: number, errorCode: number, source: InterruptSource): void {
  throw new Error(`protected-mode delivery of vector ${vector} (error ${errorCode}, source ${source}) is not built yet`);
}
