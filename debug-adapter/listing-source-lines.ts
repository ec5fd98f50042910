// Source lines for a flat binary without DWARF, from the nasm listing beside it (X.lst for X.bin, as the extension
// writes it before a session and as `nasm -l` makes it). The listing is used only when the bytes it shows are the
// bytes of the image: a listing of an older build would put breakpoints on the wrong instructions.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { LineRow } from '../engine/machine/loaders/types';
import { linesFromNasmListing } from './nasm-listing';

export type ListingLines = { lines: LineRow[]; note: string } | { lines: []; note: string | null };

const ROW = /^\s*\d+\s([0-9A-F]{8})\s(\S+)/;
const SOURCE_EXTENSIONS = ['.asm', '.nasm'];

/**
 * Where the listing's bytes disagree with `image` (offset counted from the image's start), or null when every
 * byte the listing shows as assembled is in the image. Bracketed fields ([..] absolute, (..) relative) are the
 * values before `org` is applied, so only their length counts; rows after a second section are not compared.
 */
export function listingMismatch(listing: string, image: Uint8Array): string | null {
  let compared = 0;
  for (const text of listing.split(/\r?\n/)) {
    if (/^\s*\d+\s+(?:<\d+>\s*)?\s*\[?\s*(?:section|segment)\s/i.test(text) && compared > 0) break;
    const m = ROW.exec(text);
    if (!m) continue;
    let offset = parseInt(m[1], 16);
    const field = m[2].replace(/-$/, '');
    if (field.includes('<rep')) continue; // `times` rows give a count, not the bytes
    for (const part of field.match(/\[[0-9A-F]*\]|\([0-9A-F]*\)|[0-9A-F]{2}/g) ?? []) {
      if (part.length > 2 || part.startsWith('[') || part.startsWith('(')) {
        offset += (part.length - 2) / 2;
        continue;
      }
      const byte = parseInt(part, 16);
      if (offset >= image.length) return `the listing has code at offset 0x${offset.toString(16)}, past the image's end (0x${image.length.toString(16)} bytes)`;
      if (image[offset] !== byte) return `offset 0x${offset.toString(16)} holds 0x${image[offset].toString(16).padStart(2, '0')} in the image, 0x${part.toLowerCase()} in the listing`;
      compared++;
      offset++;
    }
  }
  return compared > 0 ? null : 'the listing shows no assembled bytes';
}

/** The listing nasm writes for `program` by the convention X.bin → X.lst (same folder). */
export function listingPathFor(program: string): string {
  return join(dirname(program), basename(program, extname(program)) + '.lst');
}

/** `%include` files: beside the including file, else in an `include` folder of it or one of its ancestors. */
function includeResolver(name: string, from: string): string {
  const candidates = [join(dirname(from), name)];
  for (let dir = dirname(from), level = 0; level < 4; level++) {
    candidates.push(join(dir, 'include', name));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/**
 * Line rows of the flat binary `program` (its bytes `image`, loaded at `loadAddress`) from its listing; `lines` is
 * empty when there is no listing or NASM source, and `note` says why a listing that exists was not used.
 */
export function linesFromListingBeside(program: string, image: Uint8Array, loadAddress: number): ListingLines {
  const listingPath = listingPathFor(program);
  if (!existsSync(listingPath)) return { lines: [], note: null };
  const stem = join(dirname(program), basename(program, extname(program)));
  const source = SOURCE_EXTENSIONS.map((e) => stem + e).find((p) => existsSync(p));
  if (!source) return { lines: [], note: `${basename(listingPath)} not used: no ${basename(stem)}.asm beside it` };
  let text: string;
  try {
    text = readFileSync(listingPath, 'utf8');
  } catch (e) {
    return { lines: [], note: `${basename(listingPath)} not used: ${(e as Error).message}` };
  }
  const mismatch = listingMismatch(text, image);
  if (mismatch) return { lines: [], note: `${basename(listingPath)} is stale and not used (${mismatch}); rebuild the image to get breakpoints in ${basename(source)}` };
  // The image's byte at offset k is at loadAddress + k whatever `org` the source names, so loadAddress is the origin.
  const lines = linesFromNasmListing(text, source, includeResolver, loadAddress);
  return { lines, note: `source lines from ${basename(listingPath)} (${lines.length} rows)` };
}
