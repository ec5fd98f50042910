// A screen as pixels: a text mode drawn cell by cell with a bitmap font (8×16 VGA-like, psf.ts) in the 16 VGA
// colours — foreground from attribute bits 0–3, background from bits 4–6 (bit 7 blinks on a VGA, shown steady) —
// with the cursor as the CRTC's underline; a graphics mode as its framebuffer.
import { cp437 } from '../devices/vga-text';
import type { BitmapFont } from './psf';
import { VGA_PALETTE, type Screen } from './screen';

export interface Picture {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** The glyph for a code page 437 character: by its Unicode character, then "?", then glyph 0. */
function glyphIndex(font: BitmapFont, code: number): number {
  const cp = code === 0 ? 0x20 : cp437(code).codePointAt(0)!;
  return font.byCodePoint.get(cp) ?? font.byCodePoint.get(0x3f) ?? 0;
}

export function renderScreen(screen: Screen, font: BitmapFont, cursorLines: { start: number; end: number } = { start: 14, end: 15 }): Picture {
  if (screen.kind === 'graphics') {
    if (screen.rgba === null) throw new Error(`the screen is in ${screen.mode}, which this machine does not draw`);
    return { width: screen.width, height: screen.height, rgba: screen.rgba };
  }
  const cw = font.width;
  const ch = font.height;
  const width = screen.columns * cw;
  const height = screen.rows * ch;
  const rgba = new Uint8Array(width * height * 4);
  const glyphBytes = ch * font.bytesPerRow;
  for (let r = 0; r < screen.rows; r++) {
    for (let c = 0; c < screen.columns; c++) {
      const cell = screen.cells[r * screen.columns + c];
      const attr = cell >> 8;
      const fg = VGA_PALETTE[attr & 0x0f];
      const bg = VGA_PALETTE[(attr >> 4) & 0x07];
      const g = glyphIndex(font, cell & 0xff) * glyphBytes;
      const isCursor = screen.cursor !== null && screen.cursor.row === r && screen.cursor.column === c;
      for (let y = 0; y < ch; y++) {
        const cursorLine = isCursor && y >= cursorLines.start && y <= cursorLines.end;
        for (let x = 0; x < cw; x++) {
          const bit = (font.glyphs[g + y * font.bytesPerRow + (x >> 3)] >> (7 - (x & 7))) & 1;
          const [red, green, blue] = bit === 1 || cursorLine ? fg : bg;
          const o = ((r * ch + y) * width + c * cw + x) * 4;
          rgba[o] = red;
          rgba[o + 1] = green;
          rgba[o + 2] = blue;
          rgba[o + 3] = 255;
        }
      }
    }
  }
  return { width, height, rgba };
}
