// Protocol robustness: malformed frames and requests, unknown commands, requests in the wrong state and a fuzz
// of 10^4 random requests. Each request gets a response, the adapter never exits, and the session still works.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, FIXTURES, ROOT } from './dap-client';
import { RawDap } from './raw-dap';

const SPIN = path.join(FIXTURES, 'spin.bin');
const SEED = path.join(ROOT, 'examples/seed-sequence/seed-sequence.bin');
let dap: RawDap;
beforeAll(() => buildOnce(), 60000);
afterEach(() => dap?.kill());

async function launchSpin(d: RawDap, program = SPIN, monitor = false): Promise<void> {
  expect((await d.request('initialize', { adapterID: 'ringside', pathFormat: 'path' })).success).toBe(true);
  const launch = d.send('launch', { program, stopOnEntry: true, monitor });
  await d.waitFor((m) => m.event === 'initialized');
  await d.request('configurationDone');
  expect((await d.response(launch)).success).toBe(true);
  await d.waitFor((m) => m.event === 'stopped');
}

/** A random JSON value, biased towards the shapes DAP arguments have. */
function randomValue(rnd: () => number, depth = 0): unknown {
  const k = Math.floor(rnd() * 12);
  switch (k) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return Math.floor(rnd() * 10) - 2;
    case 3: return [0, -1, 1e300, -0, 2 ** 53, 0xffffffff, 1.5, NaN][Math.floor(rnd() * 8)];
    case 4: return ['', 'eax', '0x7c00', 'ds.base', '[ds:esi]', 'info gdt', 'x/4xb 0x7c00', '{', '((((', 'seg:3', 'mem:1:0', 'reg:eax', 'a'.repeat(5000)][Math.floor(rnd() * 13)];
    case 5: return Math.floor(rnd() * 0x100000000);
    case 6:
    case 7:
      if (depth > 2) return 1;
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
    default: {
      if (depth > 2) return {};
      const keys = ['threadId', 'frameId', 'variablesReference', 'name', 'value', 'expression', 'context', 'memoryReference', 'offset', 'count', 'instructionCount', 'instructionOffset', 'breakpoints', 'filters', 'filterOptions', 'source', 'lines', 'dataId', 'accessType', 'start', 'granularity', 'data', 'asAddress', 'bytes', 'sourceReference', 'levels', 'arguments'];
      const o: Record<string, unknown> = {};
      for (let n = Math.floor(rnd() * 5); n > 0; n--) o[keys[Math.floor(rnd() * keys.length)]] = randomValue(rnd, depth + 1);
      return o;
    }
  }
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('protocol robustness', () => {
  it('answers malformed requests and unknown commands with errors and keeps serving', async () => {
    dap = new RawDap();
    dap.writeRaw('this is not json');
    dap.writeRaw('{"type":"request","seq":1}');
    const noCommand = await dap.waitFor((m) => m.type === 'response' && m.request_seq === 1);
    expect(noCommand.success).toBe(false);
    const unknown = await dap.request('frobnicate', {});
    expect(unknown.success).toBe(false);
    expect(unknown.message).toContain('unknown request "frobnicate"');
    const badArgs = await dap.request('evaluate', [1, 2]);
    expect(badArgs.success).toBe(false);
    const numberCommand = await dap.request(42 as unknown as string, {});
    expect(numberCommand.success).toBe(false);
    expect((await dap.request('initialize', { adapterID: 'ringside', pathFormat: 'path' })).success).toBe(true);
    expect(dap.exited).toBeNull();
  });

  it('stays able to answer after every kind of malformed frame, and tells the client what it dropped', async () => {
    dap = new RawDap();
    const req = (seq: number, command = 'threads') => JSON.stringify({ type: 'request', seq, command });
    const bad: [string, string, number | null][] = [
      ['length shorter than the body', `Content-Length: 5\r\n\r\n${req(1)}`, 1],
      ['negative length', `Content-Length: -3\r\n\r\n${req(2)}`, 2],
      ['length not a number', `Content-Length: abc\r\n\r\n${req(3)}`, 3],
      ['no length', `Content-Type: application/json\r\n\r\n${req(4)}`, 4],
      ['garbage before a header', `\x00\xffjunk`, null],
      ['body not JSON', `Content-Length: 9\r\n\r\nnot json!`, null],
      ['body not an object', `Content-Length: 2\r\n\r\n[]`, null],
    ];
    let seq = 50;
    for (const [what, bytes, answeredSeq] of bad) {
      const outputs = dap.messages.filter((m) => m.event === 'output').length;
      dap.writeBytes(bytes);
      if (answeredSeq !== null) {
        const r = await dap.response(answeredSeq);
        expect(r.success, what).toBe(false);
        expect(r.message, what).toMatch(/frame was malformed/);
      }
      // A good request right after is answered.
      dap.writeRaw(req(seq));
      expect((await dap.response(seq)).success, what).toBe(true);
      seq++;
      expect(dap.messages.filter((m) => m.event === 'output' && /dropped \d+ bytes? of malformed DAP input/.test(String(m.body?.output))).length, what).toBeGreaterThan(outputs);
    }
    // LF-only line ends and a lowercase name are read as the frames they are meant to be.
    dap.writeBytes(`content-length: ${req(90).length}\n\n${req(90)}`);
    expect((await dap.response(90)).success).toBe(true);
    dap.writeRaw(JSON.stringify({ type: 'request', seq: 91, command: 'disconnect' }));
    expect((await dap.response(91)).success).toBe(true);
  });

  it('answers disassemble in parts of at most 10000 instructions, and sets at most 10000 breakpoints per request', async () => {
    dap = new RawDap();
    await launchSpin(dap);
    const whole = await dap.request('disassemble', { memoryReference: '0x7c00', instructionOffset: -5000, instructionCount: 10000 });
    expect((whole.body as { instructions: unknown[] }).instructions).toHaveLength(10000);
    const tooMany = await dap.request('disassemble', { memoryReference: '0x7c00', instructionCount: 10001 });
    expect(tooMany.success).toBe(false);
    expect(tooMany.message).toMatch(/more than 10000 instructions per request: ask in parts/);
    const list = Array.from({ length: 10003 }, (_, k) => ({ instructionReference: '0x' + (0x10000 + k).toString(16), condition: k % 2 ? 'eax == 1' : undefined }));
    const set = await dap.request('setInstructionBreakpoints', { breakpoints: list });
    const answers = (set.body as { breakpoints: { verified: boolean; message?: string }[] }).breakpoints;
    expect(answers).toHaveLength(10003);
    expect(answers.slice(0, 10000).every((b) => b.verified)).toBe(true);
    expect(answers.slice(10000)).toEqual(Array(3).fill({ verified: false, message: 'not set: at most 10000 breakpoints per request' }));
    const fn = await dap.request('setFunctionBreakpoints', { breakpoints: Array.from({ length: 10001 }, () => ({ name: 'start' })) });
    expect((fn.body as { breakpoints: { message?: string }[] }).breakpoints[10000].message).toBe('not set: at most 10000 breakpoints per request');
    const src = await dap.request('setBreakpoints', { source: { path: '/x.asm' }, breakpoints: Array.from({ length: 10001 }, () => ({ line: 1 })) });
    expect((src.body as { breakpoints: { message?: string }[] }).breakpoints[10000].message).toBe('not set: at most 10000 breakpoints per request');
  });

  it('refuses requests in the wrong state with a reason', async () => {
    dap = new RawDap();
    const before = await dap.request('stackTrace', { threadId: 1 });
    expect(before.success).toBe(false);
    expect(before.message).toContain('no guest is loaded');
    await launchSpin(dap);
    expect((await dap.request('pause', { threadId: 1 })).message).toContain('already stopped');
    expect((await dap.request('launch', { program: SPIN })).message).toContain('already launched');
    expect((await dap.request('exceptionInfo', { threadId: 1 })).success).toBe(false);
    await dap.request('continue', { threadId: 1 });
    const running = await dap.request('variables', { variablesReference: 1 });
    expect(running.message).toContain('running');
    expect((await dap.request('continue', { threadId: 1 })).success).toBe(false);
    expect((await dap.request('pause', { threadId: 1 })).success).toBe(true);
    await dap.waitFor((m) => m.event === 'stopped' && (m.body as { reason?: string }).reason === 'pause');
    expect((await dap.request('variables', { variablesReference: 99999 })).message).toContain('not valid');
  });

  it('survives 10^4 random requests and still works afterwards', async () => {
    dap = new RawDap();
    await launchSpin(dap);
    await fuzz(dap, 10000, 6);
  }, 120000);

  it('survives 2000 random requests under the monitor', async () => {
    dap = new RawDap();
    await launchSpin(dap, SEED, true);
    await fuzz(dap, 2000, 7);
  }, 120000);
});

/** Sends `total` random requests in batches, checks each is answered, then that the session still works. */
async function fuzz(dap: RawDap, total: number, seed: number): Promise<void> {
  const rnd = mulberry32(seed);
  const commands = [
    'threads', 'stackTrace', 'scopes', 'variables', 'setVariable', 'evaluate', 'source', 'continue', 'pause', 'next', 'stepIn', 'stepOut',
    'setBreakpoints', 'setInstructionBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints', 'exceptionInfo', 'dataBreakpointInfo',
    'setDataBreakpoints', 'readMemory', 'writeMemory', 'disassemble', 'loadedSources', 'modules', 'launch', 'attach', 'initialize',
    'configurationDone', 'ringside/segmentMap', 'ringside/serialInput', 'restart', 'completions', 'gotoTargets', '', 'no such command',
  ];
  let answered = 0;
  let failures = 0;
  for (let sent = 0; sent < total; ) {
    const batch: number[] = [];
    for (let k = 0; k < 100 && sent < total; k++, sent++) {
      batch.push(dap.send(commands[Math.floor(rnd() * commands.length)], rnd() < 0.1 ? randomValue(rnd) : randomValue(rnd, 3) ?? {}));
    }
    for (const seq of batch) {
      const r = await dap.response(seq, 20000);
      answered++;
      if (!r.success) failures++;
    }
  }
  expect(answered).toBe(total);
  expect(failures).toBeGreaterThan(total / 2);
  expect(dap.exited).toBeNull();
  expect(dap.stderr).not.toMatch(/uncaught|unhandled/);
  // Bad arguments are answered as errors by the checks, not by a handler falling over.
  expect(dap.stderr.split('\n').filter((l) => l.includes(' failed: ')).slice(0, 5)).toEqual([]);
  // Still a working session: stop it if a random request left it running, then read its state.
  const p = await dap.request('pause', { threadId: 1 });
  if (p.success) await dap.waitFor((m) => m.event === 'stopped' && (m.body as { reason?: string }).reason === 'pause');
  const st = await dap.request('stackTrace', { threadId: 1 });
  const ended = dap.messages.some((m) => m.event === 'terminated');
  if (!ended) {
    expect(st.success).toBe(true);
    const ev = await dap.request('evaluate', { expression: 'cs.selector', context: 'repl' });
    expect(ev.success).toBe(true);
  }
  expect((await dap.request('threads')).success).toBe(true);
}
