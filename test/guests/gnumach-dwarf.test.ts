// The DWARF readers on a real kernel: Debian's GNU Mach 1.8 for i386 with its debugging information (package
// gnumach-image-1.8-486-dbg; gcc -O2, DWARF 5, 209 compile units, 2.7 MB of .debug_info with location and range
// lists). Ringside cannot run it (it links at 0xC1000000 and boots through a segment base), but its symbols must
// come up the way a stop asks for them: the unit of an address alone, another unit's type or enumerator by reading
// that unit alone, and every unit without a warning when all are read. bench/c-symbols.mjs --reader times it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseElf } from '../../engine/machine/loaders/elf-file';
import { readElfSymbols } from '../../engine/machine/loaders/elf-symbols';
import { readDwarf, stripType, typeName } from '../../engine/machine/loaders/dwarf';
import { i386PackageRoot } from './debian';

const PACKAGE = 'gnumach-image-1.8-486-dbg';
const root = i386PackageRoot(PACKAGE);
if (!root) console.warn(`gnumach-dwarf: skipped: ${PACKAGE} is not unpacked (bash scripts/install-guest-tools.sh)`);

describe.skipIf(!root)('GNU Mach 1.8 (Debian, i386, DWARF 5 at -O2)', () => {
  it('reads the unit of a stop alone, other units by name only when asked, and every unit without a warning', () => {
    const bytes = new Uint8Array(gunzipSync(readFileSync(path.join(root!, 'boot', 'gnumach-1.8-486-dbg.gz'))));
    const elf = parseElf(bytes);
    const symbols = readElfSymbols(elf);
    const warnings: string[] = [];
    const { program, cfi } = readDwarf(elf, (m) => warnings.push(m));
    expect(program!.unitCount).toBe(209);
    expect(program!.info.unitsRead).toBe(0);

    // A stop in c_boot_entry: its function, parameters and its unit's globals, from one unit.
    const entry = symbols.find((s) => s.name === 'c_boot_entry')!;
    const fn = program!.functionAt(entry.addr)!;
    expect(fn.name).toBe('c_boot_entry');
    expect(fn.params.map((p) => p.name)).toEqual(['bi']);
    expect(program!.unitName(fn.unit)).toMatch(/model_dep\.c$/);
    expect(program!.globals(fn.unit).length).toBeGreaterThan(0);
    expect(cfi!.rowAt(entry.addr)).toBeDefined();
    expect(program!.info.unitsRead).toBe(1);

    // Names of other units: the name index finds the one unit that declares each.
    expect(program!.findEnumerator('NO_SUCH_NAME_IN_MACH', fn.unit)).toBeUndefined();
    expect(program!.isTypedefName('eax')).toBe(false);
    expect(program!.info.unitsRead).toBe(1);
    const xsave = program!.findEnumerator('FP_XSAVE', fn.unit)!;
    expect(typeName(xsave.type)).toMatch(/^enum\b|fp_save_kind/);
    expect(program!.info.unitsRead).toBe(2);
    const rtc = program!.findType('struct rtc_st', fn.unit)!;
    expect(stripType(rtc)).toMatchObject({ kind: 'struct' });
    expect(program!.info.unitsRead).toBe(3);
    expect(program!.isTypedefName('vm_offset_t')).toBe(true);

    // Every unit, as the "[all compile units]" view reads them.
    const all = program!.allGlobals();
    expect(all).toHaveLength(209);
    expect(all.reduce((n, u) => n + u.variables.length, 0)).toBeGreaterThan(1000);
    expect(program!.info.unitsRead).toBe(209);
    expect(warnings).toEqual([]);
  });
});
