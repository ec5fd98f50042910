// Linux bzImage through the Linux/x86 boot protocol (Documentation/arch/x86/boot.rst), the way QEMU's `-kernel`
// does it: the firmware POSTs as for any boot, then, instead of reading a boot sector, jumps to a few bytes the
// loader left at 0000:7C00, which enter the kernel's real-mode setup at (setup segment + 20h):0000 with
// DS = ES = FS = GS = SS = the setup segment (the protocol's "running the kernel" rules).
//
// Why the real-mode entry and not the 32-bit one: the setup code then does what it does on a PC — it checks the
// CPU (and prints the kernel's own "This kernel requires …" message through INT 10h when the CPU lacks a required
// feature), asks the firmware for the E820 map (INT 15h E820h, the same layout pcMemoryMap describes), the video
// mode (INT 10h) and the disks, and builds the zero page (boot_params: screen_info, e820_table) itself. The loader
// fills only what the protocol assigns to a boot loader, in the setup header where the setup code reads it:
// type_of_loader, loadflags (CAN_USE_HEAP), heap_end_ptr, cmd_line_ptr (or the old cl_magic/cl_offset pair),
// ramdisk_image and ramdisk_size.
//
// Placement, for protocol 2.02 and later (QEMU's choice): setup at 0x10000, command line at 0x20000 (so the heap
// ends there), the protected-mode kernel at 0x100000 (code32_start), the initrd page-aligned at the top of the RAM
// above 1 MiB, capped by initrd_addr_max. Before 2.02 the setup must be at 0x90000 with the command line at
// 0x9A000 (setup + A000h). zImage kernels (not LOADED_HIGH) are refused.

import type { PhysicalMemory } from '../../bus/memory';
import { installFirmware } from '../firmware';
import { ByteReader } from './byte-reader';
import { ImageError, hex } from './image-error';
import { E820_RAM, ONE_MIB, pcMemoryMap } from './memory-map';
import { formatMemorySize, placeBytes } from './placement';
import type { LoadedImage, LoadedSegment, LoadOptions } from './types';

// Setup header fields, by offset in the file (and in the loaded setup).
const SETUP_SECTS = 0x1f1;
const BOOT_FLAG = 0x1fe;
const HEADER_MAGIC = 0x202;
const VERSION = 0x206;
const TYPE_OF_LOADER = 0x210;
const LOADFLAGS = 0x211;
const CODE32_START = 0x214;
const RAMDISK_IMAGE = 0x218;
const RAMDISK_SIZE = 0x21c;
const HEAP_END_PTR = 0x224;
const CMD_LINE_PTR = 0x228;
const INITRD_ADDR_MAX = 0x22c;
const CMDLINE_SIZE = 0x238;
const PREF_ADDRESS = 0x258;
const INIT_SIZE = 0x260;
// The old command-line protocol (before 2.02): a magic and an offset from the setup segment.
const CL_MAGIC = 0x20;
const CL_OFFSET = 0x22;
const CL_MAGIC_VALUE = 0xa33f;

const HDRS = 0x53726448; // "HdrS"
const LOADED_HIGH = 0x01;
const CAN_USE_HEAP = 0x80;
/** "No assigned loader id" (boot.rst, type_of_loader). */
const LOADER_ID_UNDEFINED = 0xff;
const SECTOR = 512;

/** Where the loader's jump into the setup code goes; the firmware starts it as it would a boot sector. */
export const LINUX_ENTRY_STUB = 0x7c00;

/** True when `bytes` carry a setup header with the "HdrS" magic, protocol 2.00 or later, and the boot flag. */
export function isBzImage(bytes: Uint8Array): boolean {
  if (bytes.length < 0x210) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return v.getUint32(HEADER_MAGIC, true) === HDRS && v.getUint16(BOOT_FLAG, true) === 0xaa55 && v.getUint16(VERSION, true) >= 0x200;
}

interface SetupHeader {
  protocol: number;
  setupBytes: number;
  loadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  cmdlineMax: number;
  /** Bytes the kernel needs from where it decompresses (init_size), or the file's kernel part before 2.10. */
  initSize: number;
  /** Where a relocatable kernel decompresses when loaded lower (pref_address, 2.10+), else code32_start. */
  runAddress: number;
}

function readHeader(bytes: Uint8Array): SetupHeader {
  const r = new ByteReader(bytes, 'bzImage');
  if (bytes.length < 0x210 || r.u32(HEADER_MAGIC, 'header') !== HDRS) {
    throw new ImageError(`not a Linux bzImage: no "HdrS" setup header at offset ${hex(HEADER_MAGIC)} (boot protocol 2.00 or later)`);
  }
  const bootFlag = r.u16(BOOT_FLAG, 'boot_flag');
  if (bootFlag !== 0xaa55) throw new ImageError(`broken bzImage header: boot_flag at ${hex(BOOT_FLAG)} is ${hex(bootFlag)}, not 0xAA55`);
  const protocol = r.u16(VERSION, 'version');
  if (protocol < 0x200) throw new ImageError(`broken bzImage header: boot protocol version ${hex(protocol)} is below 2.00`);
  const loadflags = r.u8(LOADFLAGS, 'loadflags');
  if ((loadflags & LOADED_HIGH) === 0) {
    throw new ImageError('the kernel is a zImage (loadflags lacks LOADED_HIGH): only bzImage kernels are supported');
  }
  // setup_sects 0 means 4 (boot.rst: "for backwards compatibility").
  const setupSects = r.u8(SETUP_SECTS, 'setup_sects') || 4;
  const setupBytes = (setupSects + 1) * SECTOR;
  if (setupBytes >= bytes.length) {
    throw new ImageError(`broken bzImage header: setup_sects ${setupSects} puts the setup (${setupBytes} bytes) beyond the file's ${bytes.length} bytes`);
  }
  const code32Start = r.u32(CODE32_START, 'code32_start');
  const initrdAddrMax = protocol >= 0x203 ? r.u32(INITRD_ADDR_MAX, 'initrd_addr_max') : 0x37ffffff;
  const cmdlineMax = protocol >= 0x206 ? r.u32(CMDLINE_SIZE, 'cmdline_size') : 255;
  const kernelBytes = bytes.length - setupBytes;
  const initSize = protocol >= 0x20a ? Math.max(r.u32(INIT_SIZE, 'init_size'), kernelBytes) : kernelBytes;
  const pref = protocol >= 0x20a ? r.u32(PREF_ADDRESS, 'pref_address') : code32Start;
  return { protocol, setupBytes, loadflags, code32Start, initrdAddrMax, cmdlineMax, initSize, runAddress: Math.max(pref, code32Start) };
}

/** The real-mode jump into the setup code: segments as the protocol wants them, then a far jump to seg+20h:0. */
function entryStub(setupSeg: number, sp: number): Uint8Array {
  const lo = (v: number) => v & 0xff;
  const hi = (v: number) => (v >> 8) & 0xff;
  // prettier-ignore
  return Uint8Array.from([
    0xfa,                                     // cli
    0xb8, lo(setupSeg), hi(setupSeg),         // mov ax, setup segment
    0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0,       // mov ds/es/fs, ax
    0x8e, 0xe8, 0x8e, 0xd0,                   // mov gs/ss, ax
    0xbc, lo(sp), hi(sp),                     // mov sp, top of the heap
    0xea, 0x00, 0x00, lo(setupSeg + 0x20), hi(setupSeg + 0x20), // jmp far seg+20h:0000
  ]);
}

/** The top of the RAM range that starts at 1 MiB (where the initrd goes), from the machine's memory map. */
function extendedRamTop(memSize: number): number {
  const range = pcMemoryMap(memSize).find((m) => m.type === E820_RAM && m.base === ONE_MIB);
  return range === undefined ? ONE_MIB : range.base + range.length;
}

export function loadLinux(mem: PhysicalMemory, bytes: Uint8Array, opts: LoadOptions): LoadedImage {
  const h = readHeader(bytes);
  const modern = h.protocol >= 0x202;
  const setupAddr = modern ? 0x10000 : 0x90000;
  const cmdlineAddr = modern ? 0x20000 : 0x9a000;
  const kernelAddr = h.code32Start === 0 ? ONE_MIB : h.code32Start;
  if (h.setupBytes > cmdlineAddr - setupAddr - SECTOR) {
    throw new ImageError(`broken bzImage header: the setup code (${h.setupBytes} bytes) does not fit below the command line at ${hex(cmdlineAddr)}`);
  }

  const cmdline = new TextEncoder().encode(opts.append ?? '');
  if (cmdline.length > h.cmdlineMax) {
    throw new ImageError(`the kernel command line is ${cmdline.length} bytes; this kernel accepts at most ${h.cmdlineMax} (cmdline_size)`);
  }

  const ramTop = extendedRamTop(mem.size);
  const kernelEnd = Math.max(kernelAddr + (bytes.length - h.setupBytes), h.runAddress + h.initSize);
  if (kernelEnd > ramTop) {
    const need = Math.ceil(kernelEnd / ONE_MIB) + 1;
    throw new ImageError(
      `the kernel needs memory up to ${hex(kernelEnd)} to decompress and run (init_size ${hex(h.initSize)}), the guest has ${formatMemorySize(mem.size)}: use --memory ${need} or more`,
    );
  }

  const segments: LoadedSegment[] = installFirmware(mem, { preloadedBoot: true, cpuModel: opts.cpuModel });
  // A copy of its own: `bytes` may be a view into a larger buffer (a Node Buffer from a pool), and the header is
  // written through a DataView over the copy's buffer.
  const setup = new Uint8Array(h.setupBytes);
  setup.set(bytes.subarray(0, h.setupBytes));
  const sv = new DataView(setup.buffer);
  setup[TYPE_OF_LOADER] = LOADER_ID_UNDEFINED;
  let initrdAddr = 0;
  if (opts.initrd !== undefined && opts.initrd.length > 0) {
    const size = opts.initrd.length;
    // Highest page-aligned place whose last byte is at or below both the RAM's top and initrd_addr_max.
    const ceiling = Math.min(ramTop, h.initrdAddrMax + 1);
    initrdAddr = Math.floor((ceiling - size) / 0x1000) * 0x1000;
    if (ceiling - size < kernelEnd) {
      throw new ImageError(
        `the initrd (${size} bytes) does not fit in guest memory: between the kernel's end ${hex(kernelEnd)} and ${hex(ceiling)} there are ${Math.max(0, ceiling - kernelEnd)} bytes (use a larger --memory)`,
      );
    }
    segments.push(placeBytes(mem, initrdAddr, opts.initrd, 'initrd'));
    sv.setUint32(RAMDISK_IMAGE, initrdAddr, true);
    sv.setUint32(RAMDISK_SIZE, size, true);
  }
  if (modern) {
    sv.setUint32(CMD_LINE_PTR, cmdlineAddr, true);
  } else {
    sv.setUint16(CL_MAGIC, CL_MAGIC_VALUE, true);
    sv.setUint16(CL_OFFSET, cmdlineAddr - setupAddr, true);
  }
  // The heap runs from the end of the setup to the command line; heap_end_ptr counts from the setup's start, less
  // the 200h the protocol subtracts (boot.rst, heap_end_ptr). Protocol 2.01 introduced it.
  const heapEnd = cmdlineAddr - setupAddr;
  if (h.protocol >= 0x201) {
    sv.setUint16(HEAP_END_PTR, heapEnd - 0x200, true);
    setup[LOADFLAGS] = h.loadflags | CAN_USE_HEAP;
  }

  segments.push(placeBytes(mem, setupAddr, setup, 'linux setup'));
  const cmdlineZ = new Uint8Array(cmdline.length + 1);
  cmdlineZ.set(cmdline);
  segments.push(placeBytes(mem, cmdlineAddr, cmdlineZ, 'kernel command line'));
  segments.push(placeBytes(mem, kernelAddr, bytes.subarray(h.setupBytes), 'linux kernel'));
  const setupSeg = setupAddr >>> 4;
  // SP at the heap's end: 10000h (0 in 16 bits, where the first push lands at FFFEh) for the modern layout.
  segments.push(placeBytes(mem, LINUX_ENTRY_STUB, entryStub(setupSeg, heapEnd & 0xffff), 'linux entry'));
  return { format: 'linux', start: { kind: 'reset' }, segments, symbols: [], lines: [] };
}

/** Where loadLinux put things, for tests and the debugger's modules view. */
export function linuxLayout(image: LoadedImage): Partial<Record<'setup' | 'cmdline' | 'kernel' | 'initrd', number>> {
  const at = (name: string) => image.segments.find((s) => s.name === name)?.addr;
  return { setup: at('linux setup'), cmdline: at('kernel command line'), kernel: at('linux kernel'), initrd: at('initrd') };
}
