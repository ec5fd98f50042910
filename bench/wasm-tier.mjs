// WebAssembly blocks against another build, by alternating processes (issue 13, docs/speed-history.md "A WebAssembly
// tier"): GRUB's floppy to its kernel (53.5 M instructions) and the loop benchmark's warm-up (the first 50 M
// instructions of bench/loop-multiboot.bin) and steady state (2 more passes), CPU time (process.cpuUsage) and wall time
// of each. Each configuration is "label=engine.js[:wasm[:wasmHot[:hot[:toJs[:nodeFlags]]]]]"; wasm 1/0 sets
// Cpu.wasmBlocks, the others Cpu.wasmHotThreshold, hotThreshold and wasmToJsAfter (empty: the default); nodeFlags,
// comma-separated, are given to the child node (V8's tiering flags: "ib=dist/engine.js:::::--interrupt-budget=270336").
//     node bench/wasm-tier.mjs PAIRS base=/work/wt/base-engine.js wasm=dist/engine.js:1 js=dist/engine.js:0
// Prints one line per run and the medians per configuration.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[2] === '--child') {
  const [, , , enginePath, workload, wasm, wasmHot, hot, toJs] = process.argv;
  const require = createRequire(import.meta.url);
  const engine = require(resolve(enginePath));
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const configure = (m) => {
    if (wasm !== '') m.cpu.wasmBlocks = wasm === '1';
    if (wasmHot !== '') m.cpu.wasmHotThreshold = Number(wasmHot);
    if (hot !== '') m.cpu.hotThreshold = Number(hot);
    if (toJs !== '') m.cpu.wasmToJsAfter = Number(toJs);
  };
  let out;
  if (workload === 'grub') {
    const { loadBuilders } = await import(join(root, 'bench/guest-builders.mjs'));
    const bytes = readFileSync((await loadBuilders()).grubFloppy('unit').path);
    const c0 = cpuNow();
    const w0 = performance.now();
    const m = new engine.Machine({ memoryMB: 16, model: 'pentium-pro', devices: { onSerialByte: () => undefined } });
    configure(m);
    m.load(bytes, { format: 'boot' });
    const r = m.run(2e8);
    out = { instructions: r.instructions, cpu: cpuNow() - c0, wall: (performance.now() - w0) / 1000 };
  } else {
    const image = Buffer.from(readFileSync(join(root, 'bench/loop-multiboot.bin')));
    image.writeUInt32LE(3, image.indexOf('LOOPREPEAT') + 'LOOPREPEAT'.length);
    const m = new engine.Machine({ memoryMB: 16 });
    configure(m);
    m.load(image, { format: 'multiboot' });
    const c0 = cpuNow();
    const w0 = performance.now();
    const warm = m.run(50_000_000);
    const c1 = cpuNow();
    const w1 = performance.now();
    const rest = m.run(2 ** 52);
    const c2 = cpuNow();
    out = {
      instructions: warm.instructions,
      cpu: c1 - c0,
      wall: (w1 - w0) / 1000,
      warmMips: warm.instructions / (c1 - c0) / 1e6,
      steadyMips: rest.instructions / (c2 - c1) / 1e6,
    };
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const pairs = Number(process.argv[2]);
const configs = process.argv.slice(3).map((arg) => {
  const label = arg.slice(0, arg.indexOf('='));
  const spec = arg.slice(arg.indexOf('=') + 1);
  const [engine, wasm = '', wasmHot = '', hot = '', toJs = '', nodeFlags = ''] = spec.split(':');
  return { label, engine, wasm, wasmHot, hot, toJs, nodeFlags: nodeFlags.split(',').filter((f) => f !== '') };
});
const results = new Map();
for (const workload of ['grub', 'loop']) {
  for (let p = 0; p < pairs; p++) {
    for (const c of configs) {
      const r = spawnSync(process.execPath, [...c.nodeFlags, fileURLToPath(import.meta.url), '--child', c.engine, workload, c.wasm, c.wasmHot, c.hot, c.toJs], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      const o = JSON.parse(r.stdout.trim().split('\n').pop());
      const key = `${workload} ${c.label}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push(o);
      const extra = o.warmMips === undefined ? '' : ` warm ${o.warmMips.toFixed(0)} MIPS, steady ${o.steadyMips.toFixed(0)} MIPS`;
      console.log(`${key}: ${o.instructions} instr, ${o.cpu.toFixed(2)} s CPU, ${o.wall.toFixed(2)} s wall${extra} (load ${loadavg()[0].toFixed(1)})`);
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('\nmedians:');
for (const [key, rs] of results) {
  const extra = rs[0].warmMips === undefined ? '' : `, warm ${median(rs.map((r) => r.warmMips)).toFixed(0)} MIPS, steady ${median(rs.map((r) => r.steadyMips)).toFixed(0)} MIPS`;
  console.log(`${key}: ${median(rs.map((r) => r.cpu)).toFixed(2)} s CPU, ${median(rs.map((r) => r.wall)).toFixed(2)} s wall${extra}`);
}
