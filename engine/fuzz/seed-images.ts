// Valid images of every format the loaders take, built here so the image-loader fuzzer needs no files: a flat
// binary, an ELF executable with symbols and DWARF line info, a Multiboot kernel (a.out kludge) and a Multiboot
// ELF, a 64 KiB ROM and a boot disk. Each runs a few instructions and exits through port 0xF4. The fuzzer mutates
// them; the field offsets they expose are where targeted mutations aim.

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** mov al, code; out 0xF4, al */
const exitWith = (code: number): number[] => [0xb0, code, 0xe6, 0xf4];

export interface SeedImage {
  name: string;
  bytes: Uint8Array;
  /** Offsets of header fields (for targeted mutations): 32-bit fields and 16-bit fields. */
  fields32: number[];
  fields16: number[];
}

const ELF_BASE = 0x100000;
const MULTIBOOT_MAGIC = 0x1badb002;

/**
 * An ELF32 i386 executable: one PT_LOAD of the code at 1 MiB, sections .text, .symtab, .strtab, .debug_line and
 * .shstrtab; `multiboot` puts a Multiboot header (no a.out kludge) at the start of the code.
 */
function elfImage(multiboot: boolean): SeedImage {
  const code: number[] = [];
  if (multiboot) code.push(...le32(MULTIBOOT_MAGIC), ...le32(0), ...le32((-MULTIBOOT_MAGIC) >>> 0));
  const entry = ELF_BASE + code.length;
  code.push(0x90, ...exitWith(5));
  const strtab = [0, ...Buffer.from('_start\0data\0')];
  const symtab = [
    ...new Array(16).fill(0),
    ...le32(1), ...le32(entry), ...le32(5), 0x12, 0, ...le16(1), // _start: FUNC GLOBAL in .text
    ...le32(8), ...le32(ELF_BASE), ...le32(4), 0x11, 0, ...le16(1), // data: OBJECT GLOBAL
  ];
  const line = debugLine(entry);
  const shstr = [0, ...Buffer.from('.text\0.symtab\0.strtab\0.debug_line\0.shstrtab\0')];
  const names = { text: 1, symtab: 7, strtab: 15, line: 23, shstr: 35 };
  // Layout: ehdr (52) | phdr (32) | code | symtab | strtab | debug_line | shstrtab | section headers
  const offCode = 84;
  const offSym = offCode + code.length;
  const offStr = offSym + symtab.length;
  const offLine = offStr + strtab.length;
  const offShstr = offLine + line.length;
  const offSh = (offShstr + shstr.length + 3) & ~3;
  const ehdr = [
    0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, ...new Array(8).fill(0),
    ...le16(2), ...le16(3), ...le32(1), ...le32(entry), ...le32(52), ...le32(offSh), ...le32(0),
    ...le16(52), ...le16(32), ...le16(1), ...le16(40), ...le16(6), ...le16(5),
  ];
  const phdr = [...le32(1), ...le32(offCode), ...le32(ELF_BASE), ...le32(ELF_BASE), ...le32(code.length), ...le32(code.length + 16), ...le32(5), ...le32(0x1000)];
  const sh = (name: number, type: number, flags: number, addr: number, off: number, size: number, link = 0, info = 0, entsize = 0): number[] =>
    [name, type, flags, addr, off, size, link, info, 1, entsize].flatMap(le32);
  const sections = [
    ...new Array(40).fill(0),
    ...sh(names.text, 1, 6, ELF_BASE, offCode, code.length),
    ...sh(names.symtab, 2, 0, 0, offSym, symtab.length, 3, 1, 16),
    ...sh(names.strtab, 3, 0, 0, offStr, strtab.length),
    ...sh(names.line, 1, 0, 0, offLine, line.length),
    ...sh(names.shstr, 3, 0, 0, offShstr, shstr.length),
  ];
  const bytes = new Uint8Array(offSh + sections.length);
  bytes.set(ehdr, 0);
  bytes.set(phdr, 52);
  bytes.set(code, offCode);
  bytes.set(symtab, offSym);
  bytes.set(strtab, offStr);
  bytes.set(line, offLine);
  bytes.set(shstr, offShstr);
  bytes.set(sections, offSh);
  const fields32 = [24, 28, 32, 52 + 4, 52 + 8, 52 + 12, 52 + 16, 52 + 20, offLine, offLine + 6];
  for (let s = 1; s < 6; s++) for (const f of [12, 16, 20, 24, 36]) fields32.push(offSh + s * 40 + f);
  return { name: multiboot ? 'multiboot-elf' : 'elf', bytes, fields32, fields16: [16, 18, 42, 44, 46, 48, 50, offLine + 4] };
}

/** A DWARF 2 line program for one file: rows at `addr` (line 3) and `addr` + 1 (line 4). */
function debugLine(addr: number): number[] {
  const header = [
    1, 1, 0xfb, 14, 13, // min_inst_length, default_is_stmt, line_base −5, line_range, opcode_base
    0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, // standard_opcode_lengths
    0, // no include directories
    ...Buffer.from('seed.asm\0'), 0, 0, 0, 0, // one file, then the end of the list
  ];
  const program = [
    0, 5, 2, ...le32(addr), // DW_LNE_set_address
    3, 2, 1, // advance_line 2; copy
    2, 1, 3, 1, 1, // advance_pc 1; advance_line 1; copy
    2, 4, 0, 1, 1, // advance_pc 4; DW_LNE_end_sequence
  ];
  const afterLength = [...le16(2), ...le32(header.length), ...header, ...program];
  return [...le32(afterLength.length), ...afterLength];
}

function multibootAout(): SeedImage {
  const load = 0x100000;
  const flags = 0x00010000; // MBH_AOUT_KLUDGE
  const header = [MULTIBOOT_MAGIC, flags, (-(MULTIBOOT_MAGIC + flags)) >>> 0, load, load, 0, 0, load + 32];
  const bytes = new Uint8Array(64);
  bytes.set(header.flatMap(le32), 0);
  bytes.set(exitWith(6), 32);
  return { name: 'multiboot-aout', bytes, fields32: [4, 8, 12, 16, 20, 24, 28], fields16: [] };
}

function romImage(): SeedImage {
  const bytes = new Uint8Array(0x10000).fill(0xff);
  bytes.set(exitWith(7), 0xfff0); // the reset vector, F000:FFF0
  return { name: 'rom', bytes, fields32: [0xfff0, 0xfffc], fields16: [0xfff0] };
}

function bootImage(): SeedImage {
  const bytes = new Uint8Array(512 * 4);
  bytes.set([0xfa, ...exitWith(8)], 0);
  bytes[510] = 0x55;
  bytes[511] = 0xaa;
  return { name: 'boot', bytes, fields32: [0, 508], fields16: [510] };
}

function flatImage(): SeedImage {
  return { name: 'bin', bytes: Uint8Array.from([0x31, 0xc0, ...exitWith(9)]), fields32: [0], fields16: [0] };
}

/** One valid image of each kind. */
export function seedImages(): SeedImage[] {
  return [flatImage(), elfImage(false), elfImage(true), multibootAout(), romImage(), bootImage()];
}
