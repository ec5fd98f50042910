// `node bench/paging-run.mjs`: guest MIPS of bench-loop without paging and of the same loop with paging on
// (bench/paging-loop.bin), side by side, so a change to the translation path shows what it costs on both.
// RINGSIDE_ENGINE=<path to an engine.js bundle> measures another build (e.g. before a change). CPU time, best of
// BENCH_REPEATS runs (default 5). Prints figures only; tests never assert timings.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const enginePath = process.env.RINGSIDE_ENGINE ? resolve(process.env.RINGSIDE_ENGINE) : join(root, 'dist', 'engine.js');
const engine = createRequire(import.meta.url)(enginePath);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

function best(path) {
  const bytes = readFileSync(path);
  let top = 0;
  for (let k = 0; k < REPEATS; k++) {
    const m = new engine.Machine({ memoryMB: 16 });
    m.load(bytes, {});
    const t0 = process.cpuUsage();
    const r = m.run(2e9);
    const t = process.cpuUsage(t0);
    if (r.reason !== 'exit' && r.reason !== 'halt') throw new Error(`${path}: stopped with ${r.reason}`);
    top = Math.max(top, r.instructions / ((t.user + t.system) / 1e6) / 1e6);
  }
  return top;
}

console.log(`engine ${enginePath}, best of ${REPEATS}, CPU-time MIPS`);
console.log(`bench-loop  (paging off) ${best(join(root, 'examples/bench-loop/bench-loop.bin')).toFixed(1).padStart(6)}`);
console.log(`paging-loop (paging on)  ${best(join(root, 'bench/paging-loop.bin')).toFixed(1).padStart(6)}`);
