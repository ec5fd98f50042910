// Monitor benchmarks (engine/monitor/README.md "Speed"): MIPS bare, under the monitor with SBE forced on, and
// under the monitor with SBE auto, on bench-loop, seed-sequence, paging-loop (shadow page tables) and a ring-3 loop,
// with monitor traps per million instructions.
// CPU time of this process is measured; the best of BENCH_REPEATS runs is shown. Run after `npm run build`:
//     node bench/monitor.mjs            (npm run bench calls it when bench/run.mjs does)

import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { loadBuilders } from './guest-builders.mjs';
import { trapLoop as trapLoopOf } from './trap-loop.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const engine = require(join(root, 'dist', 'engine.js'));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

function once(bytes, mode, load) {
  const m = new engine.Machine({ memoryMB: 16 });
  const monitor = mode === 'bare' ? null : engine.attachMonitor(m, { sbe: mode === 'sbe-on' ? 'on' : 'auto' });
  m.load(bytes, load ?? {});
  const t0 = process.cpuUsage();
  const r = m.run(2e9);
  const t = process.cpuUsage(t0);
  const cpu = (t.user + t.system) / 1e6;
  const executed = r.instructions - m.idleInstructions;
  const traps = monitor ? monitor.counters.totalTraps : 0;
  const time = monitor ? monitor.sbeTime() : { on: 0, off: 0 };
  return { reason: r.reason, mips: executed / cpu / 1e6, executed, traps, sbeOff: time.off, sbeOn: time.on, cpu };
}

// A ring-3 loop (SBE off under auto): flat ring-3 segments, 20 million iterations of add/dec/jnz, on the
// lockstep runtime (engine/monitor/random/runtime.asm).
const e = engine.slotEncoders;
const ring3 = engine.programFromSlots([
  e.toRing3(engine.slotAddress(1)),
  [0xb9, ...e.le32(20_000_000)], // mov ecx, 20000000
  [0x01, 0xc8, 0x49, 0x75, 0xfb], // .l: add eax, ecx; dec ecx; jnz .l
]).image;
// A trap loop (bench/trap-loop.mjs): the cost of one monitor entry shows as microseconds per trap.
const trapLoop = trapLoopOf(engine, 200_000);
const workloads = [
  ['bench-loop', join(root, 'examples/bench-loop/bench-loop.bin')],
  ['seed-sequence', join(root, 'examples/seed-sequence/seed-sequence.bin')],
  // bench-loop's loop with paging on: under the monitor it runs on the shadow page tables.
  ['paging-loop', join(root, 'bench/paging-loop.bin')],
  ['ring3-loop', ring3, { format: 'bin', loadAddress: engine.PROGRAM_BASE, entry: engine.PROGRAM_BASE, mode: 'protected' }],
  ['trap-loop', trapLoop.image, trapLoop.load],
];
console.log('monitor benchmarks (best of %d): MIPS, traps per million instructions, share of time with SBE off', REPEATS);
let entryCost = null;
for (const [name, source, load] of workloads) {
  if (typeof source === 'string' && !existsSync(source)) {
    console.log(`${name.padEnd(16)} skipped: ${source} not found`);
    continue;
  }
  const bytes = typeof source === 'string' ? readFileSync(source) : source;
  let bare = 0;
  let bareCpu = 0;
  for (const mode of ['bare', 'sbe-on', 'sbe-auto']) {
    let best = null;
    for (let k = 0; k < REPEATS; k++) {
      const r = once(bytes, mode, load);
      if (r.reason !== 'exit' && r.reason !== 'halt') {
        console.log(`${name.padEnd(16)} ${mode.padEnd(9)} failed: stopped with ${r.reason}`);
        best = null;
        break;
      }
      if (best === null || r.mips > best.mips) best = r;
    }
    if (best === null) continue;
    if (mode === 'bare') bare = best.mips;
    if (mode === 'bare') bareCpu = best.cpu;
    // The cost of one monitor entry: trap-loop's monitored CPU time minus its bare time, over its entries.
    if (name === 'trap-loop' && mode === 'sbe-auto' && best.traps > 0) entryCost = ((best.cpu - bareCpu) / best.traps) * 1e6;
    const perMillion = (best.traps / best.executed) * 1e6;
    const off = best.sbeOn + best.sbeOff > 0 ? (100 * best.sbeOff) / (best.sbeOn + best.sbeOff) : 0;
    const rel = bare > 0 ? ` (${((100 * best.mips) / bare).toFixed(0)}% of bare)` : '';
    // Time per trap: all of the run's time over its traps (an upper bound: the guest's own instructions are in it).
    const perTrap = best.traps > 1000 ? `  ${((best.cpu / best.traps) * 1e6).toFixed(1)} µs/trap` : '';
    console.log(
      `${name.padEnd(16)} ${mode.padEnd(9)} ${best.mips.toFixed(1).padStart(7)} MIPS${rel.padEnd(16)} ${perMillion.toFixed(0).padStart(7)} traps/M  SBE off ${off.toFixed(0)}%  (${best.executed} instructions)${perTrap}`,
    );
  }
}

if (entryCost !== null) {
  console.log(`cost per monitor entry: ${entryCost.toFixed(2)} µs (trap-loop: delivery into the monitor, emulation, return sequence; monitored minus bare CPU time, over its entries)`);
}

// Real boot code: GRUB 2 to its kernel (test/guests/images builds the floppy from grub-pc-bin) and the
// first 30 M instructions of memtest86+, bare and monitored: CPU seconds, the monitored/bare ratio, monitor entries
// by reason and instructions completed in place (engine/monitor/in-place.ts). The cost of one entry is trap-loop's
// µs/trap above.
async function realGuests() {
  let images;
  try {
    images = await loadBuilders(); // each builder keeps its own __dirname (it finds the multiboot kernel by it)
  } catch (err) {
    console.log(`real guests skipped: ${err.message}`);
    return;
  }
  const bytesOf = (image) => (image.path === null ? null : readFileSync(image.path));
  const grub = images.grubFloppy('unit');
  const memtest = images.memtestFloppy();
  const syslinux = images.syslinuxFloppy('multiboot');
  const guests = [
    ['GRUB 2 to kernel', bytesOf(grub), 2e9, grub.reason],
    ['SYSLINUX to kernel', bytesOf(syslinux), 2e9, syslinux.reason],
    ['memtest86+ 30M', bytesOf(memtest), 30_000_000, memtest.reason],
  ];
  for (const [name, bytes, limit, why] of guests) {
    if (bytes === null) {
      console.log(`${name.padEnd(16)} skipped: ${why}`);
      continue;
    }
    const run = (monitored) => {
      let best = null;
      for (let k = 0; k < REPEATS; k++) {
        const m = new engine.Machine({ memoryMB: 32 });
        const monitor = monitored ? engine.attachMonitor(m, { sbe: 'auto' }) : null;
        m.load(bytes, { format: 'boot' });
        const t0 = process.cpuUsage();
        const r = m.run(limit);
        const t = process.cpuUsage(t0);
        const cpu = (t.user + t.system) / 1e6;
        if (best === null || cpu < best.cpu) best = { cpu, r, monitor };
      }
      return best;
    };
    const bare = run(false);
    const mon = run(true);
    const c = mon.monitor.counters;
    const entries = c.totalTraps;
    const inPlace = [...c.inPlace.values()].reduce((a, b) => a + b, 0);
    console.log(
      `${name.padEnd(18)} ${bare.r.instructions} instructions (monitored ${mon.r.instructions}), bare ${bare.cpu.toFixed(2)} s, monitored ${mon.cpu.toFixed(2)} s: ` +
        `monitored/bare ${(mon.cpu / bare.cpu).toFixed(2)}; entries ${entries} (${JSON.stringify(Object.fromEntries(c.traps))}), ` +
        `in place ${inPlace} (${JSON.stringify(Object.fromEntries(c.inPlace))})`,
    );
  }
}
await realGuests();
