// Bundles each entry point that exists with esbuild. Entries are optional so that the build works while the
// project grows; a bundle is rebuilt on every call (esbuild takes well under a second for all of them).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// The CLI bundle as ASCII, so that bin/code-cache.js makes it a one-byte string without UTF-8 decoding (half the
// memory of a two-byte one, and about 1.5 ms less of every `ringside run`'s start-up). esbuild already escapes every
// non-ASCII character of strings, templates, regular expressions and names (its default charset); what remains is in
// the comments it keeps (class members' doc comments: dashes, arrows, §). Each such character becomes '?' once per
// UTF-16 unit, so columns, and with them the source map, stay as they are.
const cli = join(root, 'dist', 'cli.js');
if (existsSync(cli)) {
  const text = readFileSync(cli, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/gu, (c) => '?'.repeat(c.length));
  if (ascii !== text) writeFileSync(cli, ascii);
}

// V8's code cache of the CLI bundle (bin/code-cache.js): made by a short run of the bench's cold-code workload
// (real and protected mode, faults, translated blocks), so it holds the functions a run compiles, not only the
// bundle's top level. Without it (or when it cannot be made) the CLI compiles as before.
rmSync(`${cli}.cache`, { force: true });
if (existsSync(cli)) {
  const made = spawnSync(process.execPath, [join(root, 'bin', 'ringside.js'), 'run', join(root, 'bench', 'cold-code.bin'), '--format', 'boot', '--serial', 'off'], {
    env: { ...process.env, RINGSIDE_WRITE_CODE_CACHE: '1' },
    stdio: 'ignore',
  });
  if (made.status !== 0 || !existsSync(`${cli}.cache`)) console.warn('build: no code cache for dist/cli.js (the CLI runs without one)');
}
