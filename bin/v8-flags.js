'use strict';
// V8's flags for the processes that run the engine (`ringside run`, `ringside dap`, every command of bin/ringside.js),
// set before the CLI bundle or the adapter loads (issue 13, docs/speed-history.md "V8's flags for the engine's
// processes").
//
// --interrupt-budget: how much bytecode a function runs before V8 considers optimising it with TurboFan; 4 times
// V8's default (67 584). A short run such as `ringside run` of GRUB's floppy (54 M guest instructions, half a second)
// spent about as much CPU on V8 compiling the engine's own functions as on the main thread: at the default, about
// 250 TurboFan compiles (0.48 s of CPU on V8's compiler threads beside 0.57 s on the main thread), many of them for
// functions that run only in the boot's first milliseconds. At 4 times, about 120, and the compiler threads' CPU
// about halved, while the main thread, which runs the engine's code unoptimised a little longer, takes about as long
// as before; at 8 times the compiler threads took a third less again, the main thread 0.05 s more (what the wall
// time of a run on an otherwise idle two-core machine follows). The guest's own code does not depend on it: wasm
// blocks are compiled by V8's wasm tiers, JS blocks are built after 30 000 arrivals (jit/block.ts) and run long
// enough to be optimised anyway.
//
// --wasm-tiering-budget: how much of a wasm function runs in V8's baseline code (Liftoff) before V8 compiles it
// again with TurboFan; 16 times V8's default (1 800 000). The hot functions of every wasm block module were
// recompiled (0.14 s of CPU in GRUB's boot); at 16 times, fewer, only those that run long (GRUB 0.71 → 0.66 s CPU in
// Machine.run; Linux's whole boot level: docs/speed-history.md, "V8's flags for the engine's processes").
//
// The CLI bundle's code cache (bin/code-cache.js) is valid only under the flags it was written with, and
// scripts/build.mjs writes it through this launcher, so under these.
const v8 = require('node:v8');

const V8_FLAGS = ['--interrupt-budget=270336', '--wasm-tiering-budget=28800000'];

/** Sets V8_FLAGS in this process (before the code they should apply to is loaded). */
function tuneV8() {
  v8.setFlagsFromString(V8_FLAGS.join(' '));
}

module.exports = { V8_FLAGS, tuneV8 };
