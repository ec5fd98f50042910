// What a loader hands back to the machine: where the image went and how the CPU must start.

import type { CpuModelName } from '../../cpu/model';

export type ImageFormat = 'bin' | 'elf' | 'multiboot' | 'rom' | 'boot' | 'linux';

export const IMAGE_FORMATS: readonly ImageFormat[] = ['bin', 'elf', 'multiboot', 'rom', 'boot', 'linux'];

export interface LoadOptions {
  /** Overrides detection by content. */
  format?: ImageFormat;
  /** Where a flat binary goes (default 0x7C00). Ignored by the other formats. */
  loadAddress?: number;
  /** Overrides the entry point of a flat binary or an ELF file. */
  entry?: number;
  /** Start a flat binary or an ELF file in real mode or in flat 32-bit protected mode. */
  mode?: 'real' | 'protected';
  /** Linux: the initial RAM disk, placed at the top of RAM (linux.ts). */
  initrd?: Uint8Array;
  /** Linux: the kernel command line. */
  append?: string;
  /** The processor, for the firmware's MP table (its processor entry); Machine.load passes its own. */
  cpuModel?: CpuModelName;
}

export type StartState =
  /** CPU reset state: CS=F000 with base FFFF0000, EIP=FFF0 (SDM vol. 3 §9.1.4). Used by rom and boot. */
  | { kind: 'reset' }
  /** Real mode; segment caches are selector × 16. */
  | { kind: 'real'; cs: number; ip: number; ss?: number; sp?: number; dl?: number }
  /** Protected mode with flat 4 GiB CS/DS/ES/FS/GS/SS (32-bit code), CPL 0, IF=0, PE=1, paging off. */
  | { kind: 'flat32'; eip: number; esp?: number; eax?: number; ebx?: number };

export interface LoadedSegment {
  addr: number;
  size: number;
  name: string;
}

export interface ImageSymbol {
  name: string;
  addr: number;
  size: number;
}

export interface LineRow {
  addr: number;
  file: string;
  line: number;
}

export interface LoadedImage {
  format: ImageFormat;
  start: StartState;
  /** What was placed where (for the modules view). */
  segments: LoadedSegment[];
  /** ELF .symtab functions and objects, sorted by address. */
  symbols: ImageSymbol[];
  /** DWARF .debug_line rows, sorted by address. */
  lines: LineRow[];
  /** Debugging information that could not be read (the image loads without it). */
  warnings?: string[];
  /** The disk image the firmware boots from (boot format); the machine attaches it as the ATA primary master. */
  disk?: Uint8Array;
}
