// What the guest's monitor shows, read without side effects: a text mode's character cells (character, attribute)
// with the cursor, or a linear framebuffer's pixels. The CLI prints and draws it (--screen, --screenshot), the debug
// adapter sends it to the Screen view.
//
// Text mode: the cells at 0xB8000 from the CRTC start address; the size from the BIOS data area (columns at 44Ah,
// rows − 1 at 484h, as BIOSes and kernels keep them), 80×25 when the BDA says nothing. A graphics mode comes from
// a framebuffer source (the VBE/Bochs display, when the machine has one); BIOS mode bytes of the VGA graphics modes
// (04h–13h but 07h) with no framebuffer are reported as such, without pixels.

import { cp437, VGA_TEXT_BASE, type CrtController, type PeekMemory } from '../devices/vga-text';

export interface TextScreen {
  kind: 'text';
  columns: number;
  rows: number;
  /** rows × columns cells, each `character | attribute << 8`. */
  cells: Uint16Array;
  cursor: { row: number; column: number } | null;
}

export interface GraphicsScreen {
  kind: 'graphics';
  width: number;
  height: number;
  /** width × height × 4 bytes, RGBA; null for a VGA graphics mode this machine does not draw. */
  rgba: Uint8Array | null;
  /** The BIOS mode number or the VBE mode, for a caption. */
  mode: string;
}

export type Screen = TextScreen | GraphicsScreen;

/** A linear framebuffer as a display adapter scans it out (the VBE/Bochs-VBE mode now set). */
export interface FramebufferInfo {
  width: number;
  height: number;
  bitsPerPixel: number;
  /** Bytes per scan line. */
  pitch: number;
  /** The video memory from the first pixel shown. */
  bytes: Uint8Array;
  /** A caption, e.g. "VBE 800x600x32". */
  mode: string;
}

/** Whatever can say which framebuffer is being shown now (null: the VGA text or legacy modes). */
export type FramebufferSource = () => FramebufferInfo | null;

/** What a display device reports of its mode (the Bochs VBE display's `mode()`): text, or a framebuffer. */
export type DisplayModeLike =
  | { kind: 'text' }
  | { kind: 'graphics'; width: number; height: number; bpp: number; framebuffer: Uint8Array; pitch: number };

/** The framebuffer source of a machine's display device, if it has one (`devices.display`). */
export function framebufferOf(devices: object): FramebufferSource {
  const display = (devices as { display?: { mode(): DisplayModeLike } }).display;
  if (display === undefined) return () => null;
  return () => {
    const m = display.mode();
    if (m.kind !== 'graphics') return null;
    return { width: m.width, height: m.height, bitsPerPixel: m.bpp, pitch: m.pitch, bytes: m.framebuffer, mode: `VBE ${m.width}x${m.height}x${m.bpp}` };
  };
}

const BDA_VIDEO_MODE = 0x449;
const BDA_COLUMNS = 0x44a;
const BDA_ROWS_MINUS_ONE = 0x484;
const TEXT_WINDOW_CELLS = 0x4000; // 32 KiB at B8000h

export interface ScreenInputs {
  mem: PeekMemory;
  crtc: CrtController | null;
  framebuffer?: FramebufferSource;
}

export function captureScreen(inputs: ScreenInputs): Screen {
  const fb = inputs.framebuffer?.() ?? null;
  if (fb !== null) return { kind: 'graphics', width: fb.width, height: fb.height, rgba: framebufferPixels(fb), mode: fb.mode };
  const mode = inputs.mem.peek(BDA_VIDEO_MODE, 1) & 0x7f;
  if (mode >= 0x04 && mode <= 0x13 && mode !== 0x07) {
    const size = mode === 0x13 || mode === 0x0d ? [320, 200] : mode === 0x11 || mode === 0x12 ? [640, 480] : [640, 350];
    return { kind: 'graphics', width: size[0], height: size[1], rgba: null, mode: `BIOS mode ${mode.toString(16).padStart(2, '0')}h` };
  }
  const bdaColumns = inputs.mem.peek(BDA_COLUMNS, 2);
  const bdaRows = inputs.mem.peek(BDA_ROWS_MINUS_ONE, 1) + 1;
  const columns = bdaColumns >= 40 && bdaColumns <= 132 ? bdaColumns : 80;
  const rows = bdaRows >= 25 && bdaRows <= 60 ? bdaRows : 25;
  const start = inputs.crtc?.startCell ?? 0;
  const cells = new Uint16Array(columns * rows);
  for (let i = 0; i < cells.length; i++) {
    const cell = (start + i) % TEXT_WINDOW_CELLS;
    cells[i] = inputs.mem.peek(VGA_TEXT_BASE + cell * 2, 2);
  }
  let cursor: TextScreen['cursor'] = null;
  if (inputs.crtc !== null) {
    const at = inputs.crtc.cursorCell - start;
    const hidden = (inputs.crtc.registers[0x0a] & 0x20) !== 0;
    if (!hidden && at >= 0 && at < cells.length) cursor = { row: Math.floor(at / columns), column: at % columns };
  }
  return { kind: 'text', columns, rows, cells, cursor };
}

/** The text screen as lines of Unicode (code page 437), trailing blanks trimmed. */
export function screenLines(s: TextScreen): string[] {
  const lines: string[] = [];
  for (let r = 0; r < s.rows; r++) {
    let line = '';
    for (let c = 0; c < s.columns; c++) line += cp437(s.cells[r * s.columns + c] & 0xff);
    lines.push(line.replace(/[\s\u00a0]+$/, ''));
  }
  return lines;
}

/** The screen as `--screen` prints it: the text lines, or one line naming the graphics mode. */
export function screenReport(s: Screen): string {
  if (s.kind === 'text') return screenLines(s).join('\n') + '\n';
  return `(graphics: ${s.mode}, ${s.width}x${s.height}; no text screen — use --screenshot)\n`;
}

function framebufferPixels(fb: FramebufferInfo): Uint8Array {
  const out = new Uint8Array(fb.width * fb.height * 4);
  const bytes = Math.ceil(fb.bitsPerPixel / 8);
  const src = fb.bytes;
  for (let y = 0; y < fb.height; y++) {
    for (let x = 0; x < fb.width; x++) {
      const o0 = y * fb.pitch + x * bytes;
      let v = 0;
      for (let i = bytes - 1; i >= 0; i--) v = v * 256 + (src[o0 + i] ?? 0);
      let r: number, g: number, b: number;
      if (fb.bitsPerPixel >= 24) [r, g, b] = [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
      else if (fb.bitsPerPixel === 16) [r, g, b] = [((v >> 11) & 0x1f) * 255 / 31, ((v >> 5) & 0x3f) * 255 / 63, (v & 0x1f) * 255 / 31];
      else if (fb.bitsPerPixel === 15) [r, g, b] = [((v >> 10) & 0x1f) * 255 / 31, ((v >> 5) & 0x1f) * 255 / 31, (v & 0x1f) * 255 / 31];
      else [r, g, b] = VGA_PALETTE[v & 0x0f];
      const o = (y * fb.width + x) * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = 255;
    }
  }
  return out;
}

/** The 16 colours of the VGA text attributes (the default palette of mode 3). */
export const VGA_PALETTE: readonly [number, number, number][] = [
  [0x00, 0x00, 0x00], [0x00, 0x00, 0xaa], [0x00, 0xaa, 0x00], [0x00, 0xaa, 0xaa],
  [0xaa, 0x00, 0x00], [0xaa, 0x00, 0xaa], [0xaa, 0x55, 0x00], [0xaa, 0xaa, 0xaa],
  [0x55, 0x55, 0x55], [0x55, 0x55, 0xff], [0x55, 0xff, 0x55], [0x55, 0xff, 0xff],
  [0xff, 0x55, 0x55], [0xff, 0x55, 0xff], [0xff, 0xff, 0x55], [0xff, 0xff, 0xff],
];
