// Differential test of block translation: the same guest runs on two CPUs, one with the JIT and one interpreting
// every instruction (the reference), in lockstep slices of random length; after every slice the full CPU state,
// the instruction counts and the memory the guest touches must be equal. Programs are random loops over the decode
// table's common forms (jit-program.ts), in 32-bit protected mode and in real mode, with faults (limit violations,
// divide errors) raised inside translated blocks. The example guests run the same way through the whole machine.

import { describe, expect, it } from 'vitest';
import type { TestMachine } from './harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { FAULT_HANDLER_OFFSET, generateProgram, LAYOUT16, LAYOUT32 } from './jit-program';
import { lockstep as lockstepCpus, exampleGuestsInLockstep, machineFor, setInterruptGate } from './jit-lockstep-harness';
import type { Cpu } from '../../../engine/cpu/cpu';
import { NO_BLOCK } from '../../../engine/cpu/jit/block';
import { A, D, enablePaging, P, PAGE_DIRECTORY, PAGE_TABLE_0, RW, setPte, US } from './paging-fixtures';

/** The table-driven interpreter as reference (no blocks, no specialised handlers), the JIT under test. */
function lockstep(ref: Cpu, jit: Cpu, seed: number, regions: [number, number][]): number {
  ref.jit = false;
  ref.fastHandlers = false;
  ref.flushDecodeCache();
  jit.jit = true;
  return lockstepCpus(ref, jit, seed, regions);
}

/** Whether a block was built at the loop top (the JIT really ran part of the program). */
function translatedTop(m: TestMachine, eip: number): boolean {
  const i = m.cpu.fetchInstr(eip);
  return i.block !== null && i.block !== NO_BLOCK;
}

describe.skipIf(!HAS_NASM)('JIT lockstep against the interpreter: random programs', () => {
  for (const bits of [32, 16] as const) {
    it(`${bits}-bit random loops (ALU, MOV, LEA, shifts, stack, Jcc/LOOP, CALL/RET, faults)`, () => {
      const L = bits === 32 ? LAYOUT32 : LAYOUT16;
      let translated = 0;
      for (let seed = 1; seed <= 24; seed++) {
        const source = generateProgram(seed * 7919 + bits, bits);
        const code = assemble(source.replace(/^bits \d+\norg 0x[0-9a-f]+\n/, ''), bits, L.org);
        const ref = machineFor(code, bits, seed);
        const jit = machineFor(code, bits, seed);
        try {
          lockstep(ref.cpu, jit.cpu, seed, [
            [L.data, L.data + 0x1000],
            [L.stackTop - 0x1000, L.stackTop + 0x100],
          ]);
        } catch (e) {
          throw new Error(`seed ${seed}, ${bits}-bit program:\n${source}\n\n${(e as Error).message}`);
        }
        if (translatedTop(jit, L.org + L.topOffset)) translated++;
      }
      // Most programs must have been translated at their loop top, or the comparison proves little.
      expect(translated).toBeGreaterThan(20);
    });
  }
});

describe.skipIf(!HAS_NASM)('JIT lockstep against the interpreter: random programs with paging', () => {
  it('32-bit random loops with paging on: the data page remapped, clean and unaccessed (TLB misses, A/D updates)', () => {
    const L = LAYOUT32;
    let translated = 0;
    for (let seed = 101; seed <= 112; seed++) {
      // Every pass makes the data page's PTE clean and unaccessed again and reloads CR3, so translated blocks meet
      // TLB misses and first writes to a clean page.
      const pteAddress = PAGE_TABLE_0 + (L.data >>> 12) * 4;
      const prologue = [`and dword [es:0x${pteAddress.toString(16)}], ~0x60`, 'mov eax, cr3', 'mov cr3, eax'];
      const source = generateProgram(seed * 104729, 32, 40, prologue);
      const code = assemble(source.replace(/^bits \d+\norg 0x[0-9a-f]+\n/, ''), 32, L.org);
      const make = (): TestMachine => {
        const m = machineFor(code, 32, seed);
        setInterruptGate(m, 14, L.org + FAULT_HANDLER_OFFSET);
        enablePaging(m);
        // The data page lives at another frame, starts clean and unaccessed; the next page is supervisor-only.
        m.mem.u8.copyWithin(L.data + 0x1000, L.data, L.data + 0x1000);
        setPte(m, L.data, (L.data + 0x1000) | P | RW | US);
        setPte(m, L.data + 0x1000, (L.data + 0x1000) | P | RW | A | D);
        return m;
      };
      const ref = make();
      const jit = make();
      try {
        lockstep(ref.cpu, jit.cpu, seed, [
          [L.data, L.data + 0x2000],
          [PAGE_DIRECTORY, PAGE_DIRECTORY + 0x2000],
          [L.stackTop - 0x1000, L.stackTop + 0x100],
        ]);
      } catch (e) {
        throw new Error(`seed ${seed}, paged 32-bit program:\n${source}\n\n${(e as Error).message}`);
      }
      if (translatedTop(jit, L.org + L.topOffset)) translated++;
    }
    expect(translated).toBeGreaterThan(8);
  });
});

describe('JIT lockstep against the interpreter: example guests through the machine', () => {
  exampleGuestsInLockstep((cpu) => {
    cpu.jit = true;
  }, 31);
});
