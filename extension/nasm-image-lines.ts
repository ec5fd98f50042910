// Source lines for a flat binary that was assembled from NASM with a listing (X.bin beside X.asm and X.lst, as
// F5 on a NASM source builds it). For the adapter: an image without DWARF still gets breakpoints in its source.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LineRow } from '../engine/machine/loaders/types';
import { sourceForImage } from './listing-refresh';
import { listingPathFor, nasmIncludeDirs } from './nasm-build-plan';
import { linesFromNasmListing } from '../debug-adapter/nasm-listing';

/**
 * The line rows of `imagePath` from its listing, or [] when there is no listing or no source beside it. (A listing
 * older than its source is not refused here: F5 rebuilds both together, and checkout times say nothing.) `org`,
 * when given, is where the image is loaded; otherwise the listing's `org` is used.
 */
export async function nasmLinesForImage(imagePath: string, org?: number): Promise<LineRow[]> {
  const listingPath = listingPathFor(imagePath);
  const sourcePath = sourceForImage(imagePath);
  if (!sourcePath || !existsSync(listingPath)) return [];
  const includeDirs = await nasmIncludeDirs(sourcePath);
  const resolveInclude = (name: string, from: string): string => {
    const candidates = [join(dirname(from), name), ...includeDirs.map((d) => join(d, name))];
    return candidates.find((c) => existsSync(c)) ?? candidates[0];
  };
  return linesFromNasmListing(await readFile(listingPath, 'utf8'), sourcePath, resolveInclude, org);
}
