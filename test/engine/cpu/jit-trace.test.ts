// Which instructions a block's trace takes in (jit/compile.ts collectBlock), issue 13: POPF runs inside blocks (the
// range coder of GRUB's LZMA decoder saves CF with PUSHF/POPF around every bit), and at a conditional branch the
// trace goes on in the direction the interpreter saw more often, leaving the block on the other. Each program is
// also run by the interpreter alone, to the same state.

import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../engine/cpu/cpu';
import type { CompiledBlock } from '../../../engine/cpu/jit/block';
import { guest, guestState, ORG, runTranslatedAndInterpreted } from './jit-guest';
import { HAS_NASM } from './move-fixtures';
import { setDefaultWasmBlocks } from '../../../engine/cpu/jit/wasm/block';

// These tests look inside the JS tier's blocks (their source, hoisting, trace shape): its heads are not wasm blocks.
setDefaultWasmBlocks(false);

/** The blocks alive in the decode cache that start in [from, to) (once the run is over: the bytes between are decoded too). */
function blocksIn(cpu: Cpu, from: number, to: number): CompiledBlock[] {
  const out: CompiledBlock[] = [];
  for (let eip = from; eip < to; eip++) {
    try {
      const b = cpu.fetchInstr(eip).block;
      if (b !== null && b.source !== '') out.push(b);
    } catch {
      // the middle of an instruction that does not decode
    }
  }
  return out;
}

describe.skipIf(!HAS_NASM)('block traces', () => {
  it('POPF runs inside a block, with the flags and count the interpreter has', () => {
    // CF is saved around an ADD that changes it, as GRUB's range coder does; ADC then reads the saved CF.
    const src = `
      mov ecx, 300
      xor eax, eax
      xor esi, esi
      align 16
    top:
      bt ecx, 0
      pushfd
      add eax, 0xc0000000
      popfd
      adc esi, 0
      dec ecx
      jnz top
      hlt
    `;
    const jit = runTranslatedAndInterpreted(src);
    expect(jit.cpu.regs[6]).toBe(150); // one carry for every odd ECX
    const [loop] = blocksIn(jit.cpu, ORG + 0x10, ORG + 0x20);
    expect(loop.len).toBe(7); // the whole loop body, POPF included
  });

  it('a usually taken forward branch: the trace goes on at its target and the rare fall-through leaves', () => {
    // `jnz skip` is taken but for every 64th pass; the block from `top` runs through `skip` to the back edge.
    const src = `
      mov ecx, 2000
      xor esi, esi
      xor edi, edi
      align 16
    top:
      test ecx, 63
      jnz skip
      add edi, ecx
    skip:
      add esi, 1
      dec ecx
      jnz top
      hlt
    `;
    const jit = runTranslatedAndInterpreted(src);
    expect(jit.cpu.regs[6]).toBe(2000);
    expect(jit.cpu.regs[7]).toBe((64 * 31 * 32) / 2); // 64 + 128 + … + 1984
    const loop = blocksIn(jit.cpu, ORG + 0x10, ORG + 0x20).find((b) => b.eip === ORG + 0x10);
    expect(loop?.len).toBe(5); // test, jnz, add esi, dec, jnz: `add edi` is not in the trace
    expect(loop?.source).toContain('continue'); // and it repeats inside the block
  });

  it('a branch whose direction changes after the block is built leaves on every pass, exactly', () => {
    // Taken while ECX > 1000 (when the block is built), then never: every later pass leaves at the branch.
    const src = `
      mov ecx, 2000
      xor esi, esi
      xor edi, edi
      align 16
    top:
      cmp ecx, 1000
      ja skip
      add edi, 3
    skip:
      add esi, 1
      dec ecx
      jnz top
      hlt
    `;
    const jit = guest(src, true);
    const ref = guest(src, false);
    // Slices that end anywhere, so budgets end inside the block and at its side exit too.
    for (let k = 1; !ref.cpu.halted; k = (k * 5 + 1) % 89) {
      expect(jit.cpu.run(k + 1)).toBe(ref.cpu.run(k + 1));
      expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    }
    expect(jit.cpu.regs[7]).toBe(3000);
  });
});
