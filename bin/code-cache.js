'use strict';
// Loads a bundle of dist/ with V8's code cache of it (FILE.cache, written by scripts/build.mjs after a short run):
// node then neither compiles the ~1 MB bundle at start-up nor, one by one, the functions a run calls, which is
// about 15 ms of every `ringside run` (issue 13). V8 checks a cache only against the source's length, so the cache
// file begins with the SHA-256 of the bundle it was made from and is used only for exactly that bundle; a cache V8
// rejects (another node, other V8 flags) costs nothing but the compile that happens without one.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const DIGEST_BYTES = 32;

function digestOf(source) {
  return crypto.createHash('sha256').update(source).digest();
}

/** The cached data in `file`.cache when it was made from `source`, else undefined. */
function cachedDataFor(file, source) {
  let cache;
  try {
    cache = fs.readFileSync(file + '.cache');
  } catch {
    return undefined;
  }
  if (cache.length <= DIGEST_BYTES || !digestOf(source).equals(cache.subarray(0, DIGEST_BYTES))) return undefined;
  return cache.subarray(DIGEST_BYTES);
}

/**
 * Runs the CommonJS bundle `file` as `require` would. With `writeCache`, writes `file`.cache when the process exits
 * (with every function the process compiled by then). Returns whether V8 took the cache.
 */
function loadBundle(file, { writeCache = false } = {}) {
  const source = fs.readFileSync(file, 'utf8');
  const cachedData = writeCache ? undefined : cachedDataFor(file, source);
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  require.cache[file] = m;
  if (writeCache) {
    process.on('exit', () => {
      const temporary = `${file}.cache.${process.pid}`;
      fs.writeFileSync(temporary, Buffer.concat([digestOf(source), script.createCachedData()]));
      fs.renameSync(temporary, file + '.cache');
    });
  }
  script.runInThisContext().call(m.exports, m.exports, Module.createRequire(file), m, file, path.dirname(file));
  m.loaded = true;
  return cachedData !== undefined && !script.cachedDataRejected;
}

module.exports = { loadBundle };
