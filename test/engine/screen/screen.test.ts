// The screen as the CLI and the Screen view get it: text cells with the cursor from the CRTC, the BDA's size,
// the text lines --screen prints, the PNG --screenshot writes (decoded again here) and the VGA font.
import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { Machine } from '../../../engine/machine/machine';
import { captureScreen, framebufferOf, screenLines, screenReport, type TextScreen } from '../../../engine/screen/screen';
import { encodePng } from '../../../engine/screen/png';
import { renderScreen } from '../../../engine/screen/render';
import { parsePsf, type BitmapFont } from '../../../engine/screen/psf';

function write(m: Machine, row: number, column: number, text: string, attr = 0x07): void {
  for (let i = 0; i < text.length; i++) m.mem.load(0xb8000 + (row * 80 + column + i) * 2, Uint8Array.of(text.charCodeAt(i), attr));
}

/** A two-glyph PSF1 font: glyph 0 blank, glyph 1 ("A") a full block; Unicode table maps ' ' → 0, 'A' and '?' → 1. */
function tinyFont(): BitmapFont {
  const head = Uint8Array.of(0x36, 0x04, 0x02, 16);
  const glyphs = new Uint8Array(256 * 16);
  glyphs.fill(0xff, 16, 32);
  const table: number[] = [];
  for (let g = 0; g < 256; g++) {
    if (g === 0) table.push(0x20);
    if (g === 1) table.push(0x41, 0x3f);
    table.push(0xffff);
  }
  const tab = new Uint8Array(new Uint16Array(table).buffer);
  return parsePsf(Uint8Array.from([...head, ...glyphs, ...tab]));
}

/** Decodes the PNG this project writes (RGBA, filter 0) and checks every chunk's CRC by re-encoding. */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let p = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (p < png.length) {
    const len = png.readUInt32BE(p);
    const type = png.toString('latin1', p + 4, p + 8);
    const data = png.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
    if (type === 'IDAT') idat.push(data);
    p += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 4 + 1)]).toBe(0);
    rgba.set(raw.subarray(y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1)), y * width * 4);
  }
  return { width, height, rgba };
}

describe('screen', () => {
  it('reads the text cells from the CRTC start, with the cursor, and prints trimmed lines', () => {
    const m = new Machine();
    write(m, 0, 0, 'Hello, screen', 0x1f);
    write(m, 24, 70, 'bottom');
    const crtc = m.devices.crtc!;
    crtc.portOut(0x3d4, 0x0e);
    crtc.portOut(0x3d5, 0x00);
    crtc.portOut(0x3d4, 0x0f);
    crtc.portOut(0x3d5, 85); // row 1, column 5
    const s = m.screen() as TextScreen;
    expect(s).toMatchObject({ kind: 'text', columns: 80, rows: 25, cursor: { row: 1, column: 5 } });
    expect(s.cells[0]).toBe(0x1f48);
    const lines = screenLines(s);
    expect(lines[0]).toBe('Hello, screen');
    expect(lines[24]).toBe(' '.repeat(70) + 'bottom');
    expect(screenReport(s).split('\n').length).toBe(26);
    // The start address scrolls: start at row 24 and the first line shows what row 24 holds.
    crtc.portOut(0x3d4, 0x0c);
    crtc.portOut(0x3d5, (24 * 80) >> 8);
    crtc.portOut(0x3d4, 0x0d);
    crtc.portOut(0x3d5, (24 * 80) & 0xff);
    expect(screenLines(m.screen() as TextScreen)[0]).toBe(' '.repeat(70) + 'bottom');
  });

  it('takes the size from the BIOS data area and names a graphics mode it cannot draw', () => {
    const m = new Machine();
    m.mem.load(0x44a, Uint8Array.of(80, 0));
    m.mem.load(0x484, Uint8Array.of(49));
    expect(m.screen()).toMatchObject({ kind: 'text', rows: 50 });
    m.mem.load(0x449, Uint8Array.of(0x13));
    expect(screenReport(m.screen())).toBe('(graphics: BIOS mode 13h, 320x200; no text screen — use --screenshot)\n');
  });

  it('draws cells with the font in the attribute colours, the cursor as an underline, into a PNG that decodes back', () => {
    const m = new Machine();
    write(m, 0, 0, 'A', 0x1e); // yellow on blue
    write(m, 0, 1, 'x', 0x07); // no glyph for x: drawn as "?"
    write(m, 0, 2, ' ', 0x07);
    const s = m.screen() as TextScreen;
    s.cursor = { row: 0, column: 2 };
    const pic = renderScreen(s, tinyFont());
    expect([pic.width, pic.height]).toEqual([640, 400]);
    const png = decodePng(encodePng(pic.width, pic.height, pic.rgba));
    const px = (x: number, y: number) => [...png.rgba.subarray((y * 640 + x) * 4, (y * 640 + x) * 4 + 4)];
    expect(px(3, 5)).toEqual([0xff, 0xff, 0x55, 255]); // "A" is a block of foreground
    expect(px(9, 5)).toEqual([0xaa, 0xaa, 0xaa, 255]); // "x" fell back to "?", also a block here
    expect(px(20, 5)).toEqual([0, 0, 0, 255]); // blank cell, black background
    expect(px(20, 14)).toEqual([0xaa, 0xaa, 0xaa, 255]); // the cursor: scan lines 14–15 in the foreground colour
    expect(px(20, 13)).toEqual([0, 0, 0, 255]);
    expect(px(28, 14)).toEqual([0, 0, 0, 255]); // no cursor in the next cell
  });

  it('takes a graphics mode from the display device: 32 and 16 bits per pixel to RGBA', () => {
    const m = new Machine();
    const fb32 = Uint8Array.of(0x10, 0x20, 0x30, 0, 0xff, 0x00, 0x80, 0, /* pitch padding */ 9, 9, 9, 9);
    const display = { mode: () => ({ kind: 'graphics' as const, width: 2, height: 1, bpp: 32, framebuffer: fb32, pitch: 12 }) };
    const s = captureScreen({ mem: m.mem, crtc: null, framebuffer: framebufferOf({ display }) });
    expect(s).toMatchObject({ kind: 'graphics', width: 2, height: 1, mode: 'VBE 2x1x32' });
    expect([...(s as { rgba: Uint8Array }).rgba]).toEqual([0x30, 0x20, 0x10, 255, 0x80, 0x00, 0xff, 255]);
    const fb16 = Uint8Array.of(0x1f, 0xf8); // 0xF81F: red and blue full, green 0
    const s16 = captureScreen({ mem: m.mem, crtc: null, framebuffer: framebufferOf({ display: { mode: () => ({ kind: 'graphics' as const, width: 1, height: 1, bpp: 16, framebuffer: fb16, pitch: 2 }) } }) });
    expect([...(s16 as { rgba: Uint8Array }).rgba]).toEqual([255, 0, 255, 255]);
    expect(framebufferOf({ display: { mode: () => ({ kind: 'text' as const }) } })()).toBeNull();
    expect(framebufferOf({})()).toBeNull();
  });
});
