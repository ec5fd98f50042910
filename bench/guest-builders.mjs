// The real-guest image builders of test/guests/images (GRUB, SYSLINUX, memtest86+), bundled for a bench process.
// Each builder module finds its files by its own __dirname, so the bundle keeps every module's own directory
// instead of the bundle's (.guests/build would hold no multiboot kernel).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The builders module (grubFloppy, syslinuxFloppy, memtestFloppy, …). */
export async function loadBuilders() {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-'));
  const out = join(dir, 'images.cjs');
  const ownDirname = {
    name: 'own-dirname',
    setup(b) {
      b.onLoad({ filter: /test[\\/]guests[\\/].*\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, JSON.stringify(dirname(args.path))),
        loader: 'ts',
      }));
    },
  };
  await build({ entryPoints: [join(root, 'test/guests/images/index.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent', plugins: [ownDirname] });
  const builders = require(out);
  rmSync(dir, { recursive: true, force: true });
  return builders;
}
