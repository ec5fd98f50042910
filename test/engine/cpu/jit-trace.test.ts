// Which instructions a block's trace takes in (jit/compile.ts collectBlock), issue 13: POPF runs inside blocks (the
// range coder of GRUB's LZMA decoder saves CF with PUSHF/POPF around every bit), and at a conditional branch the
// trace goes on in the direction the interpreter saw more often, leaving the block on the other. Each program is
// also run by the interpreter alone, to the same state.

import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../engine/cpu/cpu';
import type { CompiledBlock } from '../../../engine/cpu/jit/block';
import { guest, ORG, runInIrregularBudgets, runTranslatedAndInterpreted } from './jit-guest';
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
    runInIrregularBudgets(jit, ref);
    expect(jit.cpu.regs[7]).toBe(3000);
  });

  // A trace that begins inside a loop (as lib/mpi's multiply loops in Linux did: an earlier block, cut at 64
  // instructions, left in the loop's middle, and that exit became a block head) takes the loop's back branch in
  // its middle and reaches its own start by falling through: the block repeats there instead of leaving each pass.
  // Here \`mid\` is made that head: the program first runs interpreted (the branch learns its direction), then
  // \`mid\` is one arrival short of the threshold while the loop's top has none.
  const FALL_THROUGH_LOOPS: [string, string][] = [
    [
      'its last instruction falls through to its start',
      `
      f:
        jmp mid
      top:
        add esi, ecx
        add edi, esi
        rol edi, 3
      mid:
        dec ecx
        jnz top
        ret
      `,
    ],
    [
      'its last instruction is a branch usually not taken, whose fall-through is its start',
      `
      f:
        jmp mid
      top:
        add esi, ecx
        test esi, 0x40
        jnz rare
      mid:
        dec ecx
        jnz top
        ret
      rare:
        add edi, 1
        jmp mid
      `,
    ],
  ];
  for (const [what, routine] of FALL_THROUGH_LOOPS) {
    it(`a trace that begins in the middle of its loop repeats inside the block: ${what}`, () => {
      const src = `
        mov ebx, 400
        xor esi, esi
        xor edi, edi
      outer:
        mov ecx, 9
        call f
        dec ebx
        jnz outer
        hlt
        align 16
      ${routine}
      `;
      const jit = guest(src, false);
      const ref = guest(src, false);
      expect(jit.cpu.run(2000)).toBe(ref.cpu.run(2000));
      // \`f\` starts at ORG + 0x20 (after \`align 16\`) with \`jmp mid\`.
      const jmp = jit.cpu.fetchInstr(ORG + 0x20);
      const midEip = ORG + 0x20 + jmp.len + jmp.imm;
      jit.cpu.fetchInstr(midEip).hits = jit.cpu.hotThreshold - 1;
      jit.cpu.jit = true;
      runInIrregularBudgets(jit, ref, 97);
      const mid = jit.cpu.fetchInstr(midEip).block;
      expect(mid?.len).toBeGreaterThanOrEqual(5);
      expect(mid!.source).toContain('continue');
    });
  }

  it('a trace that reaches the head of a translated loop leaves for it instead of taking a pass in', () => {
    // The loop at \`top\` is translated first (eleven arrivals a call against one at \`f\`); the block at \`f\` is
    // then the prologue alone, and the loop's block, which repeats from its head, runs every pass.
    const src = `
      mov ebx, 300
      xor esi, esi
    outer:
      mov ecx, 12
      call f
      dec ebx
      jnz outer
      hlt
      align 16
    f:
      push ebp
      mov ebp, esp
      xor eax, eax
    top:
      add eax, ecx
      add esi, eax
      dec ecx
      jnz top
      pop ebp
      ret
    `;
    const jit = guest(src, true);
    const ref = guest(src, false);
    runInIrregularBudgets(jit, ref, 101);
    const entry = jit.cpu.fetchInstr(ORG + 0x20).block;
    expect(entry?.len).toBe(3); // push, mov, xor: not the loop's first pass
    const loop = jit.cpu.fetchInstr(ORG + 0x20 + 1 + 2 + 2).block;
    expect(loop?.repeats).toBe(true);
    expect(loop?.len).toBe(4);
  });

  it('straight-line code longer than a block is translated piece after piece at the next arrival', () => {
    // 150 instructions without a branch, called 60 times: the block at \`f\` (64 of them) is built at the 40th call,
    // and the trace's continuation is as hot, so its block is built when the first block's exit reaches it — not
    // 40 calls later (which this run would never see).
    const src = `
      mov ebx, 60
      xor esi, esi
      xor edi, edi
      mov ecx, 7
    outer:
      call f
      dec ebx
      jnz outer
      hlt
      align 16
    f:
      %rep 75
      add esi, ecx
      xor edi, esi
      %endrep
      ret
    `;
    const jit = runTranslatedAndInterpreted(src);
    const f = ORG + 0x20;
    const pieces = [0, 64, 128].map((k) => jit.cpu.fetchInstr(f + 2 * k).block);
    expect(pieces.map((b) => b?.len)).toEqual([64, 64, 23]); // the last: 22 instructions and the RET
  });
});
