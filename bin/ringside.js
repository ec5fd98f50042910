#!/usr/bin/env node
'use strict';
// `ringside dap` serves the Debug Adapter Protocol; every other command is the engine's CLI.
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
// V8's flags before anything of dist/ loads: its tiering and the CLI bundle's code cache depend on them.
require('./v8-flags').tuneV8();
// `ringside dap --help` is answered by the CLI, which knows every command's usage.
if (process.argv[2] === 'dap' && !process.argv.slice(3).some((a) => a === '--help' || a === '-h')) {
  require(path.join(dist, 'adapter.js'));
} else {
  require('./code-cache').loadBundle(path.join(dist, 'cli.js'), { writeCache: process.env.RINGSIDE_WRITE_CODE_CACHE === '1' });
}
