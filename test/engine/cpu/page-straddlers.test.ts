// Instructions that straddle a page's end, kept decoded (engine/cpu/decode/straddlers.ts): what a guest changes of
// either half (a store to its first page, a store to its tail, a new mapping of the next linear page, a tail page
// made not present) is seen at the next execution, as it is when the instruction is decoded every time (stepping,
// translation off), and links never lead into or out of one.

import { describe, expect, it } from 'vitest';
import { EAX, ECX, EDX, ESI } from '../../../engine/cpu/cpu';
import { HAS_NASM } from './move-fixtures';
import { invalidatePage } from '../../../engine/cpu/protect/tlb';
import { dword, enablePaging, guest, P, RW, setPte, US } from './paging-fixtures';

const LOOPS = 300; // past the wasm tier's threshold (200 arrivals): blocks are built around the straddler
const PF_LOG = 0x38800;

/**
 * `prelude` then, LOOPS times, `nop` at 0x12FFD falling into `mov eax, 0x11223344` at 0x12FFE (its immediate's
 * last three bytes in the page at 0x13000) and `mov edx, 1` at 0x13003; after each pass ESI accumulates EAX + EDX.
 * Then `change` runs and one more pass, whose EAX and EDX stay in the registers. A #PF logs CR2 and the faulting
 * EIP at PF_LOG and halts.
 */
function straddlerGuest(change: string) {
  const m = guest(
    `
        xor ecx, ecx
        xor esi, esi
again:  mov edi, back
        jmp 0x12ffd
back:   add esi, eax
        add esi, edx
        inc ecx
        cmp ecx, ${LOOPS}
        jb again
${change}
        mov edi, last
        jmp 0x12ffd
last:   hlt
pf:     mov eax, cr2
        mov [${PF_LOG}], eax
        mov eax, [esp + 4]
        mov [${PF_LOG + 4}], eax
        hlt
        times 0x2ffd - ($ - $$) db 0x90
        nop                         ; 0x12FFD
        mov eax, 0x11223344         ; 0x12FFE: B8 44 33 | 22 11
        mov edx, 1                  ; 0x13003: BA 01 00 00 00
        jmp edi`,
    { 14: 'pf' },
  );
  enablePaging(m, P | RW | US, P | RW | US);
  return m;
}

/** Runs `m` to its HLT, freely (`slices` of instructions) or one instruction per run. */
function runToHalt(m: ReturnType<typeof guest>, stepped: boolean): void {
  for (let k = 0; k < 200_000 && !m.cpu.halted; k++) m.cpu.run(stepped ? 1 : 1_000);
  expect(m.cpu.halted).toBe(true);
}

describe.skipIf(!HAS_NASM)('instructions that straddle a page end', () => {
  const cases: { name: string; change: string; eax: number; edx: number; setup?: (m: ReturnType<typeof guest>) => void }[] = [
    { name: 'a store to its tail on the next page', change: 'mov byte [0x13001], 0x55', eax: 0x11553344, edx: 1 },
    { name: 'a store to its first bytes', change: 'mov byte [0x12fff], 0x99', eax: 0x11223399, edx: 1 },
    // A link from the straddler to the next instruction would outlive that instruction's drop.
    { name: 'a store to the instruction after it', change: 'mov byte [0x13004], 2', eax: 0x11223344, edx: 2 },
    {
      // A link into the straddler from the NOP before it would keep the tail read through the old mapping.
      name: 'the next linear page mapped to another frame (INVLPG)',
      change: 'mov dword [0x20104c], 0x14000 | 7\n        invlpg [0x13000]',
      eax: 0x11773344,
      edx: 3,
      setup: (m) => {
        m.mem.u8.copyWithin(0x14000, 0x13000, 0x14000);
        m.mem.u8[0x14001] = 0x77;
        m.mem.u8[0x14004] = 3;
      },
    },
  ];
  for (const c of cases) {
    for (const jit of [true, false]) {
      it(`sees ${c.name} (translation ${jit ? 'on' : 'off'}, the same as stepping)`, () => {
        const results = [false, true].map((stepped) => {
          const m = straddlerGuest(c.change);
          c.setup?.(m);
          m.cpu.jit = jit;
          runToHalt(m, stepped);
          return { eax: m.cpu.regs[EAX] >>> 0, edx: m.cpu.regs[EDX], esi: m.cpu.regs[ESI] >>> 0, icount: m.cpu.icount };
        });
        expect(results[0]).toEqual(results[1]);
        expect(results[0].eax).toBe(c.eax);
        expect(results[0].edx).toBe(c.edx);
        expect(results[0].esi).toBe((LOOPS * 0x11223345) >>> 0);
      });
    }
  }

  it('faults on its tail page made not present, at the straddler with CR2 at the page (translation on and off)', () => {
    for (const jit of [true, false]) {
      const m = straddlerGuest('and dword [0x20104c], ~1\n        invlpg [0x13000]');
      m.cpu.jit = jit;
      runToHalt(m, false);
      expect(dword(m, PF_LOG)).toBe(0x13000);
      expect(dword(m, PF_LOG + 4)).toBe(0x12ffe);
    }
  });

  it('sees a store to its tail after a store beside it on a page with no instruction of its own', () => {
    // JMP rel32 at 0x12FFE (E9 and the displacement's first byte; three bytes at 0x13000): the page at 0x13000 holds
    // nothing decoded but the tail, and must stay a code page after a store elsewhere in it.
    for (const stepped of [false, true]) {
      const m = guest(`
        xor ecx, ecx
        xor eax, eax
again:  jmp 0x12ffe
back:   inc ecx
        cmp ecx, ${LOOPS}
        jb again
        mov byte [0x13800], 1
        mov al, [0x30000]
        mov [0x13000], al
        jmp 0x12ffe
        hlt
        times (back - $$) + 0x100 - ($ - $$) db 0x90
back2:  mov eax, 0xb2
        hlt
        times 0x2ffe - ($ - $$) db 0x90
        jmp near back`);
      enablePaging(m);
      const rel = m.mem.peek(0x12fff, 4) >>> 0;
      const moved = (rel + 0x100) >>> 0;
      expect(moved >>> 16).toBe(rel >>> 16); // only the byte at 0x13000 differs
      m.mem.u8[0x30000] = (moved >>> 8) & 0xff;
      runToHalt(m, stepped);
      expect(m.cpu.regs[EAX]).toBe(0xb2);
      expect(m.cpu.regs[ECX]).toBe(LOOPS);
    }
  });

  it('is kept decoded: running it again decodes nothing', () => {
    const m = straddlerGuest('');
    runToHalt(m, false);
    // Only the straddler's own decode is needed: after the run, fetching it again returns the same record.
    const first = m.cpu.fetchInstr(0x12ffe);
    expect(m.cpu.fetchInstr(0x12ffe)).toBe(first);
    setPte(m, 0x13000, 0x14000 | P | RW | US);
    invalidatePage(m.cpu, 0x13000);
    expect(m.cpu.fetchInstr(0x12ffe)).not.toBe(first);
  });
});
