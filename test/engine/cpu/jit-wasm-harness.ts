// Helpers of the WebAssembly block tests (jit-wasm-*.test.ts).

import type { Cpu } from '../../../engine/cpu/cpu';
import type { Instr } from '../../../engine/cpu/decode/instr';
import { DATA } from './paging-fixtures';

/** The CPU under test: wasm blocks from the second arrival at a block head, and no JS block. */
export function wasmOnly(cpu: Cpu): void {
  cpu.jit = true;
  cpu.wasmBlocks = true;
  cpu.wasmHotThreshold = 2;
  cpu.hotThreshold = 1e9;
}

/** The decoded-instruction cache of 32-bit code, by physical page (decode/decode-cache.ts). */
export function decodedPages32(cpu: Cpu): (Instr[] | undefined)[] {
  return cpu.decoded.cache32;
}

/**
 * Instructions retired inside wasm blocks and the blocks' runs (entries), counted by wrapping every wasm block's run
 * as it is built.
 */
export function countWasmRetired(cpu: Cpu): { retired: number; entries: number } {
  const counter = { retired: 0, entries: 0 };
  const seen = new WeakSet<object>();
  const original = cpu.run.bind(cpu);
  cpu.run = (budget: number): number => {
    const n = original(budget);
    for (const page of decodedPages32(cpu)) {
      if (page === undefined) continue;
      for (const i of page) {
        const b = i?.block;
        if (b === null || b === undefined || seen.has(b) || !b.source.startsWith('wasm')) continue;
        seen.add(b);
        const run = b.run;
        (b as { run: typeof run }).run = (c, left) => {
          const k = run(c, left);
          counter.retired += k;
          counter.entries++;
          return k;
        };
      }
    }
    return n;
  };
  return counter;
}

/** A #PF handler for paging guests (paging-fixtures.ts guest): records CR2 and the error code at DATA + 0xff0, then halts. */
export const PF_HANDLER = `
pf:     mov eax, cr2
        mov [${DATA + 0xff0}], eax
        pop eax
        mov [${DATA + 0xff4}], eax
        hlt`;
