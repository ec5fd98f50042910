#!/usr/bin/env node
'use strict';
// `ringside dap` serves the Debug Adapter Protocol; every other command is the engine's CLI.
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
if (process.argv[2] === 'dap') {
  require(path.join(dist, 'adapter.js'));
} else {
  require(path.join(dist, 'cli.js'));
}
