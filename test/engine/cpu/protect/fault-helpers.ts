// Helpers for protected-mode mechanism tests: catching the CpuFault a check raises, and placing descriptors in the
// free entries (5–15) of the harness's flat32 GDT.

import { expect } from 'vitest';
import { CpuFault } from '../../../../engine/cpu/faults';
import { GDT_BASE, writeDescriptor, type TestMachine } from '../harness';

/** Runs `fn`, expecting exactly the fault (vector, error code, rule id); returns it. */
export function expectFault(fn: () => void, vector: number, errorCode: number, ruleId: string): CpuFault {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${ruleId}`).toBeInstanceOf(CpuFault);
  const f = caught as CpuFault;
  expect({ vector: f.vector, errorCode: f.errorCode, rule: f.rule.id }).toEqual({ vector, errorCode, rule: ruleId });
  return f;
}

/** Writes a code/data descriptor into GDT entry `index` of a flat32 machine; returns its selector (RPL 0). */
export function gdtEntry(
  m: TestMachine,
  index: number,
  base: number,
  limit: number,
  type: number,
  opts: { dpl?: number; present?: boolean; db?: boolean; g?: boolean; system?: boolean } = {},
): number {
  writeDescriptor(m.mem, GDT_BASE + index * 8, base, limit, type, opts);
  return index * 8;
}

/** Byte 5 (type, S, DPL, P) of GDT entry `index`. */
export function accessByte(m: TestMachine, index: number): number {
  return m.mem.peek(GDT_BASE + index * 8 + 5, 1);
}
