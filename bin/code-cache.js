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
//
// The debug adapter's bundle has no cache made at build time: in VS Code it runs on Electron's node, whose V8 would
// reject one made by another node. It gets one in the user's cache directory instead (`cacheDir`), written when a
// process exits without a cache V8 took or having compiled more than the cache held, one file per bundle and V8
// build; deleting the directory only costs the next start its compile. The CLI goes there too when the node that
// runs it is not the one that built it (its cache beside the bundle is rejected).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');
const zlib = require('node:zlib');
const { isAscii } = require('node:buffer');
const Module = require('node:module');

const KEY_BYTES = 8;
/** A cache in the cache directory is written again when the process's own would be this much larger. */
const GROWTH = 1.1;

/** The cache key of the bundle's bytes: CRC-32 and length, 4 bytes each (big-endian); undefined without crc32. */
function keyOf(bytes) {
  if (typeof zlib.crc32 !== 'function') return undefined;
  const key = Buffer.alloc(KEY_BYTES);
  key.writeUInt32BE(zlib.crc32(bytes) >>> 0, 0);
  key.writeUInt32BE(bytes.length >>> 0, 4);
  return key;
}

/**
 * Where caches written at run time go: RINGSIDE_CACHE_DIR, else the platform's cache directory for the user;
 * undefined for a user without a home directory.
 */
function userCacheDir() {
  if (process.env.RINGSIDE_CACHE_DIR) return process.env.RINGSIDE_CACHE_DIR;
  let home;
  try {
    home = os.homedir();
  } catch {
    return undefined;
  }
  if (process.platform === 'win32') return path.join(process.env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'ringside', 'cache');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'ringside');
  return path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'ringside');
}

/**
 * The cache file in `cacheDir` of bundle `file` with this key: a name that says the bundle, its key and the V8 build
 * (V8 takes a cache only from its own version and flags), so that nodes of two versions do not overwrite each
 * other's; and the prefix that every cache of this bundle and V8 build has there.
 */
function userCacheFileOf(file, key, cacheDir) {
  const prefix = `${path.basename(file)}-v8-${process.versions.v8}-${process.arch}-`;
  return { cacheFile: path.join(cacheDir, `${prefix}${key.toString('hex')}.cache`), siblings: prefix };
}

/** The cached data in `cacheFile` when it was made from the bundle with this key, else undefined. */
function cachedDataFor(cacheFile, key) {
  let cache;
  try {
    cache = fs.readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  if (cache.length <= KEY_BYTES || !key.equals(cache.subarray(0, KEY_BYTES))) return undefined;
  return cache.subarray(KEY_BYTES);
}

/**
 * Writes the cache of `script` (every function the process compiled by then) to `cacheFile`, through a temporary
 * file, so that a process reading it meanwhile sees the old cache or the new one; in a cache directory, removes the
 * caches of other builds of the bundle made by this V8. A cache that cannot be written is left unwritten.
 */
function writeCacheFile(script, key, cacheFile, siblings, grownFrom = 0) {
  const temporary = `${cacheFile}.${process.pid}`;
  try {
    const data = script.createCachedData();
    if (data.length < grownFrom) return;
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    fs.writeFileSync(temporary, Buffer.concat([key, data]));
    fs.renameSync(temporary, cacheFile);
    if (siblings === null) return;
    for (const name of fs.readdirSync(path.dirname(cacheFile))) {
      if (name.startsWith(siblings) && name.endsWith('.cache') && name !== path.basename(cacheFile)) fs.rmSync(path.join(path.dirname(cacheFile), name), { force: true });
    }
  } catch {
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // (no directory to hold it)
    }
  }
}

/**
 * Runs the CommonJS bundle `file` as `require` would, from a code cache of exactly this bundle when there is one:
 * `file`.cache beside it (made by the build: `writeCache` writes it when the process exits), or, with `cacheDir`, one
 * this node left there — looked at first, since it exists only where the one beside the bundle did not serve. With
 * `cacheDir`, a process that held no cache V8 took writes its own there when it exits, and so does one that compiled
 * a tenth more than the cache from there held (the first process may have been one that served no session). Returns
 * whether V8 took a cache.
 */
function loadBundle(file, { writeCache = false, cacheDir = undefined } = {}) {
  const bytes = fs.readFileSync(file);
  // An ASCII bundle (scripts/build.mjs makes it one) becomes a one-byte string without UTF-8 decoding.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const key = keyOf(bytes);
  const user = key === undefined || cacheDir === undefined ? null : userCacheFileOf(file, key, cacheDir);
  let cachedData;
  let fromUser = false;
  if (key !== undefined && !writeCache) {
    if (user !== null) cachedData = cachedDataFor(user.cacheFile, key);
    fromUser = cachedData !== undefined;
    cachedData ??= cachedDataFor(file + '.cache', key);
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  require.cache[file] = m;
  if (writeCache && key !== undefined) process.on('exit', () => writeCacheFile(script, key, file + '.cache', null));
  else if (user !== null && (!used || fromUser)) {
    const grownFrom = used ? Math.ceil(cachedData.length * GROWTH) : 0;
    process.on('exit', () => writeCacheFile(script, key, user.cacheFile, user.siblings, grownFrom));
  }
  script.runInThisContext().call(m.exports, m.exports, Module.createRequire(file), m, file, path.dirname(file));
  m.loaded = true;
  return used;
}

module.exports = { loadBundle, userCacheDir };
