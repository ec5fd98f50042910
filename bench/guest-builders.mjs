// The real-guest image builders of test/guests/images (GRUB, SYSLINUX, memtest86+) and the Linux guest's parts
// (Debian's kernel, the busybox initramfs of test/guests/initramfs.ts), bundled for a bench process.
// Each builder module finds its files by its own __dirname, so the bundle keeps every module's own directory
// instead of the bundle's (.guests/build would hold no multiboot kernel).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The builders module (grubFloppy, syslinuxFloppy, memtestFloppy, …, debianKernel, busyboxInitramfs, LINUX_MARKER). */
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
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export * from ${JSON.stringify(join(root, 'test/guests/images/index.ts'))};\n` +
      `export { debianKernel, busyboxInitramfs, LINUX_MARKER } from ${JSON.stringify(join(root, 'test/guests/initramfs.ts'))};\n`,
  );
  await build({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent', plugins: [ownDirname] });
  const builders = require(out);
  rmSync(dir, { recursive: true, force: true });
  return builders;
}
