// Bad DWARF never costs the session (issue 15): the sections of a real gcc -O2 kernel are truncated (their size in
// the section header cut short) and corrupted (bytes overwritten) at many points, and with each broken file the
// C debugger must still answer what a stop asks of it — the call stack, every frame's scopes, their variables
// opened a few levels deep, and expressions — with values, fewer views, or warnings, never an exception other
// than an expression's own error. The CPU is the kernel's at a real stop: walk(0) three calls deep.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../engine/machine/machine';
import { Rng } from '../../engine/monitor/random-program';
import { findSection, parseElf } from '../../engine/machine/loaders/elf-file';
import { readElfSymbols } from '../../engine/machine/loaders/elf-symbols';
import { CDebugger } from '../../debug-adapter/c/c-debugger';
import { currentLinear } from '../../debug-adapter/code-reader';
import { cpuContext } from '../../debug-adapter/expression/cpu-values';
import { evaluateExpression } from '../../debug-adapter/expression/evaluate';
import { ExpressionError } from '../../debug-adapter/expression/parse';
import type { Container } from '../../debug-adapter/scopes/variable-store';
import { buildKernel, hasGcc } from './c-kernel-helpers';

const SECTIONS = ['.debug_info', '.debug_abbrev', '.debug_str', '.debug_loclists', '.debug_rnglists', '.debug_aranges', '.eh_frame'];
const EXPRESSIONS = ['n', 'mark[0]', 'below', 'gdt[3].base_low', '*greeting', '&gdt[1]', 'sizeof(struct gdt_entry)', '(u8)n', 'last_kind == SEG_DATA', 'eax', 'magic.bytes[2]'];


let original: Uint8Array;
let machine: Machine;

/** Runs the kernel to the innermost call of walk (n == 0), three levels below the first. */
function stopInWalk(bytes: Uint8Array): Machine {
  const m = new Machine({ memoryMB: 16 });
  m.load(bytes, { format: 'multiboot' });
  const walk = readElfSymbols(parseElf(bytes)).find((s) => s.name === 'walk')!.addr;
  let entries = 0;
  for (let k = 0; k < 200_000 && entries < 4; k++) {
    m.step();
    if (currentLinear(m.cpu) === walk) entries++;
  }
  expect(entries).toBe(4);
  for (let k = 0; k < 6; k++) m.step(); // into the body
  return m;
}

/** Everything a stop asks of the C debugger; returns how many rows it produced. */
function exercise(bytes: Uint8Array, warnings: string[]): number {
  let symbols: ReturnType<typeof readElfSymbols> = [];
  try {
    symbols = readElfSymbols(parseElf(bytes));
  } catch {
    // A broken symbol table is the loader's to report; the C debugger gets none.
  }
  const c = CDebugger.fromFiles([bytes], symbols, (m) => warnings.push(m));
  if (!c) return 0;
  const cpu = machine.cpu;
  let rows = 0;
  const open = (container: Container, depth: number): void => {
    for (const row of container.children(0, 8).slice(0, 8)) {
      rows++;
      expect(typeof row.value).toBe('string');
      if (row.child && depth < 3) open(row.child, depth + 1);
    }
  };
  const frames = c.frames(cpu, []);
  for (let i = 0; i < Math.min(frames.length, 6); i++) {
    for (const scope of c.scopes(cpu, [], i)) {
      if (scope.name === 'Globals') continue; // opened below, once
      open(scope.container, 0);
    }
  }
  const globals = c.scopes(cpu, [], 0).find((s) => s.name === 'Globals');
  if (globals) open(globals.container, 1);
  const symbolMap = new Map(symbols.map((s) => [s.name, s.addr] as const));
  for (const e of EXPRESSIONS) {
    try {
      evaluateExpression(e, c.context(cpu, [], cpuContext(cpu), symbolMap, 0));
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
    }
  }
  return rows;
}

describe.skipIf(!hasGcc())('C debugging on broken DWARF', () => {
  beforeAll(() => {
    original = new Uint8Array(readFileSync(buildKernel('-O2')));
    machine = stopInWalk(original);
  }, 60000);

  it('answers the stack, scopes, variables and expressions of a stop on the intact kernel', () => {
    const warnings: string[] = [];
    const c = CDebugger.fromFiles([original], readElfSymbols(parseElf(original)), (m) => warnings.push(m))!;
    expect(c.frames(machine.cpu, []).map((f) => f.name).slice(0, 5)).toEqual(['walk', 'walk', 'walk', 'walk', 'kmain']);
    expect(exercise(original, warnings)).toBeGreaterThan(40);
    expect(warnings).toEqual([]);
  });

  for (const name of SECTIONS) {
    it(`${name}: truncated at 24 points and corrupted 40 times, every stop still answers`, () => {
      const elf = parseElf(original);
      const section = findSection(elf, name);
      expect(section, `gcc -O2 wrote no ${name}`).toBeDefined();
      const { offset, size, index } = section!;
      const shoff = new DataView(original.buffer, original.byteOffset).getUint32(32, true);
      const sizeField = shoff + index * 40 + 20; // sh_size of an Elf32_Shdr
      const warned = new Set<string>();
      let answered = 0;
      for (let k = 0; k < 24; k++) {
        const bytes = original.slice();
        new DataView(bytes.buffer).setUint32(sizeField, Math.floor((size * k) / 24), true);
        const warnings: string[] = [];
        exercise(bytes, warnings);
        warnings.forEach((w) => warned.add(w));
        answered++;
      }
      const rng = new Rng(size * 31 + index); // xorshift32: the same corruptions on every run
      const next = (): number => rng.next();
      for (let k = 0; k < 40; k++) {
        const bytes = original.slice();
        const flips = 1 + (next() % 6);
        for (let f = 0; f < flips; f++) bytes[offset + (next() % size)] = next() & 0xff;
        const warnings: string[] = [];
        exercise(bytes, warnings);
        warnings.forEach((w) => warned.add(w));
        answered++;
      }
      expect(answered).toBe(64);
      // The damage is reported, each warning one line that names what it concerns.
      expect(warned.size).toBeGreaterThan(0);
      for (const w of warned) expect(w).not.toMatch(/\n|undefined|NaN|\[object/);
    });
  }
});
