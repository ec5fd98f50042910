// The Debian i386 Linux boot the Linux benchmarks time (bench/linux-window.mjs, bench/linux-phases.mjs): the engine
// build (RINGSIDE_ENGINE=FILE for another build's engine.js, for alternating before/after runs), and a machine as
// `ringside run VMLINUZ --format linux --initrd X --append console=ttyS0 --memory 128 --cpu pentium-pro` makes.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
export const engine = require(process.env.RINGSIDE_ENGINE ?? join(root, 'dist', 'engine.js'));

const version = '6.1.0-50-686';
const kernel = join(root, '.guests', 'root', `linux-image-${version}-unsigned`, 'boot', `vmlinuz-${version}`);
const initrd = join(root, '.guests', 'build', 'linux', 'initramfs.cpio');
if (!existsSync(kernel) || !existsSync(initrd)) {
  console.log(`skipped: needs ${kernel} and ${initrd} (scripts/install-guest-tools.sh, then the guests project's linux test once)`);
  process.exit(0);
}

/** A new machine with the kernel and initramfs loaded; serial output goes to `onSerialByte`. */
export function linuxMachine(onSerialByte = () => undefined) {
  const m = new engine.Machine({ memoryMB: 128, model: 'pentium-pro', devices: { onSerialByte } });
  m.load(readFileSync(kernel), { format: 'linux', initrd: readFileSync(initrd), append: 'console=ttyS0' });
  return m;
}
