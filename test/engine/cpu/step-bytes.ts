// One instruction at CS:EIP, with the first exception it raised (vector, error code, rule id): the helper of the
// model and P6 tests.

import type { TestMachine } from './harness';

export interface Raised {
  vector: number;
  errorCode: number;
  rule: string;
}

/** Places `bytes` at CS:EIP and executes one instruction; returns the first exception it raised, or null. */
export function stepBytes(m: TestMachine, bytes: number[]): Raised | null {
  m.mem.load((m.cpu.segBase[1] + m.cpu.eip) >>> 0, Uint8Array.from(bytes));
  let first: Raised | null = null;
  const off = m.cpu.events.on('cpu-exception', (e) => {
    if (first === null) first = { vector: e.vector, errorCode: e.errorCode, rule: e.ruleId };
  });
  m.cpu.step();
  off();
  return first;
}
