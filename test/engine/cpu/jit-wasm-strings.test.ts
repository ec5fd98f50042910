// String instructions inside WebAssembly blocks (jit/wasm/strings.ts): MOVS, CMPS, STOS, LODS, SCAS once and with
// REP/REPE/REPNE, against the interpreter in small slices — random counts (0 included), DF both ways, every element
// size, overlapping and page-crossing operands (elements straddling a page's end), with paging off and on; faults on
// the Nth iteration (ECX, ESI, EDI and CR2 at that iteration); stores into the block's own code; every budget from 1
// to 40; and interrupts raised between runs delivered at the interpreter's instruction counts.

import { describe, expect, it } from 'vitest';
import type { TestMachine } from './harness';
import { cpuState } from './jit-lockstep-harness';
import { HAS_NASM } from './move-fixtures';
import { countWasmRetired, PF_HANDLER, wasmOnly } from './jit-wasm-harness';
import { DATA, enablePaging, guest, setPte } from './paging-fixtures';


/** Buffers the string operations work in (eight pages) and the per-pass parameter tables. */
const BUF = 0x40000;
const TABLE = 0x60000;

function build(body: string, paging: boolean, edit: (m: TestMachine) => void): TestMachine {
  const m = guest(`${body}\n        hlt\n${PF_HANDLER}`, { 14: 'pf' });
  if (paging) enablePaging(m);
  edit(m);
  return m;
}

/**
 * Runs `body` interpreted and with wasm blocks only, in slices of `slice`, to its HLT: the run's result, state, CR2
 * after every slice and memory at the end must be equal. Returns the wasm CPU's machine and what it retired in wasm.
 */
function bothWays(body: string, opts: { paging: boolean; slice: number; edit?: (m: TestMachine) => void; hot?: number }): { jit: TestMachine; ref: TestMachine; inWasm: number } {
  const edit = opts.edit ?? ((): void => undefined);
  const ref = build(body, opts.paging, edit);
  const jit = build(body, opts.paging, edit);
  ref.cpu.jit = false;
  wasmOnly(jit.cpu);
  if (opts.hot !== undefined) jit.cpu.wasmHotThreshold = opts.hot;
  jit.cpu.wasmPaging = true;
  const counter = countWasmRetired(jit.cpu);
  for (let k = 0; k < 400_000 && !ref.cpu.halted; k++) {
    expect(jit.cpu.run(opts.slice)).toBe(ref.cpu.run(opts.slice));
    expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
    expect(jit.cpu.cr2).toBe(ref.cpu.cr2);
  }
  expect(ref.cpu.halted).toBe(true);
  expect(Buffer.compare(ref.mem.u8, jit.mem.u8)).toBe(0);
  return { jit, ref, inWasm: counter.retired };
}

/** A seeded generator of 32-bit values. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s ^ (s >>> 15)) >>> 0;
  };
}

/**
 * A loop of PASSES passes, each running `op` with ECX, ESI, EDI and DF from the pass's table row (written into both
 * machines by `tables`), then folding ECX, ESI, EDI, EAX and the flags into EBX.
 */
const PASSES = 120;
function loop(op: string): string {
  return `
        mov ebp, ${PASSES}
        mov edi, ${BUF}
        mov ecx, 0x2000
        mov eax, 0x5a5aa5a5
        rep stosd                 ; the buffers' first contents
        mov esi, ${BUF + 0x4000}
        mov ecx, 0x1000
        mov edx, 0x9e3779b9
fill:   mov [esi], edx
        add esi, 4
        rol edx, 5
        dec ecx
        jnz fill
pass:   mov edx, ebp
        shl edx, 4
        mov ecx, [${TABLE} + edx]
        mov esi, [${TABLE} + edx + 4]
        mov edi, [${TABLE} + edx + 8]
        mov eax, [${TABLE} + edx + 12]
        cld
        test eax, 0x100
        jz forward
        std
forward:
        ${op}
        cld
        pushfd
        pop edx
        and edx, 0x8d5
        add ebx, edx
        add ebx, ecx
        rol ebx, 3
        xor ebx, esi
        add ebx, edi
        xor ebx, eax
        dec ebp
        jnz pass`;
}

/**
 * Table rows for `size`-byte elements: counts from 0 to 300 (some 0 and 1), source and destination near page ends
 * (some unaligned, so elements straddle them), overlapping one another by less than a chunk, DF set in a third, and
 * an accumulator value found in the buffer at times (so REPNE SCAS stops early and REPE runs long).
 */
function tables(size: number, seed: number): (m: TestMachine) => void {
  return (m) => {
    const random = generator(seed);
    for (let p = 1; p <= PASSES; p++) {
      const r = random();
      const count = r % 7 === 0 ? 0 : r % 5 === 0 ? 1 : random() % 300;
      const near = (): number => BUF + 0x1000 * (1 + (random() % 6)) + ((random() & 1) === 0 ? -(random() % 40) : random() % 0x1000);
      const src = near();
      const dst = (random() & 3) === 0 ? src + size * ((random() % 9) - 4) + ((random() & 1) * (random() % size)) : near();
      const row = (TABLE >>> 2) + p * 4;
      m.mem.i32[row] = count;
      m.mem.i32[row + 1] = src;
      m.mem.i32[row + 2] = dst;
      // DF (bit 8 of the row's EAX), the accumulator: a value from the buffer half the time.
      const acc = (random() & 1) === 0 ? 0x5a5aa5a5 : random();
      m.mem.i32[row + 3] = ((acc & ~0x100) | (random() % 3 === 0 ? 0x100 : 0)) >>> 0;
    }
  };
}

const FORMS = [
  'rep movsb', 'rep movsw', 'rep movsd', 'rep stosb', 'rep stosw', 'rep stosd',
  'repe cmpsb', 'repe cmpsw', 'repne cmpsd', 'repne scasb', 'repe scasw', 'repne scasd', 'repe scasb',
  'movsb', 'movsd', 'cmpsw', 'stosb', 'lodsw', 'scasb', 'lodsd',
];
const SIZE: Record<string, number> = { b: 1, w: 2, d: 4 };

describe.skipIf(!HAS_NASM)('string instructions in wasm blocks', () => {
  for (const paging of [false, true]) {
    it(`${paging ? 'paging on' : 'paging off'}: every form, random counts, DF both ways, overlapping and page-crossing operands`, () => {
      let seed = paging ? 77 : 5;
      for (const form of FORMS) {
        const { inWasm } = bothWays(loop(form), { paging, slice: 97, edit: tables(SIZE[form.at(-1)!], seed++) });
        expect(inWasm, form).toBeGreaterThan(1000);
      }
    });
  }

  it('every budget from 1 to 40 around a block that repeats a REP STOSD and a REPNE SCASB', () => {
    const body = `
        mov ebp, 60
        mov al, 7
top:    mov edi, ${BUF}
        mov ecx, ebp
        rep stosd
        mov edi, ${BUF + 3}
        mov ecx, 50
        repne scasb
        add ebx, ecx
        dec ebp
        jnz top`;
    for (let slice = 1; slice <= 40; slice++) {
      const { inWasm } = bothWays(body, { paging: true, slice });
      if (slice >= 20) expect(inWasm).toBeGreaterThan(300);
    }
  });

  it('a REP at the head of a block that waits for its batch runs in the interpreter with every iteration counted', () => {
    // With 40 arrivals to build (not wasmOnly's 2), a built block's function waits for its batch while its head is
    // arrived at up to 10 more times, and its first instruction runs in the interpreter meanwhile (block.ts
    // interpretFirst): here a REP STOSD of 50 iterations, reached by a jump, so it heads a block of its own.
    const body = `
        mov ebp, 300
top:    mov edi, ${BUF}
        mov ecx, 50
        jmp rep1
        times 64 nop
rep1:   rep stosd
        add ebx, ecx
        dec ebp
        jnz top`;
    for (const paging of [false, true]) bothWays(body, { paging, slice: 1000, hot: 40 });
  });

  it('a fault on the Nth iteration: ECX, ESI, EDI, CR2 and icount as the interpreter leaves them', () => {
    // The page at BUF + 0x3000 is not present. The loop's last pass starts its REP N elements before that page
    // (forward) or after it (backward), with the source or the destination there, so iteration N + 1 faults; the
    // earlier passes run the same block on a present page. The #PF handler halts.
    const edge = BUF + 0x3000;
    const ok = BUF + 0x800;
    for (const [op, n, backward] of [['movsd', 5, false], ['movsd', 1, false], ['stosd', 37, false], ['movsb', 3, true], ['cmpsw', 9, false], ['scasd', 2, true]] as const) {
      const size = SIZE[op.at(-1)!];
      const at = backward ? edge + 0x1000 + (n - 1) * size : edge - n * size;
      const prefix = op.startsWith('cmps') ? 'repe' : op.startsWith('scas') ? 'repne' : 'rep';
      for (const srcFaults of [false, true]) {
        if (srcFaults && (op.startsWith('stos') || op.startsWith('scas'))) continue; // (no source)
        const body = `
        mov ebp, 30
top:    cmp ebp, 1
        sete dl
        movzx edx, dl
        imul edx, edx, ${at - ok}
        mov esi, ${ok}
        mov edi, ${ok}
        add ${srcFaults ? 'esi' : 'edi'}, edx
        mov ecx, 1000
        xor eax, eax
        ${backward ? 'std' : 'cld'}
        ${prefix} ${op}
        cld
        add ebx, ecx
        dec ebp
        jnz top`;
        // The buffer's bytes are equal, so REPE CMPS runs on to the fault, and REPNE SCAS for 0 too.
        const edit = (m: TestMachine): void => {
          m.mem.u8.fill(1, BUF, BUF + 0x8000);
          setPte(m, edge, edge);
        };
        const { jit, inWasm } = bothWays(body, { paging: true, slice: 50, edit });
        expect(jit.cpu.cr2 >>> 12, `${op} ${n}`).toBe(edge >>> 12);
        expect(jit.cpu.regs[1], `${op} ${n}`).toBe(1000 - n);
        expect(inWasm).toBeGreaterThan(100);
      }
    }
  });

  it('stores into the block\'s own code, with and without REP: the code after the store is the new code', () => {
    // Each pass a REP STOSB (and a MOVSB) writes the immediate of the ADD after it in the same block; the next
    // execution of that ADD adds the new value.
    const body = `
        mov ebp, 300
top:    mov eax, ebp
        and eax, 0x7f
        mov edi, patch + 2
        mov ecx, 1
        rep stosb
patch:  add ebx, 0x11
        mov [${DATA}], al
        mov esi, ${DATA}
        mov edi, patch2 + 2
        movsb
patch2: add ebx, 0x22
        dec ebp
        jnz top`;
    for (const paging of [false, true]) {
      const { jit } = bothWays(body, { paging, slice: 23 });
      expect(jit.cpu.regs[3]).not.toBe(0);
    }
  });

  it('interrupts raised between runs around REP iterations: delivered at the interpreter\'s instruction counts', () => {
    const body = `
        mov ebp, 400
        sti
top:    mov edi, ${BUF}
        mov ecx, 77
        rep stosw
        mov esi, ${BUF}
        mov edi, ${BUF + 0x1000}
        mov ecx, 33
        rep movsd
        dec ebp
        jnz top
        cli`;
    const run = (jit: boolean): { m: TestMachine; delivered: number[] } => {
      const m = guest(`${body}\n        hlt\nirq:    inc esi\n        iretd`, { 31: 'irq' });
      const delivered: number[] = [];
      m.cpu.acknowledgeInterrupt = () => {
        delivered.push(m.cpu.icount);
        m.cpu.setIntrLine(false);
        return 31;
      };
      if (jit) wasmOnly(m.cpu);
      else m.cpu.jit = false;
      for (let k = 0; k < 100_000 && !m.cpu.halted; k++) {
        m.cpu.run(41);
        if (k % 3 === 2 && !m.cpu.halted) m.cpu.setIntrLine(true);
      }
      return { m, delivered };
    };
    const ref = run(false);
    const jit = run(true);
    expect(ref.m.cpu.halted).toBe(true);
    expect(ref.delivered.length).toBeGreaterThan(200);
    expect(jit.delivered).toEqual(ref.delivered);
    expect(cpuState(jit.m.cpu)).toEqual(cpuState(ref.m.cpu));
    expect(Buffer.compare(ref.m.mem.u8, jit.m.mem.u8)).toBe(0);
  });
});
