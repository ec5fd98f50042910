// Optimized C as gcc -m32 -O2 (DWARF 5) describes it (issue 15): location lists (.debug_loclists) that move a
// variable between registers and say where it has no location (<optimized out>), a 64-bit variable in EDX:EAX
// (DW_OP_piece), and register arguments the callee overwrites (DW_OP_entry_value), recovered from the caller's
// DW_TAG_call_site_parameter as gdb does. The kernel (test/fixtures/c/optimized.c) runs instruction by instruction
// and every view of its variables is checked at every instruction of the two functions.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../engine/machine/machine';
import { parseElf } from '../../engine/machine/loaders/elf-file';
import { readElfSymbols } from '../../engine/machine/loaders/elf-symbols';
import { CDebugger } from '../../debug-adapter/c/c-debugger';
import { currentLinear } from '../../debug-adapter/code-reader';
import { ROOT } from './dap-client';
import { hasGcc, KERNEL_DIR } from './c-kernel-helpers';

let bytes: Uint8Array;

function build(): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringside-optimized-'));
  const obj = path.join(dir, 'optimized.o');
  const elf = path.join(dir, 'optimized.elf');
  execFileSync('gcc', ['-m32', '-march=i486', '-O2', '-g', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-mgeneral-regs-only', '-c', '-o', obj, path.join(ROOT, 'test/fixtures/c/optimized.c')], { stdio: 'pipe' });
  execFileSync('ld', ['-m', 'elf_i386', '--no-warn-rwx-segments', '-T', path.join(KERNEL_DIR, 'link.ld'), '-o', elf, obj], { stdio: 'pipe' });
  return new Uint8Array(readFileSync(elf));
}

/** Steps the kernel through function `name` (entry to return) and records `rows()` at each instruction. */
function trace(name: string): { pc: number; scope: Record<string, Record<string, string>> }[] {
  const symbols = readElfSymbols(parseElf(bytes));
  const fn = symbols.find((s) => s.name === name)!;
  const m = new Machine({ memoryMB: 16 });
  m.load(bytes, { format: 'multiboot' });
  const warnings: string[] = [];
  const c = CDebugger.fromFiles([bytes], symbols, (w) => warnings.push(w))!;
  for (let k = 0; k < 10_000 && currentLinear(m.cpu) !== fn.addr; k++) m.step();
  expect(currentLinear(m.cpu)).toBe(fn.addr);
  const out: { pc: number; scope: Record<string, Record<string, string>> }[] = [];
  for (let k = 0; k < 200; k++) {
    const pc = currentLinear(m.cpu);
    if (pc < fn.addr || pc >= fn.addr + fn.size) break;
    c.invalidate();
    const scope: Record<string, Record<string, string>> = {};
    for (const s of c.scopes(m.cpu, [], 0)) {
      if (s.name === 'Globals') continue;
      scope[s.name] = Object.fromEntries(s.container.children().map((r) => [r.name, r.value]));
    }
    out.push({ pc, scope });
    m.step();
  }
  expect(warnings).toEqual([]);
  return out;
}

describe.skipIf(!hasGcc())('optimized C (gcc -m32 -O2)', () => {
  beforeAll(() => {
    bytes = build();
  }, 60000);

  it('register arguments keep their values after the callee overwrites them, through the call site (entry_value)', () => {
    const steps = trace('mix');
    expect(steps.length).toBeGreaterThanOrEqual(5);
    // At every instruction, from the entry to the RET: a = 7, b = 8, c = 9, whether in EAX/EDX/ECX or, once
    // overwritten (imul, the asm clobber), as DW_OP_entry_value of the register the caller's call site fills.
    for (const s of steps) expect(s.scope.Arguments, `at ${s.pc.toString(16)}`).toEqual({ a: '7', b: '8', c: '9' });
  });

  it('a 64-bit variable in EDX:EAX (pieces), and <optimized out> where the location list has no entry', () => {
    const steps = trace('wide');
    const acc = steps.map((s) => s.scope.Locals?.acc);
    // Before the multiplication the accumulator has no location: gcc's list starts after it.
    expect(acc[0]).toBe('<optimized out>');
    // Where it has one, it is one of the values the loop goes through: x*3, then acc*5 + i for i = 0, 1, 2.
    const x = 0x100000001n;
    const legal = [x * 3n];
    for (let i = 0n; i < 3n; i++) legal.push(legal[legal.length - 1] * 5n + i);
    const shown = acc.filter((v) => v !== '<optimized out>');
    expect(shown.length).toBeGreaterThan(5);
    for (const v of shown) expect(legal.map(String)).toContain(v);
    // The last value reached the loop's end.
    expect(shown).toContain(String(legal[3]));
    // `k` (on the stack) is readable at every instruction; `i` is a location-list constant then a register.
    for (const s of steps) expect(s.scope.Arguments.k).toBe('3');
  });
});
