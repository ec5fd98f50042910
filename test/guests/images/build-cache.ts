// The cache every real-guest image builder shares: an image is named by a hash of everything that goes into it
// (the builder's recipe, the input files' bytes, the tools' versions), built once into .guests/build and reused
// while none of that changes. Builders are deterministic (fixed timestamps, volume ids and file order), so the
// same inputs give the same bytes on any machine.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildDir, haveCommand } from '../debian';

/** A built image, or why it could not be built here (a tool or package is absent). */
export type GuestImage = { path: string; reason?: undefined } | { path: null; reason: string };

export const IMAGES_DIR = __dirname;
/** Timestamps written into images and archives: fixed, so builds are byte-for-byte repeatable. */
export const FIXED_EPOCH = '0';

export function skipped(reason: string): GuestImage {
  return { path: null, reason };
}

/** The first tool of `commands` that is not on PATH, as a skip reason, or null when all are there. */
export function missingTool(commands: readonly string[], pkg: string): string | null {
  for (const c of commands) if (!haveCommand(c)) return `${c} is not installed (Debian package ${pkg})`;
  return null;
}

/** The first file of `files` that does not exist, as a skip reason, or null. */
export function missingFile(files: readonly string[], pkg: string): string | null {
  for (const f of files) if (!existsSync(f)) return `${f} is missing (Debian package ${pkg})`;
  return null;
}

/** A tool's version line, part of a cache key so an upgraded tool rebuilds the image. */
export function toolVersion(command: string, args: readonly string[] = ['--version']): string {
  const r = spawnSync(command, [...args], { encoding: 'utf8' });
  return `${command}: ${(r.stdout || r.stderr || '').split('\n')[0]}`;
}

/** Runs a build step; throws with its output when it fails (a failing tool is a bug to see, not a skip). */
export function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(command, [...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, SOURCE_DATE_EPOCH: FIXED_EPOCH, MTOOLS_NO_VFAT: '1', ...env },
  });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}${r.stdout}`);
  }
}

/**
 * The cached image `name`, keyed by `recipe` (strings and input file paths, whose bytes count): returned at once
 * when built before, else built by `build` in a scratch folder (it returns the image's path there) and moved in.
 */
export function cachedImage(
  name: string,
  recipe: { text: readonly string[]; files: readonly string[] },
  build: (scratch: string) => string,
): string {
  const hash = createHash('sha256');
  for (const t of recipe.text) hash.update(`text:${t}\0`);
  for (const f of recipe.files) hash.update(`file:${path.basename(f)}\0`).update(readFileSync(f));
  const dir = buildDir('images');
  const out = path.join(dir, `${name}-${hash.digest('hex').slice(0, 16)}.img`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(path.join(dir, `${name}.tmp-`));
  try {
    // Renamed into place whole, so a concurrent or interrupted build never leaves half an image under `out`.
    renameSync(build(scratch), out);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}
