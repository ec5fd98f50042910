// A store into decoded instructions drops only the instructions it overlaps while no block was built from their page
// (decode/drop-instructions.ts): the page's other instructions stay decoded, the fall-through link into a dropped
// one goes, and the new bytes are what runs next, as with the interpreter's whole-page drop before.

import { describe, expect, it } from 'vitest';
import { guest, runTranslatedAndInterpreted } from './jit-guest';
import { HAS_NASM } from './move-fixtures';

describe.skipIf(!HAS_NASM)('stores into decoded instructions of a page without blocks', () => {
  // B's immediate is patched on every pass by a store further down the loop; A falls through to B.
  const src = `
      mov ecx, 3
      xor esi, esi
      align 16
    top:
      nop                     ; A
      mov eax, 0x11111111     ; B
      add esi, eax
      mov [top + 2], ecx      ; B's immediate
      dec ecx
      jnz top
      hlt
  `;
  const TOP = 0x10000 + 0x10;

  it('run the stored bytes even through the link of the instruction before them', () => {
    const m = guest(src, false);
    m.cpu.run(1000);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.regs[6]).toBe((0x11111111 + 3 + 2) | 0);
  });

  it('keep the page’s other decoded instructions', () => {
    const m = guest(src, false);
    while (m.cpu.eip !== TOP + 8) m.cpu.run(1); // up to the first store
    const a = m.cpu.fetchInstr(TOP);
    const add = m.cpu.fetchInstr(TOP + 6);
    const b = m.cpu.fetchInstr(TOP + 1);
    m.cpu.run(1); // the store into B
    expect(m.cpu.eip).toBe(TOP + 14);
    expect(m.cpu.fetchInstr(TOP)).toBe(a);
    expect(m.cpu.fetchInstr(TOP + 6)).toBe(add);
    expect(m.cpu.fetchInstr(TOP + 1)).not.toBe(b);
    expect(m.cpu.fetchInstr(TOP + 1).imm).toBe(3);
    expect(a.next).toBeNull();
  });

  it('drop every instruction a store overlaps, and one starting inside another', () => {
    // Bytes decoded twice, from two offsets: a jump into the middle of an instruction (the imm32 of B is itself an
    // instruction, `inc eax` ×4 = 40 40 40 40, executed once by jumping to B + 1).
    const m = guest(
      `
      jmp mid
      align 16
    b:
      mov eax, 0x40404040
      hlt
    mid:
      xor eax, eax
      jmp b + 1
    `,
      false,
    );
    const B = 0x10000 + 0x10;
    m.cpu.run(5); // jmp, xor, jmp, inc: both decodings of B's bytes are cached
    const whole = m.cpu.fetchInstr(B);
    const inner = m.cpu.fetchInstr(B + 2);
    const hlt = m.cpu.fetchInstr(B + 5);
    m.cpu.write8(3, B + 3, 0x48); // a byte of both: B's immediate, and the second `inc eax` (now `dec eax`)
    expect(m.cpu.fetchInstr(B)).not.toBe(whole);
    expect(m.cpu.fetchInstr(B + 3)).not.toBe(inner);
    expect(m.cpu.fetchInstr(B + 2)).toBe(inner); // the first `inc eax` ends before the store
    expect(m.cpu.fetchInstr(B + 5)).toBe(hlt);
  });

  it('go whole once a block is built from the page, though the page was found without blocks before', () => {
    // The first stores into B come before any block (the page is remembered as block-free: BlockFreeLists); then
    // the loop's block is built from the page, holding B's immediate as it was. A store into B must now drop the
    // whole page with the block, or the next pass runs the block with the old immediate.
    const m = runTranslatedAndInterpreted(src.replace('mov ecx, 3', 'mov ecx, 300'));
    expect(m.cpu.regs[6]).toBe((0x11111111 + (300 * 301) / 2 - 1) | 0); // B: its own immediate, then ECX 300 … 2
  });
});
