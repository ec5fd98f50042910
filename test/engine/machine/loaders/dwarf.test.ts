// The DWARF readers on examples/c-kernel/kernel.c built by gcc -m32 in several ways (DWARF 2, 4 and 5; -O0 and
// -O2; .eh_frame or .debug_frame; one text section or one per function, so unit ranges come from
// .debug_ranges/.debug_rnglists), by clang -m32 when installed (DWARF 5 by index), on hand-made location expressions, and on corrupted sections.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSection, parseElf } from '../../../../engine/machine/loaders/elf-file';
import {
  evaluateLocation,
  readDwarf,
  stripType,
  typeName,
  unwindOne,
  type CType,
  type LocationContext,
} from '../../../../engine/machine/loaders/dwarf';
import { readElfSymbols } from '../../../../engine/machine/loaders/elf-symbols';

const ROOT = path.resolve(__dirname, '../../../..');
const SRC = path.join(ROOT, 'examples/c-kernel');
const has = (cc: string): boolean => {
  try {
    execFileSync(cc, ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};
const hasGcc = has('gcc');
/** clang is optional (scripts/debian-packages.txt lists it for CI); its variants say they skipped without it. */
const hasClang = has('clang');

const dir = mkdtempSync(path.join(tmpdir(), 'ringside-dwarf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VARIANTS: Record<string, string[]> = {
  'dwarf5-O0': ['-O0', '-gdwarf-5'],
  'dwarf5-O2-sections': ['-O2', '-gdwarf-5', '-ffunction-sections'],
  'dwarf4-O2-debug-frame': ['-O2', '-gdwarf-4', '-ffunction-sections', '-fno-asynchronous-unwind-tables'],
  'dwarf2-O0': ['-O0', '-gdwarf-2', '-gstrict-dwarf'],
  // clang's DWARF 5 names strings and addresses by index (strx, addrx, .debug_str_offsets, .debug_addr).
  'clang-dwarf5-O0': ['-O0', '-gdwarf-5'],
  'clang-dwarf5-O2': ['-O2', '-gdwarf-5'],
};
const files: Record<string, Uint8Array> = {};

beforeAll(() => {
  if (!hasGcc) return;
  for (const [name, flags] of Object.entries(VARIANTS)) {
    const obj = path.join(dir, `${name}.o`);
    const elf = path.join(dir, `${name}.elf`);
    const cc = name.startsWith('clang') ? 'clang' : 'gcc';
    if (cc === 'clang' && !hasClang) continue;
    execFileSync(cc, ['-m32', '-march=i486', ...flags, '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-mgeneral-regs-only', '-c', '-o', obj, path.join(SRC, 'kernel.c')], { stdio: 'pipe' });
    execFileSync('ld', ['-m', 'elf_i386', '--no-warn-rwx-segments', '-T', path.join(SRC, 'link.ld'), '-o', elf, obj], { stdio: 'pipe' });
    files[name] = readFileSync(elf);
  }
}, 60000);

function load(name: string, warnings: string[] = []) {
  const elf = parseElf(files[name]);
  return { elf, ...readDwarf(elf, (m) => warnings.push(m)), symbols: readElfSymbols(elf) };
}

function member(t: CType, name: string) {
  const s = stripType(t);
  if (s.kind !== 'struct' && s.kind !== 'union') throw new Error('not an aggregate');
  return s.members.find((m) => m.name === name)!;
}

describe.skipIf(!hasGcc)('DWARF from gcc -m32', () => {
  for (const name of Object.keys(VARIANTS)) {
    it.skipIf(name.startsWith('clang') && !hasClang)(`${name}: types, functions, parameters and globals`, () => {
      const warnings: string[] = [];
      const { program, cfi, symbols } = load(name, warnings);
      expect(warnings).toEqual([]);
      expect(program).not.toBeNull();
      const version = program!.info.units[0].version;
      expect(version).toBe(Number(/dwarf(\d)/.exec(name)![1]));
      const entry = program!.findType('struct gdt_entry')!;
      expect(entry).toMatchObject({ kind: 'struct', size: 8 });
      expect(member(entry, 'base_low')).toMatchObject({ offset: 2 });
      expect(member(entry, 'access')).toMatchObject({ offset: 5 });
      // The bitfields, whichever form (DW_AT_data_bit_offset in 4+, DW_AT_bit_offset in 2) describes them.
      expect(member(entry, 'limit_high')).toMatchObject({ bitSize: 4, bitOffset: 48, offset: 6 });
      expect(member(entry, 'flags')).toMatchObject({ bitSize: 4, bitOffset: 52, offset: 6 });
      expect(typeName(member(entry, 'limit_low').type)).toBe('u16');
      const kinds = program!.findType('enum seg_kind')!;
      expect(kinds).toMatchObject({ kind: 'enum', values: [{ name: 'SEG_NULL', value: 0 }, { name: 'SEG_CODE', value: 1 }, { name: 'SEG_DATA', value: 2 }, { name: 'SEG_SCRATCH', value: 3 }] });
      expect(program!.findEnumerator('SEG_DATA')?.value).toBe(2);
      expect(program!.findType('union word_bytes')).toMatchObject({ kind: 'union', size: 4 });
      expect(typeName(program!.findType('u32')!)).toBe('u32');
      expect(program!.isTypedefName('u8')).toBe(true);

      const globals = program!.globals(program!.info.units[0]);
      const gdt = globals.find((g) => g.name === 'gdt')!;
      expect(typeName(gdt.type)).toBe('struct gdt_entry [5]');
      expect(gdt.location.kind).toBe('expr');
      expect(typeName(globals.find((g) => g.name === 'greeting')!.type)).toBe('const char *');
      const handler = program!.findFunction('idt_set')!;
      expect(typeName(handler.params[1].type)).toBe('void (*)(struct interrupt_frame *)');

      const sym = symbols.find((s) => s.name === 'gdt_set')!;
      const fn = program!.functionAt(sym.addr + 1)!;
      expect(fn.name).toBe('gdt_set');
      expect(fn.entry).toBe(sym.addr);
      expect(fn.params.map((p) => p.name)).toEqual(['n', 'base', 'limit', 'access', 'flags']);
      expect(program!.findFunction('walk')!.variables.map((v) => v.name)).toEqual(['mark', 'below']);
      expect(cfi!.rowAt(sym.addr)).toMatchObject({ returnRegister: 8, cfa: { reg: 4, offset: 4 } });
      if (name.includes('O2') && name.startsWith('clang')) {
        // clang names its location lists by index (DW_FORM_loclistx through the unit's offset table).
        const lists = ['gdt_set', 'walk', 'kmain', 'idt_set', 'gdt_load', 'scratch_write']
          .flatMap((f) => { const x = program!.findFunction(f)!; return [...x.params, ...x.variables]; })
          .flatMap((v) => (v.location.kind === 'list' ? [v.location.entries] : []));
        expect(lists.length).toBeGreaterThan(0);
        for (const entries of lists) for (const e of entries) expect(e.high).toBeGreaterThan(e.low);
      }
      if (name.includes('O2')) {
        // At -O2 gcc moves `n` between the stack and EAX: a location list (.debug_loclists in 5, .debug_loc in 4).
        if (!name.startsWith('clang')) expect(fn.params[0].location.kind).toBe('list');
        // puts_e9 and out_byte are inlined into kmain.
        const kmain = program!.findFunction('kmain')!;
        expect(kmain.inlined.map((i) => i.name)).toContain('puts_e9');
      }
      if (name.includes('sections')) {
        // One text section per function: the unit's ranges come from DW_AT_ranges.
        expect(program!.unitForPc(symbols.find((s) => s.name === 'kmain')!.addr)).toBe(program!.info.units[0]);
        const unitRanges = program!.rangesOf(program!.info.root(program!.info.units[0])!);
        expect(unitRanges.length).toBeGreaterThan(5);
        for (const name of ['gdt_set', 'walk', 'kmain']) {
          const at = symbols.find((s) => s.name === name)!.addr;
          expect(unitRanges.some((r) => at >= r.low && at < r.high), name).toBe(true);
        }
      }
    });
  }

  it('unwinds walk → walk → kmain through CFI from a made-up stack', () => {
    const { program, cfi, symbols } = load('dwarf5-O0');
    const walk = symbols.find((s) => s.name === 'walk')!;
    const row = cfi!.rowAt(walk.addr + 3)!;
    // -O0: push ebp; mov ebp, esp; then CFA = EBP + 8, EBP saved at CFA - 8, return address at CFA - 4.
    expect(row.cfa).toMatchObject({ reg: 5, offset: 8 });
    expect(row.regs.get(5)).toEqual({ kind: 'offset', offset: -8 });
    const mem = new Map<number, number>([
      [0x9000, 0x9100], // saved EBP
      [0x9004, walk.addr + 0x20], // return address into walk itself
    ]);
    const values = [1, 2, 3, 4, 0x8ff0, 0x9000, 6, 7, walk.addr + 5];
    const caller = unwindOne({ pc: walk.addr + 5, regs: { values, savedAt: [] }, exactPc: true, how: 'top' }, cfi, (a) => mem.get(a))!;
    expect(caller.pc).toBe(walk.addr + 0x20);
    expect(caller.regs.values[5]).toBe(0x9100);
    expect(caller.regs.savedAt[5]).toBe(0x9000);
    expect(caller.regs.values[4]).toBe(0x9008);
    expect(caller.regs.values[0]).toBeUndefined(); // EAX is not kept across calls
    expect(caller.regs.values[3]).toBe(4); // EBX is
    expect(program!.functionAt(caller.pc - 1)!.name).toBe('walk');
  });

  it('falls back to the EBP chain where no FDE covers the code', () => {
    const mem = new Map<number, number>([[0x7000, 0x7100], [0x7004, 0x1234]]);
    const caller = unwindOne({ pc: 0xdead, regs: { values: [0, 0, 0, 0, 0x6ff0, 0x7000, 0, 0, 0xdead], savedAt: [] }, exactPc: true, how: 'top' }, null, (a) => mem.get(a))!;
    expect(caller).toMatchObject({ pc: 0x1234, how: 'ebp' });
    expect(caller.regs.values[5]).toBe(0x7100);
    expect(caller.regs.values[4]).toBe(0x7008);
  });

  it('a truncated .debug_info, an unknown form and a broken .eh_frame give warnings, not exceptions', () => {
    const bytes = new Uint8Array(files['dwarf5-O0']);
    const elf = parseElf(bytes);
    const abbrev = findSection(elf, '.debug_abbrev')!;
    // The first attribute form of the first abbreviation becomes an unknown form (0x7f).
    let p = abbrev.offset;
    const skipLeb = (): void => {
      while (bytes[p] & 0x80) p++;
      p++;
    };
    skipLeb(); // code
    skipLeb(); // tag
    p++; // children
    skipLeb(); // attribute
    bytes[p] = 0x7f;
    const eh = findSection(elf, '.eh_frame')!;
    bytes.fill(0xff, eh.offset, eh.offset + 8);
    const warnings: string[] = [];
    const d = readDwarf(parseElf(bytes), (m) => warnings.push(m));
    expect(d.program!.functionAt(0x100100)).toBeUndefined();
    expect(d.program!.globals(d.program!.info.units[0])).toEqual([]);
    expect(warnings.join('\n')).toMatch(/unknown attribute form 0x7f/i);
    expect(warnings.join('\n')).toMatch(/\.eh_frame/);

    const cut = new Uint8Array(files['dwarf5-O0']);
    const info = findSection(parseElf(cut), '.debug_info')!;
    cut[info.offset] = 0xff; // unit_length far beyond the section
    cut[info.offset + 1] = 0xff;
    cut[info.offset + 2] = 0xff;
    cut[info.offset + 3] = 0x0f;
    const w2: string[] = [];
    const d2 = readDwarf(parseElf(cut), (m) => w2.push(m));
    expect(d2.program!.unitCount).toBe(0);
    expect(w2.join('\n')).toMatch(/\.debug_info.*truncated/);
  });
});

describe('DWARF location expressions', () => {
  const regs = [0x10, 0x20, 0x30, 0x40, 0x8000, 0x9000, 0x60, 0x70];
  const memory = new Map<number, number>([[0x9008, 0x1234], [0x8ffc, 0x55]]);
  const ctx: LocationContext = {
    reg: (n) => regs[n],
    read: (a, size) => (memory.has(a) ? memory.get(a)! & (size === 4 ? 0xffffffff : (1 << (8 * size)) - 1) : undefined),
    frameBase: () => 0x9008,
    cfa: () => 0x9010,
    entryValue: (inner) => (inner[0] === 0x50 ? 0xabc : undefined),
  };
  const e = (...b: number[]) => evaluateLocation(new Uint8Array(b), ctx);

  it('addresses, registers and frame-relative places', () => {
    expect(e(0x03, 0x00, 0x10, 0x10, 0x00)).toEqual({ kind: 'memory', addr: 0x101000 }); // DW_OP_addr
    expect(e(0x91, 0x7c)).toEqual({ kind: 'memory', addr: 0x9004 }); // DW_OP_fbreg -4
    expect(e(0x75, 0x08)).toEqual({ kind: 'memory', addr: 0x9008 }); // DW_OP_breg5 +8
    expect(e(0x92, 0x04, 0x7c)).toEqual({ kind: 'memory', addr: 0x7ffc }); // DW_OP_bregx esp -4
    expect(e(0x53)).toEqual({ kind: 'register', reg: 3 }); // DW_OP_reg3
    expect(e(0x90, 0x06)).toEqual({ kind: 'register', reg: 6 }); // DW_OP_regx
    expect(e(0x9c)).toEqual({ kind: 'memory', addr: 0x9010 }); // DW_OP_call_frame_cfa
    expect(e(0x75, 0x08, 0x06)).toEqual({ kind: 'memory', addr: 0x1234 }); // deref
  });

  it('values, pieces and entry values', () => {
    expect(e(0x35, 0x9f)).toEqual({ kind: 'value', value: 5 }); // lit5; stack_value
    expect(e(0x08, 0xe9, 0x9f)).toEqual({ kind: 'value', value: 233 }); // const1u 233
    expect(e(0x33, 0x34, 0x1e, 0x31, 0x1c, 0x9f)).toEqual({ kind: 'value', value: 11 }); // 3*4-1
    expect(e(0x9e, 0x02, 0x11, 0x22)).toMatchObject({ kind: 'bytes', bytes: new Uint8Array([0x11, 0x22]) });
    expect(e(0x50, 0x93, 0x04, 0x52, 0x93, 0x04)).toEqual({ kind: 'pieces', pieces: [{ place: { kind: 'register', reg: 0 }, size: 4 }, { place: { kind: 'register', reg: 2 }, size: 4 }] });
    expect(e(0xa3, 0x01, 0x50, 0x9f)).toEqual({ kind: 'value', value: 0xabc }); // entry_value(reg0)
    expect(e(0xa3, 0x01, 0x51, 0x9f)).toMatchObject({ kind: 'optimized' });
  });

  it('unknown operations, bad input and missing state end as optimized out', () => {
    expect(e(0xe0)).toMatchObject({ kind: 'optimized' });
    expect(e(0x03, 0x00)).toMatchObject({ kind: 'optimized' }); // truncated operand
    expect(e(0x1c)).toMatchObject({ kind: 'optimized' }); // minus on an empty stack
    expect(evaluateLocation(new Uint8Array([0x91, 0x00]), { reg: () => undefined, read: () => undefined })).toMatchObject({ kind: 'optimized', why: /frame base/ });
    expect(e(0x2f, 0xfd, 0xff)).toMatchObject({ kind: 'optimized', why: /loops/ }); // skip -3 forever
  });
});
