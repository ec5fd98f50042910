// A store to a code page drops the page's decoded instructions only when it changes one of their bytes
// (decode/code-bytes.ts): data kept beside code (GRUB's LZMA decoder, issue 13) no longer costs a decode of the page
// and its blocks, while self-modifying code is still seen at the next instruction, translated or not.

import { describe, expect, it } from 'vitest';
import { CodeBytes } from '../../../engine/cpu/decode/code-bytes';
import { guest, guestState, ORG, runTranslatedAndInterpreted } from './jit-guest';
import { assemble, HAS_NASM } from './move-fixtures';
import { flat32 } from './harness';

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

describe.skipIf(!HAS_NASM)('stores to code of one decode mode', () => {
  // GRUB's BIOS call trampoline (issue 13): 16-bit code that stores the registers into immediates of its own
  // instructions, in the page of 32-bit code that calls it. A 32-bit loop far-calls a 16-bit routine in its page
  // (GDT selector 18h: 16-bit code, base 0) that adds its `mov ax, imm16` to SI and then stores CX into that
  // immediate; the next call adds the stored value.
  const AT = 0x8000; // 16-bit code must lie below 64 KiB
  const src = `
      mov ecx, 300
      xor esi, esi
      align 16
    top:
      call 0x18:far16
      dec ecx
      jnz top
      hlt
      align 64
    bits 16
    far16:
      mov ax, 7
    imm equ $ - 2
      add si, ax
      mov [imm], cx
      o32 retf
  `;
  const TOP = AT + 0x10;
  const BACK = TOP + 7; // after the far call (9A ptr16:32)
  const run = (jit: boolean) => {
    const m = flat32(assemble(src, 32, AT), AT);
    m.cpu.jit = jit;
    return m;
  };

  it('drop only that mode’s decoded instructions: the 32-bit block of the page stays, the result is the interpreter’s', () => {
    const jit = run(true);
    const ref = run(false);
    // The far call's return point (DEC, JNZ) is hot after a few passes (test threshold 40) and translated; fetched
    // as 32-bit code once the CPU is back in it.
    let warm = jit.cpu.run(2_000);
    while (!jit.cpu.code32) {
      jit.cpu.step();
      warm++;
    }
    const block = jit.cpu.fetchInstr(BACK).block;
    expect(block?.eip).toBe(BACK);
    expect(jit.cpu.run(1_000_000) + warm).toBe(ref.cpu.run(1_000_000));
    expect(jit.cpu.halted).toBe(true);
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    // SI: 7 from the first call, then the CX each call stored (300 … 2).
    expect(jit.cpu.regs[6] & 0xffff).toBe((7 + (300 * 301) / 2 - 1) & 0xffff);
    // Every call stored into its 16-bit code; none of those stores dropped the 32-bit instructions or their block.
    expect(jit.cpu.fetchInstr(BACK).block).toBe(block);
  });

  it('a store into a 32-bit instruction still drops it, and a 16-bit one it missed stays', () => {
    const m = run(false);
    const cpu = m.cpu;
    const at32 = cpu.fetchInstr(TOP); // call far, decoded as 32-bit code
    cpu.loadSegmentCache(1, 0x18, 0, 0xffff, 0x80 | 0x10 | 0xb, true, 'loader'); // CS: 16-bit code, base 0
    cpu.modeChanged();
    const far16 = AT + 0x40;
    const at16 = cpu.fetchInstr(far16);
    expect(at16.imm & 0xffff).toBe(7);
    cpu.write8(3, TOP + 1, 0x99); // DS: the far call's offset byte
    expect(cpu.fetchInstr(far16)).toBe(at16);
    cpu.write8(3, far16 + 1, 9); // the 16-bit immediate
    expect(cpu.fetchInstr(far16).imm & 0xffff).toBe(9);
    const c32 = 0x80 | 0x10 | 0xb | 0x4000 | 0x8000;
    cpu.loadSegmentCache(1, 0x08, 0, 0xffffffff, c32, true, 'loader');
    cpu.modeChanged();
    const again = cpu.fetchInstr(TOP);
    expect(again).not.toBe(at32);
    expect(again.len).toBe(at32.len);
  });
});
