// Bundles each entry point that exists with esbuild. Entries are optional so that the build works while the
// project grows; a bundle is rebuilt on every call (esbuild takes well under a second for all of them).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = [
  { in: 'engine/cli/main.ts', out: 'dist/cli.js' },
  { in: 'engine/index.ts', out: 'dist/engine.js' },
  { in: 'debug-adapter/main.ts', out: 'dist/adapter.js' },
  { in: 'extension/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  { in: 'extension/server/server.ts', out: 'dist/server.js' },
];

for (const e of entries) {
  if (!existsSync(join(root, e.in))) continue;
  await build({
    entryPoints: [join(root, e.in)],
    outfile: join(root, e.out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external: e.external ?? [],
    logLevel: 'warning',
  });
}

// The VGA-like console font the screenshots draw text with (engine/screen/font.ts), taken from Debian's
// console-setup-linux at build time: the system's copy, or the one scripts/install-guest-tools.sh unpacked.
const fonts = ['/usr/share/consolefonts/Uni2-VGA16.psf.gz', join(root, '.guests/root/console-setup-linux/usr/share/consolefonts/Uni2-VGA16.psf.gz')];
const font = fonts.find((f) => existsSync(f));
if (font !== undefined) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  copyFileSync(font, join(root, 'dist', 'vga-font.psf.gz'));
}

// V8's code cache of the CLI bundle (bin/code-cache.js): made by a short run of the bench's cold-code workload
// (real and protected mode, faults, translated blocks), so it holds the functions a run compiles, not only the
// bundle's top level. Without it (or when it cannot be made) the CLI compiles as before.
const cli = join(root, 'dist', 'cli.js');
rmSync(`${cli}.cache`, { force: true });
if (existsSync(cli)) {
  const made = spawnSync(process.execPath, [join(root, 'bin', 'ringside.js'), 'run', join(root, 'bench', 'cold-code.bin'), '--format', 'boot', '--serial', 'off'], {
    env: { ...process.env, RINGSIDE_WRITE_CODE_CACHE: '1' },
    stdio: 'ignore',
  });
  if (made.status !== 0 || !existsSync(`${cli}.cache`)) console.warn('build: no code cache for dist/cli.js (the CLI runs without one)');
}
