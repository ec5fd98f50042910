'use strict';
// V8's flags for the processes that run the engine (`ringside run`, `ringside dap`, every command of bin/ringside.js),
// set before the CLI bundle or the adapter loads (issue 13, README "V8's interrupt budget").
//
// --interrupt-budget: how much bytecode a function runs before V8 considers optimising it with TurboFan; 8 times
// V8's default (67 584). A short run such as `ringside run` of GRUB's floppy (54 M guest instructions, half a second)
// spends most of its CPU on V8 compiling the engine's own functions: at the default, about 250 TurboFan compiles
// (the run loop six times over), 0.48 s of CPU on V8's compiler threads beside 0.57 s on the main thread, and many
// of them for functions that run only in the boot's first milliseconds. At 8 times, about 120 compiles: the code
// that stays hot is still optimised, a few milliseconds later. The guest's own code is not touched by this flag:
// wasm blocks are compiled by V8's wasm tiers, and JS blocks are built only after 30 000 arrivals (jit/block.ts).
//
// The CLI bundle's code cache (bin/code-cache.js) is valid only under the flags it was written with, and
// scripts/build.mjs writes it through this launcher, so under these.
const v8 = require('node:v8');

const V8_FLAGS = ['--interrupt-budget=540672'];

/** Sets V8_FLAGS in this process (before the code they should apply to is loaded). */
function tuneV8() {
  v8.setFlagsFromString(V8_FLAGS.join(' '));
}

module.exports = { V8_FLAGS, tuneV8 };
