// The Debug Adapter Protocol side: it only translates (the mock-debug split). Requests become calls on the
// Runtime (runtime.ts) and the variable containers (scopes/); runtime events become DAP events, sent after the
// response that caused them. Every request gets a response: a body, or an error naming the problem. Requests are
// checked for shape before dispatch, and no handler's exception escapes to the process.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DebugSession,
  ExitedEvent,
  InitializedEvent,
  InvalidatedEvent,
  MemoryEvent,
  OutputEvent,
  Response,
  Scope,
  Source,
  StoppedEvent,
  TerminatedEvent,
  Thread,
  Event,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { CS } from '../engine/cpu/cpu';
import { writeLinearBytes } from '../engine/cpu/debug-edit';
import type { EventMap, EventName } from '../engine/events';
import { formatEvent } from '../engine/trace';
import type { LineRow, LoadedImage } from '../engine/machine/loaders';
import {
  LOG_EVENT,
  SEGMENT_MAP_REQUEST,
  SCREEN_REQUEST,
  KEYS_REQUEST,
  SERIAL_EVENT,
  SERIAL_INPUT_REQUEST,
  GOTO_REQUEST,
  MOMENT_EVENT,
  type MomentEventBody,
  TRACE_EVENT,
  type SegmentMapResponseBody,
  type TraceEventBody,
} from './protocol-types';
import { readLaunchSettings, type LaunchSettings } from './launch-config';
import { AdapterLog } from './adapter-log';
import { LaunchAttributeError, Runtime, SERIAL_INPUT_CAP, type RuntimeEnd, type RuntimeStop } from './runtime';
import { FILTERS } from './exception-filters';
import { sameFile } from './breakpoints';
import { explainException } from './explain';
import { unwindStack } from './stack';
import { makeListing, symbolAt } from './listing';
import { linesFromListingBeside } from './listing-source-lines';
import type { TimelineOverflow } from './timeline-feed';
import { firstRowAtOrAbove, lineAt, sourceFiles } from './source-lines';
import { readLinearBytes } from './code-reader';
import { disassembleAround } from './disassembly';
import { isConsoleCommand, runConsoleLine } from './console-commands';
import { evaluateExpression, formatValue, isComposite, toNumber } from './expression/evaluate';
import { dataIdOf, parseDataId } from './data-ids';
import { VariableStore, type Container } from './scopes/variable-store';
import { RegistersScope } from './scopes/registers';
import { SegmentsScope } from './scopes/segments';
import { DescriptorTablesScope } from './scopes/descriptor-tables';
import { ControlScope } from './scopes/control';
import { FpuScope } from './scopes/fpu';
import { MonitorScope } from './scopes/monitor';
import { DevicesScope } from './scopes/devices';
import { CompositeContainer } from './scopes/composite';
import { SEGMENT_REGISTERS } from './expression/cpu-values';
import { buildSegmentMap } from './segment-map';
import { isCValue } from './c/value';
import { cEvaluateBody } from './c/scopes';
import { requestIn, type FrameProblem } from './dap-framer';

const THREAD_ID = 1;
const MAX_READ = 1 << 20;
/**
 * Instructions one `disassemble` request may ask for; more are refused with a message to ask in parts (the
 * Disassembly view asks for a few dozen at a time). Keeps the answer well under a second.
 */
export const MAX_DISASSEMBLE = 10000;
/**
 * Breakpoints one request may set (per source file, instruction, function or data breakpoints); the rest of a
 * longer list are answered as not set, each saying why. Keeps the answer well under a second.
 */
export const MAX_BREAKPOINTS = 10000;

/** The breakpoints of a request that are set: the first MAX_BREAKPOINTS. */
function withinCap<T>(list: T[]): T[] {
  return list.length > MAX_BREAKPOINTS ? list.slice(0, MAX_BREAKPOINTS) : list;
}

/** The answers for a request's list: those of the breakpoints set, then one "not set" per breakpoint past the cap. */
function answerAll<T>(list: unknown[], answered: T[]): (T | DebugProtocol.Breakpoint)[] {
  if (list.length <= MAX_BREAKPOINTS) return answered;
  const notSet = { verified: false, message: `not set: at most ${MAX_BREAKPOINTS} breakpoints per request` };
  return [...answered, ...Array.from({ length: list.length - MAX_BREAKPOINTS }, () => ({ ...notSet }))];
}

/** An error answered to the client (as opposed to a bug, which is answered too but logged as one). */
export class RequestError extends Error {}

/** Errors that mean a bug in the adapter or engine (logged with their stack), as opposed to bad input. */
function isBug(e: unknown): boolean {
  if (!(e instanceof Error)) return true;
  if (e instanceof TypeError || e instanceof ReferenceError) return true;
  return e instanceof RangeError && /call stack/i.test(e.message);
}

type Handler = (args: Record<string, unknown>) => unknown | Promise<unknown>;

const hexAddr = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

function parseAddressReference(ref: unknown, what: string): number {
  if (typeof ref !== 'string' && typeof ref !== 'number') throw new RequestError(`${what} must be an address such as "0x7c00"`);
  const t = String(ref).trim().toLowerCase();
  const v = /^0x[0-9a-f]{1,8}$/.test(t) ? parseInt(t.slice(2), 16) : /^[0-9]{1,10}$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RequestError(`${what} "${String(ref)}" is not a 32-bit address`);
  return v;
}

function optionalInt(v: unknown, what: string, def: number, min = -0x7fffffff, max = 0x7fffffff): number {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RequestError(`${what} must be a whole number from ${min} to ${max}`);
  return v;
}

function asArray(v: unknown, what: string): Record<string, unknown>[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => x === null || typeof x !== 'object')) throw new RequestError(`${what} must be a list of objects`);
  return v as Record<string, unknown>[];
}

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new RequestError(`${what} must be a string`);
  return v;
}

export class RingsideSession extends DebugSession {
  private runtime: Runtime | null = null;
  private settings: LaunchSettings | null = null;
  private rawLaunchArgs: Record<string, unknown> | null = null;
  private readonly store = new VariableStore();
  private configurationDone = false;
  private configurationWaiters: (() => void)[] = [];
  private launched = false;
  private readonly listings = new Map<number, { name: string; text: string }>();
  private nextListing = 1;
  /** The last breakpoint requests, replayed on restart. */
  private readonly sourceBreakpoints = new Map<string, Record<string, unknown>[]>();
  private instructionBreakpoints: Record<string, unknown>[] = [];
  private functionBreakpoints: Record<string, unknown>[] = [];
  private exceptionFilterArgs: Record<string, unknown> | null = null;
  private dataBreakpointArgs: Record<string, unknown>[] = [];
  private readonly handlers: Record<string, Handler>;
  private readonly log = new AdapterLog((body) => this.sendEvent(new Event(LOG_EVENT, body)));

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    // The base class shuts the process down on a protocol 'error' (such as a message that is not JSON); a bad
    // message must not end the session, so it is logged instead.
    this.removeAllListeners('error');
    this.on('error', (e: { body?: unknown }) => this.log.error(`protocol: ${String(e?.body ?? e)}`));
    this.handlers = {
      initialize: (a) => this.initialize(a),
      launch: (a) => this.launch(a),
      attach: () => {
        throw new RequestError('Ringside cannot attach: it starts its own guest (use "request": "launch")');
      },
      configurationDone: () => this.onConfigurationDone(),
      threads: () => ({ threads: [new Thread(THREAD_ID, 'CPU')] }),
      continue: (a) => this.runCommand(a, (r) => r.continue(), { allThreadsContinued: true }),
      pause: (a) => this.pause(a),
      next: (a) => this.runCommand(a, (r) => r.stepOver(this.granularity(a))),
      stepIn: (a) => this.runCommand(a, (r) => r.stepIn(this.granularity(a))),
      stepOut: (a) => this.runCommand(a, (r) => r.stepOut()),
      stepBack: (a) => this.reverseCommand(a, (r) => r.stepBack(this.granularity(a))),
      reverseContinue: (a) => this.reverseCommand(a, (r) => r.reverseContinue()),
      [GOTO_REQUEST]: (a) => {
        if (a.event !== undefined) return this.reverseCommand(a, (r) => r.gotoEvent(optionalInt(a.event, 'event', 1, 1, Number.MAX_SAFE_INTEGER)));
        if (a.instructions === undefined) throw new RequestError('instructions is required: the moment to go to, in instructions since launch (or "event": a timeline event\'s ordinal)');
        return this.reverseCommand(a, (r) => r.goto(optionalInt(a.instructions, 'instructions', 0, 0, Number.MAX_SAFE_INTEGER)));
      },
      restart: (a) => this.restart(a),
      terminate: () => this.terminate(),
      disconnect: () => this.disconnect(),
      stackTrace: (a) => this.stackTrace(a),
      scopes: (a) => this.scopes(a),
      variables: (a) => this.variables(a),
      setVariable: (a) => this.setVariable(a),
      source: (a) => this.source(a),
      evaluate: (a) => this.evaluate(a),
      setBreakpoints: (a) => this.setBreakpoints(a),
      setInstructionBreakpoints: (a) => this.setInstructionBreakpoints(a),
      setFunctionBreakpoints: (a) => this.setFunctionBreakpoints(a),
      setExceptionBreakpoints: (a) => this.setExceptionBreakpoints(a),
      exceptionInfo: (a) => this.exceptionInfo(a),
      dataBreakpointInfo: (a) => this.dataBreakpointInfo(a),
      setDataBreakpoints: (a) => this.setDataBreakpoints(a),
      readMemory: (a) => this.readMemory(a),
      writeMemory: (a) => this.writeMemory(a),
      disassemble: (a) => this.disassemble(a),
      loadedSources: () => this.loadedSources(),
      modules: (a) => this.modules(a),
      [SEGMENT_MAP_REQUEST]: () => this.segmentMap(),
      [SERIAL_INPUT_REQUEST]: (a) => this.serialInput(a),
      [SCREEN_REQUEST]: () => this.requireRuntime().screen(),
      [KEYS_REQUEST]: (a) => this.keys(a),
    };
  }

  // ---------------------------------------------------------------- dispatch

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    const response = new Response(request);
    const fail = (message: string, id = 1001): void => this.sendErrorResponse(response, { id, format: message, showUser: true });
    if (typeof request.command !== 'string' || request.command.length === 0) return fail('the request has no "command"');
    const handler = Object.prototype.hasOwnProperty.call(this.handlers, request.command) ? this.handlers[request.command] : undefined;
    if (!handler) return fail(`unknown request "${request.command}"`, 1014);
    this.log.debug(`request ${request.command}`);
    const args = request.arguments ?? {};
    if (typeof args !== 'object' || Array.isArray(args)) return fail(`the arguments of "${request.command}" must be an object`);
    Promise.resolve()
      .then(() => handler(args as Record<string, unknown>))
      .then(
        (body) => {
          if (body !== undefined) (response as DebugProtocol.Response).body = body;
          this.sendResponse(response);
        },
        (e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          if (isBug(e)) this.log.error(`${request.command} failed: ${(e as Error)?.stack ?? message}`);
          else this.log.debug(`${request.command} refused: ${message}`);
          fail(`${request.command}: ${message}`);
        },
      )
      .catch((e) => process.stderr.write(`ringside dap: could not answer ${request.command}: ${String(e)}\n`));
  }

  /**
   * Input the framer (dap-framer.ts) had to drop: the client hears of it through an `output` event, and a request it
   * can recognise in the dropped bytes is answered with an error, so the client does not wait for it.
   */
  reportDroppedInput(p: FrameProblem): void {
    const bytes = Buffer.byteLength(p.dropped);
    const preview = JSON.stringify(p.dropped.length > 80 ? p.dropped.slice(0, 80) + '…' : p.dropped);
    const text = `Ringside: dropped ${bytes} byte${bytes === 1 ? '' : 's'} of malformed DAP input (${p.reason}): ${preview}`;
    this.log.warn(text);
    this.sendEvent(new OutputEvent(text + '\n', 'stderr'));
    const request = requestIn(p.dropped);
    if (request) {
      const response = new Response({ seq: request.seq, command: request.command, type: 'request' });
      this.sendErrorResponse(response, { id: 1002, format: `the request's frame was malformed (${p.reason}); it was not run`, showUser: true });
    }
  }

  private requireRuntime(): Runtime {
    if (!this.runtime) throw new RequestError('no guest is loaded yet (send "launch" first)');
    return this.runtime;
  }

  /** The runtime of a guest that is stopped (views and edits need a still CPU). */
  private requireStopped(): Runtime {
    const r = this.requireRuntime();
    if (r.hasEnded) throw new RequestError('the guest has ended');
    if (r.running) throw new RequestError('the guest is running; pause it first');
    return r;
  }

  private checkThread(a: Record<string, unknown>): void {
    if (a.threadId !== undefined && a.threadId !== THREAD_ID) throw new RequestError(`there is one thread, id ${THREAD_ID} ("CPU")`);
  }

  // ---------------------------------------------------------------- lifecycle

  private initialize(a: Record<string, unknown>): DebugProtocol.Capabilities {
    // The base class keeps the client's numbering in private fields that its own initialize path sets.
    const self = this as unknown as { _clientLinesStartAt1: boolean; _clientColumnsStartAt1: boolean };
    if (typeof a.linesStartAt1 === 'boolean') self._clientLinesStartAt1 = a.linesStartAt1;
    if (typeof a.columnsStartAt1 === 'boolean') self._clientColumnsStartAt1 = a.columnsStartAt1;
    this.store.variableTypes = a.supportsVariableType === true;
    return {
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsFunctionBreakpoints: true,
      supportsInstructionBreakpoints: true,
      exceptionBreakpointFilters: FILTERS.map((f) => ({
        filter: f.filter,
        label: f.label,
        description: f.description,
        default: false,
        supportsCondition: true,
        conditionDescription: f.conditionDescription,
      })),
      supportsExceptionFilterOptions: true,
      supportsExceptionInfoRequest: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsSteppingGranularity: true,
      supportsStepBack: true,
      supportsTerminateRequest: true,
      supportsRestartRequest: true,
      supportsLoadedSourcesRequest: true,
      supportsModulesRequest: true,
      supportsClipboardContext: true,
      supportsValueFormattingOptions: false,
    };
  }

  private async launch(a: Record<string, unknown>): Promise<void> {
    if (this.launched) throw new RequestError('this session has already launched a guest (use restart)');
    const settings = readLaunchSettings(a);
    this.createRuntime(settings);
    this.rawLaunchArgs = a;
    this.launched = true;
    // Breakpoints and filters come now, against the loaded image; the guest starts after configurationDone.
    this.sendEvent(new InitializedEvent());
    await this.waitForConfiguration(5000);
    setImmediate(() => this.runtime?.start());
  }

  private readFile(file: string, attribute: string): Uint8Array {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RequestError(`"${attribute}": cannot read ${file}${code === 'ENOENT' ? ' (no such file)' : code ? ` (${code})` : ''}`);
    }
  }

  private createRuntime(settings: LaunchSettings): void {
    const program = this.readFile(settings.program, 'program');
    // A symbols file that cannot be read costs the source and C views, not the session.
    let symbols: Uint8Array | undefined;
    try {
      symbols = settings.symbols ? this.readFile(settings.symbols, 'symbols') : undefined;
    } catch (e) {
      this.sendEvent(new OutputEvent(`Ringside: ${(e as Error).message}; debugging without it.\n`, 'console'));
    }
    let runtime: Runtime;
    try {
      const inputs = {
        initrd: settings.initrd ? this.readFile(settings.initrd, 'initrd') : undefined,
        serialIn: settings.serialIn ? this.readFile(settings.serialIn, 'serialIn') : undefined,
        disks: settings.disks.map((d) => this.readFile(d, 'disks')),
      };
      runtime = new Runtime(settings, program, symbols, (image) => this.listingLines(settings.program, program, image), inputs);
    } catch (e) {
      if (!(e instanceof LaunchAttributeError)) throw e;
      const value = settings[e.attribute];
      throw new RequestError(`"${e.attribute}" ${typeof value === 'number' && e.attribute !== 'memoryMB' ? hexAddr(value) : String(value)}: ${e.message}`);
    }
    this.runtime?.dispose();
    this.runtime = runtime;
    this.settings = settings;
    this.log.info(
      `launched ${settings.program} as ${runtime.image.format} (${runtime.image.segments.map((g) => `${g.name} at 0x${g.addr.toString(16)}`).join(', ')}), ` +
        `${runtime.symbols.length} symbols, ${runtime.lines.length} line rows, monitor ${runtime.monitor ? 'on' : 'off'}`,
    );
    runtime.on('stopped', (s: RuntimeStop) => this.onStopped(s));
    runtime.on('ended', (e: RuntimeEnd) => this.onEnded(e));
    runtime.on('output', (text: string, category: string) => this.sendEvent(new OutputEvent(text, category)));
    runtime.on('serial', (text: string) => this.sendEvent(new Event(SERIAL_EVENT, { data: text })));
    runtime.on('trace', (name: EventName, e: EventMap[EventName]) => this.onTrace(name, e));
    runtime.on('timeline', (name: EventName, e: EventMap[EventName], ordinal: number) => this.onTimeline(name, e, undefined, { ordinal }));
    runtime.on('timeline-overflow', (o: TimelineOverflow) => this.onTimelineOverflow(o));
    this.sendEvent(new OutputEvent(`Ringside monitor: ${runtime.monitorNote}.\n`, 'console'));
    for (const w of runtime.debugWarnings) this.sendEvent(new OutputEvent(`Ringside: ${w}\n`, 'console'));
  }

  /** Source lines of a flat binary from its nasm listing; a listing that does not match the image is named and left out. */
  private listingLines(programPath: string, program: Uint8Array, image: LoadedImage): LineRow[] {
    if (image.format !== 'bin' || image.segments.length !== 1) return [];
    const found = linesFromListingBeside(programPath, program, image.segments[0].addr);
    if (found.lines.length === 0 && found.note) this.sendEvent(new OutputEvent(`Ringside: ${found.note}.\n`, 'console'));
    else if (found.note) this.log.info(found.note);
    return found.lines;
  }

  private waitForConfiguration(ms: number): Promise<void> {
    if (this.configurationDone) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.configurationWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onConfigurationDone(): void {
    this.configurationDone = true;
    for (const w of this.configurationWaiters.splice(0)) w();
  }

  private async restart(a: Record<string, unknown>): Promise<void> {
    if (!this.launched || !this.rawLaunchArgs) throw new RequestError('nothing to restart: no guest was launched');
    const args = a.arguments !== undefined && a.arguments !== null && typeof a.arguments === 'object' ? (a.arguments as Record<string, unknown>) : this.rawLaunchArgs;
    const settings = readLaunchSettings(args);
    this.createRuntime(settings);
    this.rawLaunchArgs = args;
    this.replayBreakpoints();
    setImmediate(() => this.runtime?.start());
  }

  private replayBreakpoints(): void {
    for (const [file, list] of this.sourceBreakpoints) this.setBreakpoints({ source: { path: file }, breakpoints: list });
    this.setInstructionBreakpoints({ breakpoints: this.instructionBreakpoints });
    this.setFunctionBreakpoints({ breakpoints: this.functionBreakpoints });
    if (this.exceptionFilterArgs) this.setExceptionBreakpoints(this.exceptionFilterArgs);
    if (this.dataBreakpointArgs.length) this.setDataBreakpoints({ breakpoints: this.dataBreakpointArgs });
  }

  private terminate(): void {
    const r = this.requireRuntime();
    if (r.hasEnded) {
      this.sendEvent(new TerminatedEvent());
      return;
    }
    setImmediate(() => r.terminate());
  }

  private disconnect(): void {
    this.runtime?.dispose();
    this.runtime = null;
    setImmediate(() => this.shutdown());
  }

  // ---------------------------------------------------------------- run control

  private granularity(a: Record<string, unknown>): 'instruction' | 'line' {
    const g = a.granularity;
    if (g !== undefined && g !== 'instruction' && g !== 'line' && g !== 'statement') throw new RequestError('granularity must be "instruction", "line" or "statement"');
    if (g === 'instruction') return 'instruction';
    return this.runtime && this.runtime.lines.length > 0 ? 'line' : 'instruction';
  }

  private runCommand(a: Record<string, unknown>, go: (r: Runtime) => void, body?: unknown): unknown {
    this.checkThread(a);
    const r = this.requireStopped();
    this.granularity(a);
    this.store.reset();
    // Start after the response has gone out, so the stop it causes follows it.
    setImmediate(() => {
      try {
        go(r);
      } catch (e) {
        this.sendEvent(new OutputEvent(`${(e as Error).message}\n`, 'stderr'));
      }
    });
    return body;
  }

  /**
   * stepBack, reverseContinue and ringside/goto: checked before the response (a travel that cannot be made is an
   * error response, not a stop), made after it, so the stop follows the response as for forward commands.
   */
  private reverseCommand(a: Record<string, unknown>, go: (r: Runtime) => RuntimeStop): void {
    this.checkThread(a);
    const r = this.requireStopped();
    this.granularity(a);
    if (!r.history) throw new RequestError('reverse execution is off (launch attribute "reverse": { "enabled": false })');
    let stop: RuntimeStop;
    try {
      stop = go(r);
    } catch (e) {
      throw new RequestError((e as Error).message);
    }
    this.store.reset();
    setImmediate(() => r.announce(stop));
  }

  private pause(a: Record<string, unknown>): void {
    this.checkThread(a);
    const r = this.requireRuntime();
    if (r.hasEnded) throw new RequestError('the guest has ended');
    if (!r.running) throw new RequestError('the guest is already stopped');
    r.pause();
  }

  private onStopped(s: RuntimeStop): void {
    this.store.reset();
    this.log.info(`stopped: ${s.reason}${s.text ? ` (${s.text})` : ''} after ${this.runtime?.instructions ?? 0} instructions`);
    const e = new StoppedEvent(s.reason, THREAD_ID, s.text) as DebugProtocol.StoppedEvent;
    e.body.description = s.description ?? s.reason;
    e.body.allThreadsStopped = true;
    if (s.hitBreakpointIds?.length) e.body.hitBreakpointIds = s.hitBreakpointIds;
    // Where in guest time the guest stopped, so the Event Timeline can tell the events of the past from those a
    // travel back left in the future.
    if (this.runtime) this.sendEvent(new Event(MOMENT_EVENT, { instructions: this.runtime.instructions, eventOrdinal: this.runtime.eventOrdinal } satisfies MomentEventBody));
    this.sendEvent(e);
  }

  private onEnded(end: RuntimeEnd): void {
    this.store.reset();
    this.log.info(`ended: ${end.reason}, exit code ${end.exitCode}: ${end.message}`);
    this.sendEvent(new OutputEvent(`Ringside: ${end.message} (after ${this.runtime?.instructions ?? 0} instructions).\n`, end.reason === 'error' ? 'stderr' : 'console'));
    // Input the guest never took is not an error (a guest may ignore its keyboard), but the user should know.
    const waiting = this.runtime?.machine.inputWaiting();
    if (waiting && waiting.keys > 0) this.sendEvent(new OutputEvent(`Ringside: the guest never read ${waiting.keys} typed keys ("keys" or the Screen view).\n`, 'console'));
    if (waiting && waiting.serialBytes > 0) this.sendEvent(new OutputEvent(`Ringside: the guest never read ${waiting.serialBytes} bytes sent to COM1 ("serialIn" or the terminal).\n`, 'console'));
    this.sendEvent(new ExitedEvent(end.exitCode));
    this.sendEvent(new TerminatedEvent());
  }

  /** A trace line in the Debug Console, for the kinds `trace` names. */
  private onTrace(name: EventName, e: EventMap[EventName]): void {
    this.sendEvent(new OutputEvent(formatEvent(name, e) + '\n', 'console'));
  }

  /** One event for the Event Timeline (`ringside/event`). */
  private onTimeline(name: EventName, e: EventMap[EventName], summary = formatEvent(name, e), extra: Record<string, unknown> = {}): void {
    const at = e as { cs?: number; eip?: number };
    const body: TraceEventBody = {
      kind: name,
      summary,
      cs: at.cs ?? this.runtime?.cpu.segSel[CS] ?? 0,
      eip: at.eip ?? 0,
      detail: { ...(e as unknown as Record<string, unknown>), ...extra },
    };
    this.sendEvent(new Event(TRACE_EVENT, body));
  }

  /** The events of one kind a window left out, as one timeline entry at the last of them. */
  private onTimelineOverflow(o: TimelineOverflow): void {
    const repeats = o.repeats > 0 ? `${o.repeats} of them repeating listed ones; ` : '';
    const summary = `… ${o.count} more ${o.kind} event${o.count === 1 ? '' : 's'} not listed (${repeats}the last: ${formatEvent(o.kind, o.last)})`;
    this.onTimeline(o.kind, o.last, summary, { notListed: o.count, repeats: o.repeats });
  }

  // ---------------------------------------------------------------- stack, scopes, variables

  private stackTrace(a: Record<string, unknown>): DebugProtocol.StackTraceResponse['body'] {
    this.checkThread(a);
    const r = this.requireStopped();
    const startFrame = optionalInt(a.startFrame, 'startFrame', 0, 0);
    const levels = optionalInt(a.levels, 'levels', 0, 0);
    const cpu = r.viewCpu();
    const frames = r.c ? r.c.frames(cpu, r.interruptFrames) : unwindStack(cpu, r.interruptFrames);
    const shown = frames.slice(startFrame, levels > 0 ? startFrame + levels : undefined);
    return {
      totalFrames: frames.length,
      stackFrames: shown.map((f, k) => {
        const sym = symbolAt(r.symbols, f.linear);
        const where = `${f.cs.toString(16).padStart(4, '0')}:${f.offset.toString(16).padStart(cpu.code32 ? 8 : 4, '0')}`;
        const name = f.kind === 'exception' ? `[${f.label}]` : f.name ?? (sym ? `${sym.name}+0x${(f.linear - sym.addr).toString(16)} (${where})` : where);
        const frame: DebugProtocol.StackFrame = { id: startFrame + k + 1, name, line: 0, column: 0, instructionPointerReference: hexAddr(f.linear) };
        const row = lineAt(r.lines, f.lineAddress ?? f.linear);
        if (row) {
          frame.source = new Source(path.basename(row.file), this.clientPath(row.file));
          frame.line = this.convertDebuggerLineToClient(f.callLine ?? row.line);
          frame.column = 1;
        } else {
          const listing = makeListing(cpu, f.linear, r.symbols, this.instructionStartsNear(r, f.linear));
          const ref = this.addListing(listing.name, listing.text);
          frame.source = new Source(listing.name, undefined, ref, 'disassembly', 'ringside-disassembly');
          frame.line = listing.line;
          frame.column = 1;
        }
        if (f.kind === 'exception') frame.presentationHint = 'label';
        return frame;
      }),
    };
  }

  /**
   * The path the client knows a DWARF file name by. Assemblers and compilers often record names relative to
   * where they ran: match them with a file the client set breakpoints in, else look beside the image and the
   * symbols file.
   */
  private clientPath(dwarfFile: string): string {
    if (path.isAbsolute(dwarfFile)) return dwarfFile;
    for (const known of this.sourceBreakpoints.keys()) if (sameFile(dwarfFile, known)) return known;
    const s = this.settings;
    for (const dir of [s && path.dirname(s.program), s?.symbols && path.dirname(s.symbols)]) {
      if (!dir) continue;
      const candidate = path.resolve(dir, dwarfFile);
      if (fs.existsSync(candidate)) return candidate;
    }
    return dwarfFile;
  }

  private addListing(name: string, text: string): number {
    for (const [id, l] of this.listings) if (l.name === name && l.text === text) return id;
    const id = this.nextListing++;
    this.listings.set(id, { name, text });
    if (this.listings.size > 256) this.listings.delete(this.listings.keys().next().value as number);
    return id;
  }

  private source(a: Record<string, unknown>): DebugProtocol.SourceResponse['body'] {
    const ref = optionalInt(a.sourceReference ?? (a.source as { sourceReference?: unknown } | undefined)?.sourceReference, 'sourceReference', 0, 0);
    const l = this.listings.get(ref);
    if (l) return { content: l.text, mimeType: 'text/x-asm' };
    // A DWARF source the client could not open itself; only files the image's line table names are served.
    const p = (a.source as { path?: unknown } | undefined)?.path;
    const r = this.runtime;
    if (typeof p === 'string' && r && sourceFiles(r.lines).some((f) => this.clientPath(f) === p)) return { content: fs.readFileSync(p, 'utf8') };
    throw new RequestError(`no source with reference ${ref}${typeof p === 'string' ? ` or path ${p} in the image's line table` : ''}`);
  }

  private scopes(a: Record<string, unknown>): DebugProtocol.ScopesResponse['body'] {
    const r = this.requireStopped();
    const frameId = optionalInt(a.frameId, 'frameId', 1, 1);
    const add = (name: string, c: Container, hint?: string): DebugProtocol.Scope => {
      const s: DebugProtocol.Scope = new Scope(name, this.store.add(c).id, false);
      if (hint) s.presentationHint = hint;
      return s;
    };
    const cpu = r.viewCpu();
    return {
      scopes: [
        // Locals, Arguments and Globals of the frame, from DWARF (c/c-debugger.ts), before Ringside's own.
        ...(r.c?.scopes(cpu, r.interruptFrames, frameId - 1).map((x) => add(x.name, x.container, x.hint)) ?? []),
        add('Registers', new RegistersScope(cpu), 'registers'),
        add('Segments', new SegmentsScope(cpu, r.monitor)),
        add('Descriptor Tables', new DescriptorTablesScope(cpu, r.monitor)),
        add('Control', new ControlScope(cpu, () => r.instructions, () => r.reverseReach)),
        add('FPU', new FpuScope(cpu, r.monitor !== null)),
        add('Devices', new DevicesScope(r.machine)),
        add('Monitor', new MonitorScope(cpu, r.monitor, r.monitorNote)),
      ],
    };
  }

  private variables(a: Record<string, unknown>): DebugProtocol.VariablesResponse['body'] {
    this.requireStopped();
    const ref = optionalInt(a.variablesReference, 'variablesReference', -1, 1);
    if (ref < 0) throw new RequestError('variablesReference is required');
    const c = this.store.get(ref);
    const start = optionalInt(a.start, 'start', 0, 0);
    const count = optionalInt(a.count, 'count', 0, 0);
    const rows = a.filter === 'named' ? [] : c.children(start, count > 0 ? count : undefined);
    return { variables: rows.map((row) => this.store.toDap(row)) };
  }

  private setVariable(a: Record<string, unknown>): DebugProtocol.SetVariableResponse['body'] {
    const r = this.requireStopped();
    const ref = optionalInt(a.variablesReference, 'variablesReference', -1, 1);
    const name = optionalString(a.name, 'name');
    const value = optionalString(a.value, 'value');
    if (ref < 0 || name === undefined || value === undefined) throw new RequestError('variablesReference, name and value are required');
    const container = this.store.get(ref);
    // Bare, on the CPU; under the monitor, on the guest's view through the monitor (Runtime.editGuest).
    r.editGuest(container.edit(name, value));
    const v = this.store.toDap(container.childNamed(name));
    setImmediate(() => this.sendEvent(new InvalidatedEvent(['variables'], THREAD_ID)));
    return { value: v.value, variablesReference: v.variablesReference, indexedVariables: v.indexedVariables, memoryReference: v.memoryReference };
  }

  // ---------------------------------------------------------------- evaluate

  private evaluate(a: Record<string, unknown>): DebugProtocol.EvaluateResponse['body'] {
    const expression = optionalString(a.expression, 'expression');
    if (expression === undefined) throw new RequestError('expression is required');
    const context = a.context;
    const r = this.requireRuntime();
    if (expression.trim() === 'help') return { result: runConsoleLine('help', r.viewCpu(), r.context()), variablesReference: 0 };
    if (r.running) throw new RequestError('the guest is running; pause it to evaluate');
    // Console commands answer with text; anything else is an expression, whose composite values open up.
    if ((context === 'repl' || context === 'clipboard' || context === undefined) && isConsoleCommand(expression)) {
      return { result: runConsoleLine(expression, r.viewCpu(), r.context()), variablesReference: 0 };
    }
    const frame = a.frameId === undefined ? 0 : optionalInt(a.frameId, 'frameId', 1, 1) - 1;
    const v = evaluateExpression(expression, r.context(frame));
    if (isCValue(v)) return cEvaluateBody(v, expression.trim(), this.store);
    const body: DebugProtocol.EvaluateResponse['body'] = { result: formatValue(v), variablesReference: 0 };
    if (typeof v === 'number') body.memoryReference = hexAddr(v);
    else if (isComposite(v)) {
      // A segment register, a descriptor or GDTR opens into its fields.
      body.variablesReference = this.store.add(new CompositeContainer(v, expression.trim())).id;
      if (typeof v.field('address') === 'number') body.memoryReference = hexAddr(v.field('address') as number);
    }
    return body;
  }

  // ---------------------------------------------------------------- breakpoints

  private setBreakpoints(a: Record<string, unknown>): DebugProtocol.SetBreakpointsResponse['body'] {
    const r = this.requireRuntime();
    const source = (a.source ?? {}) as DebugProtocol.Source;
    const list = asArray(a.breakpoints, 'breakpoints');
    const file = source.path;
    if (typeof file !== 'string') {
      return { breakpoints: list.map(() => ({ verified: false, message: 'breakpoints in a disassembly listing: use the Disassembly view (instruction breakpoints)' })) };
    }
    const reqs = withinCap(list).map((b) => ({
      line: this.convertClientLineToDebugger(optionalInt(b.line, 'line', 1, 1)),
      condition: optionalString(b.condition, 'condition'),
      hitCondition: optionalString(b.hitCondition, 'hitCondition'),
      logMessage: optionalString(b.logMessage, 'logMessage'),
    }));
    const entries = r.breakpoints.setSource(file, reqs, r.lines);
    this.sourceBreakpoints.set(file, withinCap(list));
    r.syncBreakpoints();
    const where = { path: file, name: path.basename(file) };
    return {
      breakpoints: answerAll(
        list,
        entries.map((e) => ({
          id: e.id,
          verified: e.verified,
          message: e.message,
          line: e.line !== undefined ? this.convertDebuggerLineToClient(e.line) : undefined,
          source: where,
          instructionReference: e.address >= 0 ? hexAddr(e.address) : undefined,
        })),
      ),
    };
  }

  private setInstructionBreakpoints(a: Record<string, unknown>): DebugProtocol.SetInstructionBreakpointsResponse['body'] {
    const r = this.requireRuntime();
    const list = asArray(a.breakpoints, 'breakpoints');
    const reqs = withinCap(list).map((b) => ({
      address: (parseAddressReference(b.instructionReference, 'instructionReference') + optionalInt(b.offset, 'offset', 0)) >>> 0,
      condition: optionalString(b.condition, 'condition'),
      hitCondition: optionalString(b.hitCondition, 'hitCondition'),
    }));
    const entries = r.breakpoints.setInstruction(reqs);
    this.instructionBreakpoints = withinCap(list);
    r.syncBreakpoints();
    return { breakpoints: answerAll(list, entries.map((e) => ({ id: e.id, verified: e.verified, message: e.message, instructionReference: e.address >= 0 ? hexAddr(e.address) : undefined }))) };
  }

  private setFunctionBreakpoints(a: Record<string, unknown>): DebugProtocol.SetFunctionBreakpointsResponse['body'] {
    const r = this.requireRuntime();
    const list = asArray(a.breakpoints, 'breakpoints');
    const reqs = withinCap(list).map((b) => {
      const name = optionalString(b.name, 'name');
      if (!name) throw new RequestError('a function breakpoint needs a name');
      return { name, condition: optionalString(b.condition, 'condition'), hitCondition: optionalString(b.hitCondition, 'hitCondition') };
    });
    const entries = r.breakpoints.setFunction(reqs, r.symbols, r.c ? (n) => r.c!.functionAddress(n, r.lines) : undefined);
    this.functionBreakpoints = withinCap(list);
    r.syncBreakpoints();
    return { breakpoints: answerAll(list, entries.map((e) => ({ id: e.id, verified: e.verified, message: e.message, instructionReference: e.address >= 0 ? hexAddr(e.address) : undefined }))) };
  }

  private setExceptionBreakpoints(a: Record<string, unknown>): DebugProtocol.SetExceptionBreakpointsResponse['body'] {
    const r = this.requireRuntime();
    const filters = a.filters;
    if (filters !== undefined && (!Array.isArray(filters) || filters.some((f) => typeof f !== 'string'))) throw new RequestError('filters must be a list of filter ids');
    const options = asArray(a.filterOptions, 'filterOptions');
    const list: { filterId: string; condition?: string }[] = [
      ...((filters as string[] | undefined) ?? []).map((f) => ({ filterId: f })),
      ...options.map((o) => ({ filterId: String(o.filterId), condition: optionalString(o.condition, 'condition') })),
    ];
    const results = r.setExceptionFilters(list);
    this.exceptionFilterArgs = a;
    return { breakpoints: results.map((x) => ({ verified: x.verified, message: x.message })) };
  }

  private exceptionInfo(a: Record<string, unknown>): DebugProtocol.ExceptionInfoResponse['body'] {
    this.checkThread(a);
    const r = this.requireStopped();
    const x = r.lastStop?.exception;
    if (!x) throw new RequestError('the guest did not stop for an exception filter');
    const e = explainException(x);
    return { exceptionId: x.filter, description: e.description, breakMode: 'always', details: { message: e.details, typeName: x.filter, stackTrace: x.summary } };
  }

  private dataBreakpointInfo(a: Record<string, unknown>): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const r = this.requireStopped();
    const name = optionalString(a.name, 'name');
    if (name === undefined) throw new RequestError('name is required');
    const all: DebugProtocol.DataBreakpointAccessType[] = ['read', 'write', 'readWrite'];
    if (a.asAddress === true) {
      const linear = toNumber(evaluateExpression(name, r.context()), 'address') >>> 0;
      const bytes = optionalInt(a.bytes, 'bytes', 1, 1, 0x10000);
      return { dataId: dataIdOf({ kind: 'memory', linear, length: bytes }), description: `${bytes} byte(s) at ${hexAddr(linear)}`, accessTypes: all, canPersist: true };
    }
    if (a.variablesReference !== undefined) {
      const ref = optionalInt(a.variablesReference, 'variablesReference', 0, 1);
      const row = this.store.get(ref).children().find((x) => x.name === name);
      if (!row?.dataId) return { dataId: null, description: `${name} cannot be watched` };
      const dataId = row.dataId;
      const t = parseDataId(dataId);
      return { dataId, description: t.kind === 'memory' ? `${name}: ${t.length} bytes at ${hexAddr(t.linear)}` : `${name} changes`, accessTypes: t.kind === 'memory' ? all : ['write'], canPersist: true };
    }
    // A watch expression: a register or segment register by name, else an address.
    const lower = name.trim().toLowerCase();
    const seg = SEGMENT_REGISTERS.indexOf(lower);
    if (seg >= 0) return { dataId: dataIdOf({ kind: 'segment', reg: seg }), description: `${name.toUpperCase()} loads`, accessTypes: ['write'] };
    const v = evaluateExpression(name, r.context());
    if (typeof v === 'number' && /^[a-z]+$/.test(lower)) return { dataId: dataIdOf({ kind: 'register', name: lower }), description: `${lower} changes`, accessTypes: ['write'] };
    return { dataId: null, description: `"${name}" is not a register or segment register; use an address (bytes) instead` };
  }

  private setDataBreakpoints(a: Record<string, unknown>): DebugProtocol.SetDataBreakpointsResponse['body'] {
    const r = this.requireRuntime();
    const list = asArray(a.breakpoints, 'breakpoints');
    const reqs = withinCap(list).map((b, k) => {
      const access = b.accessType ?? 'write';
      if (access !== 'read' && access !== 'write' && access !== 'readWrite') throw new RequestError('accessType must be read, write or readWrite');
      return { id: 10000 + k, target: parseDataId(b.dataId), access, condition: optionalString(b.condition, 'condition'), hitCondition: optionalString(b.hitCondition, 'hitCondition') } as const;
    });
    const results = r.setDataBreakpoints(reqs.map((x) => ({ ...x })));
    this.dataBreakpointArgs = withinCap(list);
    return { breakpoints: answerAll(list, results.map((x) => ({ id: x.id, verified: x.verified, message: x.message }))) };
  }

  // ---------------------------------------------------------------- memory and code

  private readMemory(a: Record<string, unknown>): DebugProtocol.ReadMemoryResponse['body'] {
    const r = this.requireStopped();
    const base = parseAddressReference(a.memoryReference, 'memoryReference');
    const offset = optionalInt(a.offset, 'offset', 0);
    const count = optionalInt(a.count, 'count', -1, 0, MAX_READ);
    if (count < 0) throw new RequestError(`count is required (at most ${MAX_READ})`);
    const start = (base + offset) >>> 0;
    const bytes = readLinearBytes(r.viewCpu(), start, count);
    const readable = bytes.findIndex((b) => b === null);
    const n = readable < 0 ? bytes.length : readable;
    return { address: hexAddr(start), data: Buffer.from(bytes.slice(0, n) as number[]).toString('base64'), unreadableBytes: count - n };
  }

  private writeMemory(a: Record<string, unknown>): DebugProtocol.WriteMemoryResponse['body'] {
    const r = this.requireStopped();
    const base = parseAddressReference(a.memoryReference, 'memoryReference');
    const offset = optionalInt(a.offset, 'offset', 0);
    const data = optionalString(a.data, 'data');
    if (data === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new RequestError('data must be base64 text');
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length > MAX_READ) throw new RequestError(`at most ${MAX_READ} bytes per write`);
    const start = (base + offset) >>> 0;
    let written = 0;
    r.editGuest((cpu) => {
      written = writeLinearBytes(cpu, start, new Uint8Array(bytes));
    });
    if (written < bytes.length && a.allowPartial !== true) throw new RequestError(`only ${written} of ${bytes.length} bytes could be written: linear ${hexAddr(start + written)} is not mapped`);
    setImmediate(() => {
      this.sendEvent(new MemoryEvent(hexAddr(start), 0, written));
      this.sendEvent(new InvalidatedEvent(['variables'], THREAD_ID));
    });
    return { offset: 0, bytesWritten: written };
  }

  /** Linear addresses known to begin an instruction: where the image's segments start, its symbols, its line rows. */
  private instructionStarts(r: Runtime): number[] {
    // Once per session, without repeats: a C kernel has line rows by the 100,000 and every frame without a line asks.
    if (this.starts?.runtime !== r) {
      const all = new Set([...r.image.segments.map((g) => g.addr), ...r.symbols.map((x) => x.addr), ...r.lines.map((x) => x.addr)]);
      this.starts = { runtime: r, list: [...all].sort((a, b) => a - b) };
    }
    return this.starts.list;
  }
  private starts: { runtime: Runtime; list: number[] } | undefined;

  /**
   * The instruction starts within 64 KiB of `linear` (a listing looks no further): line rows by bisection, as they
   * are sorted, without the whole list (a C kernel's frame without a line would otherwise cost a pass over them).
   */
  private instructionStartsNear(r: Runtime, linear: number): number[] {
    const low = linear - 0x10000;
    const high = linear + 0x10000;
    const near = (a: number): boolean => a >= low && a < high;
    const rows = r.lines;
    const out = [...r.image.segments.map((g) => g.addr).filter(near), ...r.symbols.map((x) => x.addr).filter(near)];
    for (let k = firstRowAtOrAbove(rows, low); k < rows.length && rows[k].addr < high; k++) out.push(rows[k].addr);
    return out;
  }

  private disassemble(a: Record<string, unknown>): DebugProtocol.DisassembleResponse['body'] {
    const r = this.requireStopped();
    const base = (parseAddressReference(a.memoryReference, 'memoryReference') + optionalInt(a.offset, 'offset', 0)) >>> 0;
    const skip = optionalInt(a.instructionOffset, 'instructionOffset', 0, -100000, 100000);
    if (typeof a.instructionCount === 'number' && a.instructionCount > MAX_DISASSEMBLE) {
      throw new RequestError(`instructionCount ${a.instructionCount} is more than ${MAX_DISASSEMBLE} instructions per request: ask in parts (instructionOffset)`);
    }
    const count = optionalInt(a.instructionCount, 'instructionCount', -1, 0, MAX_DISASSEMBLE);
    if (count < 0) throw new RequestError('instructionCount is required');
    // Looked up once per request, not per instruction: symbols by address, one Source per file.
    const symbolAtAddress = new Map<number, string>();
    for (const s of r.symbols) if (!symbolAtAddress.has(s.addr >>> 0)) symbolAtAddress.set(s.addr >>> 0, s.name);
    const sources = new Map<string, Source>();
    const sourceOf = (file: string): Source => {
      let src = sources.get(file);
      if (!src) sources.set(file, (src = new Source(path.basename(file), this.clientPath(file))));
      return src;
    };
    const instructions = disassembleAround(r.viewCpu(), this.instructionStarts(r), base, skip, count).map(({ linear, instruction: i }) => {
      if (!i) return { address: hexAddr(linear), instruction: '??', presentationHint: 'invalid' } as DebugProtocol.DisassembledInstruction;
      const d: DebugProtocol.DisassembledInstruction = {
        address: hexAddr(linear),
        instructionBytes: i.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' '),
        instruction: i.text,
      };
      const sym = symbolAtAddress.get(linear);
      if (sym !== undefined) d.symbol = sym;
      if (!i.valid) d.presentationHint = 'invalid';
      const row = lineAt(r.lines, linear);
      if (row && row.addr === linear) {
        d.location = sourceOf(row.file);
        d.line = row.line;
      }
      return d;
    });
    return { instructions };
  }

  private loadedSources(): DebugProtocol.LoadedSourcesResponse['body'] {
    const r = this.requireRuntime();
    return { sources: sourceFiles(r.lines).map((f) => new Source(path.basename(f), this.clientPath(f))) };
  }

  private modules(a: Record<string, unknown>): DebugProtocol.ModulesResponse['body'] {
    const r = this.requireRuntime();
    optionalInt(a.startModule, 'startModule', 0, 0);
    const segs = r.image.segments;
    const lo = segs.length ? Math.min(...segs.map((s) => s.addr)) : 0;
    const hi = segs.length ? Math.max(...segs.map((s) => s.addr + s.size)) : 0;
    const module: DebugProtocol.Module = {
      id: 1,
      name: path.basename(r.settings.program),
      path: r.settings.program,
      symbolStatus: r.symbols.length || r.lines.length ? `${r.symbols.length} symbols, ${r.lines.length} line rows` : 'no symbols',
      symbolFilePath: r.settings.symbols,
      addressRange: `${hexAddr(lo)}-${hexAddr(hi)}`,
      version: `${r.image.format}: ${segs.map((s) => `${s.name} ${hexAddr(s.addr)}+0x${s.size.toString(16)}`).join(', ')}`,
    };
    return { modules: [module], totalModules: 1 };
  }

  // ---------------------------------------------------------------- Ringside's own requests

  private segmentMap(): SegmentMapResponseBody {
    const r = this.requireStopped();
    return buildSegmentMap(r.viewCpu(), r.monitor);
  }

  private serialInput(a: Record<string, unknown>): void {
    const data = optionalString(a.data, 'data');
    if (data === undefined) throw new RequestError('data is required');
    const r = this.requireRuntime();
    if (r.hasEnded) throw new RequestError('the guest has ended');
    let queued: { accepted: number; queuedBefore: number };
    try {
      queued = r.serialInput(data);
    } catch (e) {
      throw new RequestError((e as Error).message);
    }
    if (queued.accepted < data.length) {
      throw new RequestError(
        `accepted ${queued.accepted} of ${data.length} bytes (the first ${queued.accepted}): at most ${SERIAL_INPUT_CAP} bytes wait for the guest to read them and ${queued.queuedBefore} were waiting; send the rest once the guest has read more`,
      );
    }
  }

  private keys(a: Record<string, unknown>): void {
    const text = optionalString(a.text, 'text');
    if (text === undefined) throw new RequestError('text is required');
    const r = this.requireRuntime();
    if (r.hasEnded) throw new RequestError('the guest has ended');
    try {
      r.typeKeys(text);
    } catch (e) {
      if (e instanceof RangeError) throw new RequestError(e.message);
      throw e;
    }
  }
}
