// A store to a code page drops the page's decoded instructions only when it changes one of their bytes
// (decode/code-bytes.ts): data kept beside code (GRUB's LZMA decoder, issue 13) no longer costs a decode of the page
// and its blocks, while self-modifying code is still seen at the next instruction, translated or not.

import { describe, expect, it } from 'vitest';
import { CodeBytes } from '../../../engine/cpu/decode/code-bytes';
import { guest, guestState, ORG, runTranslatedAndInterpreted } from './jit-guest';
import { HAS_NASM } from './move-fixtures';

describe('CodeBytes', () => {
  it('reports a store that overlaps a marked byte, and only such a store', () => {
    const c = new CodeBytes(4);
    c.mark(0x1010, 3); // bytes 0x1010–0x1012
    expect(c.touches(1, 0x100f, 1)).toBe(false);
    expect(c.touches(1, 0x100c, 4)).toBe(false); // ends just before the instruction
    expect(c.touches(1, 0x100d, 4)).toBe(true); // its last byte is the instruction's first
    expect(c.touches(1, 0x1012, 1)).toBe(true);
    expect(c.touches(1, 0x1013, 4)).toBe(false);
    expect(c.touches(0, 0x0, 0x1000)).toBe(false); // a page with nothing marked
    expect(c.touches(1, 0x1000, 0x1000)).toBe(true); // the whole page
  });

  it('looks only at the part of a store inside the page asked about, across words', () => {
    const c = new CodeBytes(4);
    c.mark(0x2000, 1); // the first byte of page 2
    c.mark(0x1fff, 1); // the last byte of page 1
    expect(c.touches(2, 0x1ffe, 4)).toBe(true);
    expect(c.touches(1, 0x1ffe, 1)).toBe(false);
    expect(c.touches(1, 0x1ffe, 4)).toBe(true);
    c.clear(1);
    expect(c.touches(1, 0x1ffe, 4)).toBe(false);
    expect(c.touches(2, 0x1ffe, 4)).toBe(true);
    c.mark(0x2fbf, 2); // bytes 0x2fbf–0x2fc0: across a 32-byte word
    expect(c.touches(2, 0x2f40, 0x7f)).toBe(false); // up to 0x2fbe
    expect(c.touches(2, 0x2f40, 0x80)).toBe(true);
    expect(c.touches(2, 0x2fc0, 1)).toBe(true);
    expect(c.touches(2, 0x2fc1, 0x3f)).toBe(false);
  });
});

describe.skipIf(!HAS_NASM)('stores beside code', () => {
  // A hot loop that keeps a counter in the bytes right after its own code, in the same page.
  const DATA_BESIDE_CODE = `
    mov ecx, 400
    align 16
  top:
    add dword [counter], ecx
    mov eax, [counter]
    dec ecx
    jnz top
    hlt
  counter:
    dd 0
  `;
  const TOP = ORG + 0x10;

  it('keep the decoded instructions and the block of the page, with the interpreter’s result', () => {
    const jit = guest(DATA_BESIDE_CODE, true);
    const ref = guest(DATA_BESIDE_CODE, false);
    jit.cpu.run(200); // the loop head is hot (test threshold 40) and translated
    const block = jit.cpu.fetchInstr(TOP).block;
    expect(block).not.toBeNull();
    const epoch = jit.cpu.codeEpoch;
    expect(jit.cpu.run(100_000) + 200).toBe(ref.cpu.run(100_000));
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    expect(jit.cpu.regs[0]).toBe((400 * 401) / 2);
    // Every pass stored to the page; none of those stores dropped its code.
    expect(jit.cpu.fetchInstr(TOP).block).toBe(block);
    expect(jit.cpu.codeEpoch).toBe(epoch);
  });

  it('a store to a byte of a decoded instruction still drops the page (self-modifying code)', () => {
    // The loop stores to its own `add`'s immediate once, half-way: the next passes add the new immediate.
    const src = `
      mov ecx, 200
      xor esi, esi
      align 16
    top:
      cmp ecx, 100
      jne skip
      mov byte [patch + 2], 5
    skip:
    patch:
      add esi, 1
      mov [spare], ecx
      dec ecx
      jnz top
      hlt
    spare:
      dd 0
    `;
    const jit = runTranslatedAndInterpreted(src);
    expect(jit.cpu.regs[6]).toBe(100 * 1 + 100 * 5);
  });

  it('bytes stored before they are first decoded are decoded as stored', () => {
    // The loop writes the instruction at `later` (a `mov eax, imm32` whose immediate it sets) next to its own code
    // on every pass, and only runs it after the loop.
    const src = `
      mov ecx, 300
      align 16
    top:
      mov byte [later], 0xb8
      mov [later + 1], ecx
      dec ecx
      jnz top
    later:
      times 5 nop
      hlt
    `;
    const jit = runTranslatedAndInterpreted(src);
    expect(jit.cpu.regs[0]).toBe(1); // the last pass stored ECX = 1
  });
});
