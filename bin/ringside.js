#!/usr/bin/env node
'use strict';
// `ringside dap` serves the Debug Adapter Protocol; every other command is the engine's CLI.
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
// V8's flags before anything of dist/ loads: its tiering and the CLI bundle's code cache depend on them.
require('./v8-flags').tuneV8();
// `ringside dap --help` is answered by the CLI, which knows every command's usage.
// The CLI runs from the code cache the build made (bin/code-cache.js), or under another node from one it left in
// the user's cache directory; the adapter, which VS Code runs on Electron's node, from one its first session left
// there.
const { loadBundle, userCacheDir } = require('./code-cache');
if (process.argv[2] === 'dap' && !process.argv.slice(3).some((a) => a === '--help' || a === '-h')) {
  loadBundle(path.join(dist, 'adapter.js'), { cacheDir: userCacheDir() });
} else {
  loadBundle(path.join(dist, 'cli.js'), { writeCache: process.env.RINGSIDE_WRITE_CODE_CACHE === '1', cacheDir: userCacheDir() });
}
