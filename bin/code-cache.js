'use strict';
// Loads a bundle of dist/ with V8's code cache of it (FILE.cache, written by scripts/build.mjs after a short run):
// node then neither compiles the ~1 MB bundle at start-up nor, one by one, the functions a run calls, which is
// about 15 ms of every `ringside run` (issue 13). V8 checks a cache only against the source's length, so the cache
// file begins with a key of the bundle it was made from (its CRC-32 and byte length) and is used only for exactly
// that bundle; a cache V8 rejects (another node, other V8 flags) costs nothing but the compile that happens without
// one.
//
// The key is zlib's CRC-32, not a SHA-256: it guards against a stale cache (a bundle rebuilt without its cache, a
// cache copied beside another bundle), not against forgery, and node:crypto alone took 5–8 ms of the launcher's
// start-up, where node:zlib is loaded by the CLI bundle anyway. A node without zlib.crc32 (before 20.15) runs the
// bundle without a cache.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const zlib = require('node:zlib');
const { isAscii } = require('node:buffer');
const Module = require('node:module');

const KEY_BYTES = 8;

/** The cache key of the bundle's bytes: CRC-32 and length, 4 bytes each (big-endian); undefined without crc32. */
function keyOf(bytes) {
  if (typeof zlib.crc32 !== 'function') return undefined;
  const key = Buffer.alloc(KEY_BYTES);
  key.writeUInt32BE(zlib.crc32(bytes) >>> 0, 0);
  key.writeUInt32BE(bytes.length >>> 0, 4);
  return key;
}

/** The cached data in `file`.cache when it was made from the bundle with this key, else undefined. */
function cachedDataFor(file, key) {
  if (key === undefined) return undefined;
  let cache;
  try {
    cache = fs.readFileSync(file + '.cache');
  } catch {
    return undefined;
  }
  if (cache.length <= KEY_BYTES || !key.equals(cache.subarray(0, KEY_BYTES))) return undefined;
  return cache.subarray(KEY_BYTES);
}

/**
 * Runs the CommonJS bundle `file` as `require` would. With `writeCache`, writes `file`.cache when the process exits
 * (with every function the process compiled by then). Returns whether V8 took the cache.
 */
function loadBundle(file, { writeCache = false } = {}) {
  const bytes = fs.readFileSync(file);
  // An ASCII bundle (scripts/build.mjs makes it one) becomes a one-byte string without UTF-8 decoding.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const key = keyOf(bytes);
  const cachedData = writeCache ? undefined : cachedDataFor(file, key);
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  require.cache[file] = m;
  if (writeCache && key !== undefined) {
    process.on('exit', () => {
      const temporary = `${file}.cache.${process.pid}`;
      fs.writeFileSync(temporary, Buffer.concat([key, script.createCachedData()]));
      fs.renameSync(temporary, file + '.cache');
    });
  }
  script.runInThisContext().call(m.exports, m.exports, Module.createRequire(file), m, file, path.dirname(file));
  m.loaded = true;
  return cachedData !== undefined && !script.cachedDataRejected;
}

module.exports = { loadBundle };
