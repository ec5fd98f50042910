// Differential test of WebAssembly blocks (jit/wasm/): the random programs of jit-program.ts and the example guests
// run on a reference CPU interpreting every instruction and on a CPU that translates to wasm blocks only (after two
// arrivals; JS blocks never), in lockstep slices of random length (budgets that end anywhere, inside a block's
// pass too); after every slice the full CPU state, the instruction counts and memory must be equal. The programs'
// memory operands go through DS: once with DS flat (wasm accesses inline), once with the byte-granular DS limit of
// the harness (those instructions end wasm blocks and fault in the interpreter).

import { describe, expect, it } from 'vitest';
import { AR_DB, AR_G, AR_P, AR_S, DS } from '../../../engine/cpu/cpu';
import { exampleGuestsInLockstep, lockstep, machineFor } from './jit-lockstep-harness';
import { generateProgram, LAYOUT32 } from './jit-program';
import { assemble, HAS_NASM } from './move-fixtures';
import { countWasmRetired, wasmOnly } from './jit-wasm-harness';

describe.skipIf(!HAS_NASM)('wasm blocks in lockstep with the interpreter: random programs', () => {
  for (const flatDs of [true, false]) {
    it(`32-bit random loops, DS ${flatDs ? 'flat' : 'with a byte-granular limit'}`, () => {
      const L = LAYOUT32;
      let inWasm = 0;
      let total = 0;
      for (let seed = 1; seed <= 24; seed++) {
        const source = generateProgram(seed * 7919 + 32, 32);
        const code = assemble(source.replace(/^bits \d+\norg 0x[0-9a-f]+\n/, ''), 32, L.org);
        const ref = machineFor(code, 32, seed);
        const jit = machineFor(code, 32, seed);
        for (const m of [ref, jit]) {
          if (flatDs) m.cpu.loadSegmentCache(DS, 0x10, 0, 0xffffffff, AR_P | AR_S | 0x3 | AR_DB | AR_G, true, 'loader');
        }
        ref.cpu.jit = false;
        ref.cpu.fastHandlers = false;
        ref.cpu.flushDecodeCache();
        wasmOnly(jit.cpu);
        const counter = countWasmRetired(jit.cpu);
        try {
          total += lockstep(ref.cpu, jit.cpu, seed, [
            [L.data, L.data + 0x1000],
            [L.stackTop - 0x1000, L.stackTop + 0x100],
          ]);
        } catch (e) {
          throw new Error(`seed ${seed}, program:\n${source}\n\n${(e as Error).message}`);
        }
        inWasm += counter.retired;
      }
      // Most of the work must have run in wasm blocks, or the comparison proves little.
      expect(inWasm / total).toBeGreaterThan(flatDs ? 0.5 : 0.2);
    });
  }
});

describe('wasm blocks in lockstep with the interpreter: example guests through the machine', () => {
  exampleGuestsInLockstep(wasmOnly, 37);
});
