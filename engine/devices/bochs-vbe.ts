// The Bochs VBE display interface ("DISPI", as Bochs, QEMU's std VGA and Linux's bochs and vesafb drivers know
// it): an index register at port 1CEh and a 16-bit data register at 1CFh, and 8 MiB of video memory seen as a
// linear framebuffer at 0xE0000000 (in the PCI memory hole, above any RAM this machine can have). The firmware's
// INT 10h AX=4Fxxh (VBE 3.0) drives it; Linux and other systems drive it directly.
// Registers: 0 ID (B0C0h–B0C5h), 1 XRES, 2 YRES, 3 BPP, 4 ENABLE (bit 0 enabled, 1 GETCAPS: XRES/YRES/BPP read
// their maxima, 6 LFB, 7 NOCLEARMEM), 5 BANK, 6 VIRT_WIDTH, 7 VIRT_HEIGHT, 8 X_OFFSET, 9 Y_OFFSET,
// 10 VIDEO_MEMORY_64K (read-only). There is no banked window at A0000h: the framebuffer is linear only.
// Nothing here is timed: the picture is the framebuffer's contents whenever someone looks (display()).

import type { IoBus, PortDevice } from '../bus/io-bus';
import type { MmioHandler } from '../bus/memory';
import { TEXT_COLUMNS, TEXT_ROWS } from './vga-text';

export const VBE_INDEX_PORT = 0x1ce;
export const VBE_DATA_PORT = 0x1cf;
export const VBE_MEMORY_SIZE = 8 * 1024 * 1024;
export const VBE_ID_LATEST = 0xb0c5;
export const VBE_MAX_XRES = 1600;
export const VBE_MAX_YRES = 1200;
export const VBE_MAX_BPP = 32;

export const DISPI_ID = 0;
export const DISPI_XRES = 1;
export const DISPI_YRES = 2;
export const DISPI_BPP = 3;
export const DISPI_ENABLE = 4;
export const DISPI_BANK = 5;
export const DISPI_VIRT_WIDTH = 6;
export const DISPI_VIRT_HEIGHT = 7;
export const DISPI_X_OFFSET = 8;
export const DISPI_Y_OFFSET = 9;
export const DISPI_VIDEO_MEMORY_64K = 10;
const REGISTERS = 11;

export const ENABLE_ON = 0x01;
export const ENABLE_GETCAPS = 0x02;
export const ENABLE_LFB = 0x40;
export const ENABLE_NOCLEARMEM = 0x80;
const BPP_ACCEPTED = [8, 15, 16, 24, 32];

/** What the screen shows now: a VGA text mode, or a linear framebuffer mode. */
export type DisplayMode =
  | { kind: 'text'; cols: number; rows: number }
  | { kind: 'graphics'; width: number; height: number; bpp: number; framebuffer: Uint8Array; pitch: number };

export interface BochsVbeSnapshot {
  index: number;
  regs: number[];
  /** The video memory, only once the guest has written to it (most guests never do). */
  vram: Uint8Array | null;
}

export class BochsVbe implements PortDevice, MmioHandler {
  readonly wide = true;
  readonly vram = new Uint8Array(VBE_MEMORY_SIZE);
  private readonly vram32 = new Int32Array(this.vram.buffer);
  private index = 0;
  private readonly regs = new Uint16Array(REGISTERS);
  /** Set by the first store to video memory: until then snapshots leave the 8 MiB out. */
  private touched = false;

  constructor(readonly framebufferBase: number) {
    this.regs[DISPI_ID] = VBE_ID_LATEST;
    this.regs[DISPI_BPP] = 8;
    this.regs[DISPI_VIDEO_MEMORY_64K] = VBE_MEMORY_SIZE >>> 16;
  }

  attach(io: IoBus): void {
    io.register(VBE_INDEX_PORT, 2, this);
  }

  get enabled(): boolean {
    return (this.regs[DISPI_ENABLE] & ENABLE_ON) !== 0;
  }

  register(index: number): number {
    return this.regs[index];
  }

  private bytesPerPixel(): number {
    return Math.ceil(this.regs[DISPI_BPP] / 8);
  }

  /** The current mode, for the screen view and screenshots. */
  mode(): DisplayMode {
    if (!this.enabled) return { kind: 'text', cols: TEXT_COLUMNS, rows: TEXT_ROWS };
    const bpp = this.regs[DISPI_BPP];
    const pitch = this.regs[DISPI_VIRT_WIDTH] * this.bytesPerPixel();
    const start = this.regs[DISPI_Y_OFFSET] * pitch + this.regs[DISPI_X_OFFSET] * this.bytesPerPixel();
    return {
      kind: 'graphics',
      width: this.regs[DISPI_XRES],
      height: this.regs[DISPI_YRES],
      bpp,
      framebuffer: this.vram.subarray(Math.min(start, this.vram.length)),
      pitch,
    };
  }

  // ---- ports ----

  portIn(port: number, size: number): number {
    if (port === VBE_INDEX_PORT) return this.index;
    if (port !== VBE_DATA_PORT) return size === 1 ? 0xff : 0xffff;
    const getcaps = (this.regs[DISPI_ENABLE] & ENABLE_GETCAPS) !== 0;
    if (getcaps && this.index === DISPI_XRES) return VBE_MAX_XRES;
    if (getcaps && this.index === DISPI_YRES) return VBE_MAX_YRES;
    if (getcaps && this.index === DISPI_BPP) return VBE_MAX_BPP;
    return this.index < REGISTERS ? this.regs[this.index] : 0;
  }

  portOut(port: number, value: number): void {
    if (port === VBE_INDEX_PORT) {
      this.index = value & 0xffff;
      return;
    }
    if (port !== VBE_DATA_PORT) return;
    value &= 0xffff;
    switch (this.index) {
      case DISPI_ID:
        if (value >= 0xb0c0 && value <= VBE_ID_LATEST) this.regs[DISPI_ID] = value;
        return;
      case DISPI_XRES:
      case DISPI_YRES:
      case DISPI_BPP:
        // The geometry changes only while the display is off (as Bochs does).
        if (this.enabled) return;
        if (this.index === DISPI_BPP && !BPP_ACCEPTED.includes(value)) return;
        if (this.index === DISPI_XRES && (value === 0 || value > VBE_MAX_XRES)) return;
        if (this.index === DISPI_YRES && (value === 0 || value > VBE_MAX_YRES)) return;
        this.regs[this.index] = value;
        return;
      case DISPI_ENABLE:
        this.writeEnable(value);
        return;
      case DISPI_BANK:
        this.regs[DISPI_BANK] = value & 0x7f;
        return;
      case DISPI_VIRT_WIDTH:
        if (value >= this.regs[DISPI_XRES]) this.regs[DISPI_VIRT_WIDTH] = value;
        return;
      case DISPI_X_OFFSET:
      case DISPI_Y_OFFSET:
        this.regs[this.index] = value;
        return;
    }
    // VIRT_HEIGHT (computed), VIDEO_MEMORY_64K and unknown indices are read-only.
  }

  private writeEnable(value: number): void {
    const turningOn = (value & ENABLE_ON) !== 0 && !this.enabled;
    this.regs[DISPI_ENABLE] = value & (ENABLE_ON | ENABLE_GETCAPS | ENABLE_LFB | ENABLE_NOCLEARMEM);
    if (!turningOn) return;
    const pitch = this.regs[DISPI_XRES] * this.bytesPerPixel();
    this.regs[DISPI_VIRT_WIDTH] = this.regs[DISPI_XRES];
    this.regs[DISPI_VIRT_HEIGHT] = Math.min(0xffff, Math.floor(VBE_MEMORY_SIZE / Math.max(1, pitch)));
    this.regs[DISPI_X_OFFSET] = 0;
    this.regs[DISPI_Y_OFFSET] = 0;
    if ((value & ENABLE_NOCLEARMEM) === 0 && this.touched) this.vram.fill(0);
  }

  // ---- the linear framebuffer ----

  read8(addr: number): number {
    const o = addr - this.framebufferBase;
    return o >= 0 && o < VBE_MEMORY_SIZE ? this.vram[o] : 0xff;
  }

  write8(addr: number, value: number): void {
    const o = addr - this.framebufferBase;
    if (o < 0 || o >= VBE_MEMORY_SIZE) return;
    this.vram[o] = value;
    this.touched = true;
  }

  read32(addr: number): number {
    const o = addr - this.framebufferBase;
    return o >= 0 && o < VBE_MEMORY_SIZE ? this.vram32[o >>> 2] : -1;
  }

  write32(addr: number, value: number): void {
    const o = addr - this.framebufferBase;
    if (o < 0 || o >= VBE_MEMORY_SIZE) return;
    this.vram32[o >>> 2] = value;
    this.touched = true;
  }

  snapshot(): BochsVbeSnapshot {
    return { index: this.index, regs: [...this.regs], vram: this.touched ? this.vram.slice() : null };
  }

  restore(s: BochsVbeSnapshot): void {
    this.index = s.index;
    this.regs.set(s.regs);
    if (s.vram) this.vram.set(s.vram);
    else if (this.touched) this.vram.fill(0);
    this.touched = s.vram !== null;
  }
}
