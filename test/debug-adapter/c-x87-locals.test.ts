// C variables gcc keeps in x87 registers (-m32 -O2 -mfpmath=387: DWARF locations DW_OP_reg11/reg12, ST0/ST1):
// the Locals scope shows their values from the FPU, converted to their C type; a long double shows all the digits
// its 64 bits need; setVariable writes the x87 register. The program is test/fixtures/c-guest/x87-float.c; the
// stops are where its own DWARF says the variable lives in ST(i).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { buildOnce, launchStopped, named, ROOT, startClient } from './dap-client';
import { evaluate, scopeOf, stepAndWait } from './c-kernel-helpers';
import { parseElf } from '../../engine/machine/loaders/elf-file';
import { readDwarf, type FunctionInfo } from '../../engine/machine/loaders/dwarf';

const DIR = path.join(ROOT, 'test/fixtures/c-guest');
const gcc32 = spawnSync('gcc', ['-m32', '-print-libgcc-file-name'], { encoding: 'utf8' });
const HAVE = gcc32.status === 0 && spawnSync('ld', ['-v']).status === 0;

let elf = '';
let dc: DebugClient | undefined;
beforeAll(() => {
  buildOnce();
  if (!HAVE) return;
  const work = mkdtempSync(path.join(tmpdir(), 'ringside-x87-locals-'));
  const obj = path.join(work, 'x87.o');
  elf = path.join(work, 'x87.elf');
  const flags = ['-m32', '-O2', '-g', '-mfpmath=387', '-fexcess-precision=standard', '-fno-math-errno', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-nostdlib'];
  if (spawnSync('gcc', [...flags, '-c', '-o', obj, path.join(DIR, 'x87-float.c')]).status !== 0) throw new Error('gcc failed');
  if (spawnSync('ld', ['-m', 'elf_i386', '-T', path.join(DIR, 'link.ld'), '-o', elf, obj, gcc32.stdout.trim()]).status !== 0) throw new Error('ld failed');
}, 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

const DW_OP_REG11 = 0x5b;

/** The first address where the function's variable `name` lives in ST(i), by the program's own location list. */
function inFpuRegister(fn: FunctionInfo, name: string): { pc: number; st: number } {
  const v = fn.variables.find((x) => x.name === name);
  if (!v || v.location.kind !== 'list') throw new Error(`${fn.name}.${name} has no location list`);
  const e = v.location.entries.find((x) => x.high > x.low && x.expr.length === 1 && x.expr[0] >= DW_OP_REG11 && x.expr[0] < DW_OP_REG11 + 8);
  if (!e) throw new Error(`gcc did not put ${fn.name}.${name} in an x87 register`);
  return { pc: e.low, st: e.expr[0] - DW_OP_REG11 };
}

async function stopAt(pc: number, monitor = false): Promise<DebugClient> {
  const c = await startClient();
  dc = c;
  await launchStopped(c, { program: elf, monitor }, () => c.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x' + pc.toString(16) }] }));
  await stepAndWait(c, 'continue');
  return c;
}

describe.skipIf(!HAVE)('C variables in x87 registers', () => {
  it.each([false, true])('a float in ST(i) reads from the FPU as a float, and setVariable writes the register (monitor %s)', async (monitor) => {
    const d = readDwarf(parseElf(readFileSync(elf)), () => undefined);
    const { pc, st } = inFpuRegister(d.program!.findFunction('float_series')!, 'acc');
    const c = await stopAt(pc, monitor);
    const acc = named(await scopeOf(c, 'Locals'), 'acc');
    // What acc can be: float_series(1.25f, 12) computed here with every assignment rounded to float.
    const seen = new Set<number>([1]);
    for (let i = 0, a = 1; i < 12; i++) {
      const term = Math.fround(a * 1.25 + 0.5);
      a = Math.fround(term / (i + 1));
      seen.add(a);
    }
    expect(acc.type).toBe('float');
    expect(seen.has(Number(acc.value)), acc.value).toBe(true);
    // The register itself holds the same value (here exactly a float's).
    const reg = (await evaluate(c, `st${st}.value`)).result;
    expect(Math.fround(Number(reg))).toBe(Number(acc.value));

    const locals = (await c.scopesRequest({ frameId: (await c.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].id })).body.scopes.find((s) => s.name === 'Locals')!;
    const set = await c.setVariableRequest({ variablesReference: locals.variablesReference, name: 'acc', value: '0.1' });
    expect(set.body.value).toBe('0.1');
    // Written as the float 0.1f widened: the register holds 0x3ffbcccccd0000000000.
    expect((await evaluate(c, `st${st}.raw`)).result).toBe('"0x3ffbcccccd0000000000"');
  }, 30000);

  it('a long double in ST(i) shows every digit of its 80 bits', async () => {
    const d = readDwarf(parseElf(readFileSync(elf)), () => undefined);
    const { pc, st } = inFpuRegister(d.program!.findFunction('cube_root')!, 'x');
    const c = await stopAt(pc);
    const x = named(await scopeOf(c, 'Locals'), 'x');
    expect(x.type).toBe('long double');
    const reg = (await evaluate(c, `st${st}`)).result;
    // `ST0 = 4115.226 (R7 valid 0x…)`: the register's decimal is the variable's, digit for digit.
    expect(reg.startsWith(`ST${st} = ${x.value} (`), `${reg} vs ${x.value}`).toBe(true);
    expect(x.value).not.toMatch(/optimized|available/);
  }, 30000);
});
