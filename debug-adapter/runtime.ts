// The guest under the debugger, with no knowledge of the Debug Adapter Protocol (the mock-debug split): it wraps
// a Machine with asynchronous run control and decides where the guest stops. It runs the guest in slices of a few
// milliseconds from the event loop (setImmediate), so requests such as pause are handled between slices, and it
// emits plain events: 'stopped', 'output', 'trace' (a Debug Console trace line), 'timeline' and 'timeline-overflow'
// (for the Event Timeline), 'ended'.
//
// Stops come from four places: the CPU's breakpoint set (checked by its run loop; conditions and hit counts are
// decided here), engine events that armed exception filters listen to, data watches (engine/cpu/watch.ts), and
// stepping, which runs instruction by instruction with a predicate.

import { keysForText, unescapeC } from '../engine/devices/host-keys';
import { encodePng } from '../engine/screen/png';
import type { ScreenResponseBody } from './protocol-types';
import { EventEmitter } from 'node:events';
import { Machine } from '../engine/machine/machine';
import { CS, SS, type Cpu } from '../engine/cpu/cpu';
import { readElfDebugInfo } from '../engine/machine/loaders/elf';
import type { ImageSymbol, LineRow, LoadedImage } from '../engine/machine/loaders';
import { EVENT_NAMES, type EventMap, type EventName } from '../engine/events';
import { formatEvent } from '../engine/trace';
import { BreakpointTable } from './breakpoints';
import { DataBreakpoints, type DataBreakpointRequest, type DataBreakpointResult } from './data-breakpoints';
import { eventFields, FILTER_IDS, type FilterId } from './exception-filters';
import { parseExpression, type Node } from './expression/parse';
import { evaluateNode, layeredContext, truthy, type EvalContext } from './expression/evaluate';
import { cpuContext } from './expression/cpu-values';
import { currentInstruction, currentLinear } from './code-reader';
import type { LaunchSettings } from './launch-config';
import { lineAt } from './source-lines';
import { TIMELINE_KINDS, TimelineFeed } from './timeline-feed';
import type { InterruptFrameRecord } from './stack';
import { attachMonitor, type Monitor } from '../engine/monitor/monitor';
import { guestViewCpu, refreshGuestView } from './guest-view';
import type { GuestEdit } from './scopes/variable-store';

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint' | 'data breakpoint' | 'exception' | 'pause';

export interface ExceptionStop {
  filter: FilterId;
  /** One trace line for the event. */
  summary: string;
  event: EventMap[FilterId];
}

export interface RuntimeStop {
  reason: StopReason;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
  exception?: ExceptionStop;
}

export type EndReason = 'halt' | 'exit' | 'limit' | 'triple-fault' | 'error' | 'terminated';

export interface RuntimeEnd {
  reason: EndReason;
  exitCode: number;
  message: string;
}

export type { DataTarget, DataBreakpointRequest, DataBreakpointResult } from './data-breakpoints';

/** Instruction-by-instruction run with a predicate checked after each instruction. */
interface Stepper {
  /** Called before each instruction (to look at the instruction about to run). */
  before?(cpu: Cpu): void;
  /** Called after each instruction; returns true to stop there. */
  after(cpu: Cpu): boolean;
}

interface FilterArm {
  condition: Node | null;
}

/** Host time one slice may take before the event loop gets a turn (pause latency is at most about this). */
const SLICE_MS = 8;
/** Events sent as trace lines per slice at most; the rest are counted and reported once. */
const TRACE_EVENTS_PER_SLICE = 200;

export class Runtime extends EventEmitter {
  readonly machine: Machine;
  readonly cpu: Cpu;
  readonly image: LoadedImage;
  readonly symbols: ImageSymbol[];
  readonly lines: LineRow[];
  readonly breakpoints = new BreakpointTable();
  readonly settings: LaunchSettings;
  /** The monitor the guest runs under (launch attribute `monitor`, default true), or null for a bare run. */
  readonly monitor: Monitor | null;
  /** One line on the monitor for the Debug Console and the Monitor scope. */
  readonly monitorNote: string;
  private state: 'stopped' | 'running' | 'ended' = 'stopped';
  private stepper: Stepper | null = null;
  private pauseRequested = false;
  private pendingStop: RuntimeStop | null = null;
  /** Further stops caused by the same instruction as the one reported; `continue` reports them one by one. */
  private queuedStops: RuntimeStop[] = [];
  private scheduled = false;
  private budget = 20000;
  private readonly startIcount: number;
  private readonly filters = new Map<FilterId, FilterArm>();
  private unsubscribe: (() => void)[] = [];
  private readonly data: DataBreakpoints;
  private consoleBytes: number[] = [];
  private serialBytes: number[] = [];
  private traceCount = 0;
  private traceDropped = 0;
  /** The timeline's kinds and the traced ones go to the Event Timeline, a bounded number per slice. */
  private readonly timeline: TimelineFeed;
  /** Set when the run must start by executing the instruction at a breakpoint address instead of stopping on it. */
  private skipBreakpointHere = false;
  lastStop: RuntimeStop | null = null;
  /** Interrupts and exceptions being handled (delivered, no IRET yet), for the call stack; newest last. */
  readonly interruptFrames: InterruptFrameRecord[] = [];
  /** The vector of the exception announced in the current instruction, for the frame its delivery opens. */
  private announced = { vector: -1, icount: -1 };
  ended: RuntimeEnd | null = null;

  /**
   * `linesWithoutDebugInfo` gives source lines for an image that has neither DWARF lines nor a symbols file (a
   * flat binary with a nasm listing beside it).
   */
  constructor(
    settings: LaunchSettings,
    program: Uint8Array,
    symbolsFile?: Uint8Array,
    linesWithoutDebugInfo?: (image: LoadedImage) => LineRow[],
    /** The contents of the `initrd` and `serialIn` files. */
    inputs: { initrd?: Uint8Array; serialIn?: Uint8Array } = {},
  ) {
    super();
    this.settings = settings;
    this.machine = new Machine({
      memoryMB: settings.memoryMB,
      onConsoleByte: (b) => this.consoleBytes.push(b),
      devices: { onSerialByte: (b) => this.serialBytes.push(b) },
    });
    this.cpu = this.machine.cpu;
    this.monitor = settings.monitor ? attachMonitor(this.machine, { sbe: settings.sbe }) : null;
    this.image = this.machine.load(program, {
      format: settings.format,
      loadAddress: settings.loadAddress,
      entry: settings.entry,
      mode: settings.mode,
      initrd: inputs.initrd,
      append: settings.append,
    });
    if (settings.keys !== undefined) this.machine.typeKeys(keysForText(unescapeC(settings.keys)));
    if (inputs.serialIn !== undefined) this.machine.serialInput(inputs.serialIn, true);
    let symbols = this.image.symbols;
    let lines = this.image.lines;
    if (symbolsFile) {
      const extra = readElfDebugInfo(symbolsFile);
      symbols = [...symbols, ...extra.symbols].sort((a, b) => a.addr - b.addr);
      lines = [...lines, ...extra.lines].sort((a, b) => a.addr - b.addr);
    } else if (lines.length === 0 && linesWithoutDebugInfo) {
      lines = linesWithoutDebugInfo(this.image);
    }
    this.symbols = symbols;
    this.lines = lines;
    for (const sym of symbols) this.symbolAddresses.set(sym.name, sym.addr >>> 0);
    this.startIcount = this.cpu.icount;
    this.monitorNote = this.monitor
      ? `on, SBE ${settings.sbe}: the guest runs emulated until its protected-mode state can run deprivileged`
      : 'off (launch attribute "monitor": false): the guest runs bare';
    this.data = new DataBreakpoints(
      this.cpu,
      () => this.context(),
      (hit) => this.requestStopWith({ reason: 'data breakpoint', description: 'data breakpoint', text: hit.text, hitBreakpointIds: [hit.id] }),
      () => this.state === 'running',
      () => this.viewCpu(),
    );
    this.timeline = new TimelineFeed(
      new Set([...TIMELINE_KINDS, ...settings.trace]),
      (kind, e) => this.emit('timeline', kind, e),
      (o) => this.emit('timeline-overflow', o),
    );
    this.subscribeEvents();
  }

  get running(): boolean {
    return this.state === 'running';
  }
  get hasEnded(): boolean {
    return this.state === 'ended';
  }
  /** Guest instructions retired since launch. */
  get instructions(): number {
    return this.cpu.icount - this.startIcount;
  }
  /** True while the monitor runs the guest deprivileged: the views then show the guest's view (guest-view.ts). */
  get guestViewActive(): boolean {
    return this.monitor !== null && this.monitor.state === 'direct';
  }

  /**
   * The CPU as the guest sees it: the real CPU, or under the monitor a read-only guest view (guest-view.ts). The
   * view is one object, refreshed on every call, so the containers of a stop that hold it read the present state.
   */
  viewCpu(): Cpu {
    if (!this.guestViewActive) return this.cpu;
    this.refreshGuestView();
    return this.guestView!;
  }
  private guestView: Cpu | null = null;

  /** Makes or refreshes the guest view from the monitor's present guest record (the guest's own TLB when it keeps one). */
  private refreshGuestView(): void {
    const m = this.monitor!;
    const g = m.currentGuest();
    // The real CPU may run on the monitor's shadow TLB; views that translate use the guest's own.
    if (this.guestView === null) this.guestView = guestViewCpu(this.cpu, g, m.guestTlb);
    else refreshGuestView(this.guestView, this.cpu, g, m.guestTlb);
  }

  /**
   * Makes a debugger change to the stopped guest (setVariable, writeMemory). Under the monitor it goes through
   * Monitor.editGuestView: the CPU holds the guest's own view while `edit` runs, as on a bare CPU, and the monitor
   * takes the result back as after one of its entries (consistency judged again, SBE decided, return sequence or
   * emulated). A failure of the edit (a value out of range) reaches the caller; the monitor never sees it as its own.
   */
  editGuest(edit: GuestEdit): void {
    if (this.state !== 'stopped') throw new Error('the guest can be changed only while it is stopped');
    const m = this.monitor;
    if (m === null) return edit(this.cpu);
    const outcome: { error?: unknown } = {};
    m.editGuestView((cpu) => {
      try {
        edit(cpu);
      } catch (e) {
        outcome.error = e;
      }
    });
    // Containers of this stop may hold the view: they read the edited state (also when the monitor left direct).
    if (this.guestView !== null) this.refreshGuestView();
    if ('error' in outcome) throw outcome.error;
  }

  /** Evaluation context of the stopped CPU; the image's symbols stand for their addresses behind the registers. */
  context(): EvalContext {
    const cpu = cpuContext(this.viewCpu());
    if (this.symbolAddresses.size === 0) return cpu;
    return { ...cpu, lookup: (name) => cpu.lookup(name) ?? this.symbolAddresses.get(name) };
  }
  private readonly symbolAddresses = new Map<string, number>();

  // ---------------------------------------------------------------- run control

  /** Starts the guest after configurationDone: stops on entry or runs. */
  start(): void {
    if (this.settings.stopOnEntry && !this.settings.noDebug) this.stopNow({ reason: 'entry', description: 'entry' });
    else this.resume(null);
  }

  continue(): void {
    const queued = this.queuedStops.shift();
    if (queued && this.state === 'stopped') {
      // Another filter matched the same instruction: report it before running on.
      setImmediate(() => this.stopNow(queued));
      return;
    }
    this.resume(this.data.watchesRegisters ? this.registerStepper() : null);
  }

  pause(): void {
    if (this.state === 'running') this.pauseRequested = true;
  }

  /** Executes one instruction (stepIn/next/stepOut at instruction granularity for a plain instruction). */
  stepInstruction(): void {
    this.resume({ after: () => true });
  }

  /** Steps over a CALL or INT (runs until the instruction after it with the stack back where it was). */
  stepOver(granularity: 'instruction' | 'line'): void {
    this.resume(this.overStepper(granularity));
  }

  stepIn(granularity: 'instruction' | 'line'): void {
    if (granularity === 'instruction' || this.lines.length === 0) return this.stepInstruction();
    const start = lineAt(this.lines, currentLinear(this.cpu));
    this.resume({ after: (cpu) => this.leftLine(cpu, start) });
  }

  /** Runs until a return (RET, RETF, IRET) of the current frame has executed. */
  stepOut(): void {
    const startTop = this.stackLinear();
    let returning = false;
    this.resume({
      before: (cpu) => {
        const i = currentInstruction(cpu);
        returning = i.kind === 'return' && this.stackLinear() >= startTop;
      },
      after: () => returning,
    });
  }

  terminate(): void {
    this.finish({ reason: 'terminated', exitCode: 0, message: 'terminated by the debugger' });
  }

  dispose(): void {
    if (this.state !== 'ended') this.state = 'ended';
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.data.dispose();
    this.removeAllListeners();
  }

  private stackLinear(): number {
    return (this.cpu.segBase[SS] + this.cpu.sp) >>> 0;
  }

  private leftLine(cpu: Cpu, start: LineRow | undefined): boolean {
    const now = lineAt(this.lines, currentLinear(cpu));
    if (!now) return true;
    return !start || now.line !== start.line || now.file !== start.file;
  }

  private overStepper(granularity: 'instruction' | 'line'): Stepper {
    const lineMode = granularity === 'line' && this.lines.length > 0;
    const startLine = lineMode ? lineAt(this.lines, currentLinear(this.cpu)) : undefined;
    /** While stepping over a CALL or INT: where it returns to, and the stack it returns with. */
    let over: { linear: number; stack: number } | null = null;
    return {
      before: (cpu) => {
        if (over) return false;
        const i = currentInstruction(cpu);
        if (i.kind === 'call' || i.kind === 'interrupt') {
          const next = (cpu.eip + i.length) & (cpu.code32 ? 0xffffffff : 0xffff);
          over = { linear: (cpu.segBase[CS] + next) >>> 0, stack: this.stackLinear() };
        }
        return false;
      },
      after: (cpu) => {
        if (over) {
          if (currentLinear(cpu) !== over.linear || this.stackLinear() < over.stack) return false;
          over = null;
        }
        return lineMode ? this.leftLine(cpu, startLine) : true;
      },
    };
  }

  /** A plain run while a register is watched: instruction by instruction, comparing after each. */
  private registerStepper(): Stepper {
    return {
      after: () => {
        this.data.checkRegisters();
        return false;
      },
    };
  }

  private resume(stepper: Stepper | null): void {
    if (this.state === 'ended') throw new Error('the guest has ended; restart the session to run it again');
    if (this.state === 'running') throw new Error('the guest is already running');
    this.stepper = stepper;
    this.pauseRequested = false;
    this.pendingStop = null;
    this.queuedStops = [];
    this.skipBreakpointHere = this.cpu.breakpoints.has(currentLinear(this.cpu));
    this.state = 'running';
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.tick());
  }

  private tick(): void {
    this.scheduled = false;
    if (this.state !== 'running') return;
    try {
      this.traceCount = 0;
      if (this.pauseRequested) return this.stopNow({ reason: 'pause', description: 'paused' });
      // A shutdown reported through its filter stop is still a shutdown when the user runs on.
      if (this.cpu.shutdown) return void this.endFor('triple-fault');
      const outcome = this.stepper ? this.runSteps(this.stepper) : this.runFree();
      this.flushConsole();
      this.timeline.endSlice();
      if (this.traceDropped > 0) {
        this.emit('output', `(${this.traceDropped} more events not shown)\n`, 'console');
        this.traceDropped = 0;
      }
      if (outcome) return;
      const max = this.settings.maxInstructions;
      if (max !== undefined && this.instructions >= max) {
        return this.finish({ reason: 'limit', exitCode: 2, message: `stopped after ${this.instructions} instructions (maxInstructions)` });
      }
      this.schedule();
    } catch (e) {
      this.flushConsole();
      this.finish({ reason: 'error', exitCode: 1, message: `engine error: ${(e as Error).message ?? String(e)}` });
    }
  }

  /** Remaining instructions allowed by maxInstructions. */
  private remaining(): number {
    const max = this.settings.maxInstructions;
    return max === undefined ? Infinity : Math.max(0, max - this.instructions);
  }

  /** Executes one instruction (even at a breakpoint), timers in step. Returns true when the guest ended. */
  private stepOne(): boolean {
    const r = this.machine.step();
    if (this.cpu.stopRequested) {
      this.cpu.stopRequested = false;
      this.cpu.updateAttention();
    }
    if ((r === 'triple-fault' || r === 'halt') && this.takePending()) return true;
    return r !== null && this.endFor(r);
  }

  /** Ends the session for a machine stop reason that ends the run; false for the others. */
  private endFor(reason: string): boolean {
    switch (reason) {
      case 'exit': {
        const code = this.machine.exitCode ?? 0;
        this.finish({ reason: 'exit', exitCode: code, message: `the guest exited with code ${code}` });
        return true;
      }
      case 'triple-fault':
        this.finish({ reason: 'triple-fault', exitCode: 3, message: 'triple fault: the CPU shut down' });
        return true;
      case 'halt':
        this.finish({ reason: 'halt', exitCode: 0, message: 'the guest halted (HLT with no interrupt that could wake it)' });
        return true;
    }
    return false;
  }

  /** Runs in slices on the CPU's own loop. Returns true when the run stopped or ended. */
  private runFree(): boolean {
    const deadline = Date.now() + SLICE_MS;
    while (Date.now() < deadline) {
      if (this.skipBreakpointHere) {
        this.skipBreakpointHere = false;
        if (this.stepOne() || this.takePending()) return true;
      }
      const budget = Math.min(this.budget, this.remaining());
      if (budget <= 0) return false;
      const t0 = Date.now();
      const r = this.machine.runSlice(budget);
      const dt = Date.now() - t0;
      // Aim at slices of about a millisecond so the deadline check stays fine-grained.
      if (r.reason === null) this.budget = Math.max(1000, Math.min(2_000_000, dt < 1 ? this.budget * 2 : Math.round(this.budget / dt)));
      // A filter that matched on the way into a shutdown or a final HLT gets its stop first; both states persist,
      // so the next run ends the session.
      if ((r.reason === 'triple-fault' || r.reason === 'halt') && this.takePending()) return true;
      if (r.reason !== null && this.endFor(r.reason)) return true;
      if (this.takePending()) return true;
      if (r.reason === 'breakpoint') {
        if (this.onBreakpoint()) return true;
        this.skipBreakpointHere = true;
      }
    }
    return false;
  }

  /** Runs instruction by instruction under a stepper. Returns true when the run stopped or ended. */
  private runSteps(stepper: Stepper): boolean {
    const deadline = Date.now() + SLICE_MS;
    let n = 0;
    while ((n & 255) !== 0 || Date.now() < deadline) {
      // The first instruction runs even at a breakpoint (the user resumed from it).
      if (n > 0 && this.cpu.breakpoints.has(currentLinear(this.cpu)) && this.onBreakpoint()) return true;
      this.skipBreakpointHere = false;
      stepper.before?.(this.cpu);
      if (this.stepOne()) return true;
      n++;
      if (stepper.after(this.cpu)) {
        if (this.takePending()) return true;
        this.stopNow({ reason: 'step' });
        return true;
      }
      if (this.takePending()) return true;
      if (this.remaining() <= 0) return false;
    }
    return false;
  }

  /** At a breakpoint address: decide conditions and hit counts; returns true when the stop stands. */
  private onBreakpoint(): boolean {
    const linear = currentLinear(this.cpu);
    const d = this.breakpoints.decide(linear, this.context());
    for (const line of d.logs) this.emit('output', line + '\n', 'console');
    for (const err of d.errors) this.emit('output', err + '\n', 'stderr');
    if (!d.stop || this.settings.noDebug) return false;
    const kinds = new Set(this.breakpoints.all().filter((e) => d.ids.includes(e.id)).map((e) => e.kind));
    const reason: StopReason = kinds.has('source') ? 'breakpoint' : kinds.has('function') ? 'function breakpoint' : 'instruction breakpoint';
    this.stopNow({ reason, description: reason, hitBreakpointIds: d.ids });
    return true;
  }

  private takePending(): boolean {
    if (!this.pendingStop) return false;
    const s = this.pendingStop;
    this.pendingStop = null;
    this.stopNow(s);
    return true;
  }

  private requestStopWith(s: RuntimeStop): void {
    if (this.settings.noDebug) return;
    if (!this.pendingStop) this.pendingStop = s;
    else if (this.queuedStops.length < 16) this.queuedStops.push(s);
    this.machine.requestStop();
  }

  private stopNow(s: RuntimeStop): void {
    this.flushConsole();
    this.timeline.endSlice(); // the summaries of the slice come before the stop
    this.state = 'stopped';
    this.stepper = null;
    this.pauseRequested = false;
    if (this.cpu.stopRequested) {
      this.cpu.stopRequested = false;
      this.cpu.updateAttention();
    }
    this.data.rebaseRegisters();
    this.lastStop = s;
    this.emit('stopped', s);
  }

  private finish(end: RuntimeEnd): void {
    if (this.state === 'ended') return;
    this.flushConsole();
    this.timeline.endSlice();
    this.state = 'ended';
    this.ended = end;
    this.emit('ended', end);
  }

  /** The guest's screen now, for the Screen view: text cells, or the framebuffer as a PNG. */
  screen(): ScreenResponseBody {
    const s = this.machine.screen();
    const common = { instructions: this.instructions, running: this.state === 'running' };
    if (s.kind === 'text') return { kind: 'text', columns: s.columns, rows: s.rows, cells: Array.from(s.cells), cursor: s.cursor, ...common };
    const png = s.rgba === null ? null : encodePng(s.width, s.height, s.rgba).toString('base64');
    return { kind: 'graphics', width: s.width, height: s.height, mode: s.mode, png, ...common };
  }

  /** Text typed in the Screen view, for the guest's keyboard (each key as the guest becomes ready for it). */
  typeKeys(text: string): void {
    this.machine.typeKeys(keysForText(text));
  }

  /** Bytes typed into the COM1 terminal, for the guest's UART. */
  serialInput(text: string): void {
    this.machine.serialInput(Array.from(text, (ch) => ch.charCodeAt(0) & 0xff));
  }

  private flushConsole(): void {
    if (this.serialBytes.length > 0) {
      const text = Buffer.from(this.serialBytes).toString('latin1');
      this.serialBytes = [];
      if (this.settings.serial === 'terminal') this.emit('serial', text);
      else this.emit('output', text, 'stdout');
    }
    if (this.consoleBytes.length === 0) return;
    const text = Buffer.from(this.consoleBytes).toString('latin1');
    this.consoleBytes = [];
    this.emit('output', text, 'stdout');
  }

  // ---------------------------------------------------------------- breakpoints

  /** Copies the table's addresses into the CPU's breakpoint set (the run loop checks only while it is non-empty). */
  syncBreakpoints(): void {
    const set = this.cpu.breakpoints;
    set.clear();
    if (!this.settings.noDebug) for (const a of this.breakpoints.addresses()) set.add(a);
    this.cpu.updateAttention();
  }

  /** Arms exception filters; returns an error message per filter whose condition does not parse. */
  setExceptionFilters(list: { filterId: string; condition?: string }[]): { verified: boolean; message?: string }[] {
    this.filters.clear();
    const results = list.map((f) => {
      if (!(FILTER_IDS as readonly string[]).includes(f.filterId)) return { verified: false, message: `unknown filter "${f.filterId}"` };
      try {
        const condition = f.condition?.trim() ? parseExpression(f.condition) : null;
        this.filters.set(f.filterId as FilterId, { condition });
        return { verified: true };
      } catch (e) {
        return { verified: false, message: `condition: ${(e as Error).message}` };
      }
    });
    this.subscribeEvents();
    return results;
  }

  /** Listens to the events that armed filters, traced names and segment watches need, and to nothing else. */
  private subscribeEvents(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    // segment-load and cpu-exception always: the call stack shows the interrupt and exception frames.
    const wanted = new Set<EventName>([...this.settings.trace, ...TIMELINE_KINDS, 'cpu-exception', 'segment-load']);
    for (const id of this.filters.keys()) wanted.add(id);
    // Under the monitor the guest's events are on the hub the monitor keeps live while its own operations are muted.
    const hub = this.monitor ? this.monitor.guestEvents : this.cpu.events;
    for (const name of EVENT_NAMES) {
      if (!wanted.has(name)) continue;
      this.unsubscribe.push(hub.on(name, (e: EventMap[typeof name]) => this.onEngineEvent(name, e)));
    }
  }

  /** A CS load by interrupt delivery opens a frame; one by IRET closes the innermost. */
  private trackInterruptFrames(x: EventMap['segment-load']): void {
    if (x.reg !== CS) return;
    if (x.cause === 'interrupt') {
      const vector = this.announced.icount === this.cpu.icount ? this.announced.vector : -1;
      if (this.interruptFrames.length >= 64) this.interruptFrames.shift();
      this.interruptFrames.push({ vector, cs: x.oldSelector, eip: x.eip >>> 0, linear: (x.oldCache.base + x.eip) >>> 0 });
    } else if (x.cause === 'iret') {
      this.interruptFrames.pop();
    }
  }

  private onEngineEvent<K extends EventName>(name: K, e: EventMap[K]): void {
    if (this.state !== 'running') return;
    if (name === 'cpu-exception') this.announced = { vector: (e as EventMap['cpu-exception']).vector, icount: this.cpu.icount };
    if (name === 'segment-load') this.trackInterruptFrames(e as EventMap['segment-load']);
    if (this.settings.trace.includes(name)) {
      if (this.traceCount++ < TRACE_EVENTS_PER_SLICE) this.emit('trace', name, e);
      else this.traceDropped++;
    }
    this.timeline.offer(name, e);
    if (name === 'segment-load' && this.data.watchesSegments) this.data.onSegmentLoad(e as EventMap['segment-load']);
    const arm = this.filters.get(name as FilterId);
    if (!arm) return;
    const id = name as FilterId;
    const fields = eventFields(id, e as EventMap[FilterId]);
    if (arm.condition) {
      try {
        if (!truthy(evaluateNode(arm.condition, layeredContext(fields, this.context())))) return;
      } catch (err) {
        this.emit('output', `exception filter ${id}: condition failed: ${(err as Error).message}\n`, 'stderr');
        return;
      }
    }
    const summary = formatEvent(name, e);
    this.requestStopWith({ reason: 'exception', description: id, text: summary, exception: { filter: id, summary, event: e as EventMap[FilterId] } });
  }

  // ---------------------------------------------------------------- data breakpoints

  setDataBreakpoints(list: DataBreakpointRequest[]): DataBreakpointResult[] {
    return this.data.set(list);
  }
}
