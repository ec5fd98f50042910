// Symbols of an ELF .symtab (System V ABI "Symbol Table"): named functions, objects and labels with a section.
// Section and file symbols, undefined symbols and absolute constants (NASM `equ`) name no code address, so they
// are left out.

import { ByteReader } from './byte-reader';
import { ElfFile, sectionBytes } from './elf-file';
import type { ImageSymbol } from './types';

const SHT_SYMTAB = 2;
const SYM_SIZE = 16;
const STT_NOTYPE = 0;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;

export function readElfSymbols(elf: ElfFile): ImageSymbol[] {
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  const strtab = elf.sections[symtab.link];
  if (!strtab) return [];
  const syms = new ByteReader(sectionBytes(elf, symtab), '.symtab');
  const strs = new ByteReader(sectionBytes(elf, strtab), '.strtab');
  const out: ImageSymbol[] = [];
  const entsize = symtab.entsize >= SYM_SIZE ? symtab.entsize : SYM_SIZE;
  for (let o = 0; o + SYM_SIZE <= syms.length; o += entsize) {
    const nameOff = syms.u32(o, 'st_name');
    const value = syms.u32(o + 4, 'st_value');
    const size = syms.u32(o + 8, 'st_size');
    const type = syms.u8(o + 12, 'st_info') & 0xf;
    const shndx = syms.u16(o + 14, 'st_shndx');
    if (type !== STT_NOTYPE && type !== STT_OBJECT && type !== STT_FUNC) continue;
    if (shndx === SHN_UNDEF || shndx >= SHN_LORESERVE || nameOff === 0) continue;
    const name = strs.cstring(nameOff, 'a symbol name').text;
    if (name) out.push({ name, addr: value, size });
  }
  return out.sort((a, b) => a.addr - b.addr || a.name.localeCompare(b.name));
}
