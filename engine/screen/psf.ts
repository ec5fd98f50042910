// PC Screen Font files (the Linux console's .psf/.psfu, version 1 and 2, gzipped or not), as Debian's
// console-setup-linux and kbd ship them: fixed-size bitmap glyphs, one bit per pixel, rows padded to whole bytes,
// and a Unicode table saying which characters each glyph draws. Used to draw VGA text screens (render.ts).
import { gunzipSync } from 'node:zlib';

export interface BitmapFont {
  width: number;
  height: number;
  bytesPerRow: number;
  /** glyphCount × height × bytesPerRow bytes. */
  glyphs: Uint8Array;
  /** Unicode code point → glyph index. */
  byCodePoint: Map<number, number>;
}

const PSF1_MAGIC = 0x0436;
const PSF1_MODE512 = 0x01;
const PSF1_MODEHASTAB = 0x02;
const PSF1_SEPARATOR = 0xffff;
const PSF1_STARTSEQ = 0xfffe;
const PSF2_MAGIC = 0x864ab572;
const PSF2_HAS_UNICODE_TABLE = 0x01;

export function parsePsf(file: Uint8Array): BitmapFont {
  const data = file[0] === 0x1f && file[1] === 0x8b ? new Uint8Array(gunzipSync(file)) : file;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length >= 4 && view.getUint16(0, true) === PSF1_MAGIC) {
    const mode = data[2];
    const height = data[3];
    const count = mode & PSF1_MODE512 ? 512 : 256;
    const glyphs = data.subarray(4, 4 + count * height);
    const byCodePoint = new Map<number, number>();
    if (mode & PSF1_MODEHASTAB) {
      let p = 4 + count * height;
      for (let g = 0; g < count && p + 1 < data.length; g++) {
        let inSequence = false;
        for (; p + 1 < data.length; p += 2) {
          const u = view.getUint16(p, true);
          if (u === PSF1_SEPARATOR) break;
          if (u === PSF1_STARTSEQ) inSequence = true;
          else if (!inSequence && !byCodePoint.has(u)) byCodePoint.set(u, g);
        }
        p += 2;
      }
    } else for (let g = 0; g < count; g++) byCodePoint.set(g, g);
    return { width: 8, height, bytesPerRow: 1, glyphs, byCodePoint };
  }
  if (data.length >= 32 && view.getUint32(0, true) === PSF2_MAGIC) {
    const headerSize = view.getUint32(8, true);
    const flags = view.getUint32(12, true);
    const count = view.getUint32(16, true);
    const glyphSize = view.getUint32(20, true);
    const height = view.getUint32(24, true);
    const width = view.getUint32(28, true);
    const glyphs = data.subarray(headerSize, headerSize + count * glyphSize);
    const byCodePoint = new Map<number, number>();
    if (flags & PSF2_HAS_UNICODE_TABLE) {
      // UTF-8 strings per glyph: single characters, then FEh before sequences, FFh ending the glyph's entry.
      let p = headerSize + count * glyphSize;
      for (let g = 0; g < count && p < data.length; g++) {
        let end = p;
        while (end < data.length && data[end] !== 0xff) end++;
        const entry = data.subarray(p, end);
        const seq = entry.indexOf(0xfe);
        for (const ch of Buffer.from(seq >= 0 ? entry.subarray(0, seq) : entry).toString('utf8')) {
          const cp = ch.codePointAt(0)!;
          if (!byCodePoint.has(cp)) byCodePoint.set(cp, g);
        }
        p = end + 1;
      }
    } else for (let g = 0; g < count; g++) byCodePoint.set(g, g);
    return { width, height, bytesPerRow: Math.ceil(width / 8), glyphs, byCodePoint };
  }
  throw new Error('not a PC Screen Font (PSF1 or PSF2) file');
}
