// What translated blocks cost V8 (issue 13, docs/speed-history.md "Cheaper generated code"): runs a boot image (by
// default the GRUB floppy that bench/guests.mjs builds) with blocks built after HOT arrivals (default 40, so that most
// code is translated; JIT=0 runs the interpreter alone), prints the run's CPU time, then walks the blocks alive at the
// end and prints their size in JavaScript per guest instruction.
// With V8's natives syntax it also compiles each block with TurboFan on the main thread and prints the CPU time:
//   node --allow-natives-syntax --no-concurrent-recompilation bench/jit-code.mjs [IMAGE]
// Prints figures only; never used by tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const engine = require(join(root, 'dist', 'engine.js'));

const images = join(root, '.guests', 'build', 'images');
const grub = existsSync(images) ? readdirSync(images).find((f) => f.startsWith('grub-port-')) : undefined;
const image = process.argv[2] ?? (grub !== undefined ? join(images, grub) : undefined);
if (image === undefined || !existsSync(image)) {
  console.log('skipped: no image given and no GRUB image built (node bench/guests.mjs builds it)');
  process.exit(0);
}

const m = new engine.Machine({ memoryMB: 16, model: 'pentium-pro', devices: { onSerialByte: () => undefined } });
m.load(readFileSync(image), { format: 'boot' });
m.cpu.hotThreshold = Number(process.env.HOT ?? 40);
if (process.env.JIT === '0') m.cpu.jit = false; // the interpreter alone, for comparison
/** CPU seconds of the main thread alone (Linux; V8's compiler threads excluded), or NaN elsewhere. */
function mainThreadCpu() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}
const t0 = process.cpuUsage();
const main0 = mainThreadCpu();
const w0 = performance.now();
const result = m.run(Number(process.env.MAX ?? 2e8));
const t = process.cpuUsage(t0);
const wall = (performance.now() - w0) / 1000;
const how = m.cpu.jit ? `HOT=${m.cpu.hotThreshold}` : 'interpreter only';
console.log(
  `${result.instructions} instructions (${result.reason}) in ${((t.user + t.system) / 1e6).toFixed(2)} s CPU ` +
    `(main thread ${(mainThreadCpu() - main0).toFixed(2)} s), ${wall.toFixed(2)} s wall, ${how}`,
);
if (!m.cpu.jit) process.exit(0);

const blocks = new Set();
for (const cache of [m.cpu.cache32, m.cpu.cache16]) {
  for (const list of cache) {
    if (list === undefined) continue;
    for (const i of list) if (i !== undefined && i.block !== null && i.block.source !== '') blocks.add(i.block);
  }
}
let bytes = 0;
let instrs = 0;
for (const b of blocks) {
  bytes += b.source.length;
  instrs += b.len;
}
console.log(`${blocks.size} blocks alive, ${instrs} guest instructions, ${bytes} bytes of JavaScript: ${(bytes / instrs).toFixed(0)} per guest instruction`);

let natives;
try {
  natives = new Function('f', '%DeoptimizeFunction(f); %OptimizeFunctionOnNextCall(f);');
} catch {
  console.log('(run with --allow-natives-syntax --no-concurrent-recompilation for the TurboFan compile time per block)');
  process.exit(0);
}
const each = [];
for (const b of blocks) {
  natives(b.run);
  const c0 = process.cpuUsage();
  try {
    b.run(m.cpu, b.len); // the state is whatever the run left: only the compile is of interest
  } catch {
    // a fault of the guest's: the compile happened before it
  }
  const c = process.cpuUsage(c0);
  each.push((c.user + c.system) / 1000);
}
each.sort((a, b) => a - b);
const total = each.reduce((a, b) => a + b, 0);
console.log(
  `TurboFan: ${total.toFixed(0)} ms CPU for ${each.length} blocks, ${(total / each.length).toFixed(2)} ms per block ` +
    `(median ${each[each.length >> 1].toFixed(2)}, max ${each[each.length - 1].toFixed(1)}), ${((total / instrs) * 1000).toFixed(0)} µs per guest instruction`,
);
