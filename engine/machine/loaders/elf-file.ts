// ELF32 little-endian i386 file structure (System V ABI, ELF format chapter; i386 supplement): the file header,
// program headers and section headers, each checked against the file's bounds before use.

import { ByteReader } from './byte-reader';
import { ImageError, hex } from './image-error';

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const EM_386 = 3;
const EM_486 = 6;
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;

export const PT_LOAD = 1;
export const SHT_NOBITS = 8;
export const SHF_ALLOC = 2;

export interface ElfProgramHeader {
  index: number;
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfFile {
  reader: ByteReader;
  entry: number;
  programHeaders: ElfProgramHeader[];
  sections: ElfSection[];
}

export function hasElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

export function parseElf(bytes: Uint8Array): ElfFile {
  const r = new ByteReader(bytes, 'ELF file');
  if (!hasElfMagic(bytes)) throw new ImageError('not an ELF file (no 7F "ELF" magic)');
  r.need(0, EHDR_SIZE, 'the ELF header');
  const cls = r.u8(4, 'EI_CLASS');
  if (cls !== ELFCLASS32) throw new ImageError(`ELF class ${cls} is not supported: only 32-bit (ELFCLASS32) images run`);
  const data = r.u8(5, 'EI_DATA');
  if (data !== ELFDATA2LSB) throw new ImageError('big-endian ELF is not supported: i386 images are little-endian');
  const type = r.u16(16, 'e_type');
  if (type === ET_REL) throw new ImageError('this ELF file is a relocatable object (ET_REL): link it first (ld -m elf_i386)');
  if (type !== ET_EXEC && type !== ET_DYN) throw new ImageError(`ELF type ${type} is not an executable`);
  const machine = r.u16(18, 'e_machine');
  if (machine !== EM_386 && machine !== EM_486) {
    throw new ImageError(`ELF machine ${machine} is not i386 (EM_386 = 3)`);
  }
  const entry = r.u32(24, 'e_entry');
  const phoff = r.u32(28, 'e_phoff');
  const shoff = r.u32(32, 'e_shoff');
  const phentsize = r.u16(42, 'e_phentsize');
  const phnum = r.u16(44, 'e_phnum');
  const shentsize = r.u16(46, 'e_shentsize');
  const shnum = r.u16(48, 'e_shnum');
  const shstrndx = r.u16(50, 'e_shstrndx');

  const programHeaders: ElfProgramHeader[] =
    phnum === 0
      ? []
      : headerTable(r, 'program header', 'e_phentsize', phoff, phentsize, phnum, PHDR_SIZE, (o, index) => ({
          index,
          type: r.u32(o, 'p_type'),
          offset: r.u32(o + 4, 'p_offset'),
          vaddr: r.u32(o + 8, 'p_vaddr'),
          paddr: r.u32(o + 12, 'p_paddr'),
          filesz: r.u32(o + 16, 'p_filesz'),
          memsz: r.u32(o + 20, 'p_memsz'),
          flags: r.u32(o + 24, 'p_flags'),
        }));

  const sections = parseSections(r, shoff, shentsize, shnum, shstrndx);
  return { reader: r, entry, programHeaders, sections };
}

/**
 * Reads a table of `count` headers of `entsize` bytes at `offset` (program or section headers) after checking that
 * an entry holds the `minSize` bytes the format defines and that the whole table lies within the file.
 */
function headerTable<T>(
  r: ByteReader,
  what: 'program header' | 'section header',
  entsizeField: 'e_phentsize' | 'e_shentsize',
  offset: number,
  entsize: number,
  count: number,
  minSize: number,
  read: (entryOffset: number, index: number) => T,
): T[] {
  if (entsize < minSize) throw new ImageError(`ELF ${entsizeField} ${entsize} is smaller than ${minSize}`);
  if (offset + count * entsize > r.length) {
    throw new ImageError(`ELF ${what} table (${count} entries at ${hex(offset)}) lies outside the file of ${r.length} bytes`);
  }
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(read(offset + i * entsize, i));
  return out;
}

function parseSections(r: ByteReader, shoff: number, shentsize: number, shnum: number, shstrndx: number): ElfSection[] {
  if (shnum === 0 || shoff === 0) return [];
  const raw = headerTable(r, 'section header', 'e_shentsize', shoff, shentsize, shnum, SHDR_SIZE, (o, index) => ({
    index,
    nameOffset: r.u32(o, 'sh_name'),
    type: r.u32(o + 4, 'sh_type'),
    flags: r.u32(o + 8, 'sh_flags'),
    addr: r.u32(o + 12, 'sh_addr'),
    offset: r.u32(o + 16, 'sh_offset'),
    size: r.u32(o + 20, 'sh_size'),
    link: r.u32(o + 24, 'sh_link'),
    entsize: r.u32(o + 36, 'sh_entsize'),
  }));
  for (const s of raw) {
    if (s.type !== SHT_NOBITS && s.type !== 0 && s.offset + s.size > r.length) {
      throw new ImageError(`ELF section ${s.index} (${s.size} bytes at ${hex(s.offset)}) lies outside the file of ${r.length} bytes`);
    }
  }
  const names = shstrndx < raw.length ? raw[shstrndx] : undefined;
  return raw.map(({ nameOffset, ...s }) => ({
    ...s,
    name: names && nameOffset < names.size ? r.cstring(names.offset + nameOffset, 'a section name').text : '',
  }));
}

/** The bytes of a section that has file contents. */
export function sectionBytes(elf: ElfFile, s: ElfSection): Uint8Array {
  return elf.reader.slice(s.offset, s.size, `section ${s.name || s.index}`);
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name && s.type !== SHT_NOBITS);
}
