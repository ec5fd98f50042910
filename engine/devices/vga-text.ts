// VGA colour text mode as the debugger reads it: 80×25 character cells at 0xB8000 (a character byte, then an
// attribute byte, which the text view ignores), and the CRT controller at 0x3D4 (index) / 0x3D5 (data) whose
// start-address (0Ch/0Dh) and cursor-location (0Eh/0Fh) registers say where the page begins and where the cursor
// blinks. Input status register 1 at 0x3DA reports retrace from virtual time (a 70 Hz frame with 449 lines), so
// guests that wait for vertical retrace before drawing make progress. The text memory itself is plain RAM.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { INSTRUCTIONS_PER_SECOND } from '../machine/scheduler';

export const VGA_TEXT_BASE = 0xb8000;
export const TEXT_COLUMNS = 80;
export const TEXT_ROWS = 25;
export const CRTC_INDEX = 0x3d4;
export const CRTC_DATA = 0x3d5;
export const INPUT_STATUS_1 = 0x3da;

const CRTC_REGISTERS = 0x19;
const REG_CURSOR_START = 0x0a;
const REG_CURSOR_END = 0x0b;
const REG_START_HIGH = 0x0c;
const REG_START_LOW = 0x0d;
const REG_CURSOR_HIGH = 0x0e;
const REG_CURSOR_LOW = 0x0f;
/** Frame timing of mode 3: 70 Hz, 449 scan lines, of which the last 49 are vertical blanking. */
const FRAME = Math.round(INSTRUCTIONS_PER_SECOND / 70);
const LINES = 449;
const VISIBLE_LINES = 400;
const STATUS_DISPLAY_DISABLED = 0x01;
const STATUS_VERTICAL_RETRACE = 0x08;

/** Code page 437 above 0x7F, for showing the screen as text. */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
/** Code page 437 glyphs for the control codes 01h–1Fh (00h shows as a blank). */
const CP437_LOW = ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼';

/** The character a text cell shows, as Unicode. */
export function cp437(code: number): string {
  if (code < 0x20) return CP437_LOW[code];
  if (code < 0x7f) return String.fromCharCode(code);
  if (code === 0x7f) return '⌂';
  return CP437_HIGH[code - 0x80];
}

/** Something that reads physical memory without side effects (PhysicalMemory.peek). */
export interface PeekMemory {
  peek(addr: number, size: number): number;
}

/**
 * The 80×25 screen as 25 strings of 80 characters (attributes ignored, trailing blanks kept), starting at
 * `startCell` (the CRTC start address, in cells; 0 by default).
 */
export function screenText(mem: PeekMemory, startCell = 0): string[] {
  const rows: string[] = [];
  for (let r = 0; r < TEXT_ROWS; r++) {
    let line = '';
    for (let c = 0; c < TEXT_COLUMNS; c++) {
      const cell = (startCell + r * TEXT_COLUMNS + c) & 0x3fff; // the 32 KiB text window wraps
      line += cp437(mem.peek(VGA_TEXT_BASE + cell * 2, 1));
    }
    rows.push(line);
  }
  return rows;
}

export class CrtController implements PortDevice {
  readonly registers = new Uint8Array(CRTC_REGISTERS);
  index = 0;

  constructor(private readonly now: () => number) {
    this.registers[REG_CURSOR_START] = 0x0d; // the two-line underline cursor of mode 3
    this.registers[REG_CURSOR_END] = 0x0e;
  }

  attach(io: IoBus): void {
    io.register(CRTC_INDEX, 2, this);
    io.register(INPUT_STATUS_1, 1, this);
  }

  /** Cursor location in cells from the start of text memory. */
  get cursorCell(): number {
    return (this.registers[REG_CURSOR_HIGH] << 8) | this.registers[REG_CURSOR_LOW];
  }

  /** First cell shown (the start address). */
  get startCell(): number {
    return (this.registers[REG_START_HIGH] << 8) | this.registers[REG_START_LOW];
  }

  /** Cursor row and column on the page, or null when it lies off screen or is switched off (start bit 5). */
  cursor(): { row: number; column: number } | null {
    const rel = this.cursorCell - this.startCell;
    if ((this.registers[REG_CURSOR_START] & 0x20) !== 0 || rel < 0 || rel >= TEXT_COLUMNS * TEXT_ROWS) return null;
    return { row: Math.floor(rel / TEXT_COLUMNS), column: rel % TEXT_COLUMNS };
  }

  portIn(port: number): number {
    if (port === CRTC_INDEX) return this.index;
    if (port === CRTC_DATA) return this.index < CRTC_REGISTERS ? this.registers[this.index] : 0xff;
    return this.inputStatus();
  }

  /** Input status 1: bit 3 in vertical retrace, bit 0 while the beam is not drawing (retrace or blanking). */
  private inputStatus(): number {
    const inFrame = this.now() % FRAME;
    const line = Math.floor((inFrame * LINES) / FRAME);
    if (line >= VISIBLE_LINES) return STATUS_VERTICAL_RETRACE | STATUS_DISPLAY_DISABLED;
    // Horizontal blanking: the last fifth of each line.
    const inLine = (inFrame * LINES) % FRAME;
    return inLine * 5 >= FRAME * 4 ? STATUS_DISPLAY_DISABLED : 0;
  }

  portOut(port: number, value: number): void {
    if (port === CRTC_INDEX) this.index = value & 0x7f;
    else if (port === CRTC_DATA && this.index < CRTC_REGISTERS) this.registers[this.index] = value;
    // 0x3DA writes (feature control) and writes to registers past 18h are ignored
  }

  snapshot(): number[] {
    return [this.index, ...this.registers];
  }

  restore(s: number[]): void {
    this.index = s[0];
    this.registers.set(s.slice(1));
  }
}
