// The DAP fuzzer (issue 17): sessions of `ringside dap` driven with bad values for every launch attribute and every
// request argument the adapter supports, mixed with plausible ones so sessions get somewhere, and with malformed
// frames. It checks what a client relies on: every request is answered (success, or an error with a message),
// within a time bound; the adapter never exits on its own and logs no bug (a handler that fell over); after a
// malformed frame the next request is still answered; and `disconnect` is answered and ends the process.
// Deterministic for a seed (the requests; the guest's progress between them depends on timing).
// Run briefly by test/debug-adapter/fuzz-dap.test.ts; for longer: node scripts/fuzz-dap.mjs --runs N --seed S.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FuzzOptions {
  /** Adapter sessions to run. */
  runs: number;
  seed: number;
  /** Requests per session after the launch. */
  steps: number;
  /** Stop starting sessions after this many seconds. */
  seconds: number;
  /** How long one request may wait for its answer before it counts as a hang. */
  answerMs: number;
  /** The repository root (the adapter is test/fixtures/dap/ringside-dap.js there). */
  root: string;
  log?: (line: string) => void;
}

export interface FuzzReport {
  runs: number;
  requests: number;
  answered: number;
  /** Answers with success false (each had a message). */
  refused: number;
  launchesStarted: number;
  malformedFrames: number;
  crashes: string[];
  hangs: string[];
  /** Bugs the adapter logged (a handler's exception) or answers without a message. */
  bugs: string[];
  seconds: number;
}

interface Message {
  type: string;
  seq: number;
  request_seq?: number;
  success?: boolean;
  command?: string;
  message?: string;
  event?: string;
  body?: Record<string, unknown>;
}

type Rnd = () => number;

function mulberry32(seed: number): Rnd {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: Rnd, list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
const int = (rnd: Rnd, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));

/** Values that are wrong for almost any argument: types, ranges, sizes and strings that trip parsers. */
const BAD_VALUES: readonly unknown[] = [
  null, true, false, -1, 0, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 1e308, -1e308, '', ' ', '0x', '-1', '1e3', 'NaN',
  'x'.repeat(20000), '\u0000', '\ud800', '%s%n', '{', '((((', '"', [], [1, 2], [null], {}, { a: { b: { c: [] } } }, '0xffffffffffffffff',
];

class Client {
  readonly proc: ChildProcess;
  private chunks: Buffer[] = [];
  private have = 0;
  private need = -1;
  private readonly answers = new Map<number, Message>();
  readonly events: Message[] = [];
  stderr = '';
  exit: string | null = null;
  private waiters: (() => void)[] = [];
  seq = 1;

  constructor(root: string) {
    this.proc = spawn(process.execPath, [path.join(root, 'test/fixtures/dap/ringside-dap.js')], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.stdin!.on('error', () => undefined);
    this.proc.on('exit', (code, signal) => {
      this.exit = signal ?? String(code);
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.have += d.length;
    for (;;) {
      let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [buf];
      if (this.need < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.need = Number(/Content-Length: (\d+)/.exec(buf.subarray(0, end).toString())?.[1] ?? 0);
        buf = buf.subarray(end + 4);
        this.chunks = [buf];
        this.have = buf.length;
      }
      if (this.have < this.need) return;
      const m = JSON.parse(buf.subarray(0, this.need).toString()) as Message;
      this.chunks = [buf.subarray(this.need)];
      this.have -= this.need;
      this.need = -1;
      if (m.type === 'response' && m.request_seq !== undefined) this.answers.set(m.request_seq, m);
      else this.events.push(m);
      this.wake();
    }
  }

  write(bytes: string | Buffer): void {
    if (this.exit === null) this.proc.stdin!.write(bytes);
  }

  send(command: unknown, args: unknown): number {
    const seq = this.seq++;
    const text = JSON.stringify({ type: 'request', seq, command, arguments: args });
    this.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    return seq;
  }

  /** The answer to `seq`, or null after `ms` or when the process has exited. */
  async answer(seq: number, ms: number): Promise<Message | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.answers.get(seq);
      if (m) {
        this.answers.delete(seq);
        return m;
      }
      if (this.exit !== null || Date.now() > deadline) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 25);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async exited(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.exit === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return this.exit !== null;
  }
}

/** Files the launch attributes point at: good images, and bad ones made for the run. */
interface Files {
  programs: string[];
  elf: string;
  bad: string[];
  dir: string;
}

function makeFiles(root: string): Files {
  const fx = (n: string) => path.join(root, 'test/fixtures/dap', n);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringside-fuzz-'));
  const elf = fx('frames.elf');
  const write = (name: string, bytes: Uint8Array) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  const elfBytes = fs.readFileSync(elf);
  const noise = Uint8Array.from({ length: 3000 }, (_, k) => (k * 2654435761) >>> 24);
  const bad = [
    write('empty.bin', new Uint8Array(0)),
    write('cut.elf', elfBytes.subarray(0, 300)),
    write('noise.bin', noise),
    write('elf-header-only', elfBytes.subarray(0, 52)),
    write('boot-unsigned.img', new Uint8Array(512)),
    path.join(dir, 'missing.bin'),
    dir,
  ];
  const programs = [fx('spin.bin'), fx('serial.bin'), fx('basics.bin'), fx('segloads.bin'), fx('triple.bin'), fx('frames-flat.bin'), elf,
    path.join(root, 'examples/hello/hello.bin'), path.join(root, 'examples/seed-sequence/seed-sequence.bin'), path.join(root, 'examples/paging/paging.bin')];
  return { programs, elf, bad, dir };
}

/**
 * A launch configuration: a good one with some attributes given bad values, or (rarely) not an object at all. The
 * first launch of a session is left good half the time, so that sessions get to run, stop and be looked at.
 */
function launchArgs(rnd: Rnd, f: Files, first = false): unknown {
  const clean = first && rnd() < 0.5;
  if (!clean && rnd() < 0.04) return pick(rnd, [null, [], 'launch', 42]);
  const program = clean || rnd() < 0.85 ? pick(rnd, f.programs) : pick(rnd, f.bad);
  const args: Record<string, unknown> = { program, stopOnEntry: rnd() < 0.8, monitor: rnd() < 0.4 };
  if (program.endsWith('frames-flat.bin')) Object.assign(args, { format: 'bin', loadAddress: '0x100000', entry: '0x100000', mode: 'protected', symbols: f.elf });
  const bad: Record<string, readonly unknown[]> = {
    program: ['', 7, null, [], 'a'.repeat(5000), ...f.bad],
    format: ['exe', 3, null, 'bin', 'elf', 'multiboot', 'rom', 'boot'],
    loadAddress: [-1, 1.5, '0x100000000', 'start', 0xffffffff, 0, '0xfffff000', 1e300, '7c00h', ' 0x7c00 ', '0x7c_00'],
    entry: [-1, '0x200000', 0xffffffff, 'main', '0x7c00', 2 ** 40],
    mode: ['v86', true, 'protected', 'real', ''],
    memoryMB: [0, 1, 2, 3073, 4095, -5, '16', 1.5, 1e12, 64],
    monitor: ['yes', 0, true, false, null],
    sbe: ['sometimes', 'on', 'off', 'auto', 1],
    stopOnEntry: ['true', 1, true, false],
    maxInstructions: [0, -1, 1, 1.5, 2 ** 60, '100', 10, 5000],
    symbols: ['', '/nonexistent.elf', f.elf, ...f.bad],
    serial: ['file', 'terminal', 'debugConsole', null, 3],
    trace: [['nope'], 'segment-load', [3], ['segment-load', 'segment-load'], ['segment-load', 'cpu-exception', 'port-io'], []],
    stopOnEntri: [true],
    colour: ['red'],
    cwd: [5, '/nonexistent', os.tmpdir()],
    noDebug: ['no', true],
    __restart: [{ x: 1 }],
  };
  for (let n = clean ? 0 : int(rnd, 1, 3); n > 0; n--) {
    const key = pick(rnd, Object.keys(bad));
    args[key] = rnd() < 0.8 ? pick(rnd, bad[key]) : pick(rnd, BAD_VALUES);
  }
  return args;
}

/** What the session has shown so far, to make plausible arguments from. */
interface Seen {
  refs: number[];
  names: string[];
  frames: number[];
  sourceRefs: number[];
  dataIds: string[];
  addresses: string[];
}

const EXPRESSIONS = ['eax', 'ds.base', 'cs.selector', '[ds:esi]', 'dword [0x7c00]', 'byte [0x1234:0x10]', 'gdt[1]', 'gdt[100000]', 'idt[13].offset',
  'info gdt', 'info idt', 'info tss', 'info caches', 'x/16xb 0x7c00', 'x/4dw eip', 'help', 'eax = 5', '1/0', '1 % 0', '((((', 'zf', 'cr0', 'cpl',
  'mode', '$gdt[2]', '0x' + 'f'.repeat(40), 'a'.repeat(3000), 'eax == 3 && ds.base != 0', '~~~~1', 'nosuchname'];

/** One request: a command the adapter supports (or not), with arguments that are plausible, bad or both. */
function request(rnd: Rnd, seen: Seen, f: Files): [string, unknown] {
  const ref = () => (seen.refs.length && rnd() < 0.8 ? pick(rnd, seen.refs) : int(rnd, 0, 40));
  const address = () => (seen.addresses.length && rnd() < 0.5 ? pick(rnd, seen.addresses) : pick(rnd, ['0x7c00', '0x0', '0xffffffff', '0x100000', '0xb8000', '0xfffffff0', '31744']));
  const cond = () => pick(rnd, [undefined, 'eax == 1', '1', '0', '((', 'ds.base == 0', 'nosuch', '']);
  const hit = () => pick(rnd, [undefined, '2', '>= 1', '% 0', '% 3', 'lots', '']);
  const commands: Record<string, () => Record<string, unknown>> = {
    threads: () => ({}),
    stackTrace: () => ({ threadId: 1, startFrame: int(rnd, 0, 3), levels: int(rnd, 0, 20) }),
    scopes: () => ({ frameId: seen.frames.length ? pick(rnd, seen.frames) : int(rnd, 0, 5) }),
    variables: () => ({ variablesReference: ref(), start: int(rnd, 0, 10), count: int(rnd, 0, 50), filter: pick(rnd, [undefined, 'indexed', 'named']) }),
    setVariable: () => ({ variablesReference: ref(), name: seen.names.length ? pick(rnd, seen.names) : 'eax', value: pick(rnd, ['0x10', '5', 'abc', '1', '0', '0xffffffffff', '-1', '']) }),
    evaluate: () => ({ expression: pick(rnd, EXPRESSIONS), context: pick(rnd, ['repl', 'watch', 'hover', 'clipboard', undefined, 'bogus']), frameId: 1 }),
    source: () => ({ sourceReference: seen.sourceRefs.length ? pick(rnd, seen.sourceRefs) : int(rnd, 0, 5), source: rnd() < 0.3 ? { path: pick(rnd, [...f.programs, '/etc/passwd']) } : undefined }),
    continue: () => ({ threadId: 1 }),
    pause: () => ({ threadId: 1 }),
    next: () => ({ threadId: 1, granularity: pick(rnd, [undefined, 'instruction', 'line', 'statement', 'bogus']) }),
    stepIn: () => ({ threadId: 1, granularity: pick(rnd, [undefined, 'instruction']) }),
    stepOut: () => ({ threadId: 1 }),
    setBreakpoints: () => ({
      source: { path: pick(rnd, [path.join(f.dir, 'x.asm'), path.join(path.dirname(f.elf), 'frames.asm'), 'frames.asm']) },
      breakpoints: Array.from({ length: int(rnd, 0, 6) }, () => ({ line: int(rnd, -2, 80), condition: cond(), hitCondition: hit(), logMessage: pick(rnd, [undefined, 'at {eip}', '{', '{{}}', '{eax']) })),
    }),
    setInstructionBreakpoints: () => ({ breakpoints: Array.from({ length: int(rnd, 0, 6) }, () => ({ instructionReference: address(), offset: int(rnd, -4, 4), condition: cond(), hitCondition: hit() })) }),
    setFunctionBreakpoints: () => ({ breakpoints: Array.from({ length: int(rnd, 0, 3) }, () => ({ name: pick(rnd, ['main', 'start', 'nosuch', '', 'f1']), condition: cond() })) }),
    setExceptionBreakpoints: () => ({
      filters: Array.from({ length: int(rnd, 0, 3) }, () => pick(rnd, ['segment-load', 'cpu-exception', 'triple-fault', 'nosuch', 'descriptor-write'])),
      filterOptions: Array.from({ length: int(rnd, 0, 2) }, () => ({ filterId: pick(rnd, ['segment-load', 'cpu-exception', 'bogus']), condition: pick(rnd, ['reg == DS', 'vector == 13', '((', 'cause == "pop"']) })),
    }),
    exceptionInfo: () => ({ threadId: 1 }),
    dataBreakpointInfo: () => ({ variablesReference: rnd() < 0.5 ? ref() : undefined, name: pick(rnd, ['ds', 'eax', 'gdt[1]', '0x7c00', 'EFLAGS', ...seen.names.slice(0, 20)]), asAddress: rnd() < 0.3, bytes: int(rnd, -1, 70000) }),
    setDataBreakpoints: () => ({ breakpoints: Array.from({ length: int(rnd, 0, 3) }, () => ({ dataId: seen.dataIds.length && rnd() < 0.7 ? pick(rnd, seen.dataIds) : pick(rnd, ['seg:3', 'mem:1:0', 'reg:eax', 'bogus', 'mem:-1:5']), accessType: pick(rnd, ['read', 'write', 'readWrite', 'bogus', undefined]), condition: cond() })) }),
    readMemory: () => ({ memoryReference: address(), offset: int(rnd, -16, 16), count: pick(rnd, [0, 1, 16, 4096, 1 << 20, (1 << 20) + 1]) }),
    writeMemory: () => ({ memoryReference: address(), offset: int(rnd, -4, 4), data: pick(rnd, ['kJA=', '', '!!notbase64', 'AAAA'.repeat(100)]), allowPartial: rnd() < 0.5 }),
    disassemble: () => ({ memoryReference: address(), offset: int(rnd, -8, 8), instructionOffset: int(rnd, -200, 200), instructionCount: pick(rnd, [0, 1, 20, 500, 10000, 10001]), resolveSymbols: true }),
    loadedSources: () => ({}),
    modules: () => ({ startModule: int(rnd, -1, 2), moduleCount: int(rnd, 0, 3) }),
    'ringside/segmentMap': () => ({}),
    'ringside/serialInput': () => ({ data: pick(rnd, ['k', 'hello\r', '\u20ac', 'x'.repeat(70000), '']) }),
    restart: () => ({ arguments: rnd() < 0.5 ? launchArgs(rnd, f) : undefined }),
    terminate: () => ({}),
    launch: () => launchArgs(rnd, f) as Record<string, unknown>, // sometimes not an object at all
    attach: () => ({}),
    initialize: () => ({ adapterID: 'ringside' }),
    configurationDone: () => ({}),
    completions: () => ({ text: 'ea', column: 3 }),
  };
  const r = rnd();
  if (r < 0.02) return [pick(rnd, ['', 'no such command', 'constructor', '__proto__', 'toString']), {}];
  const command = pick(rnd, Object.keys(commands));
  if (r < 0.06) return [command, pick(rnd, BAD_VALUES)];
  const args = commands[command]();
  // Now and then a field gets a value of the wrong kind, or an unknown one is added (a launch may not be an object).
  if (args !== null && typeof args === 'object' && !Array.isArray(args) && rnd() < 0.3) {
    const keys = Object.keys(args);
    const key = keys.length && rnd() < 0.8 ? pick(rnd, keys) : 'unexpected';
    args[key] = pick(rnd, BAD_VALUES);
  }
  return [command, args];
}

/** A malformed frame, sometimes carrying a request (its seq is then noted: it may be answered or not). */
function malformedFrame(rnd: Rnd, seq: number): Buffer {
  const body = JSON.stringify({ type: 'request', seq, command: 'threads' });
  const n = Buffer.byteLength(body);
  const kinds = [
    `Content-Length: ${int(rnd, 1, n - 1)}\r\n\r\n${body}`,
    `Content-Length: ${n + int(rnd, 1, 40)}\r\n\r\n${body}`,
    `Content-Length: -${n}\r\n\r\n${body}`,
    `Content-Length: ${pick(rnd, ['abc', '', '1e3', '0x20', ' ', '99999999999999999999'])}\r\n\r\n${body}`,
    `Content-Type: json\r\n\r\n${body}`,
    `content-length: ${n}\n\n${body}`,
    `garbage${'\u0000'.repeat(int(rnd, 0, 5))}\r\n`,
    `Content-Length: 2\r\n\r\n[]`,
    `Content-Length: 4\r\n\r\nnull`,
    `Content-Length: 9\r\n\r\nnot json!`,
    `Content-Length: ${n}\r\n\r\n${body.replace('"request"', '"event"')}`,
    `Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}`,
  ];
  if (rnd() < 0.1) return Buffer.from(Array.from({ length: int(rnd, 1, 300) }, () => int(rnd, 0, 255)));
  return Buffer.from(pick(rnd, kinds), 'latin1');
}

function collect(m: Message, seen: Seen): void {
  const walk = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v.slice(0, 200)) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.variablesReference === 'number' && o.variablesReference > 0) seen.refs.push(o.variablesReference);
    if (typeof o.name === 'string' && typeof o.value === 'string') seen.names.push(o.name);
    if (typeof o.id === 'number' && typeof o.instructionPointerReference === 'string') seen.frames.push(o.id);
    if (typeof o.sourceReference === 'number' && o.sourceReference > 0) seen.sourceRefs.push(o.sourceReference);
    if (typeof o.dataId === 'string') seen.dataIds.push(o.dataId);
    for (const k of ['memoryReference', 'instructionPointerReference']) if (typeof o[k] === 'string') seen.addresses.push(o[k] as string);
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(m.body, 0);
  for (const list of Object.values(seen)) if (list.length > 500) list.splice(0, list.length - 500);
}

const BUG_LINE = /uncaught|unhandled| failed: |could not answer/;

export async function fuzzDap(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now();
  const rnd = mulberry32(opts.seed);
  const f = makeFiles(opts.root);
  const report: FuzzReport = { runs: 0, requests: 0, answered: 0, refused: 0, launchesStarted: 0, malformedFrames: 0, crashes: [], hangs: [], bugs: [], seconds: 0 };
  const log = opts.log ?? (() => undefined);
  try {
    for (let run = 0; run < opts.runs && Date.now() - t0 < opts.seconds * 1000; run++) {
      report.runs++;
      const c = new Client(opts.root);
      const seen: Seen = { refs: [], names: [], frames: [], sourceRefs: [], dataIds: [], addresses: [] };
      const where = (what: string) => `run ${run} (seed ${opts.seed}): ${what}`;
      /** Sends one request and checks its answer; false when the session is over (crash or hang). */
      const ask = async (command: unknown, args: unknown): Promise<Message | null> => {
        report.requests++;
        const seq = c.send(command, args);
        const m = await c.answer(seq, opts.answerMs);
        const shown = `${JSON.stringify(command)} ${JSON.stringify(args)?.slice(0, 300)}`;
        if (!m) {
          if (c.exit !== null) report.crashes.push(where(`adapter exited (${c.exit}) after ${shown}: ${c.stderr.slice(-500)}`));
          else report.hangs.push(where(`no answer within ${opts.answerMs} ms to ${shown}`));
          return null;
        }
        report.answered++;
        if (m.success === false) {
          report.refused++;
          if (typeof m.message !== 'string' || m.message.trim() === '') report.bugs.push(where(`refused without a message: ${shown}`));
        } else collect(m, seen);
        return m;
      };
      let alive = (await ask('initialize', { adapterID: 'ringside', pathFormat: 'path', linesStartAt1: rnd() < 0.8, supportsVariableType: true })) !== null;
      if (alive) {
        const launchSeq = c.send('launch', launchArgs(rnd, f, true));
        report.requests++;
        const launchAnswered = (m: Message): void => {
          report.answered++;
          if (m.success) report.launchesStarted++;
          else report.refused++;
        };
        // A launch that passes its checks sends `initialized` and waits for configurationDone; one that fails
        // is answered at once.
        let answered = false;
        const deadline = Date.now() + opts.answerMs;
        while (!answered && Date.now() < deadline && c.exit === null && !c.events.some((e) => e.event === 'initialized')) {
          const early = await c.answer(launchSeq, 25);
          if (early) {
            launchAnswered(early);
            answered = true;
          }
        }
        if (!answered) {
          if (c.events.some((e) => e.event === 'initialized')) alive = (await ask('configurationDone', {})) !== null;
          const launched = alive ? await c.answer(launchSeq, opts.answerMs) : null;
          if (launched) launchAnswered(launched);
          else {
            if (c.exit !== null) report.crashes.push(where(`adapter exited (${c.exit}) during launch: ${c.stderr.slice(-500)}`));
            else report.hangs.push(where('no answer to launch'));
            alive = false;
          }
        }
      }
      for (let step = 0; alive && step < opts.steps; step++) {
        if (rnd() < 0.08) {
          report.malformedFrames++;
          // The seq the frame carries is left unused by the requests, so a late answer to it is not mistaken.
          c.write(malformedFrame(rnd, c.seq++));
          if (rnd() < 0.3) await new Promise((r) => setTimeout(r, 5));
        }
        const [command, args] = request(rnd, seen, f);
        alive = (await ask(command, args)) !== null;
        if (rnd() < 0.15) await new Promise((r) => setTimeout(r, int(rnd, 1, 30)));
      }
      if (alive) {
        const bye = await ask('disconnect', {});
        if (bye && !(await c.exited(opts.answerMs))) report.hangs.push(where('the adapter answered disconnect but did not exit'));
      }
      if (c.exit === null) c.proc.kill();
      for (const line of c.stderr.split('\n').filter((l) => BUG_LINE.test(l)).slice(0, 3)) report.bugs.push(where(line.slice(0, 400)));
      log(`run ${run}: ${report.requests} requests so far, ${report.crashes.length} crashes, ${report.hangs.length} hangs, ${report.bugs.length} bugs`);
    }
  } finally {
    fs.rmSync(f.dir, { recursive: true, force: true });
  }
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}
