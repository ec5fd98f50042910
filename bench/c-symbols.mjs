// C debugging on a large kernel (issue 15, "a large kernel's symbols come up in about a second"): times from
// launch to the first stop in a C function with its call stack and scopes, under `ringside dap` as VS Code drives
// it, and the DWARF readers alone on any ELF (a real kernel such as Debian's GNU Mach, which Ringside cannot run).
// Prints figures; asserts nothing.
//     node scripts/build.mjs && node bench/c-symbols.mjs [--units 200] [--functions 40] [--reader ELF[.gz] [--function NAME]]
// GNU Mach: --reader .guests/root/gnumach-image-1.8-486-dbg/boot/gnumach-1.8-486-dbg.gz (install-guest-tools.sh).
// Building the generated kernel of 201 units takes a few minutes of gcc; BENCH_KERNEL=path reuses one.

import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildSync } from 'esbuild';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { DebugClient } = require('@vscode/debugadapter-testsupport');
const ENTRY = join(root, 'test/fixtures/dap/ringside-dap.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : fallback;
};
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

/** Bundles a TypeScript module of the project for this process. */
function load(entry) {
  const out = join(mkdtempSync(join(tmpdir(), 'ringside-bench-')), 'm.cjs');
  buildSync({ entryPoints: [join(root, entry)], outfile: out, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
  return require(out);
}

async function firstStop(program, fn) {
  const dc = new DebugClient(process.execPath, ENTRY, 'ringside', { cwd: root });
  dc.defaultTimeout = 300000;
  await dc.start();
  const t0 = performance.now();
  const ms = () => performance.now() - t0;
  await dc.initializeRequest({ adapterID: 'ringside', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  const stopped = dc.waitForEvent('stopped');
  const launched = dc.launchRequest({ program, stopOnEntry: false, monitor: false });
  await dc.waitForEvent('initialized');
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: fn }] });
  await dc.configurationDoneRequest();
  await launched;
  await stopped;
  const stop = ms();
  const st = await dc.stackTraceRequest({ threadId: 1 });
  const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
  let row = '';
  for (const s of sc.body.scopes.slice(0, 3)) {
    const v = await dc.variablesRequest({ variablesReference: s.variablesReference });
    row = v.body.variables.find((x) => x.name === '[all compile units]')?.value ?? row;
  }
  const scopes = ms();
  await dc.evaluateRequest({ expression: 'eax', context: 'watch', frameId: st.body.stackFrames[0].id });
  const index = ms() - scopes;
  await dc.stop();
  return { stop, scopes, index, row, frames: st.body.stackFrames.slice(0, 2).map((f) => f.name).join(' ← ') };
}

let kernel = process.env.BENCH_KERNEL;
if (!kernel || !existsSync(kernel)) {
  const units = Number(option('--units', 200));
  const functions = Number(option('--functions', 40));
  const t = performance.now();
  kernel = load('test/debug-adapter/many-units-kernel.ts').buildManyUnitKernel(root, units, functions);
  console.log(`built ${kernel} (${units + 1} units × ${functions} functions) in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}
const runs = [];
for (let k = 0; k < REPEATS; k++) runs.push(await firstStop(kernel, 'gdt_set'));
const span = (key) => `${Math.min(...runs.map((r) => r[key])).toFixed(0)}–${Math.max(...runs.map((r) => r[key])).toFixed(0)} ms`;
console.log(`launch to the stop in ${runs[0].frames}: ${span('stop')}; with stack, scopes and variables: ${span('scopes')} (Globals row: ${runs[0].row})`);
console.log(`first expression on a name no unit read so far has (the name index of every unit): ${span('index')}`);

const readerFiles = args.flatMap((a, k) => (args[k - 1] === '--reader' ? [a] : []));
if (readerFiles.length) {
  const { parseElf } = load('engine/machine/loaders/elf-file.ts');
  const { readDwarf } = load('engine/machine/loaders/dwarf/index.ts');
  const { readElfSymbols } = load('engine/machine/loaders/elf-symbols.ts');
  for (const file of readerFiles) {
    const t0 = performance.now();
    const lap = () => (performance.now() - t0).toFixed(0);
    const raw = readFileSync(file);
    const elf = parseElf(new Uint8Array(file.endsWith('.gz') ? gunzipSync(raw) : raw));
    const symbols = readElfSymbols(elf);
    const warnings = [];
    const { program } = readDwarf(elf, (m) => warnings.push(m));
    const opened = lap();
    const fn = symbols.find((s) => s.name === option('--function', 'c_boot_entry')) ?? symbols.find((s) => s.size > 0);
    const f = program.functionAt(fn.addr);
    if (f) program.globals(f.unit);
    const first = lap();
    const firstRead = program.info.unitsRead;
    program.findEnumerator('__no_such_enumerator__');
    const index = lap();
    const all = program.allGlobals();
    console.log(`${file}: ${program.unitCount} units; open ${opened} ms, the unit of ${f?.name ?? fn.name} by address with its globals at ${first} ms (${firstRead} unit read), the name index at ${index} ms, every unit (${all.reduce((a, x) => a + x.variables.length, 0)} globals) at ${lap()} ms; ${warnings.length} warnings`);
  }
}
