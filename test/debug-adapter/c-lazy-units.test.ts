// Laziness of the C debugger on a kernel of many compile units (issue 15: "a large kernel's symbols come up in
// about a second"): the first stop, its call stack, scopes and variables, and expressions naming registers read
// the tree of the stopped function's unit alone; a type or enumerator of another unit reads that unit; only the
// "[all compile units]" row reads them all. The row's value says how many units have been read, which is what
// this test checks (bench/c-symbols.mjs gives the times on a kernel of 201 units).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { buildOnce, children, launchStopped, named, ROOT, startClient } from './dap-client';
import { evaluate, hasGcc, scopeOf, stepAndWait, frames } from './c-kernel-helpers';
import { buildManyUnitKernel } from './many-units-kernel';

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

const UNITS = 12;

async function unitsRow(): Promise<string> {
  return named(await scopeOf(dc, 'Globals'), '[all compile units]').value;
}

describe.skipIf(!hasGcc())('C kernel of many units', () => {
  it('reads only the units a stop or an expression needs', async () => {
    const elf = buildManyUnitKernel(ROOT, UNITS, 3);
    const total = UNITS + 1;
    dc = await startClient();
    await launchStopped(dc, { program: elf }, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'gdt_set', condition: 'n == 3' }] });
      expect(r.body.breakpoints[0].verified).toBe(true);
    });
    await stepAndWait(dc, 'continue');
    const st = await frames(dc);
    expect(st.map((f) => f.name).slice(0, 2)).toEqual(['gdt_set', 'kmain']);
    expect(named(await scopeOf(dc, 'Arguments'), 'n').value).toBe('3');
    expect((await scopeOf(dc, 'Locals')).map((v) => v.name)).toEqual(['e', 'low']);
    expect(await unitsRow()).toBe(`${total} units (1 read)`);
    // Names the program does not have (a register) and C on the stopped unit's names read no other unit.
    expect((await evaluate(dc, 'eax')).result).toMatch(/^0x/);
    expect((await evaluate(dc, '(eax)')).result).toMatch(/^0x/);
    expect((await evaluate(dc, 'gdt[1].access')).result).toBe("154 '\\232'");
    expect((await evaluate(dc, 'last_kind == SEG_DATA')).result).toMatch(/true|false/);
    expect(await unitsRow()).toBe(`${total} units (1 read)`);
    // Another unit's type, typedef or enumerator reads that unit, and only it.
    expect(Number((await evaluate(dc, 'sizeof(struct m7_rec)')).result)).toBeGreaterThanOrEqual(10);
    expect(await unitsRow()).toBe(`${total} units (2 read)`);
    expect((await evaluate(dc, '(m7_word)0x1ff')).result).toBe(String(0x1ff));
    expect((await evaluate(dc, 'M9_DONE')).result).toBe('M9_DONE');
    expect(Number((await evaluate(dc, 'M9_DONE + 0')).result)).toBe(2);
    expect(await unitsRow()).toBe(`${total} units (3 read)`);
    // A global of another unit, found through the symbol table's address.
    expect((await evaluate(dc, 'm4_total')).result).toBe('4');
    expect(await unitsRow()).toBe(`${total} units (4 read)`);
    // The row that lists every unit's globals reads them all.
    const all = await children(dc, named(await scopeOf(dc, 'Globals'), '[all compile units]'));
    expect(all.some((u) => u.name.endsWith('/mod11.c'))).toBe(true);
    expect(await unitsRow()).toBe(`${total} units (${total} read)`);
  });
});
