// The steady-state cost of one monitor entry (issue 16's 1 µs): bench/monitor.mjs's trap loop (ring 0, every
// iteration reloads DS, which SBE binds to the monitor) with ENTRIES iterations (default 10^6), bare and monitored
// in turn, REPEATS times (default 3). Prints (monitored CPU − bare CPU) / monitor entries for each turn.
//     node bench/monitor-entry.mjs [ENTRIES]
// RINGSIDE_ENGINE=<engine.js> measures another build, for alternating before/after runs. CPU time of this process.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trapLoop } from './trap-loop.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const engine = require(process.env.RINGSIDE_ENGINE ?? join(root, 'dist', 'engine.js'));
const ENTRIES = Number(process.argv[2] ?? 1_000_000);
const REPEATS = Number(process.env.REPEATS ?? 3);
const { image, load } = trapLoop(engine, ENTRIES);

function once(monitored) {
  const m = new engine.Machine({ memoryMB: 16 });
  const monitor = monitored ? engine.attachMonitor(m, { sbe: 'auto' }) : null;
  m.load(image, load);
  const t0 = process.cpuUsage();
  const r = m.run(2e9);
  const t = process.cpuUsage(t0);
  if (r.reason !== 'halt' && r.reason !== 'exit') throw new Error(`the trap loop stopped with ${r.reason}`);
  return { cpu: (t.user + t.system) / 1e6, entries: monitor ? monitor.counters.totalTraps : 0 };
}

const costs = [];
for (let k = 0; k < REPEATS; k++) {
  const bare = once(false);
  const monitored = once(true);
  costs.push(((monitored.cpu - bare.cpu) / monitored.entries) * 1e6);
}
console.log(`one monitor entry over ${ENTRIES} entries: ${costs.map((c) => c.toFixed(2)).join(' ')} µs (CPU time)`);
