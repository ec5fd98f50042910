// Small 32-bit guests for the translation tests: NASM source at ORG in flat protected mode, run with blocks (at the
// test threshold of 40 arrivals, test/setup) or with the interpreter alone, and the state both must agree on.

import { expect } from 'vitest';
import type { Cpu } from '../../../engine/cpu/cpu';
import { flat32, type TestMachine } from './harness';
import { assemble } from './move-fixtures';

export const ORG = 0x10000;

export function guest(source: string, jit: boolean): TestMachine {
  const m = flat32(assemble(source, 32, ORG), ORG);
  m.cpu.jit = jit;
  return m;
}

export function guestState(cpu: Cpu): unknown {
  return { regs: Array.from(cpu.regs), eip: cpu.eip, eflags: cpu.getEflags(), icount: cpu.icount, halted: cpu.halted };
}

/** Runs `source` to HLT with blocks and with the interpreter; expects the same count and state; returns the first. */
export function runTranslatedAndInterpreted(source: string): TestMachine {
  const jit = guest(source, true);
  const ref = guest(source, false);
  expect(jit.cpu.run(1_000_000)).toBe(ref.cpu.run(1_000_000));
  expect(jit.cpu.halted).toBe(true);
  expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
  return jit;
}
