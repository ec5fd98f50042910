// WebAssembly blocks with paging on (Cpu.wasmPaging; jit/wasm/gen.ts checkAccess): accesses translate through the
// TLB entries the interpreter fills, and a miss, a missing right (a write to a read-only or clean page, a user access
// to a supervisor page) or a page-crossing access leaves for the interpreter, which walks and faults there. Each
// guest runs interpreted and with wasm blocks only, in small slices; state, CR2, icount and memory must be equal,
// and the wasm CPU must have retired instructions in wasm blocks.

import { describe, expect, it } from 'vitest';
import type { TestMachine } from './harness';
import { CR0_WP } from '../../../engine/cpu/cpu';
import { Tlb } from '../../../engine/cpu/protect/tlb';
import { cpuState } from './jit-lockstep-harness';
import { HAS_NASM } from './move-fixtures';
import { countWasmRetired, PF_HANDLER, wasmOnly } from './jit-wasm-harness';
import { A, D, DATA, enablePaging, guest, P, PAGE_TABLE_0, RW, US } from './paging-fixtures';
import { linkedRuns } from '../../../engine/cpu/jit/wasm/link';


function build(body: string, edit: (m: TestMachine) => void): TestMachine {
  const m = guest(`${body}\n        hlt\n${PF_HANDLER}`, { 14: 'pf' });
  enablePaging(m);
  edit(m);
  return m;
}

/** Runs `body` interpreted and with wasm blocks (paging on) in slices of `slice` to its HLT; returns both CPUs. */
function bothWays(body: string, edit: (m: TestMachine) => void = () => undefined, slice = 7): { jit: TestMachine; ref: TestMachine; inWasm: number } {
  const { ref, jit, counter } = pair(body, edit);
  lockstep(ref, jit, slice);
  return { jit, ref, inWasm: counter.retired };
}

/** The guest built twice: a reference interpreting everything, and one with wasm blocks only (paging on). */
function pair(body: string, edit: (m: TestMachine) => void): { ref: TestMachine; jit: TestMachine; counter: { retired: number } } {
  const ref = build(body, edit);
  const jit = build(body, edit);
  ref.cpu.jit = false;
  wasmOnly(jit.cpu);
  jit.cpu.wasmPaging = true;
  return { ref, jit, counter: countWasmRetired(jit.cpu) };
}

/** Runs both machines in slices of `slice` to the reference's HLT, comparing state, CR2, and memory at the end. */
function lockstep(ref: TestMachine, jit: TestMachine, slice: number): void {
  for (let k = 0; k < 200_000 && !ref.cpu.halted; k++) {
    expect(jit.cpu.run(slice)).toBe(ref.cpu.run(slice));
    expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
    expect(jit.cpu.cr2).toBe(ref.cpu.cr2);
  }
  expect(ref.cpu.halted).toBe(true);
  expect(Buffer.compare(ref.mem.u8, jit.mem.u8)).toBe(0);
}

const pte = (page: number): number => (PAGE_TABLE_0 >>> 2) + page;

describe.skipIf(!HAS_NASM)('wasm blocks under paging', () => {
  it('loads and stores through the TLB, on a page mapped to another frame', () => {
    // Linear page 0x50 maps frame 0x60: a block that took linear as physical would read and write the wrong frame.
    const { jit, inWasm } = bothWays(
      `
        mov dword [0x60000], 5
        mov ecx, 400
        xor ebx, ebx
top:    add ebx, [0x50000]
        add dword [0x50004], ecx
        mov [0x50100 + ecx * 4], ebx
        dec ecx
        jnz top`,
      (m) => {
        m.mem.i32[pte(0x50)] = 0x60000 | P | RW | US;
      },
    );
    expect(inWasm).toBeGreaterThan(500);
    expect(jit.mem.i32[0x60004 >>> 2]).toBe((400 * 401) / 2);
  });

  it('a page fault at the instruction a block reaches, with CR2 and the error code', () => {
    // The stores walk up through pages 0x50.. until page 0x58, not present: #PF with CR2 = 0x58000, error code 2.
    const { jit, inWasm } = bothWays(
      `
        mov edi, 0x50000
top:    inc ebx
        mov [edi], ebx
        add edi, 64
        jmp top`,
      (m) => {
        m.mem.i32[pte(0x58)] = 0;
      },
    );
    expect(inWasm).toBeGreaterThan(1000);
    expect(jit.mem.i32[(DATA + 0xff0) >>> 2]).toBe(0x58000);
    expect(jit.mem.i32[(DATA + 0xff4) >>> 2]).toBe(2);
  });

  it('a block that does not repeat: sizes 1, 2 and 4, reads and writes, page ends, a write to a read-only page whose read right the TLB holds, records pending at the exits', () => {
    // `work` is a block of its own that ends at RET (no wasm loop: each access is checked once a run). ESI's dword
    // stores walk into new pages (a TLB miss: the block leaves there with ADD EAX's record pending, which the ADC
    // after reads). EDI's byte stores reach page 0x54, read-only under CR0.WP, whose read right the TLB holds (the
    // read before; in an iteration where ESI's store does not leave first): #PF, error code 3, at the store, with
    // ADD ECX's record pending (the same operation and size as ADD EAX's, other operands). The word at 0x51fff and
    // the dword at 0x50ffe cross into pages mapped to frames that do not follow (0x50 → 0x60, 0x51 → 0x70, 0x52 →
    // itself): they always leave (the word with ADD ECX's record pending, which SBB reads), and a check of the wrong
    // size would read across the frames.
    const { jit, inWasm } = bothWays(
      `
        mov dword [0x60ffc], 0x44332211
        mov dword [0x70000], 0x88776655
        mov dword [0x70ffc], 0xccbbaa99
        mov dword [0x52000], 0x00ffeedd
        mov esi, 0x55000
        mov edi, 0x53f02
        mov ebp, 300
top:    call work
        dec ebp
        jnz top
        mov [${DATA}], ebx
        hlt
work:   mov edx, [0x54004]
        add eax, 0x9abcdef1
        mov [esi], eax
        adc ebx, edx
        add ecx, 0x3456789
        mov [edi], dl
        mov dx, [0x51fff]
        sbb ebx, edx
        add ebx, [0x50ffe]
        xor ecx, eax
        add esi, 64
        add edi, 2
        ret`,
      (m) => {
        m.mem.i32[pte(0x50)] = 0x60000 | P | RW;
        m.mem.i32[pte(0x51)] = 0x70000 | P | RW;
        m.mem.i32[pte(0x54)] = 0x54000 | P | A;
        m.cpu.cr0 |= CR0_WP;
      },
      29, // (slices that hold a run of `work` now and then, at varying places)
    );
    expect(inWasm).toBeGreaterThan(500);
    expect(jit.mem.i32[(DATA + 0xff0) >>> 2]).toBe(0x54000);
    expect(jit.mem.i32[(DATA + 0xff4) >>> 2]).toBe(3);
  });

  it('CMPXCHG8B of a quadword that crosses into a page not present: #PF at it, nothing written to the first page', () => {
    // The quadwords step up by 8 from 0x57804; the one at 0x57FFC has its high dword in page 0x58 (not present).
    const { jit, ref, inWasm } = bothWays(
      `
        mov edi, 0x57804
top:    xor eax, eax
        xor edx, edx
        mov ebx, edi
        lea ecx, [esi + 0x100]
        inc esi
        cmpxchg8b [edi]
        setz [edi - 4]
        add edi, 8
        jmp top`,
      (m) => {
        m.mem.i32[pte(0x58)] = 0;
      },
      1000, // (long slices: the run loop enters a block only when a pass fits, and the last pass must be in wasm)
    );
    expect(inWasm).toBeGreaterThan(500);
    expect(ref.cpu.regs[7]).toBe(0x57ffc);
    expect(jit.mem.i32[0x57ff4 >>> 2]).toBe(0x57ff4); // the last quadword stored, below the page end
    expect(jit.mem.i32[0x57ffc >>> 2]).toBe(0);
    expect(jit.mem.i32[(DATA + 0xff0) >>> 2] >>> 12).toBe(0x58); // (CR2 in the page not present: the interpreter's)
    expect(jit.mem.i32[(DATA + 0xff4) >>> 2]).toBe(2);
  });

  it('a write to a clean page sets its dirty bit, a write to a read-only page faults (CR0.WP)', () => {
    // The loop reads pages 0x51 (clean: A, no D) and 0x52 (read-only), so the TLB holds read rights for both, and
    // stores 64 bytes apart from page 0x50 on: its first store to 0x51 must walk and set D, its first store to 0x52
    // fault with error code 3 (present, write), though a read right for both pages is cached.
    const { jit, inWasm } = bothWays(
      `
        mov esi, 0x50000
        mov ecx, 300
top:    add ebx, [0x51004]
        add ebx, [0x52004]
        mov [esi], ebx
        add esi, 64
        dec ecx
        jnz top`,
      (m) => {
        m.mem.i32[pte(0x51)] = 0x51000 | P | RW | US | A;
        m.mem.i32[pte(0x52)] = 0x52000 | P | US | A;
        m.cpu.cr0 |= CR0_WP; // (the TLB is empty: nothing to flush)
      },
      100, // (long slices: the stores at the page changes run inside the block's loop)
    );
    expect(inWasm).toBeGreaterThan(100);
    expect(jit.mem.i32[pte(0x51)] & D).toBe(D);
    expect(jit.mem.i32[(DATA + 0xff0) >>> 2]).toBe(0x52000);
    expect(jit.mem.i32[(DATA + 0xff4) >>> 2]).toBe(3);
  });

  it('sees a CR3 reload and an INVLPG after the page tables changed', () => {
    // The same loop (one block) sums page 0x50 three times: mapped to frame 0x60, then 0x61 after INVLPG, then 0x62
    // after a CR3 reload. A block reading a translation the flushes dropped would sum the old frame again.
    const { jit, inWasm } = bothWays(
      `
        mov dword [0x60000], 1
        mov dword [0x61000], 10
        mov dword [0x62000], 100
        call sum
        mov dword [${PAGE_TABLE_0 + 0x50 * 4}], 0x61000 | ${P | RW}
        invlpg [0x50000]
        call sum
        mov dword [${PAGE_TABLE_0 + 0x50 * 4}], 0x62000 | ${P | RW}
        mov eax, cr3
        mov cr3, eax
        call sum
        mov [${DATA}], ebx
        hlt
sum:    mov ecx, 200
.l:     add ebx, [0x50000]
        dec ecx
        jnz .l
        ret`,
      (m) => {
        m.mem.i32[pte(0x50)] = 0x60000 | P | RW;
      },
    );
    expect(inWasm).toBeGreaterThan(500);
    expect(jit.mem.i32[DATA >>> 2]).toBe(200 * 111);
  });

  it('an access that crosses into a page mapped elsewhere leaves for the interpreter', () => {
    // A dword at 0x50ffe: two bytes from frame 0x60 (page 0x50), two from frame 0x70 (page 0x51).
    const { jit, inWasm } = bothWays(
      `
        mov dword [0x60ffc], 0x44332211
        mov dword [0x70000], 0x88776655
        mov ecx, 300
top:    add ebx, [0x50ffe]
        add ebx, [0x50000]
        dec ecx
        jnz top
        mov [${DATA}], ebx`,
      (m) => {
        m.mem.i32[pte(0x50)] = 0x60000 | P | RW;
        m.mem.i32[pte(0x51)] = 0x70000 | P | RW;
      },
    );
    expect(inWasm).toBeGreaterThan(500);
    expect(jit.mem.i32[DATA >>> 2]).toBe((300 * 0x66554433) | 0);
  });

  it('a block built on the memory\'s TLB does not translate with it once another TLB is in use', () => {
    // The monitor swaps TLBs (engine/monitor/shadow-paging.ts). After the swap and a remap of page 0x50 from frame
    // 0x60 to 0x61, the new TLB walks to 0x61; a block still reading the memory's TLB would sum frame 0x60.
    const body = `
        mov dword [0x60000], 1
        mov dword [0x61000], 10
        mov ecx, 1000
top:    add ebx, [0x50000]
        dec ecx
        jnz top
        mov [${DATA}], ebx`;
    const edit = (m: TestMachine): void => {
      m.mem.i32[pte(0x50)] = 0x60000 | P | RW;
    };
    const { ref, jit, counter } = pair(body, edit);
    for (let k = 0; k < 10; k++) for (const m of [ref, jit]) m.cpu.run(100);
    const before = counter.retired;
    for (const m of [ref, jit]) {
      m.mem.i32[pte(0x50)] = 0x61000 | P | RW;
      m.cpu.tlb = new Tlb();
    }
    lockstep(ref, jit, 100);
    expect(before).toBeGreaterThan(500);
    expect(jit.mem.i32[DATA >>> 2]).toBe(ref.mem.i32[DATA >>> 2]);
  });

  it('a remap of the next block\'s code page between linked runs: INVLPG and a CR3 reload end the links into it', () => {
    // The loop calls linear 0x50000, whose code (MOV EDX, imm; ADD EBX, EDX; RET) is in frame 0x60 (imm 1), then
    // after an INVLPG in frame 0x61 (imm 10), then after a CR3 reload in frame 0x62 (imm 100). The call's block links
    // into the callee's block; a link that outlived a flush would run the old frame's code.
    const callee = (imm: number): number[] => [0xba, imm, 0, 0, 0, 0x01, 0xd3, 0xc3];
    const { jit } = bothWays(
      `
        mov ecx, 300
top:    add eax, ecx
        call 0x50000
        cmp ecx, 200
        jne .n1
        mov dword [${PAGE_TABLE_0 + 0x50 * 4}], 0x61000 | ${P | RW}
        invlpg [0x50000]
.n1:    cmp ecx, 100
        jne .n2
        mov dword [${PAGE_TABLE_0 + 0x50 * 4}], 0x62000 | ${P | RW}
        mov esi, cr3
        mov cr3, esi
.n2:    dec ecx
        jnz top
        mov [${DATA}], ebx`,
      (m) => {
        m.mem.u8.set(callee(1), 0x60000);
        m.mem.u8.set(callee(10), 0x61000);
        m.mem.u8.set(callee(100), 0x62000);
        m.mem.i32[pte(0x50)] = 0x60000 | P | RW;
      },
      100,
    );
    expect(jit.mem.i32[DATA >>> 2]).toBe(101 * 1 + 100 * 10 + 99 * 100);
    expect(linkedRuns(jit.mem.wasm)).toBeGreaterThan(200);
  });
});
