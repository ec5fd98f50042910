// `npm run bench`: prints guest MIPS for each workload (performance.md). CPU time of this process is measured, not
// wall time, and each workload runs a few times; the best run is reported with the spread. Tests never assert
// timings; this script only prints figures.

import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const engine = require(join(root, 'dist', 'engine.js'));

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

function cpuSeconds(fn) {
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  const result = fn();
  const t = process.cpuUsage(t0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  return { result, cpu: (t.user + t.system) / 1e6, wall };
}

/** `bytes` padded to a 1.44 MB floppy (a boot sector with the rest of its program after it). */
function floppyImage(bytes) {
  const floppy = Buffer.alloc(1_474_560);
  Buffer.from(bytes).copy(floppy);
  return floppy;
}

function benchImage(label, path, options = {}) {
  if (!existsSync(path)) {
    console.log(`${label.padEnd(40)} skipped: ${path} not found`);
    return;
  }
  // A boot-sector workload is padded to a 1.44 MB floppy and booted through the firmware, as a user's disk is.
  const bytes = options.floppy ? floppyImage(readFileSync(path)) : readFileSync(path);
  const runs = [];
  for (let k = 0; k < REPEATS; k++) {
    const m = new engine.Machine({ memoryMB: 16 });
    m.load(bytes, options.load ?? {});
    if (options.interpreterOnly) m.cpu.jit = false;
    const { result, cpu, wall } = cpuSeconds(() => m.run(options.maxInstructions ?? 2e9));
    if (result.reason !== 'exit' && result.reason !== 'halt') {
      console.log(`${label.padEnd(40)} failed: stopped with ${result.reason} after ${result.instructions} instructions`);
      return;
    }
    runs.push({ mips: result.instructions / cpu / 1e6, instructions: result.instructions, cpu, wall });
  }
  runs.sort((a, b) => b.mips - a.mips);
  const best = runs[0];
  const worst = runs[runs.length - 1];
  console.log(
    `${label.padEnd(40)} ${best.mips.toFixed(1).padStart(7)} MIPS  (${best.instructions} instructions, ` +
      `${best.cpu.toFixed(2)} s CPU; worst of ${runs.length}: ${worst.mips.toFixed(1)} MIPS)`,
  );
}

console.log(`Ringside benchmarks — node ${process.version}, ${REPEATS} runs each, CPU-time MIPS (best)`);
benchImage('bench-loop (bare)', join(root, 'examples/bench-loop/bench-loop.bin'));
// The same loop beside v86's JIT and QEMU TCG in this run (issue 13's loop goal): steady state and warm-up apart.
console.log('');
await import('./loop-peers.mjs');
console.log('');
// Short blocks joined by branches, a call and a return: what transitions between translated code cost.
benchImage('branchy-loop (bare)', join(root, 'bench/branchy-loop.bin'));
// The same loop with block translation off: what cold code, single-stepping (TF) and guest debug registers run at.
benchImage('bench-loop (interpreter only)', join(root, 'examples/bench-loop/bench-loop.bin'), { interpreterOnly: true });
// Cold code (issue 13): mode switches, faults, INT, IRQ 0, call gates, REP strings and 16-bit code, booted from a floppy.
benchImage('cold-code (bare)', join(root, 'bench/cold-code.bin'), { floppy: true, load: { format: 'boot' } });
// The x87-heavy loop beside it (issue 11): translated, interpreted, monitored, and QEMU on the same bytes.
await import('./x87.mjs');
// The debug adapter's figures (issue 6): MIPS under `ringside dap`, launch-to-first-stop, pause latency.
await import('./adapter.mjs');
// The monitor's figures (issue 5): bare, SBE forced on and SBE auto, with traps per million instructions.
console.log('');
await import('./monitor.mjs');
// Paging off and on through the TLB.
console.log('');
await import('./paging-run.mjs');
// Reverse execution (issue 14): what the record costs forward, and stepBack / reverseContinue deep in a run.
console.log('');
await import('./reverse.mjs');
// Memory over 10^10 instructions (issue 13: flat); its own process shows the RSS of the loop alone (node bench/memory.mjs).
console.log('');
if (process.env.BENCH_MEMORY === '0') console.log('memory over 10^10 instructions: left out (BENCH_MEMORY=0)');
else await import('./memory.mjs');
// Real guests (issue 13): GRUB and SYSLINUX to their kernel, memtest86+'s first instructions, bare, monitored and QEMU.
console.log('');
await import('./guests.mjs');
