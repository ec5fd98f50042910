// Tiers: a repeating wasm block that runs long inside itself gives way to the JS block of its head after
// Cpu.wasmToJsAfter instructions (jit/wasm/block.ts retier), in the head's decoded instruction and in its page's
// region; other wasm blocks stay; the run stays the interpreter's throughout; a head where no wasm block can start
// gets its JS block at hotThreshold arrivals (buildTieredBlock); loops that wasm blocks keep inside themselves.

import { describe, expect, it } from 'vitest';
import { NO_BLOCK } from '../../../engine/cpu/jit/block';
import { buildWasmBlock } from '../../../engine/cpu/jit/wasm/block';
import { flat32, type TestMachine } from './harness';
import { cpuState } from './jit-lockstep-harness';
import { assemble, HAS_NASM } from './move-fixtures';

const ORG = 0x10000;

/** A loop of one block that repeats (its branch goes back to its start). */
const REPEATING = `
  mov ecx, 30000
top:
  add eax, ecx
  xor edx, eax
  dec ecx
  jnz top
  hlt
`;

/**
 * A loop of blocks none of which repeats: it crosses a page boundary, where traces end, and the block from the
 * second page (SPLIT_HEAD) ends at the branch back to the first or runs on to the page end; they link inside wasm.
 */
const SPLIT = `
  mov ecx, 3000
  jmp top
  times 0xfd8 - ($ - $$) db 0
top:
  times 20 add eax, ecx
  times 20 xor edx, eax
  dec ecx
  jnz top
  hlt
`;
const SPLIT_HEAD = ORG + 0x1000;

/** A loop through a call and its return. */
const CALLING = `
  mov ecx, 3000
top:
  add eax, ecx
  call sub
  dec ecx
  jnz top
  hlt
sub:
  xor edx, eax
  ret
`;

/** An outer loop that enters its inner loop in the middle, at MID; the inner loop's branch goes back to TOP. */
const INTO_THE_MIDDLE = `
  mov ebx, 60
outer:
  mov ecx, 40
  jmp mid
top:
  add eax, ecx
  rol eax, 3
mid:
  xor edx, eax
  dec ecx
  jnz top
  add esi, edx
  dec ebx
  jnz outer
  hlt
`;
const TOP = ORG + 5 + 5 + 2;
const MID = TOP + 2 + 3;

function pair(source: string): [TestMachine, TestMachine] {
  const code = assemble(source, 32, ORG);
  const ref = flat32(code, ORG, 1 << 20);
  const jit = flat32(code, ORG, 1 << 20);
  ref.cpu.jit = false;
  jit.cpu.wasmBlocks = true;
  jit.cpu.wasmHotThreshold = 2;
  return [ref, jit];
}

function lockstep(ref: TestMachine, jit: TestMachine, slice: number): void {
  while (!ref.cpu.halted) {
    expect(jit.cpu.run(slice)).toBe(ref.cpu.run(slice));
    expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
  }
  expect(Buffer.compare(ref.mem.u8, jit.mem.u8)).toBe(0);
}

describe.skipIf(!HAS_NASM)('wasm and JS tiers', () => {
  /**
   * Runs the pair in `slice`s; whether the block at `at` was seen to be a wasm block, and a JS block after it
   * (`replaced`) or at all (`js`).
   */
  function tiers(source: string, slice: number | ((retired: number) => number), toJs = 2000, at = ORG + 5): { wasm: boolean; replaced: boolean; js: boolean } {
    const [ref, jit] = pair(source);
    jit.cpu.hotThreshold = 1e9;
    jit.cpu.wasmToJsAfter = toJs;
    const head = jit.cpu.fetchInstr(at);
    let wasm: unknown = null;
    let replaced = false;
    let js = false;
    while (!ref.cpu.halted) {
      const n = typeof slice === 'number' ? slice : slice(ref.cpu.icount);
      expect(jit.cpu.run(n)).toBe(ref.cpu.run(n));
      expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
      const b = jit.cpu.fetchInstr(at).block;
      if (b !== null && b.source.startsWith('wasm')) wasm = b;
      else if (b !== null && b !== NO_BLOCK) {
        js = true;
        if (wasm !== null) {
          replaced = true;
          if (b.region !== null) {
            expect(b.region.blocks).toContain(b);
            expect(b.region.blocks).not.toContain(wasm);
          }
        }
      }
    }
    expect(head.block).not.toBeNull();
    expect(Buffer.compare(ref.mem.u8, jit.mem.u8)).toBe(0);
    return { wasm: wasm !== null, replaced, js };
  }

  it('a repeating wasm block that runs long inside itself is replaced by the JS block of its head, in its region too, and the run stays exact', () => {
    expect(tiers(REPEATING, 5000, 20_000)).toEqual({ wasm: true, replaced: true, js: true });
  });

  it('a repeating wasm block whose runs are short stays, and so does a block that does not repeat however long it runs', () => {
    expect(tiers(REPEATING, 37, 20_000)).toEqual({ wasm: true, replaced: false, js: false });
    expect(tiers(SPLIT, 50_000, 20_000, SPLIT_HEAD)).toEqual({ wasm: true, replaced: false, js: false });
  });

  it('the handover asks how long the runs were on average, not the run that reached Cpu.wasmToJsAfter', () => {
    // Long runs (4 999 instructions) up to about 19 990 retired, then runs of 37: the run that reaches 20 000 is short.
    expect(tiers(REPEATING, (retired) => (retired < 19_990 ? 4999 : 37), 20_000)).toEqual({ wasm: true, replaced: true, js: true });
    // Runs of 37, then one long run that reaches 20 000 (mpihelp_addmul_1's loop: 8 passes on average, now and then
    // a long one).
    expect(tiers(REPEATING, (retired) => (retired < 19_000 ? 37 : 20_000), 20_000)).toEqual({ wasm: true, replaced: false, js: false });
  });

  it('a head no block of either tier can start at (REP STOSB with a 16-bit address size) is marked at once: the code after it gets its wasm block', () => {
    const [ref, jit] = pair(`
      mov edx, 100
      mov edi, 0x30000
    top:
      mov ecx, 3
      a16 rep stosb
      add eax, edx
      xor ebx, eax
      dec edx
      jnz top
      hlt
    `);
    jit.cpu.hotThreshold = 300;
    const after = ORG + 10 + 5 + 3; // add eax, edx
    let blockAt = -1;
    while (!ref.cpu.halted) {
      expect(jit.cpu.run(20)).toBe(ref.cpu.run(20));
      const b = jit.cpu.fetchInstr(after).block;
      if (blockAt < 0 && b !== null) {
        blockAt = 100 - jit.cpu.regs[2];
        expect(b.source).toMatch(/^wasm/);
      }
    }
    expect(blockAt).toBeGreaterThan(0);
    expect(blockAt).toBeLessThan(20);
    expect(Buffer.compare(ref.mem.u8, jit.mem.u8)).toBe(0);
  });

  it('a head no wasm block can start at gets its JS block at hotThreshold arrivals, not before', () => {
    // No wasm form in the loop: RCR, LAHF and SAHF would be interpreter calls, the LOOP with CX (a 16-bit
    // address size) ends the trace untranslated, and a block of interpreter calls alone is not built.
    const [ref, jit] = pair(`
      mov ecx, 400
    top:
      rcr eax, 1
      lahf
      sahf
      a16 loop top
      hlt
    `);
    jit.cpu.hotThreshold = 300;
    const top = ORG + 5;
    let firstBlockAt = -1;
    while (!ref.cpu.halted) {
      // (A run's first instruction is no block head: slices long enough for the loop's arrivals to count.)
      expect(jit.cpu.run(20)).toBe(ref.cpu.run(20));
      const b = jit.cpu.fetchInstr(top).block;
      if (firstBlockAt < 0 && b !== null) {
        firstBlockAt = 400 - jit.cpu.regs[1];
        expect(b.source.startsWith('wasm')).toBe(false);
      }
    }
    // Arrivals count at block heads only (the loop head, on passes that do not begin a slice of 20: 4 passes).
    expect(firstBlockAt).toBeGreaterThanOrEqual(299);
    expect(firstBlockAt).toBeLessThanOrEqual(310);
    lockstep(...pair(CALLING), 13);
  });
});

/**
 * Loops in wasm blocks: a wasm block that repeats is a loop head for the traces built after it (compile.ts loopHead:
 * they end there instead of taking a pass in), and a trace that begins inside a loop and falls through to its own
 * start repeats inside its function instead of leaving at every pass. Linux's lib/mpi multiply loops ran one pass
 * per block run, each through the dispatcher, for want of both.
 */
describe.skipIf(!HAS_NASM)('loops in wasm blocks', () => {
  it('a trace reaching a repeating wasm block ends at its head', () => {
    const [ref, jit] = pair(INTO_THE_MIDDLE);
    jit.cpu.hotThreshold = 1e9;
    jit.cpu.wasmToJsAfter = 1e9;
    jit.cpu.wasmHotThreshold = 2;
    lockstep(ref, jit, 1000);
    const top = jit.cpu.fetchInstr(TOP).block!;
    expect(top.source).toBe('wasm: aluEG shiftI aluEG decZ jcc');
    expect(top.repeats).toBe(true);
    // The block at MID (built after TOP's: one arrival an outer pass) leaves for the loop's head rather than take
    // its first instruction in (it would then fall through to its own start).
    const mid = jit.cpu.fetchInstr(MID).block!;
    expect(mid.source).toBe('wasm: aluEG decZ jcc');
    expect(mid.repeats).toBe(false);
  });

  it('a trace that begins inside a loop and falls through to its start repeats inside its block, exactly', () => {
    const [ref, jit] = pair(INTO_THE_MIDDLE);
    jit.cpu.hotThreshold = 1e9;
    jit.cpu.wasmToJsAfter = 1e9;
    jit.cpu.wasmHotThreshold = 1e9;
    // The interpreter first (the inner branch's bias: taken), then the block at MID alone, as a trace cut by its
    // length or an interrupt's return leaves one: its trace takes the inner branch back to TOP and reaches MID
    // again by falling through.
    expect(jit.cpu.run(500)).toBe(ref.cpu.run(500));
    const mid = jit.cpu.fetchInstr(MID);
    const b = buildWasmBlock(jit.cpu, mid, MID)!;
    expect(b.source).toBe('wasm: aluEG decZ jcc aluEG shiftI');
    expect(b.repeats).toBe(true);
    mid.block = b;
    const chained = jit.cpu.chainedBlockRuns;
    // Slices of every length up to a few passes: a pass leaves only where a whole one no longer fits the budget.
    for (let slice = 1; slice <= 13 && !ref.cpu.halted; slice++) {
      expect(jit.cpu.run(slice)).toBe(ref.cpu.run(slice));
      expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
    }
    lockstep(ref, jit, 997);
    // One run of the block an outer pass (about 60): not one a pass of the inner loop (about 2 400).
    expect(jit.cpu.chainedBlockRuns - chained).toBeLessThan(200);
  });
});

/** A loop whose block calls the interpreter for DAA (no wasm form) and goes on after it. */
const CALLING_OUT = `
  mov ecx, 3000
top:
  add eax, ecx
  daa
  xor edx, eax
  dec ecx
  jnz top
  hlt
`;

describe.skipIf(!HAS_NASM)('block modules', () => {
  it('import no function (V8 compiles a wrapper for each module that does); their blocks call the interpreter through their table, exactly', () => {
    const modules: WebAssembly.Module[] = [];
    const Original = WebAssembly.Module;
    WebAssembly.Module = class extends Original {
      constructor(bytes: BufferSource) {
        super(bytes);
        modules.push(this);
      }
    };
    let source = '';
    try {
      const [ref, jit] = pair(CALLING_OUT);
      lockstep(ref, jit, 7);
      source = jit.cpu.fetchInstr(ORG + 5).block!.source;
    } finally {
      WebAssembly.Module = Original;
    }
    expect(source).toMatch(/^wasm: .*!/); // the loop's wasm block, with an interpreter call
    const blockModules = modules.filter((m) => !WebAssembly.Module.exports(m).some((e) => e.name === 'dispatch'));
    expect(blockModules.length).toBeGreaterThan(0);
    for (const m of blockModules) expect(WebAssembly.Module.imports(m).filter((i) => i.kind === 'function')).toEqual([]);
  });
});
