// The VGA-like 8×16 font for drawing text screens: Uni2-VGA16 from Debian's console-setup-linux, which
// scripts/build.mjs copies next to the bundles (dist/vga-font.psf.gz) when the package is present at build time;
// a system's own copy under /usr/share/consolefonts is the fallback. Nothing of the font is in the repository.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePsf, type BitmapFont } from './psf';

export const FONT_FILE = 'vga-font.psf.gz';
const SYSTEM_FONTS = ['/usr/share/consolefonts/Uni2-VGA16.psf.gz', '/usr/share/consolefonts/Lat15-VGA16.psf.gz', '/usr/share/consolefonts/default8x16.psf.gz'];

let cached: BitmapFont | null = null;

/** Where the font is looked for, in order: $RINGSIDE_VGA_FONT, beside the bundle, the system's console fonts. */
export function fontCandidates(): string[] {
  const env = process.env.RINGSIDE_VGA_FONT;
  return [...(env ? [env] : []), path.join(__dirname, FONT_FILE), ...SYSTEM_FONTS];
}

/** The font, or throws one line saying where it was looked for. */
export function vgaFont(): BitmapFont {
  if (cached !== null) return cached;
  const file = fontCandidates().find((f) => existsSync(f));
  if (file === undefined) {
    throw new Error(`no VGA font to draw the text screen: build with Debian's console-setup-linux present (scripts/install-guest-tools.sh) or set RINGSIDE_VGA_FONT to a .psf file`);
  }
  cached = parsePsf(readFileSync(file));
  return cached;
}
