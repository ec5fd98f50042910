// Time to answer the adapter's heaviest requests (issue 17, item 7): `disassemble` at its largest count, and
// breakpoint lists of several megabytes (instruction, source and function breakpoints), then a continue with all
// of them armed. Drives the real adapter over stdio with a minimal client (one that reads its frames without
// copying them over and over, so the figures are the adapter's); prints, for each request, the time from writing
// it to reading its whole response, and the adapter's CPU time for it (from /proc, Linux; on a machine shared with
// other work the wall time swells with the load, the CPU time much less), best of BENCH_REPEATS (default 3).
// Asserts nothing.
//     node scripts/build.mjs && node bench/adapter-requests.mjs

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(root, 'test/fixtures/dap/ringside-dap.js');
const ELF = join(root, 'test/fixtures/dap/frames.elf');
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

/** A DAP client over the adapter's stdio: request() resolves with the response, events are kept. */
function startAdapter() {
  const proc = spawn(process.execPath, [ENTRY], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const chunks = [];
  let have = 0;
  let need = -1;
  const waiters = new Map();
  const eventWaiters = [];
  proc.stdout.on('data', (d) => {
    chunks.push(d);
    have += d.length;
    for (;;) {
      let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks.splice(0));
      chunks.length = 0;
      chunks.push(buf);
      if (need < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        need = Number(/Content-Length: (\d+)/.exec(buf.subarray(0, end).toString())[1]);
        buf = buf.subarray(end + 4);
        chunks[0] = buf;
        have = buf.length;
      }
      if (have < need) return;
      const m = JSON.parse(buf.subarray(0, need).toString());
      chunks[0] = buf.subarray(need);
      have -= need;
      need = -1;
      if (m.type === 'response') waiters.get(m.request_seq)?.(m);
      else for (const w of eventWaiters.splice(0)) w(m);
    }
  });
  let seq = 1;
  const request = (command, args) =>
    new Promise((resolve) => {
      const s = seq++;
      waiters.set(s, resolve);
      const text = JSON.stringify({ type: 'request', seq: s, command, arguments: args });
      proc.stdin.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    });
  const event = (names) =>
    new Promise((resolve) => {
      const w = (m) => (names.includes(m.event) ? resolve(m) : eventWaiters.push(w));
      eventWaiters.push(w);
    });
  return { proc, request, event };
}

/** CPU time (user + system) the adapter process has used, in ms; NaN where /proc is missing. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function best(dap, command, args) {
  let ms = Infinity;
  let cpu = Infinity;
  let response;
  for (let k = 0; k < REPEATS; k++) {
    const c0 = cpuMs(dap.proc.pid);
    const t0 = process.hrtime.bigint();
    response = await dap.request(command, args);
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6);
    cpu = Math.min(cpu, cpuMs(dap.proc.pid) - c0);
  }
  return { ms, cpu, response };
}

const dap = startAdapter();
await dap.request('initialize', { adapterID: 'ringside', pathFormat: 'path' });
const stopped = dap.event(['stopped']);
const launched = dap.request('launch', { program: ELF, stopOnEntry: true, monitor: false });
await dap.request('configurationDone');
await launched;
await stopped;
const st = await dap.request('stackTrace', { threadId: 1 });
const pc = st.body.stackFrames[0].instructionPointerReference;
const rows = [];
const report = (what, bytes, r) => {
  const body = r.response?.body;
  const n = body?.instructions?.length ?? body?.breakpoints?.length;
  const note = r.response ? (r.response.success ? `${n} answered` : `refused: ${r.response.message}`) : r.note;
  rows.push([what, bytes === null ? '' : `${(bytes / 1e6).toFixed(1)} MB`, `${r.ms.toFixed(0)} ms`, r.cpu === undefined ? '' : `${r.cpu.toFixed(0)} ms`, note]);
};

for (const count of [1000, 10000, 100000]) {
  report(`disassemble ${count} instructions`, null, await best(dap, 'disassemble', { memoryReference: pc, instructionOffset: -count / 2, instructionCount: count }));
}

const N = Number(process.env.BENCH_BREAKPOINTS ?? 60000);
const instr = { breakpoints: Array.from({ length: N }, (_, k) => ({ instructionReference: '0x' + (0x100000 + k * 4).toString(16), condition: 'eax == ' + k, hitCondition: '>= 1' })) };
report(`setInstructionBreakpoints ×${N}`, JSON.stringify(instr).length, await best(dap, 'setInstructionBreakpoints', instr));
const source = { source: { path: join(root, 'test/fixtures/dap/frames.asm') }, breakpoints: Array.from({ length: N }, (_, k) => ({ line: 1 + (k % 60), condition: 'eax == ' + k, logMessage: 'hit {eax}' })) };
report(`setBreakpoints ×${N}`, JSON.stringify(source).length, await best(dap, 'setBreakpoints', source));
const fn = { breakpoints: Array.from({ length: N }, (_, k) => ({ name: k % 2 ? 'main' : 'no_such_function_' + k, condition: 'eax == ' + k })) };
report(`setFunctionBreakpoints ×${N}`, JSON.stringify(fn).length, await best(dap, 'setFunctionBreakpoints', fn));

const t0 = process.hrtime.bigint();
const stopOrEnd = dap.event(['stopped', 'terminated']);
await dap.request('continue', { threadId: 1 });
const how = await stopOrEnd;
report('continue with all of those armed, to the next stop or the end', null, { ms: Number(process.hrtime.bigint() - t0) / 1e6, note: how.event });

await dap.request('disconnect', {});
dap.proc.kill();
console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log('| request | size | wall time | adapter CPU time | |\n| --- | --- | --- | --- | --- |');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
