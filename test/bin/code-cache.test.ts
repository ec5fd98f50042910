// bin/code-cache.js: the CLI bundle runs from V8's code cache only when the cache was made from exactly that bundle.
// V8 itself checks a cache against the source's length alone, so a cache of an older bundle of the same length
// would run the older code; the key at the cache's head (the bundle's CRC-32 and length) keeps it out. Each case runs
// in a child node.

import { spawnSync } from 'node:child_process';
import { isAscii } from 'node:buffer';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const LOADER = resolve(__dirname, '../../bin/code-cache.js');

/** A bundle that prints `word` and what `require` and `__dirname` it was given. */
const bundle = (word: string): string =>
  `process.stdout.write(JSON.stringify({ word: ${JSON.stringify(word)}, path: typeof require('node:path').join, dir: __dirname, main: module.exports === exports }));\n`;

/**
 * Loads `file` through the loader in a child node, writing its cache beside it (`writeCache`) or using the cache
 * directory `cacheDir`: its output, and whether the cache was used.
 */
function load(file: string, writeCache = false, cacheDir?: string): { out: unknown; used: boolean; stderr: string; status: number | null } {
  const options = JSON.stringify({ writeCache, ...(cacheDir === undefined ? {} : { cacheDir }) });
  const script = `const used = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(file)}, ${options}); process.stdout.write('\\n' + used);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const [out, used] = r.stdout.split('\n');
  return { out: out ? JSON.parse(out) : null, used: used === 'true', stderr: r.stderr, status: r.status };
}

describe('the CLI bundle and its code cache', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringside-cache-'));
    file = join(dir, 'cli.js');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a cache on request and runs from it, as the bundle', () => {
    writeFileSync(file, bundle('new'));
    expect(load(file, true)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '', status: 0 });
    expect(existsSync(`${file}.cache`)).toBe(true);
    expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: true, stderr: '', status: 0 });
  });

  it("does not run a cache of another bundle of the same length (V8 would take it)", () => {
    writeFileSync(file, bundle('old'));
    load(file, true);
    const stale = readFileSync(`${file}.cache`);
    writeFileSync(file, bundle('new'));
    writeFileSync(`${file}.cache`, stale);
    expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '', status: 0 });
  });

  it('runs without a cache, and with a damaged one', () => {
    writeFileSync(file, bundle('new'));
    expect(load(file).out).toEqual({ word: 'new', path: 'function', dir, main: true });
    writeFileSync(`${file}.cache`, Buffer.alloc(100, 7));
    expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '', status: 0 });
  });

  it("runs the bundle when the key is the bundle's but V8's data after it is damaged or cut short", () => {
    writeFileSync(file, bundle('new'));
    load(file, true);
    const cache = readFileSync(`${file}.cache`);
    const damaged = Buffer.from(cache);
    damaged.fill(0x5a, 8 + 16);
    for (const bad of [damaged, cache.subarray(0, 8 + 40), cache.subarray(0, 9)]) {
      writeFileSync(`${file}.cache`, bad);
      expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '', status: 0 });
    }
  });

  it('reads a bundle that is not ASCII as UTF-8, with and without its cache', () => {
    writeFileSync(file, bundle('caf\u00e9 \u2014 \u{1f600}'));
    expect(load(file, true).out).toEqual({ word: 'caf\u00e9 \u2014 \u{1f600}', path: 'function', dir, main: true });
    expect(load(file)).toEqual({ out: { word: 'caf\u00e9 \u2014 \u{1f600}', path: 'function', dir, main: true }, used: true, stderr: '', status: 0 });
  });
});

describe("caches in the user's cache directory (the debug adapter's; the CLI's under another node)", () => {
  let dir = '';
  let file = '';
  let caches = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringside-cache-'));
    file = join(dir, 'adapter.js');
    caches = join(dir, 'user', 'cache', 'ringside');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const expected = (word: string) => ({ word, path: 'function', dir, main: true });
  const cacheFiles = () => (existsSync(caches) ? readdirSync(caches) : []);

  it('is written when the first process exits and used by the next, one file per bundle and V8 build', () => {
    writeFileSync(file, bundle('new'));
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: false, stderr: '', status: 0 });
    expect(cacheFiles()).toHaveLength(1);
    expect(cacheFiles()[0]).toContain(`adapter.js-v8-${process.versions.v8}-${process.arch}-`);
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: true, stderr: '', status: 0 });
    expect(existsSync(`${file}.cache`)).toBe(false);
  });

  it("is not used for a rebuilt bundle, whose own cache replaces it (also one of the same length)", () => {
    writeFileSync(file, bundle('old'));
    load(file, false, caches);
    const [old] = cacheFiles();
    writeFileSync(file, bundle('new'));
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: false, stderr: '', status: 0 });
    expect(cacheFiles()).toHaveLength(1);
    expect(cacheFiles()[0]).not.toBe(old);
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: true, stderr: '', status: 0 });
  });

  it('is written again when a process compiled a tenth more than it held (the first may have served no session)', () => {
    // A bundle whose function `more` (about 200 small functions) runs only when MORE is set.
    const inner = Array.from({ length: 200 }, (_, k) => `function f${k}(x) { return x * ${k} + ${k % 7}; }`).join('\n');
    writeFileSync(file, `function more() {\n${inner}\nlet s = 0;\n${Array.from({ length: 200 }, (_, k) => `s += f${k}(s & 7);`).join('\n')}\nreturn s;\n}\nif (process.env.MORE) more();\n${bundle('new')}`);
    const run = (more: boolean) => {
      const script = `const used = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(file)}, { cacheDir: ${JSON.stringify(caches)} }); process.stdout.write('\\n' + used);`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, MORE: more ? '1' : '' } });
      return r.stdout.split('\n')[1] === 'true';
    };
    const size = () => statSync(join(caches, cacheFiles()[0])).size;
    expect(run(false)).toBe(false);
    const small = size();
    expect(run(false)).toBe(true);
    expect(size()).toBe(small);
    expect(run(true)).toBe(true);
    expect(size()).toBeGreaterThan(small * 1.1);
    expect(cacheFiles()).toHaveLength(1);
  });

  it('replaces a damaged cache, and runs the bundle where the directory cannot be made', () => {
    writeFileSync(file, bundle('new'));
    load(file, false, caches);
    const [name] = cacheFiles();
    writeFileSync(join(caches, name), Buffer.concat([readFileSync(join(caches, name)).subarray(0, 8), Buffer.alloc(64, 3)]));
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: false, stderr: '', status: 0 });
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: true, stderr: '', status: 0 });
    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, '');
    expect(load(file, false, join(blocked, 'ringside'))).toEqual({ out: expected('new'), used: false, stderr: '', status: 0 });
  });

  it("serves the CLI when the cache beside its bundle is another node's, and stays empty while that one serves", () => {
    writeFileSync(file, bundle('new'));
    load(file, true);
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: true, stderr: '', status: 0 });
    expect(cacheFiles()).toEqual([]);
    // A cache V8 rejects (another node's) beside the bundle: the process leaves one of its own in the directory.
    const beside = readFileSync(`${file}.cache`);
    const foreign = Buffer.from(beside);
    foreign.fill(0x5a, 8 + 16);
    writeFileSync(`${file}.cache`, foreign);
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: false, stderr: '', status: 0 });
    expect(cacheFiles()).toHaveLength(1);
    expect(load(file, false, caches)).toEqual({ out: expected('new'), used: true, stderr: '', status: 0 });
    expect(readFileSync(`${file}.cache`).equals(foreign)).toBe(true);
  });

  it('lives where RINGSIDE_CACHE_DIR says, else under XDG_CACHE_HOME or ~/.cache on Linux', () => {
    const where = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(LOADER)}).userCacheDir())`], { encoding: 'utf8', env: { ...process.env, RINGSIDE_CACHE_DIR: '', XDG_CACHE_HOME: '', ...env } }).stdout;
    expect(where({ RINGSIDE_CACHE_DIR: caches })).toBe(caches);
    if (process.platform !== 'linux') return;
    expect(where({ XDG_CACHE_HOME: join(dir, 'xdg') })).toBe(join(dir, 'xdg', 'ringside'));
    expect(where({ HOME: join(dir, 'home') })).toBe(join(dir, 'home', '.cache', 'ringside'));
  });
});

describe('the built CLI bundle', () => {
  it('is ASCII, so the launcher reads it as a one-byte string (scripts/build.mjs)', () => {
    const cli = resolve(__dirname, '../../dist/cli.js');
    expect(existsSync(cli), 'dist/cli.js (run node scripts/build.mjs)').toBe(true);
    expect(isAscii(readFileSync(cli))).toBe(true);
  });
});
