// Memory over a long run (issue 13): bench/long-loop (the integer loop, checked every 50 M instructions, without
// end) for BENCH_MEMORY_INSTRUCTIONS guest instructions (default 10^10) on one machine, with the process's RSS and
// V8 heap sampled every 10^9 instructions. Flat memory means the last samples are no higher than the first ones
// after warm-up (translation and the decode cache fill in the first millions). Prints figures; asserts nothing.
//     node scripts/build.mjs && node bench/memory.mjs

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const engine = require(join(root, 'dist', 'engine.js'));
const TOTAL = Number(process.env.BENCH_MEMORY_INSTRUCTIONS ?? 1e10);
const STEP = Math.min(1e9, TOTAL);

const mb = (bytes) => (bytes / 1048576).toFixed(1);
const m = new engine.Machine({ memoryMB: 16 });
m.load(readFileSync(join(root, 'bench/long-loop.bin')));
console.log(`Memory over ${TOTAL.toExponential(0)} instructions of bench/long-loop (samples every ${STEP.toExponential(0)})`);
console.log('instructions       RSS MB   heap used MB   CPU s');
const t0 = process.cpuUsage();
const samples = [];
let done = 0;
while (done < TOTAL) {
  const r = m.run(STEP);
  done += r.instructions;
  if (r.reason !== null && r.reason !== 'limit') {
    console.log(`stopped early: ${r.reason} after ${done} instructions (a failed check exits with code 1)`);
    process.exit(1);
  }
  const u = process.memoryUsage();
  const t = process.cpuUsage(t0);
  samples.push(u.rss);
  console.log(`${String(done).padStart(12)}   ${mb(u.rss).padStart(8)}   ${mb(u.heapUsed).padStart(12)}   ${((t.user + t.system) / 1e6).toFixed(1).padStart(5)}`);
}
const warm = samples.slice(1);
console.log(`RSS after the first sample: min ${mb(Math.min(...warm))} MB, max ${mb(Math.max(...warm))} MB, last ${mb(warm[warm.length - 1] ?? samples[0])} MB`);
