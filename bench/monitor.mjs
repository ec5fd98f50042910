// Monitor benchmarks (engine/monitor/README.md "Speed"): MIPS bare, under the monitor with SBE forced on, and
// under the monitor with SBE auto, on bench-loop and seed-sequence, with monitor traps per million instructions.
// CPU time of this process is measured; the best of BENCH_REPEATS runs is shown. Run after `npm run build`:
//     node bench/monitor.mjs            (npm run bench calls it when bench/run.mjs does)

import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const engine = require(join(root, 'dist', 'engine.js'));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

function once(bytes, mode) {
  const m = new engine.Machine({ memoryMB: 16 });
  const monitor = mode === 'bare' ? null : engine.attachMonitor(m, { sbe: mode === 'sbe-on' ? 'on' : 'auto' });
  m.load(bytes, {});
  const t0 = process.cpuUsage();
  const r = m.run(2e9);
  const t = process.cpuUsage(t0);
  const cpu = (t.user + t.system) / 1e6;
  const executed = r.instructions - m.idleInstructions;
  const traps = monitor ? monitor.counters.totalTraps : 0;
  const time = monitor ? monitor.sbeTime() : { on: 0, off: 0 };
  return { reason: r.reason, mips: executed / cpu / 1e6, executed, traps, sbeOff: time.off, sbeOn: time.on };
}

const workloads = [
  ['bench-loop', join(root, 'examples/bench-loop/bench-loop.bin')],
  ['seed-sequence', join(root, 'examples/seed-sequence/seed-sequence.bin')],
];
console.log('monitor benchmarks (best of %d): MIPS, traps per million instructions, share of time with SBE off', REPEATS);
for (const [name, path] of workloads) {
  if (!existsSync(path)) {
    console.log(`${name.padEnd(16)} skipped: ${path} not found`);
    continue;
  }
  const bytes = readFileSync(path);
  let bare = 0;
  for (const mode of ['bare', 'sbe-on', 'sbe-auto']) {
    let best = null;
    for (let k = 0; k < REPEATS; k++) {
      const r = once(bytes, mode);
      if (r.reason !== 'exit' && r.reason !== 'halt') {
        console.log(`${name.padEnd(16)} ${mode.padEnd(9)} failed: stopped with ${r.reason}`);
        best = null;
        break;
      }
      if (best === null || r.mips > best.mips) best = r;
    }
    if (best === null) continue;
    if (mode === 'bare') bare = best.mips;
    const perMillion = (best.traps / best.executed) * 1e6;
    const off = best.sbeOn + best.sbeOff > 0 ? (100 * best.sbeOff) / (best.sbeOn + best.sbeOff) : 0;
    const rel = bare > 0 ? ` (${((100 * best.mips) / bare).toFixed(0)}% of bare)` : '';
    console.log(
      `${name.padEnd(16)} ${mode.padEnd(9)} ${best.mips.toFixed(1).padStart(7)} MIPS${rel.padEnd(16)} ${perMillion.toFixed(0).padStart(7)} traps/M  SBE off ${off.toFixed(0)}%  (${best.executed} instructions)`,
    );
  }
}
