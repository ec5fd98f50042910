import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../../../engine/bus/memory';
import { loadImage } from '../../../../engine/machine/loaders';
import { readDebugLine } from '../../../../engine/machine/loaders/dwarf-line';
import { FIXTURES, fixture, hasTool, readelfLineRows } from './fixtures';

const MiB = 0x100000;
const haveReadelf = hasTool('readelf', ['-v']);

function lines(file: string) {
  return loadImage(new PhysicalMemory(4 * MiB), fixture('elf', file), {}).lines;
}

describe('DWARF .debug_line', () => {
  for (const [file, version] of [
    ['hello.elf', 2],
    ['lines-dwarf4.elf', 4],
    ['lines-dwarf5.elf', 5],
  ] as const) {
    it(`reads version ${version} (${file}): every row readelf decodes, with the file name`, () => {
      const rows = lines(file);
      expect(rows.length).toBeGreaterThan(5);
      const source = file === 'hello.elf' ? 'hello.asm' : 'lines.c';
      for (const r of rows) expect(r.file.endsWith(source)).toBe(true);
      if (haveReadelf) {
        const ours = rows.map((r) => ({ addr: r.addr, line: r.line }));
        const theirs = readelfLineRows(join(FIXTURES, 'elf', file)).sort((a, b) => a.addr - b.addr);
        expect(ours).toEqual(theirs);
      }
    });
  }

  it('joins a version 5 name with its directory entry', () => {
    expect(lines('lines-dwarf5.elf')[0].file).toBe('./lines.c');
  });

  it('runs a hand-built 64-bit DWARF 3 program: directories, set_file, every address opcode, end_sequence', () => {
    const std = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]; // standard_opcode_lengths for opcodes 1..12
    const header = [
      1, // minimum_instruction_length
      1, // default_is_stmt
      0xfb, // line_base -5
      14, // line_range
      13, // opcode_base
      ...std,
      ...ascii('src'), 0, 0, // include_directories: "src"
      ...ascii('a.asm'), 0, 1, 0, 0, // file 1 in directory 1
      ...ascii('/abs/b.inc'), 0, 0, 0, 0, // file 2, absolute
      0,
    ];
    const program = [
      0, 5, 2, 0x00, 0x10, 0x00, 0x00, // DW_LNE_set_address 0x1000
      1, // copy: 0x1000 line 1
      13 + 3 * 14 + 6, // special: addr +3, line +1 -> 0x1003 line 2
      4, 2, // set_file 2
      3, 0x7e, // advance_line -2 -> line 0
      2, 4, // advance_pc 4 -> 0x1007
      1, // copy: 0x1007 line 0, b.inc
      8, // const_add_pc: +17 -> 0x1018
      9, 0x10, 0x00, // fixed_advance_pc 16 -> 0x1028
      5, 7, 6, 7, 10, 11, 12, 1, // set_column, negate_stmt, basic_block, prologue_end, epilogue_begin, set_isa
      3, 10, // advance_line +10 -> line 10
      1, // copy: 0x1028 line 10
      2, 2, // advance_pc -> 0x102a
      0, 1, 1, // end_sequence (no row)
      0, 5, 2, 0x00, 0x08, 0x00, 0x00, // new sequence at 0x800, registers reset
      1, // copy: 0x800 line 1, a.asm
    ];
    const unitBody = [3, 0, ...u64(header.length), ...header, ...program];
    const section = new Uint8Array([0xff, 0xff, 0xff, 0xff, ...u64(unitBody.length), ...unitBody]);
    expect(readDebugLine(section)).toEqual([
      { addr: 0x800, file: 'src/a.asm', line: 1 },
      { addr: 0x1000, file: 'src/a.asm', line: 1 },
      { addr: 0x1003, file: 'src/a.asm', line: 2 },
      { addr: 0x1007, file: '/abs/b.inc', line: 0 },
      { addr: 0x1028, file: '/abs/b.inc', line: 10 },
    ]);
  });

  it('names the problem in a truncated or unsupported unit', () => {
    expect(() => readDebugLine(new Uint8Array([0x40, 0, 0, 0, 2, 0]))).toThrow(/\.debug_line is truncated/);
    expect(() => readDebugLine(new Uint8Array([2, 0, 0, 0, 9, 0]))).toThrow(/DWARF version 9/);
  });
});

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function u64(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, 0, 0, 0, 0];
}
