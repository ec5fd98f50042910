// Reverse execution figures (issue 14): what the record costs forward (bench-loop under `ringside dap` with the
// launch attribute reverse on and off), and how long stepBack and reverseContinue take 10^8 instructions into a run
// (a longer bench-loop; its only DS loads are at the start, so the reverse continue with the segment-load filter
// `reg == DS` crosses the whole run backwards: the worst case).
// Drives the real adapter over stdio, as VS Code would. Prints figures; asserts nothing.
//     node scripts/build.mjs && node bench/reverse.mjs

import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { DebugClient } = require('@vscode/debugadapter-testsupport');
const ENTRY = join(root, 'test/fixtures/dap/ringside-dap.js');
const BENCH = join(root, 'examples/bench-loop/bench-loop.bin');

async function launch(reverse, program = BENCH) {
  const dc = new DebugClient(process.execPath, ENTRY, 'ringside', { cwd: root });
  dc.defaultTimeout = 300000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'ringside', pathFormat: 'path' });
  const stopped = dc.waitForEvent('stopped');
  const launched = dc.launch({ program, stopOnEntry: true, monitor: false, reverse: { enabled: reverse } });
  await dc.waitForEvent('initialized');
  await dc.configurationDoneRequest();
  await launched;
  await stopped;
  return dc;
}

async function controlRow(dc, name) {
  const st = await dc.stackTraceRequest({ threadId: 1 });
  const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
  const control = sc.body.scopes.find((s) => s.name === 'Control');
  const vars = (await dc.variablesRequest({ variablesReference: control.variablesReference })).body.variables;
  return vars.find((v) => v.name === name).value;
}

async function instructions(dc) {
  return Number(await controlRow(dc, 'instructions'));
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** CPU time (user + system) the adapter process has used so far, in ms (/proc, Linux; 10 ms ticks). */
function adapterCpuMs(dc) {
  const stat = readFileSync(`/proc/${dc._adapterProcess.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * From entry to exit: MIPS by wall time of the continue, and by the adapter's own CPU time, which a busy host
 * disturbs far less (the adapter is its own process and runs the guest on one thread).
 */
async function forward(reverse, program = BENCH) {
  const dc = await launch(reverse, program);
  let n = 0;
  dc.on('output', (e) => {
    const m = /after (\d+) instructions/.exec(e.body.output);
    if (m) n = Number(m[1]);
  });
  const ended = dc.waitForEvent('terminated');
  const t0 = process.hrtime.bigint();
  const cpu0 = adapterCpuMs(dc);
  await dc.continueRequest({ threadId: 1 });
  await ended;
  const t = ms(t0);
  const cpu = adapterCpuMs(dc) - cpu0;
  await dc.stop();
  return { wall: n / t / 1000, cpu: n / cpu / 1000 };
}

// bench-loop with its loop count raised to 12,000,000 (its `mov ecx, 5000000`, B9 40 4B 4C 00, patched in a copy):
// 1.2 * 10^8 instructions, long enough that the record's steady cost shows rather than what its first moments cost
// once (the first checkpoint under way compares code that has not run yet; the 16 MiB copy the record compares with
// is new to the garbage collector).
const image = readFileSync(BENCH);
const mov = Buffer.from([0xb9, 0x40, 0x4b, 0x4c, 0x00]);
const movAt = image.indexOf(mov);
if (movAt < 0) throw new Error("bench-loop's mov ecx, 5000000 not found");
const patched = Buffer.from(image);
patched.writeUInt32LE(12_000_000, movAt + 1);
const dir = mkdtempSync(join(tmpdir(), 'ringside-reverse-'));
const LONG = join(dir, 'bench-loop-long.bin');
writeFileSync(LONG, patched);

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const best = (xs) => Math.max(...xs);
const cost = (off, on) => `${((1 - on / off) * 100).toFixed(1)}%`;
for (const [name, program] of [['bench-loop', BENCH], ['long bench-loop (1.2e8 instr.)', LONG]]) {
  const on = [];
  const off = [];
  for (let k = 0; k < REPEATS; k++) {
    off.push(await forward(false, program));
    on.push(await forward(true, program));
  }
  const [offWall, onWall] = [best(off.map((x) => x.wall)), best(on.map((x) => x.wall))];
  const [offCpu, onCpu] = [best(off.map((x) => x.cpu)), best(on.map((x) => x.cpu))];
  console.log(
    `${`reverse: ${name} recording off / on`.padEnd(40)} wall ${offWall.toFixed(1)} / ${onWall.toFixed(1)} MIPS (costs ${cost(offWall, onWall)}); ` +
      `adapter CPU ${offCpu.toFixed(1)} / ${onCpu.toFixed(1)} MIPS (costs ${cost(offCpu, onCpu)}); best of ${REPEATS} each`,
  );
}

// 10^8 instructions into a run: the long bench-loop stopped by an instruction breakpoint on the loop's `dec ecx` at
// its 10,000,000th pass; then stepBack, and reverseContinue with the segment-load filter `reg == DS` back to the DS load
// at the start of the run (every checkpoint interval lies between: the worst case).
{
  const dec = image.indexOf(Buffer.from([0x49, 0x75]), movAt);
  const dc = await launch(true, LONG);
  await dc.customRequest('setInstructionBreakpoints', {
    breakpoints: [{ instructionReference: `0x${(0x7c00 + dec).toString(16)}`, hitCondition: '== 10000000' }],
  });
  let t0 = process.hrtime.bigint();
  let s = dc.waitForEvent('stopped');
  await dc.continueRequest({ threadId: 1 });
  await s;
  const forwardMs = ms(t0);
  const where = await instructions(dc);
  await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
  // Three step backs in a row: the first replays from the checkpoint before the stop, the next ones the same
  // interval again with its code already translated.
  const stepBackMs = [];
  for (let k = 0; k < 3; k++) {
    t0 = process.hrtime.bigint();
    s = dc.waitForEvent('stopped');
    await dc.customRequest('stepBack', { threadId: 1, granularity: 'instruction' });
    await s;
    stepBackMs.push(ms(t0));
  }
  await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS' }] });
  t0 = process.hrtime.bigint();
  s = dc.waitForEvent('stopped');
  await dc.customRequest('reverseContinue', { threadId: 1 });
  await s;
  const reverseMs = ms(t0);
  const landed = await instructions(dc);
  const reach = await controlRow(dc, 'reverse');
  await dc.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(`${'reverse: forward to the stop, at'.padEnd(40)} ${where} instructions: ${forwardMs.toFixed(0)} ms (${(where / forwardMs / 1000).toFixed(1)} MIPS, recording)`);
  console.log(`${'reverse: stepBack, three in a row'.padEnd(40)} ${stepBackMs.map((x) => x.toFixed(0)).join(', ')} ms`);
  console.log(`${'reverse: reverseContinue to the DS load'.padEnd(40)} from ${where - 3} back to ${landed} instructions: ${reverseMs.toFixed(0)} ms`);
  console.log(`${'reverse: the record'.padEnd(40)} ${reach}`);
}
