// Compares builds of the engine on one boot image in one process, turn by turn: each build's machine runs SLICE
// guest instructions, then the next build's, until every guest stops. On a machine shared with other work, load
// changes affect every build alike, where separate processes minutes apart differ by ±30 % (README, "Speed on real
// code"). Prints each build's instructions and CPU seconds; never used by tests.
//   node bench/interleave.mjs IMAGE DIR [DIR …]      (DIR: a checkout with dist/engine.js built)
// RINGSIDE_JIT=0 runs interpreter only; RINGSIDE_HOT=N builds blocks after N arrivals (Cpu.hotThreshold);
// RINGSIDE_SLICE=N sets the turn (default 1 000 000); RINGSIDE_MAX caps the instructions (default 2e8).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve, join } from 'node:path';

const [image, ...dirs] = process.argv.slice(2);
if (image === undefined || dirs.length === 0) {
  console.log('usage: node bench/interleave.mjs IMAGE DIR [DIR …]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const bytes = readFileSync(image);
const SLICE = Number(process.env.RINGSIDE_SLICE ?? 1_000_000);
const MAX = Number(process.env.RINGSIDE_MAX ?? 2e8);
const runs = dirs.map((dir) => {
  const engine = require(join(resolve(dir), 'dist', 'engine.js'));
  const m = new engine.Machine({ memoryMB: 16, model: 'pentium-pro', devices: { onSerialByte: () => undefined } });
  m.load(bytes, { format: 'boot' });
  if (process.env.RINGSIDE_JIT === '0') m.cpu.jit = false;
  if (process.env.RINGSIDE_HOT !== undefined) m.cpu.hotThreshold = Number(process.env.RINGSIDE_HOT);
  return { dir, m, cpu: 0, instructions: 0, reason: null };
});
while (runs.some((r) => r.reason === null)) {
  for (const r of runs) {
    if (r.reason !== null) continue;
    const t0 = process.cpuUsage();
    const result = r.m.runSlice(Math.min(SLICE, MAX - r.instructions));
    const t = process.cpuUsage(t0);
    r.cpu += (t.user + t.system) / 1e6;
    r.instructions += result.instructions;
    if (result.reason !== null) r.reason = result.reason;
    else if (r.instructions >= MAX) r.reason = 'limit';
  }
}
for (const r of runs) {
  console.log(`${r.dir}: ${r.reason} after ${r.instructions} instructions, ${r.cpu.toFixed(2)} s CPU, ${(r.instructions / r.cpu / 1e6).toFixed(1)} MIPS`);
}
