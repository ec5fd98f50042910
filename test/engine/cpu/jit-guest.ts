// Small 32-bit guests for the translation tests: NASM source at ORG in flat protected mode, run with blocks (at the
// test threshold of 40 arrivals, test/setup) or with the interpreter alone, and the state both must agree on.

import { expect } from 'vitest';
import { AR_DB, AR_P, AR_S, DS, type Cpu } from '../../../engine/cpu/cpu';
import { flat32, type TestMachine } from './harness';
import { assemble } from './move-fixtures';

export const ORG = 0x10000;

/** examples/bench-loop's ten instructions at ORG + 0x10, 1000 iterations, then HLT. EBX is never written. */
export const BENCH_LOOP = `
  mov ebx, 0x40000
  mov ecx, 1000
  xor eax, eax
  xor edx, edx
  align 16
top:
  add eax, ecx
  mov [ebx], eax
  xor edx, eax
  mov esi, [ebx + 8]
  lea edi, [esi + edx * 2 + 8]
  mov [ebx + 8], edi
  add [ebx + 12], edx
  rol eax, 3
  dec ecx
  jnz top
  hlt
`;

/** A #GP handler that halts (at 0x3000, through an IDT at 0x800). */
export function gpHalts(m: TestMachine): void {
  m.cpu.idtrBase = 0x800;
  m.cpu.idtrLimit = 0x7ff;
  m.mem.write32(0x800 + 13 * 8, (0x08 << 16) | 0x3000);
  m.mem.write32(0x800 + 13 * 8 + 4, 0x8e00);
  m.mem.write8(0x3000, 0xf4);
}

/** Loads DS with a 32-bit read/write data segment of this base and limit. */
export function loadDs(m: TestMachine, base: number, limit: number): void {
  m.cpu.loadSegmentCache(DS, 0x10, base, limit, AR_P | AR_S | 0x3 | AR_DB, true, 'loader');
}

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

/**
 * Runs `jit` and `ref` (the interpreter) side by side to HLT in budgets that end anywhere — inside passes and at
 * exits — and expects the same count and state after each.
 */
export function runInIrregularBudgets(jit: TestMachine, ref: TestMachine, modulus = 89): void {
  for (let k = 1; !ref.cpu.halted; k = (k * 5 + 1) % modulus) {
    expect(jit.cpu.run(k + 1)).toBe(ref.cpu.run(k + 1));
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
  }
}
