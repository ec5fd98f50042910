// ELF32 executables: PT_LOAD segments at their physical addresses (p_paddr) with the bss part zero-filled, the
// entry point, symbols and DWARF line rows. Higher-half kernels link at one virtual address and load at another;
// placing by p_paddr is what a boot loader does, and symbols and lines stay virtual, as EIP will be.

import type { PhysicalMemory } from '../../bus/memory';
import { readDebugLine } from './dwarf-line';
import { ElfFile, ElfProgramHeader, findSection, parseElf, PT_LOAD, SHF_ALLOC, sectionBytes } from './elf-file';
import { readElfSymbols } from './elf-symbols';
import { ImageError, hex } from './image-error';
import { checkPlacement, flat32Start, placeBytes, realModeStart } from './placement';
import type { ImageSymbol, LineRow, LoadedImage, LoadedSegment, LoadOptions } from './types';

/** Loads every PT_LOAD segment; returns the placements, named after the sections they hold. */
export function loadElfSegments(mem: PhysicalMemory, elf: ElfFile): LoadedSegment[] {
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  if (loads.length === 0) throw new ImageError('the ELF file has no loadable (PT_LOAD) segment');
  const names = loads.map((p) => segmentName(elf, p));
  // Check every segment before writing any, so a bad image leaves memory untouched.
  loads.forEach((p, i) => {
    if (p.filesz > p.memsz) {
      throw new ImageError(`ELF program header ${p.index}: p_filesz ${hex(p.filesz)} exceeds p_memsz ${hex(p.memsz)}`);
    }
    if (p.offset + p.filesz > elf.reader.length) {
      throw new ImageError(
        `ELF program header ${p.index}: segment data (${p.filesz} bytes at file offset ${hex(p.offset)}) lies outside the file of ${elf.reader.length} bytes`,
      );
    }
    checkPlacement(mem, p.paddr, p.memsz, names[i]);
  });
  return loads.map((p, i) => placeBytes(mem, p.paddr, elf.reader.bytes.subarray(p.offset, p.offset + p.filesz), names[i], p.memsz));
}

function segmentName(elf: ElfFile, p: ElfProgramHeader): string {
  const inside = elf.sections.filter(
    (s) => (s.flags & SHF_ALLOC) !== 0 && s.size > 0 && s.addr >= p.vaddr && s.addr + s.size <= p.vaddr + p.memsz,
  );
  return inside.length > 0 ? inside.map((s) => s.name).join(' ') : `segment ${p.index}`;
}

/**
 * DWARF line rows. A .debug_line that cannot be read costs the source view, not the image: the problem is logged
 * into `warnings`, which LoadedImage carries to the debugger's Debug Console and no rows are returned.
 */
export function readElfLines(elf: ElfFile, warnings: string[] = []): LineRow[] {
  const line = findSection(elf, '.debug_line');
  if (!line) return [];
  const str = findSection(elf, '.debug_str');
  const lineStr = findSection(elf, '.debug_line_str');
  try {
    return readDebugLine(sectionBytes(elf, line), {
      str: str && sectionBytes(elf, str),
      lineStr: lineStr && sectionBytes(elf, lineStr),
    });
  } catch (e) {
    warnings.push(`${(e as Error).message}; the image has no source lines`);
    return [];
  }
}

/** Symbols and line rows of an ELF file without loading it (the launch attribute `symbols`). */
export function readElfDebugInfo(bytes: Uint8Array, warnings: string[] = []): { symbols: ImageSymbol[]; lines: LineRow[] } {
  const elf = parseElf(bytes);
  return { symbols: readElfSymbols(elf), lines: readElfLines(elf, warnings) };
}

export function loadElf(mem: PhysicalMemory, bytes: Uint8Array, opts: LoadOptions): LoadedImage {
  const elf = parseElf(bytes);
  const symbols = readElfSymbols(elf);
  const warnings: string[] = [];
  const lines = readElfLines(elf, warnings);
  const segments = loadElfSegments(mem, elf);
  const entry = opts.entry ?? elf.entry;
  const start = opts.mode === 'real' ? realModeStart(entry, segments, 'ELF') : flat32Start(entry, segments, mem.size);
  return { format: 'elf', start, segments, symbols, lines, warnings };
}
