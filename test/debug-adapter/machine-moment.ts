// The whole of a moment, for tests that reach one moment twice (forward, and by travelling back): every field of
// the machine's snapshot — CPU registers and segment caches, FPU, devices, timers, the monitor's guest view and
// the consistency tracker — all of memory, and the debugger's own state that belongs to the moment.
import { expect } from 'vitest';
import type { MachineSnapshot } from '../../engine/machine/machine';
import type { Runtime } from '../../debug-adapter/runtime';

export interface MachineMoment {
  snapshot: Omit<MachineSnapshot, 'memory'>;
  memory: Uint8Array;
  debugger: { eventOrdinal: number; frames: unknown[]; hits: [number, number][] };
}

/**
 * The CPU's run-loop bookkeeping, not state: how many times decoded code was invalidated (`codeEpoch`, which a
 * restore moves on purpose), where the last run slice was to end, whether the last one ended at a breakpoint, and
 * the "look between instructions" flag derived from the rest, and how many translated blocks were entered by chaining
 * (`chainedBlockRuns`, a figure: which blocks exist when depends on how the run got there, e.g. a replay from a
 * checkpoint keeps the decoded code of pages it did not rewrite; `regionBlockRuns`, those of them inside a region).
 */
const BOOKKEEPING = ['codeEpoch', 'runEnd', 'hitBreakpoint', 'attention', 'chainedBlockRuns', 'regionBlockRuns'];
/** Flags are kept lazily (the last operation and its operands): compared as the EFLAGS value they stand for. */
const LAZY_FLAGS = ['flags', 'lazyMask', 'lazyOp', 'lazyA', 'lazyB', 'lazyRes', 'lazyCin', 'lazySize'];

export function machineMoment(rt: Runtime): MachineMoment {
  const { memory, ...snapshot } = rt.machine.snapshot();
  for (const k of [...BOOKKEEPING, ...LAZY_FLAGS]) delete snapshot.cpu[k];
  snapshot.cpu.eflags = rt.cpu.getEflags();
  return {
    snapshot,
    memory,
    debugger: {
      eventOrdinal: rt.eventOrdinal,
      frames: rt.interruptFrames.map((f) => ({ ...f })),
      hits: rt.breakpoints.all().map((e) => [e.id, e.hits]),
    },
  };
}

/** Moments equal: memory compared as bytes (a generic deep compare of 16 MiB takes minutes), the rest field by field. */
export function expectSameMachine(actual: MachineMoment, expected: MachineMoment, what: string): void {
  const a = actual.memory;
  const b = expected.memory;
  const same = Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
  if (!same) {
    let k = 0;
    while (a[k] === b[k]) k++;
    expect.fail(`${what}: memory differs first at physical 0x${k.toString(16)} (0x${a[k].toString(16)}, expected 0x${b[k].toString(16)})`);
  }
  expect(actual.snapshot, what).toEqual(expected.snapshot);
  expect(actual.debugger, what).toEqual(expected.debugger);
}
