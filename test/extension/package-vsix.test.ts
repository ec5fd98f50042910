// Packages the extension with @vscode/vsce as `npm run package` does and checks the .vsix (a zip) holds what VS
// Code needs to run it, and nothing of the sources, tests or node_modules. The package is staged in a temporary
// folder (package.json, .vscodeignore, the files they name, and fresh bundles), so that suites building dist/ at
// the same time never hand vsce a half-written file.
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

interface ZipEntry {
  name: string;
  read: () => Buffer;
}

/** Lists a zip's entries from its central directory (APPNOTE.TXT §4.3.12, §4.3.16). */
function readZip(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    entries.push({
      name,
      read: () => {
        const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
        const data = zip.subarray(dataStart, dataStart + compressedSize);
        return method === 8 ? inflateRawSync(data) : Buffer.from(data);
      },
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

let entries: ZipEntry[];
let names: string[];
const adapterSourceExists = existsSync(join(root, 'debug-adapter/main.ts'));
/** What the staged package copies from the repository as they are. */
const STAGED = ['package.json', '.vscodeignore', 'bin', 'syntaxes', 'language-configuration.json', 'extension/icon.png', 'extension/README.md', 'README.md', 'CHANGELOG.md', 'LICENSE'];

beforeAll(async () => {
  const stage = mkdtempSync(join(tmpdir(), 'ringside-stage-'));
  for (const item of STAGED) if (existsSync(join(root, item))) cpSync(join(root, item), join(stage, item), { recursive: true });
  const bundle = (entry: string, out: string, external: string[] = []) =>
    build({ entryPoints: [join(root, entry)], outfile: join(stage, out), bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, external, logLevel: 'error' });
  await bundle('extension/extension.ts', 'dist/extension.js', ['vscode']);
  await bundle('extension/server/server.ts', 'dist/server.js');
  if (adapterSourceExists) await bundle('debug-adapter/main.ts', 'dist/adapter.js');
  const out = join(stage, 'ringside.vsix');
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  const result = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--readme-path', 'extension/README.md', '-o', out], { cwd: stage, encoding: 'utf8', timeout: 120_000 });
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  entries = readZip(readFileSync(out));
  names = entries.map((e) => e.name);
});

describe('ringside.vsix', () => {
  it('holds the bundles, grammars, language configuration, icon and documents', () => {
    for (const name of [
      'extension/package.json',
      'extension/dist/extension.js',
      'extension/dist/server.js',
      'extension/bin/ringside.js',
      'extension/syntaxes/nasm.tmLanguage.json',
      'extension/syntaxes/ringside-trace.tmLanguage.json',
      'extension/language-configuration.json',
      'extension/extension/icon.png',
      'extension/readme.md',
      'extension/changelog.md',
      'extension/LICENSE.txt',
      'extension.vsixmanifest',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it.skipIf(!adapterSourceExists)('holds the debug adapter bundle that bin/ringside.js starts, needing only Node', () => {
    expect(names).toContain('extension/dist/adapter.js');
  });

  it.skipIf(!adapterSourceExists)('holds every file the adapter\'s launcher loads: `bin/ringside.js dap` starts from the unpacked .vsix', () => {
    const unpacked = mkdtempSync(join(tmpdir(), 'ringside-vsix-'));
    for (const e of entries.filter((x) => x.name.startsWith('extension/'))) {
      const file = join(unpacked, e.name.slice('extension/'.length));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, e.read());
    }
    // With stdin closed the adapter has no client and ends at once; a file the launcher requires but the package
    // lacks ends it with "Cannot find module" and status 1.
    const r = spawnSync(process.execPath, [join(unpacked, 'bin', 'ringside.js'), 'dap'], { input: '', encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/Cannot find module/);
    expect(r.status).toBe(0);
  });

  it('holds no sources, tests, source maps, examples or node_modules', () => {
    const unwanted = names.filter((n) => /\.ts$|\.map$|\/node_modules\/|^extension\/(?:test|examples|engine|debug-adapter|scripts|bench)\//.test(n));
    expect(unwanted).toEqual([]);
    expect(names.length).toBeLessThanOrEqual(16);
  });

  it('asks for a VS Code at least as new as the bundled language client requires', async () => {
    const minimum = (range: string) => range.replace(/^[\^~>=]+/, '').split('.').map(Number);
    const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.vscode as string;
    const client = JSON.parse(readFileSync(join(root, 'node_modules/vscode-languageclient/package.json'), 'utf8')).engines.vscode as string;
    const [a, b] = [minimum(own), minimum(client)];
    const compare = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
    expect(compare, `engines.vscode ${own} vs vscode-languageclient's ${client}`).toBeGreaterThanOrEqual(0);
  });

  it('holds every file its package.json points at', () => {
    const manifest = JSON.parse(entries.find((e) => e.name === 'extension/package.json')!.read().toString('utf8'));
    const referenced = [
      manifest.main,
      manifest.icon,
      ...manifest.contributes.grammars.map((g: { path: string }) => g.path),
      ...manifest.contributes.languages.filter((l: { configuration?: string }) => l.configuration).map((l: { configuration: string }) => l.configuration),
    ].map((p: string) => `extension/${p.replace(/^\.\//, '')}`);
    for (const file of referenced) expect(names, file).toContain(file);
  });

  it('ships bundles that need nothing from node_modules at run time (packaged with --no-dependencies)', () => {
    const allowed = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'vscode']);
    for (const name of ['extension/dist/extension.js', 'extension/dist/server.js', ...(adapterSourceExists ? ['extension/dist/adapter.js'] : [])]) {
      const code = entries.find((e) => e.name === name)!.read().toString('utf8');
      const required = [...code.matchAll(/\brequire\("([^"./][^"]*)"\)/g)].map((m) => m[1]);
      expect(required.filter((r) => !allowed.has(r)), name).toEqual([]);
      expect(required, `${name} requires node built-ins`).toContain(name.endsWith('extension.js') ? 'vscode' : name.endsWith('server.js') ? 'path' : required[0]);
    }
  });
});
