// Where the real-guest tests find what scripts/install-guest-tools.sh installed: host tools (grub-mkimage, mtools,
// gcc -m32 …) and the i386 packages unpacked under .guests/root/<package>/. Each returns null when the thing is
// absent, so a test can say it skipped and why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const GUESTS_DIR = path.join(ROOT, '.guests');

/** True when `cmd` runs here (looked up on PATH). */
export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** The folder an i386 package was unpacked into (its files under their installed paths), or null. */
export function i386PackageRoot(name: string): string | null {
  const dir = path.join(GUESTS_DIR, 'root', name);
  return existsSync(dir) ? dir : null;
}

/** A file scratch folder for one test file's built guests, under .guests/build (gitignored). */
export function buildDir(name: string): string {
  return path.join(GUESTS_DIR, 'build', name);
}
