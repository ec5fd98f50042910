// Reverse execution figures (issue 14): what the record costs forward (bench-loop under `ringside dap` with the
// launch attribute reverse on and off), and how long stepBack and reverseContinue take deep into a run (bench-loop
// paused near the end of its 5·10^7 instructions; its only DS loads are at the start, so the reverse continue with
// the segment-load filter `reg == DS` replays the whole run backwards, interval by interval: the worst case).
// Drives the real adapter over stdio, as VS Code would. Prints figures; asserts nothing.
//     node scripts/build.mjs && node bench/reverse.mjs

import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { DebugClient } = require('@vscode/debugadapter-testsupport');
const ENTRY = join(root, 'test/fixtures/dap/ringside-dap.js');
const BENCH = join(root, 'examples/bench-loop/bench-loop.bin');

async function launch(reverse) {
  const dc = new DebugClient(process.execPath, ENTRY, 'ringside', { cwd: root });
  dc.defaultTimeout = 300000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'ringside', pathFormat: 'path' });
  const stopped = dc.waitForEvent('stopped');
  const launched = dc.launch({ program: BENCH, stopOnEntry: true, monitor: false, reverse: { enabled: reverse } });
  await dc.waitForEvent('initialized');
  await dc.configurationDoneRequest();
  await launched;
  await stopped;
  return dc;
}

async function instructions(dc) {
  const st = await dc.stackTraceRequest({ threadId: 1 });
  const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
  const control = sc.body.scopes.find((s) => s.name === 'Control');
  const vars = (await dc.variablesRequest({ variablesReference: control.variablesReference })).body.variables;
  return Number(vars.find((v) => v.name === 'instructions').value);
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** bench-loop from entry to exit: MIPS (wall time of the continue; the adapter is its own process). */
async function forward(reverse) {
  const dc = await launch(reverse);
  let n = 0;
  dc.on('output', (e) => {
    const m = /after (\d+) instructions/.exec(e.body.output);
    if (m) n = Number(m[1]);
  });
  const ended = dc.waitForEvent('terminated');
  const t0 = process.hrtime.bigint();
  await dc.continueRequest({ threadId: 1 });
  await ended;
  const t = ms(t0);
  await dc.stop();
  return n / t / 1000;
}

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const on = [];
const off = [];
for (let k = 0; k < REPEATS; k++) {
  off.push(await forward(false));
  on.push(await forward(true));
}
const best = (xs) => Math.max(...xs);
console.log(
  `${'reverse: bench-loop recording off / on'.padEnd(40)} ${best(off).toFixed(1)} / ${best(on).toFixed(1)} MIPS ` +
    `(recording costs ${((1 - best(on) / best(off)) * 100).toFixed(1)}% of forward speed; best of ${REPEATS} each)`,
);

// Deep into the run: pause bench-loop near its end, then step back and reverse-continue to the last DS load.
{
  const dc = await launch(true);
  await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
  const stopped = dc.waitForEvent('stopped');
  await dc.continueRequest({ threadId: 1 });
  await new Promise((r) => setTimeout(r, 350));
  await dc.pauseRequest({ threadId: 1 });
  await stopped;
  const at = await instructions(dc);
  let t0 = process.hrtime.bigint();
  let s = dc.waitForEvent('stopped');
  await dc.customRequest('stepBack', { threadId: 1, granularity: 'instruction' });
  await s;
  const stepBackMs = ms(t0);
  await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS' }] });
  t0 = process.hrtime.bigint();
  s = dc.waitForEvent('stopped');
  await dc.customRequest('reverseContinue', { threadId: 1 });
  await s;
  const reverseMs = ms(t0);
  const landed = await instructions(dc);
  await dc.stop();
  console.log(`${'reverse: stepBack, at'.padEnd(40)} ${at} instructions: ${stepBackMs.toFixed(0)} ms`);
  console.log(`${'reverse: reverseContinue to the DS load'.padEnd(40)} from ${at - 1} back to ${landed} instructions: ${reverseMs.toFixed(0)} ms`);
}
