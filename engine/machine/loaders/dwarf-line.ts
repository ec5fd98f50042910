// DWARF .debug_line: runs each unit's line-number program (DWARF 4 §6.2, DWARF 5 §6.2) and returns one row per
// address with its file and line. Versions 2, 3 and 4 share a header layout; version 5 describes its directory and
// file tables with (content type, form) pairs and may keep path strings in .debug_line_str. 64-bit DWARF (unit
// length 0xFFFFFFFF) is read too. Rows that end a sequence mark the first address after it, not code, so they are
// not returned.

import { ByteReader } from './byte-reader';
import { ImageError, hex } from './image-error';
import type { LineRow } from './types';

// Standard opcodes (DWARF 4 §6.2.5.2).
const DW_LNS_copy = 1;
const DW_LNS_advance_pc = 2;
const DW_LNS_advance_line = 3;
const DW_LNS_set_file = 4;
const DW_LNS_set_column = 5;
const DW_LNS_negate_stmt = 6;
const DW_LNS_set_basic_block = 7;
const DW_LNS_const_add_pc = 8;
const DW_LNS_fixed_advance_pc = 9;
// Extended opcodes (§6.2.5.3).
const DW_LNE_end_sequence = 1;
const DW_LNE_set_address = 2;
const DW_LNE_define_file = 3;
// Version 5 entry formats (§6.2.4.1).
const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;
// Attribute forms (§7.5.6) that may appear in a version 5 line header.
const DW_FORM_block = 0x09;
const DW_FORM_block1 = 0x0a;
const DW_FORM_data1 = 0x0b;
const DW_FORM_data2 = 0x05;
const DW_FORM_data4 = 0x06;
const DW_FORM_data8 = 0x07;
const DW_FORM_data16 = 0x1e;
const DW_FORM_sdata = 0x0d;
const DW_FORM_udata = 0x0f;
const DW_FORM_string = 0x08;
const DW_FORM_strp = 0x0e;
const DW_FORM_line_strp = 0x1f;

export interface DwarfStrings {
  /** .debug_str (DW_FORM_strp). */
  str?: Uint8Array;
  /** .debug_line_str (DW_FORM_line_strp). */
  lineStr?: Uint8Array;
}

interface UnitHeader {
  version: number;
  minInstLength: number;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  standardLengths: number[];
  files: string[];
  /** Index of the first file: 1 before version 5, 0 from version 5 on. */
  fileBase: number;
  programStart: number;
  unitEnd: number;
}

export function readDebugLine(section: Uint8Array, strings: DwarfStrings = {}): LineRow[] {
  const r = new ByteReader(section, '.debug_line');
  const rows: LineRow[] = [];
  let offset = 0;
  while (offset < r.length) {
    const unit = readUnitHeader(r, offset, strings);
    runProgram(r, unit, rows);
    offset = unit.unitEnd;
  }
  // Stable sort keeps the order of rows that share an address (the later one is the statement that starts there).
  return rows.sort((a, b) => a.addr - b.addr);
}

function readUnitHeader(r: ByteReader, unitOffset: number, strings: DwarfStrings): UnitHeader {
  let pos = unitOffset;
  let unitLength = r.u32(pos, 'unit_length');
  pos += 4;
  let offsetSize = 4;
  if (unitLength === 0xffffffff) {
    unitLength = r.u64(pos, 'unit_length (64-bit)');
    pos += 8;
    offsetSize = 8;
  } else if (unitLength >= 0xfffffff0) {
    throw new ImageError(`.debug_line: reserved unit_length ${hex(unitLength)} at offset ${hex(unitOffset)}`);
  }
  const unitEnd = pos + unitLength;
  r.need(pos, unitLength, `the line-number unit at ${hex(unitOffset)}`);
  const version = r.u16(pos, 'version');
  pos += 2;
  if (version < 2 || version > 5) {
    throw new ImageError(`.debug_line: unit at ${hex(unitOffset)} has DWARF version ${version}; versions 2 to 5 are supported`);
  }
  if (version >= 5) pos += 2; // address_size, segment_selector_size
  const headerLength = offsetSize === 8 ? r.u64(pos, 'header_length') : r.u32(pos, 'header_length');
  pos += offsetSize;
  const programStart = pos + headerLength;
  if (programStart > unitEnd) throw new ImageError(`.debug_line: header of the unit at ${hex(unitOffset)} overruns the unit`);
  const minInstLength = r.u8(pos++, 'minimum_instruction_length');
  if (version >= 4) pos++; // maximum_operations_per_instruction: 1 on x86 (no VLIW op_index)
  pos++; // default_is_stmt: every row is returned, statement or not
  const lineBase = r.i8(pos++, 'line_base');
  const lineRange = r.u8(pos++, 'line_range');
  const opcodeBase = r.u8(pos++, 'opcode_base');
  if (lineRange === 0) throw new ImageError(`.debug_line: unit at ${hex(unitOffset)} has line_range 0`);
  const standardLengths = [0];
  for (let i = 1; i < opcodeBase; i++) standardLengths.push(r.u8(pos++, 'standard_opcode_lengths'));

  const tables = version >= 5 ? readTablesV5(r, pos, offsetSize, strings) : readTablesV2(r, pos);
  return {
    version,
    minInstLength,
    lineBase,
    lineRange,
    opcodeBase,
    standardLengths,
    files: tables,
    fileBase: version >= 5 ? 0 : 1,
    programStart,
    unitEnd,
  };
}

function joinPath(dir: string | undefined, name: string): string {
  if (!dir || name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** Versions 2–4: include_directories then file_names, each list ending with an empty string. */
function readTablesV2(r: ByteReader, start: number): string[] {
  let pos = start;
  const dirs: string[] = [''];
  for (;;) {
    const s = r.cstring(pos, 'include_directories');
    pos = s.next;
    if (s.text === '') break;
    dirs.push(s.text);
  }
  const files: string[] = [];
  for (;;) {
    const s = r.cstring(pos, 'file_names');
    pos = s.next;
    if (s.text === '') break;
    const dir = r.uleb(pos, 'file directory index');
    pos = r.uleb(r.uleb(dir.next, 'file mtime').next, 'file length').next;
    // Directory 0 is the compilation directory, which only .debug_info knows; such names stay relative.
    files.push(joinPath(dir.value > 0 ? dirs[dir.value] : undefined, s.text));
  }
  return files;
}

interface EntryFormat {
  type: number;
  form: number;
}

/** Version 5: directories and files are tables of entries described by (content type, form) pairs. */
function readTablesV5(r: ByteReader, start: number, offsetSize: number, strings: DwarfStrings): string[] {
  let pos = start;
  const readFormats = (): EntryFormat[] => {
    const count = r.u8(pos++, 'entry_format_count');
    const formats: EntryFormat[] = [];
    for (let i = 0; i < count; i++) {
      const type = r.uleb(pos, 'entry content type');
      const form = r.uleb(type.next, 'entry form');
      pos = form.next;
      formats.push({ type: type.value, form: form.value });
    }
    return formats;
  };
  const readEntries = (): { path: string; dir: number }[] => {
    const formats = readFormats();
    const count = r.uleb(pos, 'entry count');
    pos = count.next;
    const entries: { path: string; dir: number }[] = [];
    for (let i = 0; i < count.value; i++) {
      const entry = { path: '', dir: 0 };
      for (const f of formats) {
        const v = readForm(r, pos, f.form, offsetSize, strings);
        pos = v.next;
        if (f.type === DW_LNCT_path) entry.path = String(v.value);
        else if (f.type === DW_LNCT_directory_index) entry.dir = Number(v.value);
      }
      entries.push(entry);
    }
    return entries;
  };
  const dirs = readEntries().map((d) => d.path);
  // In version 5 directory 0 is the compilation directory itself, so every relative name can be made whole.
  return readEntries().map((f) => joinPath(dirs[f.dir], f.path));
}

function readForm(
  r: ByteReader,
  pos: number,
  form: number,
  offsetSize: number,
  strings: DwarfStrings,
): { value: string | number; next: number } {
  switch (form) {
    case DW_FORM_string: {
      const s = r.cstring(pos, 'a path string');
      return { value: s.text, next: s.next };
    }
    case DW_FORM_line_strp:
    case DW_FORM_strp: {
      const off = offsetSize === 8 ? r.u64(pos, 'a string offset') : r.u32(pos, 'a string offset');
      const table = form === DW_FORM_line_strp ? strings.lineStr : strings.str;
      const name = form === DW_FORM_line_strp ? '.debug_line_str' : '.debug_str';
      if (!table) throw new ImageError(`.debug_line refers to ${name}, which the file does not have`);
      return { value: new ByteReader(table, name).cstring(off, 'a path string').text, next: pos + offsetSize };
    }
    case DW_FORM_udata: {
      const v = r.uleb(pos, 'a udata value');
      return { value: v.value, next: v.next };
    }
    case DW_FORM_sdata: {
      const v = r.sleb(pos, 'an sdata value');
      return { value: v.value, next: v.next };
    }
    case DW_FORM_data1:
      return { value: r.u8(pos, 'a data1 value'), next: pos + 1 };
    case DW_FORM_data2:
      return { value: r.u16(pos, 'a data2 value'), next: pos + 2 };
    case DW_FORM_data4:
      return { value: r.u32(pos, 'a data4 value'), next: pos + 4 };
    case DW_FORM_data8:
      r.need(pos, 8, 'a data8 value');
      return { value: 0, next: pos + 8 };
    case DW_FORM_data16:
      r.need(pos, 16, 'a data16 value (MD5)');
      return { value: 0, next: pos + 16 };
    case DW_FORM_block: {
      const len = r.uleb(pos, 'a block length');
      r.need(len.next, len.value, 'a block');
      return { value: 0, next: len.next + len.value };
    }
    case DW_FORM_block1: {
      const len = r.u8(pos, 'a block length');
      r.need(pos + 1, len, 'a block');
      return { value: 0, next: pos + 1 + len };
    }
    default:
      throw new ImageError(`.debug_line: form ${hex(form)} in a version 5 file table is not supported`);
  }
}

/** The line-number state machine (§6.2.2), emitting a row on every "append a row" step. */
function runProgram(r: ByteReader, u: UnitHeader, rows: LineRow[]): void {
  let address = 0;
  let file = 1;
  let line = 1;
  const reset = (): void => {
    address = 0;
    file = 1;
    line = 1;
  };
  const files = u.files.slice();
  const fileName = (): string => files[file - u.fileBase] ?? `<file ${file}>`;
  const emit = (): void => {
    rows.push({ addr: address >>> 0, file: fileName(), line });
  };
  let pos = u.programStart;
  while (pos < u.unitEnd) {
    const op = r.u8(pos++, 'a line-number opcode');
    if (op >= u.opcodeBase) {
      // Special opcode: advance address and line together, then append a row (§6.2.5.1).
      const adjusted = op - u.opcodeBase;
      address += Math.floor(adjusted / u.lineRange) * u.minInstLength;
      line += u.lineBase + (adjusted % u.lineRange);
      emit();
      continue;
    }
    switch (op) {
      case 0: {
        const len = r.uleb(pos, 'an extended opcode length');
        const body = len.next;
        const end = body + len.value;
        if (len.value === 0) {
          pos = body;
          break;
        }
        r.need(body, len.value, 'an extended opcode');
        const sub = r.u8(body, 'an extended opcode');
        if (sub === DW_LNE_end_sequence) reset();
        else if (sub === DW_LNE_set_address) {
          address = len.value - 1 >= 4 ? r.u32(body + 1, 'DW_LNE_set_address') : r.u16(body + 1, 'DW_LNE_set_address');
        } else if (sub === DW_LNE_define_file) {
          files.push(r.cstring(body + 1, 'DW_LNE_define_file').text);
        }
        pos = end;
        break;
      }
      case DW_LNS_copy:
        emit();
        break;
      case DW_LNS_advance_pc: {
        const v = r.uleb(pos, 'DW_LNS_advance_pc');
        address += v.value * u.minInstLength;
        pos = v.next;
        break;
      }
      case DW_LNS_advance_line: {
        const v = r.sleb(pos, 'DW_LNS_advance_line');
        line += v.value;
        pos = v.next;
        break;
      }
      case DW_LNS_set_file: {
        const v = r.uleb(pos, 'DW_LNS_set_file');
        file = v.value;
        pos = v.next;
        break;
      }
      case DW_LNS_const_add_pc:
        address += Math.floor((255 - u.opcodeBase) / u.lineRange) * u.minInstLength;
        break;
      case DW_LNS_fixed_advance_pc:
        address += r.u16(pos, 'DW_LNS_fixed_advance_pc');
        pos += 2;
        break;
      case DW_LNS_set_column:
      case DW_LNS_negate_stmt:
      case DW_LNS_set_basic_block:
      default:
        // Opcodes that do not change address, file or line, and any opcode this reader does not know: skip the
        // number of ULEB operands the header declares for it (§6.2.5.2).
        for (let i = 0; i < (u.standardLengths[op] ?? 0); i++) pos = r.uleb(pos, 'a standard opcode operand').next;
        break;
    }
  }
}
