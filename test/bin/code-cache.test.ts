// bin/code-cache.js: the CLI bundle runs from V8's code cache only when the cache was made from exactly that bundle.
// V8 itself checks a cache against the source's length alone, so a cache of an older bundle of the same length
// would run the older code; the key at the cache's head (the bundle's CRC-32 and length) keeps it out. Each case runs
// in a child node.

import { spawnSync } from 'node:child_process';
import { isAscii } from 'node:buffer';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const LOADER = resolve(__dirname, '../../bin/code-cache.js');

/** A bundle that prints `word` and what `require` and `__dirname` it was given. */
const bundle = (word: string): string =>
  `process.stdout.write(JSON.stringify({ word: ${JSON.stringify(word)}, path: typeof require('node:path').join, dir: __dirname, main: module.exports === exports }));\n`;

/** Loads `file` through the loader in a child node: its output, and whether the cache was used. */
function load(file: string, writeCache = false): { out: unknown; used: boolean; stderr: string } {
  const script = `const used = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(file)}, { writeCache: ${writeCache} }); process.stdout.write('\\n' + used);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const [out, used] = r.stdout.split('\n');
  return { out: out ? JSON.parse(out) : null, used: used === 'true', stderr: r.stderr };
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
    expect(load(file, true)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '' });
    expect(existsSync(`${file}.cache`)).toBe(true);
    expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: true, stderr: '' });
  });

  it("does not run a cache of another bundle of the same length (V8 would take it)", () => {
    writeFileSync(file, bundle('old'));
    load(file, true);
    const stale = readFileSync(`${file}.cache`);
    writeFileSync(file, bundle('new'));
    writeFileSync(`${file}.cache`, stale);
    expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '' });
  });

  it('runs without a cache, and with a damaged one', () => {
    writeFileSync(file, bundle('new'));
    expect(load(file).out).toEqual({ word: 'new', path: 'function', dir, main: true });
    writeFileSync(`${file}.cache`, Buffer.alloc(100, 7));
    expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '' });
  });

  it("runs the bundle when the key is the bundle's but V8's data after it is damaged or cut short", () => {
    writeFileSync(file, bundle('new'));
    load(file, true);
    const cache = readFileSync(`${file}.cache`);
    const damaged = Buffer.from(cache);
    damaged.fill(0x5a, 8 + 16);
    for (const bad of [damaged, cache.subarray(0, 8 + 40), cache.subarray(0, 9)]) {
      writeFileSync(`${file}.cache`, bad);
      expect(load(file)).toEqual({ out: { word: 'new', path: 'function', dir, main: true }, used: false, stderr: '' });
    }
  });

  it('reads a bundle that is not ASCII as UTF-8, with and without its cache', () => {
    writeFileSync(file, bundle('caf\u00e9 \u2014 \u{1f600}'));
    expect(load(file, true).out).toEqual({ word: 'caf\u00e9 \u2014 \u{1f600}', path: 'function', dir, main: true });
    expect(load(file)).toEqual({ out: { word: 'caf\u00e9 \u2014 \u{1f600}', path: 'function', dir, main: true }, used: true, stderr: '' });
  });
});

describe('the built CLI bundle', () => {
  it('is ASCII, so the launcher reads it as a one-byte string (scripts/build.mjs)', () => {
    const cli = resolve(__dirname, '../../dist/cli.js');
    expect(existsSync(cli), 'dist/cli.js (run node scripts/build.mjs)').toBe(true);
    expect(isAscii(readFileSync(cli))).toBe(true);
  });
});
