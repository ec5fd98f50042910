// The built-in firmware (bios.asm): its bytes, with the configuration block filled in for the machine at hand.
// The bytes come from bios-image.ts, generated from bios.bin by build-bios.mjs, so bundles need no file next to
// them; a test checks that they equal bios.bin and that bios.bin is what bios.asm assembles to.

import { BIOS_IMAGE } from './bios-image';
import { acpiAreaBase, pcMemoryMap } from '../loaders/memory-map';
import { buildPlatformTables } from './platform-tables';
import { cpuModel, DEFAULT_CPU_MODEL, featureBits, signature, type CpuModelName } from '../../cpu/model';
import type { PhysicalMemory } from '../../bus/memory';
import { mapBiosRom } from '../loaders/rom';
import type { LoadedSegment } from '../loaders/types';

/**
 * Signature of the configuration block in bios.asm; after it: the installed RAM in bytes (dword), the number of
 * E820 entries (word), E820_MAX entries of 20 bytes, then the flags (dword, CONFIG_PRELOADED).
 */
const CONFIG_SIGNATURE = [0x52, 0x53, 0x43, 0x46]; // 'RSCF'
/** Signature of the ROM's platform table area (MP floating pointer, MP table, RSDP), 16-byte aligned in bios.asm. */
const TABLES_SIGNATURE = [0x52, 0x53, 0x54, 0x42]; // 'RSTB'
const E820_MAX = 16;
const PLATFORM_TABLES_SIZE = 1024;
/** Offset of config_flags from the signature: signature, memory size, entry count, the entries. */
const CONFIG_FLAGS_OFFSET = 4 + 4 + 2 + E820_MAX * 20;
/** bios.asm CONFIG_PRELOADED: POST jumps to 0000:7C00 without reading a disk. */
const CONFIG_PRELOADED = 1;
/** Where the firmware image sits below 1 MiB. */
export const BIOS_BASE = 0xf0000;

export const BIOS_SIZE = 0x10000;

let pristine: Uint8Array | null = null;

/** The firmware exactly as assembled (a fresh copy). */
export function rawBiosImage(): Uint8Array {
  if (!pristine) {
    const head = Buffer.from(BIOS_IMAGE.head, 'base64');
    const tail = Buffer.from(BIOS_IMAGE.tail, 'base64');
    pristine = new Uint8Array(head.length + BIOS_IMAGE.fill.length + tail.length);
    pristine.set(head);
    pristine.fill(BIOS_IMAGE.fill.byte, head.length, head.length + BIOS_IMAGE.fill.length);
    pristine.set(tail, head.length + BIOS_IMAGE.fill.length);
  }
  return pristine.slice();
}

export interface FirmwareConfig {
  /** Installed RAM in bytes, reported by INT 15h (E820h, E801h, 88h). */
  memorySize: number;
  /**
   * The loader has put the boot code at 0000:7C00 itself: after POST the firmware jumps there without reading a
   * disk (bios.asm CONFIG_PRELOADED; the Linux loader's way into the kernel's real-mode setup).
   */
  preloadedBoot?: boolean;
  /** The processor the MP table's processor entry describes (its CPUID signature and features); default pentium-pro. */
  cpuModel?: CpuModelName;
}

function findSignature(image: Uint8Array, signature: number[], what: string): number {
  for (let o = 0; o + 8 <= image.length; o += 4) {
    if (signature.every((b, i) => image[o + i] === b)) return o;
  }
  throw new Error(`the firmware image has no ${what}`);
}

/** Offset of the configuration block's signature in the image. */
export function configOffset(image: Uint8Array): number {
  return findSignature(image, CONFIG_SIGNATURE, 'configuration block (RSCF)');
}

/** Offset of the platform table area's signature in the image (its tables start 16 bytes further). */
export function tablesOffset(image: Uint8Array): number {
  return findSignature(image, TABLES_SIGNATURE, 'platform table area (RSTB)');
}

/**
 * A copy of the firmware with its configuration block filled in (memory size, the E820 map of memory-map.ts)
 * and the MP and ACPI pointers in its table area; `acpi` is what goes in RAM at acpiAreaBase(memorySize).
 */
export function biosImageWithTables(config: FirmwareConfig): { image: Uint8Array; acpi: Uint8Array } {
  const image = rawBiosImage();
  const view = new DataView(image.buffer);
  const o = configOffset(image);
  view.setUint32(o + 4, config.memorySize >>> 0, true);
  const map = pcMemoryMap(config.memorySize);
  if (map.length > E820_MAX) throw new Error(`the memory map has ${map.length} entries, the firmware holds ${E820_MAX}`);
  view.setUint16(o + 8, map.length, true);
  map.forEach((r, i) => {
    const e = o + 10 + i * 20;
    view.setUint32(e, r.base, true);
    view.setUint32(e + 8, r.length, true);
    view.setUint32(e + 16, r.type, true);
  });
  view.setUint32(o + CONFIG_FLAGS_OFFSET, config.preloadedBoot === true ? CONFIG_PRELOADED : 0, true);
  const t = tablesOffset(image);
  // The MP table's processor entry (MP spec 1.4 §4.3.1) carries the CPU's CPUID signature and feature flags, as a
  // BIOS fills it from CPUID at POST: the same processor the machine runs.
  const model = cpuModel(config.cpuModel ?? DEFAULT_CPU_MODEL);
  const tables = buildPlatformTables(BIOS_BASE + t, acpiAreaBase(config.memorySize), {
    signature: signature(model),
    features: featureBits(model, true),
  });
  if (tables.rom.length > PLATFORM_TABLES_SIZE) throw new Error('the platform tables do not fit the ROM table area');
  image.set(tables.rom.subarray(16), t + 16);
  return { image, acpi: tables.acpi };
}

/** A copy of the firmware with its configuration block and table area filled in (see biosImageWithTables). */
export function biosImage(config: FirmwareConfig): Uint8Array {
  return biosImageWithTables(config).image;
}

/**
 * Puts the firmware in `mem` as a PC has it at power-on: the ROM at F0000h (and its alias below 4 GiB, through
 * `mapRom`) and the ACPI tables at the top of RAM. For loaders that start a guest through the firmware or that
 * hand a kernel a PC's tables (the Linux boot protocol).
 */
export function installFirmware(mem: PhysicalMemory, options: { preloadedBoot?: boolean; cpuModel?: CpuModelName } = {}): LoadedSegment[] {
  const { image, acpi } = biosImageWithTables({ memorySize: mem.size, preloadedBoot: options.preloadedBoot, cpuModel: options.cpuModel });
  const segments = mapBiosRom(mem, image, 'firmware');
  const acpiBase = acpiAreaBase(mem.size);
  if (acpiBase !== null && acpi.length > 0) {
    mem.load(acpiBase, acpi);
    segments.push({ addr: acpiBase, size: acpi.length, name: 'ACPI tables' });
  }
  return segments;
}
