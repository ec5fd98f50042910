// A window of Debian's i386 Linux boot, bare, without booting to it each time: the machine is run once to
// instruction AT and its snapshot kept in .guests/build/linux/ (v8-serialised), then each run restores it and times
// WINDOW instructions in CPU time. For profiling the kernel's hot code (issue 13) in seconds instead of minutes:
//   node bench/linux-window.mjs [AT] [WINDOW]        (defaults 2500000000, 200000000)
//   node --cpu-prof bench/linux-window.mjs …
// RINGSIDE_JIT=0 runs the window interpreter-only; RINGSIDE_WASM_PAGING=1|0 sets Cpu.wasmPaging, RINGSIDE_WASM_TO_JS=N Cpu.wasmToJsAfter, RINGSIDE_WASM_HOT=N Cpu.wasmHotThreshold; RINGSIDE_HOT=N builds blocks after N arrivals at a block head
// (Cpu.hotThreshold) instead of the default; RINGSIDE_WARM=N runs N instructions untimed before the window (the
// steady state); RINGSIDE_ENGINE=FILE loads another build's engine.js (alternating before/after measurements). RINGSIDE_LISTENERS=events,breakpoints arms what a debugger arms: a listener on every
// event (a bare CPU then tracks its descriptor tables) and two instruction breakpoints that are never reached (the
// run loop then asks the breakpoint set before each interpreted instruction). Prints instructions, CPU seconds,
// MIPS and the block entries chained from the block before; never used by tests.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize, deserialize } from 'node:v8';
import { engine, linuxMachine, root } from './linux-guest.mjs';

const AT = Number(process.argv[2] ?? 2_500_000_000);
const WINDOW = Number(process.argv[3] ?? 200_000_000);

function cpuSeconds(fn) {
  const t0 = process.cpuUsage();
  const result = fn();
  const t = process.cpuUsage(t0);
  return { result, cpu: (t.user + t.system) / 1e6 };
}

const snapshotFile = join(root, '.guests', 'build', 'linux', `snapshot-${AT}.v8`);
const m = linuxMachine();
// A snapshot holds the CPU's tuning fields too (Machine.snapshotState captures every field), so one made by an older
// build brings back that build's defaults: snapshots made before wasm paging was on restore it off, and a window
// from them then builds no wasm block under paging at all. The build's own defaults are put back below unless an
// environment variable sets them.
const buildDefaults = { wasmPaging: m.cpu.wasmPaging, wasmToJsAfter: m.cpu.wasmToJsAfter, wasmHotThreshold: m.cpu.wasmHotThreshold, hotThreshold: m.cpu.hotThreshold };
if (AT > 0) {
  if (existsSync(snapshotFile)) m.restore(deserialize(readFileSync(snapshotFile)));
  else {
    const { result, cpu } = cpuSeconds(() => m.run(AT));
    console.log(`to the window: ${result.instructions} instructions in ${cpu.toFixed(1)} s CPU (snapshot kept in ${snapshotFile})`);
    writeFileSync(snapshotFile, serialize(m.snapshot()));
    // Start from the restored state, as later runs do (nothing translated or decoded).
    m.restore(deserialize(readFileSync(snapshotFile)));
  }
}
const setBy = { wasmPaging: 'RINGSIDE_WASM_PAGING', wasmToJsAfter: 'RINGSIDE_WASM_TO_JS', wasmHotThreshold: 'RINGSIDE_WASM_HOT', hotThreshold: 'RINGSIDE_HOT' };
for (const [field, value] of Object.entries(buildDefaults)) {
  if (m.cpu[field] !== value && process.env[setBy[field]] === undefined) {
    console.log(`(the snapshot held Cpu.${field} = ${m.cpu[field]}; this build's default ${value} is used)`);
    m.cpu[field] = value;
  }
}
// RINGSIDE_MONITOR=1 attaches the monitor after the restore and prints its entries by reason after the window.
const monitor = process.env.RINGSIDE_MONITOR === '1' ? engine.attachMonitor(m) : null;
if (process.env.RINGSIDE_JIT === '0') m.cpu.jit = false;
if (process.env.RINGSIDE_HOT !== undefined) m.cpu.hotThreshold = Number(process.env.RINGSIDE_HOT);
// RINGSIDE_WASM_PAGING=1 or 0 turns wasm blocks under paging (Cpu.wasmPaging) on or off.
if (process.env.RINGSIDE_WASM_PAGING !== undefined) m.cpu.wasmPaging = process.env.RINGSIDE_WASM_PAGING === '1';
// RINGSIDE_WASM_TO_JS=N: a wasm block gives way to the JS block of its head after N retired (Cpu.wasmToJsAfter).
if (process.env.RINGSIDE_WASM_HOT !== undefined) m.cpu.wasmHotThreshold = Number(process.env.RINGSIDE_WASM_HOT);
if (process.env.RINGSIDE_WASM_TO_JS !== undefined) m.cpu.wasmToJsAfter = Number(process.env.RINGSIDE_WASM_TO_JS);
const listeners = (process.env.RINGSIDE_LISTENERS ?? '').split(',');
if (listeners.includes('events')) for (const name of engine.EVENT_NAMES) m.cpu.events.on(name, () => undefined);
if (listeners.includes('breakpoints')) {
  m.cpu.breakpoints.add(0xfffffff0);
  m.cpu.breakpoints.add(0x000ffff0);
  m.cpu.updateAttention();
}
// RINGSIDE_WARM=N runs N instructions untimed first: the window then times the steady state (blocks built and
// optimised) instead of the warm-up after a restore.
const warm = Number(process.env.RINGSIDE_WARM ?? 0);
if (warm > 0) m.run(warm);
const chained = m.cpu.chainedBlockRuns;
const { result, cpu } = cpuSeconds(() => m.run(WINDOW));
console.log(
  `linux window at ${AT}${warm > 0 ? ` + ${warm} untimed` : ''}: ${result.instructions} instructions (${result.reason}), ` +
    `${cpu.toFixed(2)} s CPU, ${(result.instructions / cpu / 1e6).toFixed(1)} MIPS, ${m.cpu.chainedBlockRuns - chained} chained block entries`,
);
if (monitor !== null) console.log(`monitor entries: ${JSON.stringify(Object.fromEntries(monitor.counters.traps))}`);
