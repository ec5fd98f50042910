// Multiboot 1 (Multiboot Specification 0.6.96): the header in the first 8 KiB of the image, loading by ELF program
// headers or by the header's a.out-kludge addresses (flag 16), the boot information structure in low memory, and
// the machine state of §3.2: EAX = 0x2BADB002, EBX = the information structure, flat 32-bit protected mode,
// paging off, IF = 0.

import type { PhysicalMemory } from '../../bus/memory';
import { ByteReader } from './byte-reader';
import { type ElfFile, hasElfMagic, parseElf, PT_LOAD } from './elf-file';
import { loadElfSegments, readElfLines } from './elf';
import { readElfSymbols } from './elf-symbols';
import { ImageError, hex } from './image-error';
import { acpiAreaBase, BIOS_ROM_START, ONE_MIB, pcMemoryMap } from './memory-map';
import { installFirmware } from '../firmware';
import { flat32Start, placeBytes } from './placement';
import type { LoadedImage, LoadedSegment, LineRow, ImageSymbol } from './types';
import type { CpuModelName } from '../../cpu/model';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
const SEARCH_LIMIT = 8192;

// Header flags (§3.1.2). Bits 0–15 are requirements: a loader that does not understand one must refuse the image.
const MBH_PAGE_ALIGN = 1 << 0; // align modules on 4 KiB: we load no modules, so it holds trivially
const MBH_MEMORY_INFO = 1 << 1; // mem_* (and mmap) must be passed: always done
const MBH_VIDEO_MODE = 1 << 2; // a video mode is wanted: we have text mode only and leave the vbe/framebuffer fields unset
const MBH_AOUT_KLUDGE = 1 << 16;
const UNDERSTOOD_REQUIREMENTS = MBH_PAGE_ALIGN | MBH_MEMORY_INFO | MBH_VIDEO_MODE;

// Information structure flags (§3.3).
const MBI_MEMORY = 1 << 0;
const MBI_MODS = 1 << 3;
const MBI_MMAP = 1 << 6;
const MBI_LOADER_NAME = 1 << 9;

export const LOADER_NAME = 'Ringside';
const INFO_SIZE = 0x80;
const MMAP_ENTRY_SIZE = 24; // the size field (4) plus base_addr, length (8 each) and type (4)
/** The information block: info structure, then the memory map, then the loader name. */
const INFO_BLOCK_SIZE = 0x200;
/** Low-memory places tried for the information block, first that no loaded segment overlaps wins. */
const INFO_CANDIDATES = [0x9000, 0x1000, 0x80000];

export interface MultibootHeader {
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

/** Finds the first 4-aligned header magic in the first 8 KiB; `checksumOk` tells whether it is valid. */
export function findMultibootHeader(bytes: Uint8Array): { offset: number; flags: number; checksumOk: boolean } | null {
  const limit = Math.min(bytes.length, SEARCH_LIMIT) - 12;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o <= limit; o += 4) {
    if (view.getUint32(o, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(o + 4, true);
    const checksum = view.getUint32(o + 8, true);
    return { offset: o, flags, checksumOk: ((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) === 0 };
  }
  return null;
}

export function isMultiboot(bytes: Uint8Array): boolean {
  const h = findMultibootHeader(bytes);
  if (!h || !h.checksumOk) return false;
  return hasElfMagic(bytes) || (h.flags & MBH_AOUT_KLUDGE) !== 0;
}

export function readMultibootHeader(bytes: Uint8Array): MultibootHeader {
  const found = findMultibootHeader(bytes);
  if (!found) throw new ImageError(`no Multiboot header (magic ${hex(MULTIBOOT_HEADER_MAGIC)}) in the first 8 KiB of the image`);
  if (!found.checksumOk) {
    throw new ImageError(`the Multiboot header at offset ${hex(found.offset)} has a wrong checksum (magic + flags + checksum must be 0)`);
  }
  const unknown = found.flags & 0xffff & ~UNDERSTOOD_REQUIREMENTS;
  if (unknown !== 0) {
    throw new ImageError(`the Multiboot header requires features this loader does not provide (flags ${hex(unknown)})`);
  }
  const r = new ByteReader(bytes, 'Multiboot image');
  const o = found.offset;
  const kludge = (found.flags & MBH_AOUT_KLUDGE) !== 0;
  return {
    offset: o,
    flags: found.flags,
    headerAddr: kludge ? r.u32(o + 12, 'header_addr') : 0,
    loadAddr: kludge ? r.u32(o + 16, 'load_addr') : 0,
    loadEndAddr: kludge ? r.u32(o + 20, 'load_end_addr') : 0,
    bssEndAddr: kludge ? r.u32(o + 24, 'bss_end_addr') : 0,
    entryAddr: kludge ? r.u32(o + 28, 'entry_addr') : 0,
  };
}

/** Loads by the header's addresses (§3.1.3): the file from the header's offset less (header_addr − load_addr). */
function loadAoutKludge(mem: PhysicalMemory, bytes: Uint8Array, h: MultibootHeader): LoadedSegment[] {
  if (h.headerAddr < h.loadAddr) throw new ImageError(`Multiboot header_addr ${hex(h.headerAddr)} is below load_addr ${hex(h.loadAddr)}`);
  const fileStart = h.offset - (h.headerAddr - h.loadAddr);
  if (fileStart < 0) {
    throw new ImageError(`Multiboot load_addr ${hex(h.loadAddr)} would start ${-fileStart} bytes before the beginning of the file`);
  }
  const loadEnd = h.loadEndAddr === 0 ? h.loadAddr + (bytes.length - fileStart) : h.loadEndAddr;
  if (loadEnd < h.loadAddr) throw new ImageError(`Multiboot load_end_addr ${hex(loadEnd)} is below load_addr ${hex(h.loadAddr)}`);
  if (fileStart + (loadEnd - h.loadAddr) > bytes.length) {
    throw new ImageError(`Multiboot load_end_addr ${hex(loadEnd)} lies beyond the end of the file`);
  }
  const bssEnd = h.bssEndAddr === 0 ? loadEnd : h.bssEndAddr;
  if (bssEnd < loadEnd) throw new ImageError(`Multiboot bss_end_addr ${hex(bssEnd)} is below load_end_addr ${hex(loadEnd)}`);
  const data = bytes.subarray(fileStart, fileStart + (loadEnd - h.loadAddr));
  return [placeBytes(mem, h.loadAddr, data, 'kernel', bssEnd - h.loadAddr)];
}

/** Writes the boot information structure (§3.3) and returns its address. */
export function writeMultibootInfo(mem: PhysicalMemory, segments: LoadedSegment[]): number {
  const base = INFO_CANDIDATES.find(
    (c) => c + INFO_BLOCK_SIZE <= mem.size && !segments.some((s) => s.addr < c + INFO_BLOCK_SIZE && c < s.addr + s.size),
  );
  if (base === undefined) throw new ImageError('no room in low memory for the Multiboot information structure');
  const block = new Uint8Array(INFO_BLOCK_SIZE);
  const view = new DataView(block.buffer);
  const map = pcMemoryMap(mem.size);
  const mmapOffset = INFO_SIZE;
  const nameOffset = mmapOffset + map.length * MMAP_ENTRY_SIZE;

  map.forEach((m, i) => {
    const o = mmapOffset + i * MMAP_ENTRY_SIZE;
    view.setUint32(o, MMAP_ENTRY_SIZE - 4, true); // size excludes the size field itself
    view.setUint32(o + 4, m.base, true);
    view.setUint32(o + 12, m.length, true);
    view.setUint32(o + 20, m.type, true);
  });
  block.set(new TextEncoder().encode(LOADER_NAME + '\0'), nameOffset);

  // mem_lower counts KiB from 0 up to the first hole; mem_upper KiB from 1 MiB up to the first hole (§3.3).
  const lower = map[0].length;
  const upper = map.find((m) => m.base === 0x100000)?.length ?? 0;
  view.setUint32(0, MBI_MEMORY | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME, true);
  view.setUint32(4, Math.floor(lower / 1024), true);
  view.setUint32(8, Math.floor(upper / 1024), true);
  view.setUint32(20, 0, true); // mods_count
  view.setUint32(24, base + INFO_SIZE, true); // mods_addr (no modules, but a valid address)
  view.setUint32(44, map.length * MMAP_ENTRY_SIZE, true); // mmap_length
  view.setUint32(48, base + mmapOffset, true); // mmap_addr
  view.setUint32(64, base + nameOffset, true); // boot_loader_name
  mem.load(base, block);
  return base;
}

/**
 * Where an ELF kernel starts, as GRUB 2's Multiboot loader computes it: the loader places segments at p_paddr and
 * starts the CPU with paging off, so an e_entry inside a PT_LOAD segment's virtual range is moved into that segment's
 * physical placement (a higher-half kernel linked at 0xC0000000 but loaded at 1 MiB, as GNU Mach is); an entry
 * outside every segment is taken as it stands.
 */
function physicalEntry(elf: ElfFile): number {
  for (const p of elf.programHeaders) {
    if (p.type === PT_LOAD && p.memsz > 0 && elf.entry >= p.vaddr && elf.entry < p.vaddr + p.memsz) {
      return (p.paddr + (elf.entry - p.vaddr)) >>> 0;
    }
  }
  return elf.entry;
}

export function loadMultiboot(mem: PhysicalMemory, bytes: Uint8Array, cpuModel?: CpuModelName): LoadedImage {
  const header = readMultibootHeader(bytes);
  let symbols: ImageSymbol[] = [];
  let lines: LineRow[] = [];
  const warnings: string[] = [];
  let segments: LoadedSegment[];
  let entry: number;
  if ((header.flags & MBH_AOUT_KLUDGE) !== 0) {
    if (hasElfMagic(bytes)) {
      const elf = parseElf(bytes);
      symbols = readElfSymbols(elf);
      lines = readElfLines(elf, warnings);
    }
    segments = loadAoutKludge(mem, bytes, header);
    entry = header.entryAddr;
  } else {
    if (!hasElfMagic(bytes)) {
      throw new ImageError('the Multiboot image is not ELF and its header lacks the a.out-kludge addresses (flag 16)');
    }
    const elf = parseElf(bytes);
    symbols = readElfSymbols(elf);
    lines = readElfLines(elf, warnings);
    segments = loadElfSegments(mem, elf);
    entry = physicalEntry(elf);
  }
  segments.push(...platformFirmware(mem, segments, cpuModel));
  const info = writeMultibootInfo(mem, segments);
  const start = { ...flat32Start(entry, segments, mem.size), eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: info };
  segments.push({ addr: info, size: INFO_BLOCK_SIZE, name: 'multiboot info' });
  return { format: 'multiboot', start, segments, symbols, lines, warnings };
}

/**
 * The firmware's ROM (with the MP floating pointer and the ACPI RSDP) and the ACPI tables, as a PC that ran GRUB
 * leaves them for the kernel, when they miss the kernel's own segments; none when memory is too small for them.
 */
function platformFirmware(mem: PhysicalMemory, kernel: LoadedSegment[], cpuModel?: CpuModelName): LoadedSegment[] {
  const acpi = acpiAreaBase(mem.size);
  if (acpi === null) return [];
  const clash = (lo: number, hi: number) => kernel.some((s) => s.addr < hi && lo < s.addr + s.size);
  if (clash(BIOS_ROM_START, ONE_MIB) || clash(acpi, mem.size)) return [];
  return installFirmware(mem, { cpuModel });
}
