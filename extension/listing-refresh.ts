// Gives a flat binary a current nasm listing (X.lst beside X.bin) before a session, so breakpoints in its NASM
// source can be placed also when the image was built by other means (a launch.json, a Makefile, a committed
// image). The source is assembled into a temporary folder; the listing is kept only when that assembly
// reproduces the image byte for byte, so a listing never describes code other than the one that runs. Quietly
// does nothing (and says why) when there is no source, no nasm, or the source does not give the image.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { listingPathFor, nasmArguments, nasmIncludeDirs } from './nasm-build-plan';

export type ListingOutcome = { state: 'current' | 'written'; listing: string } | { state: 'skipped'; reason: string };

const SOURCE_EXTENSIONS = ['.asm', '.nasm'];
const NASM_TIMEOUT_MS = 30_000;

/** The NASM source a flat binary was assembled from, by name: X.asm or X.nasm beside X.bin. */
export function sourceForImage(imagePath: string): string | undefined {
  const stem = join(dirname(imagePath), basename(imagePath, extname(imagePath)));
  return SOURCE_EXTENSIONS.map((e) => stem + e).find((p) => existsSync(p));
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: NASM_TIMEOUT_MS }, (error, _stdout, stderr) => {
      const code = error ? ((error as NodeJS.ErrnoException).code ?? 1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });
}

export async function refreshListing(imagePath: string, nasmPath: string, workspaceFolder?: string): Promise<ListingOutcome> {
  const source = sourceForImage(imagePath);
  if (!source) return { state: 'skipped', reason: `no NASM source (${basename(imagePath, extname(imagePath))}.asm) beside ${basename(imagePath)}` };
  const listing = listingPathFor(imagePath);
  try {
    const [l, s, i] = await Promise.all([stat(listing), stat(source), stat(imagePath)]);
    if (l.mtimeMs >= s.mtimeMs && l.mtimeMs >= i.mtimeMs) return { state: 'current', listing };
  } catch {
    // no listing yet
  }
  const scratch = await mkdtemp(join(tmpdir(), 'ringside-listing-'));
  try {
    const scratchImage = join(scratch, 'image.bin');
    const includeDirs = await nasmIncludeDirs(source, workspaceFolder);
    const result = await run(nasmPath, nasmArguments(source, scratchImage, includeDirs), dirname(source));
    if (result.code === 'ENOENT') return { state: 'skipped', reason: `nasm ("${nasmPath}") is not installed` };
    if (result.code !== 0) {
      const first = result.stderr.split('\n').find((l) => l.trim()) ?? `exit code ${result.code}`;
      return { state: 'skipped', reason: `nasm could not assemble ${basename(source)}: ${first.trim()}` };
    }
    const [built, image] = await Promise.all([readFile(scratchImage), readFile(imagePath)]);
    if (!built.equals(image)) {
      return { state: 'skipped', reason: `assembling ${basename(source)} does not reproduce ${basename(imagePath)} (rebuild the image, or it was built with other options)` };
    }
    await copyFile(listingPathFor(scratchImage), listing);
    return { state: 'written', listing };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
