// The runtime programs of the in-place transfer tests (in-place-transfer.test.ts, in-place-far.test.ts): the
// random-program runtime with scratch code descriptors in GDT A, optionally behind the paging prologue.
import { expect } from 'vitest';
import { describeDivergence, type LockstepResult } from '../../../engine/monitor/lockstep';
import { makeDescriptor, PAGING_PROLOGUE, PROGRAM_BASE, programFromSlots, withPageTables } from '../../../engine/monitor/random-program';

export const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
/** Where the runtime's fault handler counts the faults it handled, and the vector of the last one. */
export const FAULT_COUNT = 0x10380;
export const LAST_VECTOR = 0x10384;

/** GDT A's scratch entries (selectors 0x40–0x78). */
export const SCRATCH: [number, number][] = [
  makeDescriptor(0, 0xfffff, 0x1b), // 0x40 code, not present
  makeDescriptor(0, 0xfffff, 0x9a), // 0x48 code, accessed bit clear
  makeDescriptor(0, 0xfff, 0x9b), // 0x50 code, limit 0xFFF (below the runtime and the body)
  makeDescriptor(0, 0xfffff, 0xbb), // 0x58 code, DPL 1
  makeDescriptor(0, 0xfffff, 0xbf), // 0x60 conforming code, DPL 1
  makeDescriptor(0x10000, 0xfffff, 0x9b), // 0x68 code, base 0x10000 (the body at offsets below 64 KiB)
  makeDescriptor(0, 0xfffff, 0x9b, false), // 0x70 16-bit code
  makeDescriptor(0, 0xfffff, 0x93), // 0x78 data
];

export function runtimeImage(slots: number[][], paging = false): Uint8Array {
  const program = programFromSlots(paging ? [...PAGING_PROLOGUE, ...slots] : slots, { a: SCRATCH });
  return paging ? withPageTables(program).image : program.image;
}

/**
 * What a lockstep run of the in-place tests must end with: no divergence, the guest's exit, no panic, the body's
 * slots completed in place exactly those whose case says so (`done`; the cases named in the failure), and at least
 * `faults` faults counted by the guest's own handler (each transfer the guest's tables refuse faulted as on bare
 * hardware).
 */
export function expectDoneInPlace(r: LockstepResult, done: Set<number>, cases: readonly { inPlace: boolean; what: string }[], faults: number): void {
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.stop).toBe('exit');
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  const expected = cases.flatMap((c, k) => (c.inPlace ? [k] : []));
  expect([...done].sort((a, b) => a - b), cases.map((c, k) => `${k}: ${c.what}`).join('\n')).toEqual(expected);
  expect(r.bare.mem.peek(FAULT_COUNT, 4)).toBeGreaterThanOrEqual(faults);
}
