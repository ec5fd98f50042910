// Links between blocks inside wasm (jit/wasm/link.ts, js-link.ts): a loop handed to its JS block is reached from the
// wasm blocks around it through the dispatcher, which goes on after it inside wasm; and the EIP hash table through
// which the dispatcher finds the next block keeps two blocks whose EIPs share a set. Each program runs interpreted
// and with wasm blocks (JS blocks only where a wasm loop is handed over), in lockstep: state, icount and memory
// equal at every slice's end.

import { describe, expect, it } from 'vitest';
import { flat32, type TestMachine } from './harness';
import { cpuState, setInterruptGate } from './jit-lockstep-harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { countWasmRetired, wasmOnly } from './jit-wasm-harness';
import { hashSlot, linkedRuns } from '../../../engine/cpu/jit/wasm/link';

const ORG = 0x10000;
const IDT = 0x800;
/** Offset from ORG of the fault handler, `hlt`. */
const HANDLER = 0x80000;

function machine(source: string): TestMachine {
  const code = assemble(`${source}\ntimes 0x${HANDLER.toString(16)} - ($ - $$) db 0x90\nhandler: hlt`, 32, ORG);
  const m = flat32(code, ORG, 1 << 20);
  m.cpu.idtrBase = IDT;
  m.cpu.idtrLimit = 256 * 8 - 1;
  for (const v of [0, 6, 13]) setInterruptGate(m, v, ORG + HANDLER);
  return m;
}

/**
 * Runs `source` interpreted and with wasm blocks (a repeating wasm block handed to JS after `toJs` retired), in
 * slices of `slice`, to its HLT. Returns the wasm CPU's machine, its wasm block runs entered from JavaScript
 * (`entries`) and the block runs linked inside wasm.
 */
function bothWays(source: string, slice: number, toJs = 20_000): { jit: TestMachine; entries: number; linked: number } {
  const ref = machine(source);
  const jit = machine(source);
  ref.cpu.jit = false;
  wasmOnly(jit.cpu);
  jit.cpu.wasmToJsAfter = toJs;
  const counter = countWasmRetired(jit.cpu);
  for (let k = 0; k < 100_000 && !ref.cpu.halted; k++) {
    expect(jit.cpu.run(slice)).toBe(ref.cpu.run(slice));
    expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
  }
  expect(ref.cpu.halted).toBe(true);
  expect(Buffer.compare(ref.mem.u8, jit.mem.u8)).toBe(0);
  return { jit, entries: counter.entries, linked: linkedRuns(jit.cpu.mem.wasm) };
}

/** The block at `eip` is a JS block (not wasm, not none). */
function jsBlockAt(m: TestMachine, eip: number): boolean {
  const b = m.cpu.fetchInstr(eip).block;
  return b !== null && b.source !== '' && !b.source.startsWith('wasm');
}

/**
 * An outer loop of OUTER passes around an inner loop of 300 passes (1 200 instructions a run: handed to JS), whose
 * flags the code after it reads (ADC: CF of the inner loop's ADD, kept through DEC). `inner` lies in the second
 * page, so the wasm block at `outer` ends where the code leaves its page and the inner loop is a block of its own.
 */
const OUTER = 120;
const NESTED = `
  mov ebx, ${OUTER}
  mov esi, 0x30000
outer:
  mov ecx, 300
  add esi, 4
  jmp inner
  times 0x1000 - ($ - $$) nop
inner:
  add eax, ecx
  xor edx, eax
  dec ecx
  jnz inner
  adc edi, edx
  mov [esi], edi
  dec ebx
  jnz outer
  hlt
`;
const INNER = ORG + 0x1000;

describe.skipIf(!HAS_NASM)('a JS block linked among wasm blocks', () => {
  it('the wasm blocks reach the loop handed to JS and go on after it inside wasm, exactly', () => {
    const { jit, entries, linked } = bothWays(NESTED, 50_000);
    expect(jsBlockAt(jit, INNER)).toBe(true);
    // Three wasm block runs and the JS block's a pass of the outer loop. A return to the run loop before and after
    // each run of the JS block made at least one entry into wasm a pass (OUTER); linked, one or two a slice.
    expect(entries).toBeLessThan(OUTER / 4);
    expect(linked).toBeGreaterThan(OUTER * 2);
  });

  it('budgets that end inside the JS block, before it and after it retire what the interpreter does', () => {
    for (const slice of [13, 299, 1201, 1203, 1210, 4999]) bothWays(NESTED, slice, 5_000);
  });

  it('a fault in the JS block reached through a link is the interpreter fault, after the instructions before it', () => {
    // On the outer pass where EBX reaches 40, the inner loop's DIV (an interpreter call of the JS block) divides by 0:
    // #DE at the DIV, with the wasm blocks' instructions before it in this run counted.
    const { jit } = bothWays(
      `
      mov ebx, 60
    outer:
      mov ecx, 300
      lea ebp, [ebx - 40]
      jmp inner
      times 0x1000 - ($ - $$) nop
    inner:
      mov eax, ecx
      xor edx, edx
      div ebp
      add edi, eax
      dec ecx
      jnz inner
      adc esi, edx
      dec ebx
      jnz outer
      hlt
    `,
      10_000,
    );
    expect(jit.cpu.regs[3]).toBe(40); // halted in the #DE handler on that pass
    expect(jsBlockAt(jit, INNER)).toBe(true);
  });

  it('a store of the JS block into code the run goes on to ends the run there: the new code runs', () => {
    // On one outer pass the inner loop stores into the immediate of the ADD at `patch`, in the other page (the code
    // epoch moves, and the JS block leaves after the store, at `after`). A dispatcher that went on there would link
    // to the wasm block at `after` and, after the loop, to the block of the old ADD: links of the old epoch.
    const { jit } = bothWays(
      `
      mov ebx, 60
    outer:
      mov ecx, 300
      mov edx, 0x30000
      cmp ebx, 30
      jne .data
      mov edx, patch + 2
    .data:
      jmp after
    patch:
      add edi, strict dword 1
      dec ebx
      jnz outer
      hlt
      times 0x1000 - ($ - $$) nop
    inner:
      add eax, ecx
      mov dword [edx], 1000
    after:
      dec ecx
      jnz inner
      jmp patch
    `,
      20_000,
    );
    expect(jit.cpu.regs[7]).toBe(30 + 30 * 1000);
    expect(jsBlockAt(jit, INNER)).toBe(true);
  });
});

describe.skipIf(!HAS_NASM)('the dispatcher’s EIP hash table', () => {
  /** A loop of block `a` at ORG + 0x1000 and block `b` at `bAt`, each in a page of its own, leading to each other. */
  function pingPong(bAt: number): string {
    return `
      mov ecx, 2000
      jmp a
      times 0x1000 - ($ - $$) nop
    a:
      add eax, ecx
      xor edx, eax
      jmp b
      times 0x${(bAt - ORG).toString(16)} - ($ - $$) nop
    b:
      add ebx, edx
      dec ecx
      jnz a
      hlt
    `;
  }
  const A = ORG + 0x1000;

  it('keeps blocks whose EIPs differ in bits k and k + 14 (Linux: c40a4030 and c44a4130) linked', () => {
    // The direct-mapped table indexed by eip ^ eip >>> 14 put both in one entry: each entry into wasm from
    // JavaScript evicted the other, and no run linked.
    const { linked } = bothWays(pingPong(A ^ (1 << 1) ^ (1 << 15)), 5_000);
    expect(linked).toBeGreaterThan(3000);
  });

  it('keeps two blocks whose EIPs share a set linked', () => {
    let b = A + 0x1000;
    while (hashSlot(b) !== hashSlot(A)) b++;
    expect(b).toBeLessThan(ORG + 0x70000);
    const { linked } = bothWays(pingPong(b), 5_000);
    expect(linked).toBeGreaterThan(3000);
  });
});
