// Lockstep harness for the JIT and fast-handler tests: machines for the random programs of jit-program.ts (fault
// handlers installed, registers and data seeded) and a runner that steps a reference CPU and a CPU under test in
// slices of random length, comparing the full state, the instruction counts and memory after every slice.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Cpu } from '../../../engine/cpu/cpu';
import { Machine } from '../../../engine/machine/machine';
import { EXAMPLES_DIR, listExamples } from '../../examples/example-folders';
import { AR_DB, AR_P, AR_S, DS } from '../../../engine/cpu/cpu';
import { flat32, realMode, type TestMachine } from './harness';
import { DIVIDE_HANDLER_OFFSET, DS_LIMIT32, FAULT_HANDLER_OFFSET, LAYOUT16, LAYOUT32, rng } from './jit-program';

export const IDT_BASE = 0x800;

export function setInterruptGate(m: TestMachine, vector: number, offset: number): void {
  m.mem.write32(IDT_BASE + vector * 8, (0x08 << 16) | (offset & 0xffff));
  m.mem.write32(IDT_BASE + vector * 8 + 4, ((offset & 0xffff0000) | 0x8e00) >>> 0);
}

/** A machine with the program loaded, fault handlers installed and registers seeded. */
export function machineFor(code: Uint8Array, bits: 16 | 32, seed: number): TestMachine {
  const L = bits === 32 ? LAYOUT32 : LAYOUT16;
  const m = bits === 32 ? flat32(code, L.org) : realMode(code, L.org);
  const r = rng(seed ^ 0x5eed);
  if (bits === 32) {
    m.cpu.idtrBase = IDT_BASE;
    m.cpu.idtrLimit = 256 * 8 - 1;
    setInterruptGate(m, 0, L.org + DIVIDE_HANDLER_OFFSET);
    setInterruptGate(m, 12, L.org + FAULT_HANDLER_OFFSET);
    setInterruptGate(m, 13, L.org + FAULT_HANDLER_OFFSET);
    // DS with a byte-granular limit, so some displacements fault; ES/SS stay flat.
    m.cpu.loadSegmentCache(DS, 0x10, 0, DS_LIMIT32, AR_P | AR_S | 0x3 | AR_DB, true, 'loader');
  } else {
    for (const v of [0, 6, 12, 13]) m.mem.write32(v * 4, L.org + FAULT_HANDLER_OFFSET);
  }
  for (const reg of [0, 1, 2, 6, 7]) m.cpu.regs[reg] = Math.floor(r() * 0x100000000);
  for (let a = 0; a < 0x400; a += 4) m.mem.write32(L.data + a, Math.floor(r() * 0x100000000));
  return m;
}

export function cpuState(cpu: Cpu): Record<string, unknown> {
  return {
    regs: Array.from(cpu.regs),
    eip: cpu.eip,
    eflags: cpu.getEflags(),
    icount: cpu.icount,
    halted: cpu.halted,
    shutdown: cpu.shutdown,
    sel: Array.from(cpu.segSel),
    base: Array.from(cpu.segBase),
  };
}

function sameMemory(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  return Buffer.compare(a.subarray(from, to), b.subarray(from, to)) === 0;
}

/**
 * Runs both CPUs (configured by the caller) in slices of random length until the reference halts; compares after
 * each slice. Returns the number of instructions the reference retired.
 */
export function lockstep(ref: Cpu, jit: Cpu, seed: number, regions: [number, number][], maxInstructions = 200_000): number {
  const r = rng(seed);
  let total = 0;
  while (!ref.halted && !ref.shutdown && total < maxInstructions) {
    const slice = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 300));
    const a = ref.run(slice);
    const b = jit.run(slice);
    total += a;
    expect(b, `retired in slice at ${total}`).toBe(a);
    expect(cpuState(jit), `state after ${total} instructions`).toEqual(cpuState(ref));
    for (const [from, to] of regions) {
      if (!sameMemory(ref.mem.u8, jit.mem.u8, from, to)) {
        expect.fail(`memory 0x${from.toString(16)}..0x${to.toString(16)} differs after ${total} instructions`);
      }
    }
  }
  expect(Buffer.compare(ref.mem.u8, jit.mem.u8), 'whole memory at the end').toBe(0);
  return total;
}


/**
 * Loads `bytes` into two machines (the caller configured their CPUs; the first is the reference) and runs them in
 * slices of random length to the guest's end (or 3 M instructions): the run results, the CPU state after every slice
 * and the whole memory at the end must be equal.
 */
export function machinesInLockstep(a: Machine, b: Machine, bytes: Uint8Array, seed: number): void {
  a.load(bytes);
  b.load(bytes);
  a.cpu.flushDecodeCache();
  const r = rng(seed);
  let total = 0;
  for (;;) {
    const slice = 1 + Math.floor(r() * 500);
    const ra = a.runSlice(slice);
    const rb = b.runSlice(slice);
    total += ra.instructions;
    expect(rb, `after ${total}`).toEqual(ra);
    expect(cpuState(b.cpu), `after ${total}`).toEqual(cpuState(a.cpu));
    if (ra.reason !== null || total > 3_000_000) break;
  }
  expect(Buffer.compare(a.cpu.mem.u8, b.cpu.mem.u8)).toBe(0);
}

/**
 * One test per example guest (every folder but bench-loop: 50 M instructions would take minutes in lockstep; the
 * random programs and the guest's own self-check cover its loop): the interpreter alone, without fast handlers,
 * against a machine that `configure` sets up, in slices seeded by the name's length times `seedPerChar`.
 */
export function exampleGuestsInLockstep(configure: (cpu: Cpu) => void, seedPerChar: number): void {
  const names = listExamples()
    .map((e) => e.name)
    .filter((n) => n !== 'bench-loop');
  for (const name of names) {
    it(`${name}: same state and memory after every slice`, () => {
      const bytes = readFileSync(path.join(EXAMPLES_DIR, name, `${name}.bin`));
      const a = new Machine({ memoryMB: 16 });
      const b = new Machine({ memoryMB: 16 });
      a.cpu.jit = false;
      a.cpu.fastHandlers = false;
      configure(b.cpu);
      machinesInLockstep(a, b, bytes, name.length * seedPerChar);
    });
  }
}
