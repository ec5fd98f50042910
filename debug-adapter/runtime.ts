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
import { CDebugger } from './c/c-debugger';
import { History, type Checkpoint, type InputPayload, type RecordedInput } from '../engine/machine/history';

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint' | 'data breakpoint' | 'exception' | 'pause' | 'goto';

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
  /** The condition as the user wrote it (a stop recorded under the same arming is found again by it). */
  text: string;
}

/** Host time one slice may take before the event loop gets a turn (pause latency is at most about this). */
const SLICE_MS = 8;
/** Bytes of COM1 input that may wait for the guest to read them (`ringside/serialInput`); more are refused. */
export const SERIAL_INPUT_CAP = 64 * 1024;
/**
 * Host time of forward running between two checkpoints of the record. A step back replays at most about this
 * much from the checkpoint before it (a replay runs at least as fast as the run it repeats, whose breakpoints and
 * filters it decides again); a checkpoint compares all of memory with the last one in 64 KiB chunks (about 1.5 ms
 * for 16 MiB), so the record costs a few percent of forward speed.
 */
const CHECKPOINT_MS = 40;
/**
 * A periodic checkpoint may take at most 1/CHECKPOINT_SHARE of the host time of running: when one took longer (a
 * bigger memory, the monitor's restart, a busy host), the next comes later, so recording stays within a few percent
 * of forward speed and step backs replay a little further.
 */
const CHECKPOINT_SHARE = 25;
/** The longest gap between periodic checkpoints, in host time. */
const CHECKPOINT_MAX_MS = 1000;

/** What the debugger keeps beside each checkpoint: the state of its own that a replay must start from. */
interface RuntimeSide {
  frames: InterruptFrameRecord[];
  hits: [number, number][];
  /**
   * Whether the breakpoint at this moment's instruction was already decided (or is skipped because the user resumed
   * from a stop here): a replay from here must not decide it again, or hit counts would drift.
   */
  skip: boolean;
  /** Timeline events so far (their ordinals count from 1 in the order the run met them). */
  events: number;
  /** Of them, how many of each kind. */
  kinds: Partial<Record<EventName, number>>;
  /** Data breakpoints' hit counts. */
  dataHits: number[];
  /**
   * The breakpoint or filter stop made at this moment (the first, when one instruction made several), at linear
   * address `at`, with the filter's condition then. A replay that arrives at this instruction count stands before
   * the boundary's work that the stop may have come after — an interrupt's delivery to a handler with a breakpoint,
   * the monitor taking up a descriptor write — so a search backwards finds this stop here, while it is still armed.
   */
  stop: { stop: RuntimeStop; at: number; filterText: string } | null;
}

const RECORDED_STOPS: ReadonlySet<StopReason> = new Set<StopReason>(['breakpoint', 'function breakpoint', 'instruction breakpoint', 'exception']);


/** A stop a replay met on its way: where (guest time) and what it was. */
interface ReplayedStop {
  icount: number;
  stop: RuntimeStop;
  /** Breakpoint hit counts right after the stop was decided (a travel there takes them back). */
  hits: [number, number][];
}
/** Events sent as trace lines per slice at most; the rest are counted and reported once. */
const TRACE_EVENTS_PER_SLICE = 200;

/** A launch that failed because of what one launch attribute holds (the session names it with its value). */
export class LaunchAttributeError extends Error {
  constructor(
    readonly attribute: keyof LaunchSettings,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs one step of building the machine and names the attribute at fault when it fails: the one given, or for
 * the image load the one the loader's message points at (where a flat binary lies, where it starts), else
 * "program" (with the memory size, when the image does not fit).
 */
function blame<T>(at: keyof LaunchSettings | LaunchSettings, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof Error) || e instanceof TypeError || e instanceof ReferenceError) throw e;
    if (typeof at === 'string') throw new LaunchAttributeError(at, e.message);
    const outside = / lies outside the .* of guest memory/.test(e.message);
    if (outside && at.loadAddress !== undefined) throw new LaunchAttributeError('loadAddress', `${e.message} ("memoryMB" is ${at.memoryMB})`);
    if (/entry .* cannot be reached/.test(e.message) && at.entry !== undefined) throw new LaunchAttributeError('entry', e.message);
    // The Linux loader's messages about its inputs name the CLI option; here the attribute is at fault.
    const asAttributes = e.message.replace(/--memory\b/g, '"memoryMB"');
    if (/^the initrd\b/.test(e.message) && at.initrd !== undefined) throw new LaunchAttributeError('initrd', asAttributes);
    if (/^the kernel command line\b/.test(e.message) && at.append !== undefined) throw new LaunchAttributeError('append', asAttributes);
    throw new LaunchAttributeError('program', outside ? `${e.message} ("memoryMB" is ${at.memoryMB})` : asAttributes);
  }
}

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
  /** C variables, types and the CFI call stack, when the image or the symbols file has DWARF (c/c-debugger.ts). */
  readonly c: CDebugger | null;
  /** Problems met reading debugging information before anyone listened (the session prints them at launch). */
  readonly debugWarnings: string[] = [];
  /** The record reverse execution travels in (launch attribute `reverse`), or null when it is off. */
  readonly history: History<RuntimeSide> | null;
  /** While a replay runs: where it ends and, for a search, the stops it met (stops are then recorded, not made). */
  private replay: { end: number; stops: ReplayedStop[] | null; stepper: Stepper | null; untilEvent: number; untilStop: number; reachedEvent: boolean } | null = null;
  /**
   * After a travel back: the recorded inputs (keys, serial bytes) still ahead, oldest first. Running forward gives
   * each at the moment it arrived the first time, so the run goes on as recorded; a new input or an edit drops them.
   */
  private inputsAhead: RecordedInput[] = [];
  /**
   * Timeline events met so far in guest time (the ordinal of the last one). Deterministic like the run, so the
   * Event Timeline can name an event by it and ringside/goto travel to it; a travel puts it back with the moment.
   */
  eventOrdinal = 0;
  /** Timeline events met so far, by kind (a search backwards skips the intervals in which an armed kind never happened). */
  private kindCounts: Partial<Record<EventName, number>> = {};
  private lastCheckpointAt = 0;

  /**
   * `linesWithoutDebugInfo` gives source lines for an image that has neither DWARF lines nor a symbols file (a
   * flat binary with a nasm listing beside it).
   */
  constructor(
    settings: LaunchSettings,
    program: Uint8Array,
    symbolsFile?: Uint8Array,
    linesWithoutDebugInfo?: (image: LoadedImage) => LineRow[],
    /** The contents of the `initrd`, `serialIn` and `disks` files. */
    inputs: { initrd?: Uint8Array; serialIn?: Uint8Array; disks?: Uint8Array[] } = {},
  ) {
    super();
    this.settings = settings;
    this.machine = blame('memoryMB', () => new Machine({
      memoryMB: settings.memoryMB,
      model: settings.cpu,
      onConsoleByte: (b) => this.consoleBytes.push(b),
      devices: { onSerialByte: (b) => this.serialBytes.push(b), disks: inputs.disks ?? [] },
    }));
    this.cpu = this.machine.cpu;
    this.monitor = settings.monitor ? attachMonitor(this.machine, { sbe: settings.sbe }) : null;
    this.image = blame(settings, () =>
      this.machine.load(program, {
        format: settings.format,
        loadAddress: settings.loadAddress,
        entry: settings.entry,
        mode: settings.mode,
        initrd: inputs.initrd,
        append: settings.append,
      }),
    );
    this.debugWarnings.push(...(this.image.warnings ?? []));
    if (settings.keys !== undefined) {
      const keys = settings.keys;
      blame('keys', () => this.machine.typeKeys(keysForText(unescapeC(keys)), 'line'));
    }
    if (inputs.serialIn !== undefined) this.machine.serialInput(inputs.serialIn, true);
    let symbols = this.image.symbols;
    let lines = this.image.lines;
    let extra: ReturnType<typeof readElfDebugInfo> | null = null;
    try {
      extra = symbolsFile ? readElfDebugInfo(symbolsFile, this.debugWarnings) : null;
    } catch (e) {
      // Named by its attribute (a symbols file is help, not the program: the session goes on without it).
      this.debugWarnings.push(`"symbols" ${this.settings.symbols}: ${(e as Error).message}; debugging without it`);
      symbolsFile = undefined;
    }
    if (extra) {
      symbols = [...symbols, ...extra.symbols].sort((a, b) => a.addr - b.addr);
      lines = [...lines, ...extra.lines].sort((a, b) => a.addr - b.addr);
    } else if (lines.length === 0 && linesWithoutDebugInfo) {
      lines = linesWithoutDebugInfo(this.image);
    }
    this.symbols = symbols;
    this.lines = lines;
    for (const sym of symbols) this.symbolAddresses.set(sym.name, sym.addr >>> 0);
    this.c = CDebugger.fromFiles([program, symbolsFile], symbols, (m) => {
      if (this.listenerCount('output') > 0) this.emit('output', `Ringside: ${m}\n`, 'console');
      else if (this.debugWarnings.length < 50) this.debugWarnings.push(m);
    });
    if (this.c) this.breakpoints.isTypeName = (n) => this.c!.isTypeName(n);
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
      (kind, e) => this.emit('timeline', kind, e, this.eventOrdinal),
      (o) => this.emit('timeline-overflow', o),
    );
    this.subscribeEvents();
    this.history = settings.reverse.enabled && !settings.noDebug ? new History(this.machine, { maxBytes: settings.reverse.maxMemoryMB * 1024 * 1024 }) : null;
    this.checkpoint();
  }

  /** While a replay runs nothing reaches the session: the events were reported when the run first passed there. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (this.replay !== null) return false;
    return super.emit(event, ...args);
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
    try {
      this.editNow(edit);
    } finally {
      // The machine is not what the record says it becomes: the future is gone, and this moment is kept anew.
      if (this.history) {
        this.history.forgetFrom(this.cpu.icount);
        this.inputsAhead = [];
        this.checkpoint(true);
      }
    }
  }

  private editNow(edit: GuestEdit): void {
    const m = this.monitor;
    if (m === null) {
      this.c?.invalidate();
      return edit(this.cpu);
    }
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
    this.c?.invalidate();
    if ('error' in outcome) throw outcome.error;
  }

  /**
   * Evaluation context of the stopped CPU; the image's symbols stand for their addresses behind the registers.
   * With DWARF, C names of frame `frame` (0: the innermost) come first and `$name` reaches Ringside's own.
   */
  context(frame = 0): EvalContext {
    const cpu = cpuContext(this.viewCpu());
    if (this.c) {
      // While running (a breakpoint condition, a logpoint) the frames of the last stop are stale.
      if (this.state !== 'stopped') this.c.invalidate();
      return this.c.context(this.viewCpu(), this.interruptFrames, cpu, this.symbolAddresses, frame);
    }
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
    // Into a C function: on past its prologue, as gdb does, to where its arguments are readable.
    let prologue: { end: number; steps: number } | null = null;
    this.resume({
      after: (cpu) => {
        if (prologue) return currentLinear(cpu) === prologue.end || ++prologue.steps > 256;
        if (!this.leftLine(cpu, start)) return false;
        const end = this.c?.prologueEnd(currentLinear(cpu), this.lines);
        if (end === undefined) return true;
        prologue = { end, steps: 0 };
        return false;
      },
    });
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

  // ---------------------------------------------------------------- reverse execution

  /** How far back the record reaches, in guest time since launch (for the user), or null when there is none. */
  get reverseReach(): { earliest: number; furthest: number; bytes: number; maxBytes: number } | null {
    const h = this.history;
    if (!h || h.count === 0) return null;
    const maxBytes = this.settings.reverse.maxMemoryMB * 1024 * 1024;
    return { earliest: h.earliest - this.startIcount, furthest: Math.max(h.furthest, this.cpu.icount) - this.startIcount, bytes: h.bytes, maxBytes };
  }

  private requireHistory(): History<RuntimeSide> {
    if (this.state !== 'stopped') throw new Error('the guest must be stopped to travel in time');
    if (!this.history) throw new Error('reverse execution is off (launch attribute "reverse": { "enabled": false })');
    return this.history;
  }

  /**
   * Travels to `instructions` of guest time since launch (ringside/goto), anywhere the run has reached. Like the
   * other reverse commands it travels at once (throwing when it cannot) and returns the stop, which the caller
   * reports with `announce` after its response.
   */
  goto(instructions: number): RuntimeStop {
    const h = this.requireHistory();
    const target = this.startIcount + instructions;
    const furthest = Math.max(h.furthest, this.cpu.icount);
    if (target > furthest) throw new Error(`the run has reached ${furthest - this.startIcount} instructions; it cannot go to ${instructions} before it gets there`);
    if (target < h.earliest) throw new Error(this.reachMessage(h));
    this.travel(target);
    return { reason: 'goto', description: `went to ${instructions} instructions` };
  }

  /**
   * Travels to just after the timeline event with this ordinal (the moment a filter stop for it shows), anywhere
   * the run has reached: from the last checkpoint before it, forward until the event has happened.
   */
  gotoEvent(ordinal: number): RuntimeStop {
    const h = this.requireHistory();
    const cps = h.checkpointsBefore(Infinity).filter((c) => c.side.events < ordinal);
    const cp = cps[0];
    if (!cp) throw new Error(`event ${ordinal} is before what the record reaches (${this.reachMessage(h)})`);
    const furthest = Math.max(h.furthest, this.cpu.icount);
    const here = this.cpu.icount;
    this.replayFrom(cp, furthest, this.data.watchesRegisters ? this.registerStepper() : null, false, false, ordinal);
    if (this.eventOrdinal < ordinal) {
      // Not reached within the run so far: stay where the user was.
      this.travel(here);
      throw new Error(`event ${ordinal} has not happened yet: the run so far has ${this.eventOrdinal} timeline events`);
    }
    return { reason: 'goto', description: `went to event ${ordinal}` };
  }

  /** Reports the stop a reverse command arrived at (after the request's response has gone out). */
  announce(stop: RuntimeStop): void {
    if (this.state === 'stopped') this.stopNow(stop);
  }

  /** Steps back one instruction, or to the start of the previous source line. */
  stepBack(granularity: 'instruction' | 'line'): RuntimeStop {
    const h = this.requireHistory();
    const now = this.cpu.icount;
    if (now <= h.earliest) throw new Error(this.reachMessage(h));
    let target = now - 1;
    if (granularity === 'line' && this.lines.length > 0) {
      const starts = this.searchBack(now, () => this.lineStartStepper());
      target = starts === null ? h.earliest : starts.icount;
    }
    this.travel(target);
    if (granularity === 'instruction' && this.cpu.halted) {
      // Inside a HLT's wait for an interrupt, where guest time runs on but no step stops (a step from the HLT waits
      // for the interrupt and runs its handler's first instruction): back to the moment a step last stopped at.
      const step = (): Stepper => ({ after: () => true });
      const found = this.searchBack(now, step);
      if (found !== null) this.replayFrom(found.from, found.end, step(), true, found.decideAtEnd, 0, found.index + 1);
    }
    return { reason: 'step', description: 'stepped back' };
  }

  /**
   * Runs backwards to the last moment before now at which running forward would have stopped: a breakpoint with
   * its condition and hit count, an armed exception filter with its condition, a data breakpoint. With none, the
   * start of the record.
   */
  reverseContinue(): RuntimeStop {
    const h = this.requireHistory();
    const stepper = (): Stepper | null => (this.data.watchesRegisters ? this.registerStepper() : null);
    const found = this.searchBack(this.cpu.icount, stepper);
    if (found) {
      // Replays the interval again up to that very stop (not only its instruction count).
      if (found.index < 0) this.replayFrom(found.from, found.from.icount, stepper(), false);
      else this.replayFrom(found.from, found.end, stepper(), true, found.decideAtEnd, 0, found.index + 1);
      this.restoreHits(found.hits);
      return found.stop;
    }
    this.travel(h.earliest);
    const atStart = h.earliest === this.startIcount;
    const text = atStart ? 'no earlier stop: at the start of the run' : `no earlier stop in the record: ${this.reachMessage(h)}`;
    return { reason: 'entry', description: atStart ? 'start of the run' : 'start of the record', text };
  }

  private reachMessage(h: History<RuntimeSide>): string {
    return `the record reaches back to ${h.earliest - this.startIcount} instructions (launch attribute "reverse": "maxMemoryMB" bounds it)`;
  }

  /**
   * The last stop before `now` that a replay meets, searching one checkpoint interval at a time, latest first.
   * Each interval is replayed from its checkpoint to the next one (to `now` for the latest); stops at `now` or
   * later are not earlier moments.
   */
  private searchBack(now: number, stepper: () => Stepper | null): (ReplayedStop & { from: Checkpoint<RuntimeSide>; end: number; decideAtEnd: boolean; index: number }) | null {
    const h = this.history!;
    let end = now;
    // With only exception filters armed (no breakpoint, no data breakpoint, no stepper), an interval in which none of
    // the armed kinds happened holds no stop: it is not replayed.
    const onlyFilters = this.cpu.breakpoints.size === 0 && !this.data.any && stepper() === null;
    const armed = [...this.filters.keys()] as EventName[];
    let countsAtEnd: Partial<Record<EventName, number>> = { ...this.kindCounts };
    for (const cp of h.checkpointsBefore(now)) {
      const quiet = onlyFilters && armed.every((k) => (countsAtEnd[k] ?? 0) === (cp.side.kinds[k] ?? 0));
      countsAtEnd = cp.side.kinds;
      if (!quiet) {
        // A later checkpoint that is a stop of its own is found as one (below), not decided again at the end here.
        const decideAtEnd = end < now && h.checkpointAtOrBefore(end)?.side.stop == null;
        const stops = this.replayFrom(cp, end, stepper(), true, decideAtEnd);
        let index = stops.length - 1;
        while (index >= 0 && stops[index].icount >= now) index--;
        if (index >= 0) return { ...stops[index], from: cp, end, decideAtEnd, index };
      }
      // The stop made at the checkpoint's own moment, while still armed (index -1: the checkpoint itself).
      const own = cp.side.stop;
      if (own !== null && cp.icount < now && this.stillArmed(own)) {
        return { icount: cp.icount, stop: own.stop, hits: cp.side.hits, from: cp, end: cp.icount, decideAtEnd: false, index: -1 };
      }
      end = cp.icount;
    }
    return null;
  }

  /** Whether a stop recorded at a checkpoint would be made again now: its breakpoint set, its filter armed alike. */
  private stillArmed(own: NonNullable<RuntimeSide['stop']>): boolean {
    const x = own.stop.exception;
    if (x === undefined) return this.cpu.breakpoints.has(own.at);
    return this.filters.get(x.filter)?.text === own.filterText;
  }

  /** A stepper that stops wherever a new source line starts (a step back by line lands on the latest one). */
  private lineStartStepper(): Stepper {
    let previous = lineAt(this.lines, currentLinear(this.cpu));
    return {
      after: (cpu) => {
        const now = lineAt(this.lines, currentLinear(cpu));
        const start = now !== undefined && (previous === undefined || now.line !== previous.line || now.file !== previous.file);
        previous = now;
        return start;
      },
    };
  }

  /** Puts the machine at `target` (guest time, icount), the debugger's own state with it. */
  private travel(target: number): void {
    const h = this.history!;
    const cp = h.checkpointAtOrBefore(target);
    if (!cp) throw new Error(this.reachMessage(h));
    this.replayFrom(cp, target, this.data.watchesRegisters ? this.registerStepper() : null, false);
  }

  /**
   * Restores `cp` and runs forward to `end` through the same run loop as a forward run — breakpoints decided with
   * their conditions and hit counts, filters and data breakpoints judged — but every stop is recorded (or, for a
   * plain travel, passed) instead of made, and nothing is reported. Returns the stops met, in order.
   */
  private replayFrom(cp: Checkpoint<RuntimeSide>, end: number, stepper: Stepper | null, collect: boolean, decideAtEnd = false, untilEvent = 0, untilStop = 0): ReplayedStop[] {
    const h = this.history!;
    h.restore(cp);
    this.settledAt = cp;
    this.restoreSide(cp.side);
    const stops: ReplayedStop[] = [];
    const inputs = h.inputsAfter(cp, end);
    let next = 0;
    this.replay = { end, stops: collect ? stops : null, stepper, untilEvent, untilStop, reachedEvent: false };
    this.state = 'running';
    this.pendingStop = null;
    this.queuedStops = [];
    this.skipBreakpointHere = cp.side.skip;
    this.data.rebaseRegisters();
    try {
      while (this.cpu.icount < end) {
        while (next < inputs.length && inputs[next].icount <= this.cpu.icount) h.give(inputs[next++]);
        this.replay.end = next < inputs.length ? Math.min(end, inputs[next].icount) : end;
        const before = this.cpu.icount;
        const stopped = stepper ? this.runSteps(stepper) : this.runFree();
        if (this.replay.reachedEvent) break;
        if ((this.state as string) === 'ended') throw new Error(`the replay ended early: ${this.ended?.message ?? 'the guest stopped'}`);
        if (stopped) {
          this.pendingStop = null;
          this.queuedStops = [];
          this.skipBreakpointHere = this.cpu.breakpoints.has(currentLinear(this.cpu));
        } else if (this.cpu.icount === before && this.cpu.halted) {
          // A halted CPU that nothing wakes before `end`: time stands still there (it did the first time too).
          break;
        }
      }
      if (!this.replay.reachedEvent) while (next < inputs.length && inputs[next].icount <= this.cpu.icount) h.give(inputs[next++]);
      // A run arriving at `end` decides the breakpoint there; the replay of the interval that ends at a checkpoint
      // must too, or a stop exactly at a checkpoint's moment would be found by neither interval.
      if (decideAtEnd && !this.replay.reachedEvent && !this.skipBreakpointHere && this.cpu.breakpoints.has(currentLinear(this.cpu))) this.onBreakpoint();
    } finally {
      // Arrived at a stop: the others the same instruction made are reported by `continue`, as forward.
      const queued = this.replay.untilStop > 0 && this.replay.reachedEvent ? this.queuedStops : [];
      this.inputsAhead = h.inputsAhead(cp, this.cpu.icount);
      this.replay = null;
      this.state = 'stopped';
      this.stepper = null;
      this.pendingStop = null;
      this.queuedStops = queued;
      this.consoleBytes = [];
      this.serialBytes = [];
    }
    return stops;
  }

  /**
   * Keeps the present moment in the record: at every stop (`stopped`: a resume from here skips the breakpoint at
   * this instruction, as `resume` does), and every `checkpointEvery` ms of running.
   */
  private checkpoint(stopped: boolean | RuntimeStop = false): void {
    const h = this.history;
    if (!h || this.replay !== null) return;
    const now = Date.now();
    if (!stopped && now - this.lastCheckpointAt < this.checkpointEvery) return;
    this.lastCheckpointAt = now;
    const skip = stopped ? this.cpu.breakpoints.has(currentLinear(this.cpu)) : this.skipBreakpointHere;
    const filter = typeof stopped === 'object' && stopped.exception ? this.filters.get(stopped.exception.filter) : undefined;
    const stop = typeof stopped === 'object' ? { stop: stopped, at: currentLinear(this.cpu), filterText: filter?.text ?? '' } : null;
    // Under the monitor a checkpoint restarts it (history.ts), as a restore for a replay does: the events of that
    // restart are the debugger's, not the guest's, and count in neither run.
    const first = h.count === 0;
    this.settling = true;
    try {
      this.settledAt = h.take({ frames: this.interruptFrames.map((f) => ({ ...f })), hits: this.hitCounts(), skip, events: this.eventOrdinal, kinds: { ...this.kindCounts }, dataHits: this.data.hitCounts(), stop }) ?? this.settledAt;
    } finally {
      this.settling = false;
    }
    // The launch's checkpoint (the whole of memory, the record's code still cold) says nothing about the next ones;
    // of the periodic ones, the cheapest of the last three counts, so one slow checkpoint does not stretch the gap.
    if (!stopped && first === false) {
      this.recentTakeMs = [...this.recentTakeMs.slice(-2), Date.now() - now];
      this.checkpointEvery = Math.min(CHECKPOINT_MAX_MS, Math.max(CHECKPOINT_MS, CHECKPOINT_SHARE * Math.min(...this.recentTakeMs)));
    }
  }
  private settling = false;
  /** Host time between periodic checkpoints: CHECKPOINT_MS, or longer while taking one costs more. */
  private checkpointEvery = CHECKPOINT_MS;
  /** How long the last periodic checkpoints took (ms), at most three. */
  private recentTakeMs: number[] = [];

  private hitCounts(): [number, number][] {
    return this.breakpoints.all().map((e) => [e.id, e.hits]);
  }

  private restoreHits(saved: [number, number][]): void {
    const hits = new Map(saved);
    for (const e of this.breakpoints.all()) e.hits = hits.get(e.id) ?? 0;
  }

  private restoreSide(side: RuntimeSide): void {
    this.interruptFrames.length = 0;
    for (const f of side.frames) this.interruptFrames.push({ ...f });
    this.restoreHits(side.hits);
    this.data.restoreHits(side.dataHits);
    this.eventOrdinal = side.events;
    this.kindCounts = { ...side.kinds };
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
      this.checkpoint();
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
    if (this.replay !== null) return Math.max(0, this.replay.end - this.cpu.icount);
    const max = this.settings.maxInstructions;
    const left = max === undefined ? Infinity : Math.max(0, max - this.instructions);
    // A recorded input ahead is given between instructions: the run pauses at its moment (giveInputsDue).
    return this.inputsAhead.length > 0 ? Math.min(left, Math.max(0, this.inputsAhead[0].icount - this.cpu.icount)) : left;
  }

  /** Gives the recorded inputs whose moment has come (a forward run through the recorded past). */
  private giveInputsDue(): void {
    while (this.replay === null && this.inputsAhead.length > 0 && this.inputsAhead[0].icount <= this.cpu.icount) {
      this.history?.give(this.inputsAhead.shift()!);
    }
  }

  /**
   * Instructions until the next recorded checkpoint, while the run goes again through time it has recorded under
   * the monitor (after a travel back): the run must meet each at its moment (settleAtCheckpoint).
   */
  private untilCheckpoint(): number {
    if (this.monitor === null || this.history === null) return Infinity;
    const next = this.history.checkpointAfter(this.cpu.icount);
    return next === null ? Infinity : next.icount - this.cpu.icount;
  }

  /**
   * Under the monitor the first run went on from each checkpoint as restored (history.ts): a run through recorded
   * time does the same at each one it meets, and so stays the recorded run, the monitor's traps included.
   */
  private settleAtCheckpoint(): void {
    const h = this.history;
    if (this.monitor === null || h === null || this.cpu.icount > h.latest) return;
    const cp = h.checkpointAtOrBefore(this.cpu.icount);
    if (cp !== null && cp.icount === this.cpu.icount && cp !== this.settledAt) {
      this.settledAt = cp;
      h.restore(cp);
    }
  }
  /** The checkpoint a run last met (or started from): it is not restored twice in a row. */
  private settledAt: Checkpoint<RuntimeSide> | null = null;

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
      this.giveInputsDue();
      if (this.skipBreakpointHere) {
        this.skipBreakpointHere = false;
        if (this.stepOne() || this.takePending()) return true;
      }
      const budget = Math.min(this.budget, this.remaining(), this.untilCheckpoint());
      if (budget <= 0) return false;
      const t0 = Date.now();
      const r = this.machine.runSlice(budget);
      this.settleAtCheckpoint();
      if (this.replay?.reachedEvent === true) return true;
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
      this.giveInputsDue();
      stepper.before?.(this.cpu);
      if (this.stepOne()) return true;
      this.settleAtCheckpoint();
      n++;
      if (this.replay?.reachedEvent === true) return true;
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
    if (this.replay !== null && this.replay.stops === null) return;
    if (!this.pendingStop) this.pendingStop = s;
    else if (this.queuedStops.length < 16) this.queuedStops.push(s);
    this.machine.requestStop();
  }

  private stopNow(s: RuntimeStop): void {
    if (this.replay !== null) {
      const r = this.replay;
      r.stops?.push({ icount: this.cpu.icount, stop: s, hits: this.hitCounts() });
      // The stop travelled to: the machine stays exactly there (an interrupt's delivery leaves guest time as it is,
      // so a stop at a handler's first instruction is not "the moment" of its instruction count).
      if (r.stops !== null && r.stops.length === r.untilStop) r.reachedEvent = true;
      return;
    }
    this.flushConsole();
    this.timeline.endWindow(); // the summaries of the window come before the stop
    this.state = 'stopped';
    this.stepper = null;
    this.pauseRequested = false;
    if (this.cpu.stopRequested) {
      this.cpu.stopRequested = false;
      this.cpu.updateAttention();
    }
    this.data.rebaseRegisters();
    this.c?.invalidate();
    this.lastStop = s;
    this.checkpoint(RECORDED_STOPS.has(s.reason) ? s : true);
    this.emit('stopped', s);
  }

  private finish(end: RuntimeEnd): void {
    if (this.state === 'ended') return;
    this.flushConsole();
    this.timeline.endWindow();
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
    const keys = keysForText(text);
    this.recordInput({ kind: 'typed', keys });
    this.machine.typeKeys(keys);
  }

  /**
   * Bytes for the guest's COM1 receiver, one per character (char codes 0–255, as `ringside/serial` sends output).
   * At most SERIAL_INPUT_CAP bytes wait for the guest to read them; of more, the first ones that fit are queued.
   * Throws on a character that is not a byte, queuing nothing. Returns how many bytes were queued.
   */
  serialInput(text: string): { accepted: number; queuedBefore: number } {
    const queuedBefore = this.machine.devices.serialInputQueued();
    if (queuedBefore < 0) throw new Error('the machine has no COM1 UART');
    for (let k = 0; k < text.length; k++) {
      const code = text.charCodeAt(k);
      if (code > 0xff) {
        throw new Error(
          `character ${k + 1} of the input (U+${code.toString(16).toUpperCase().padStart(4, '0')}) is not a byte: send bytes as char codes 0–255 (encode text as UTF-8 first)`,
        );
      }
    }
    const accepted = Math.max(0, Math.min(text.length, SERIAL_INPUT_CAP - queuedBefore));
    const bytes = new Array<number>(accepted);
    for (let k = 0; k < accepted; k++) bytes[k] = text.charCodeAt(k);
    if (accepted > 0) {
      this.recordInput({ kind: 'serial', bytes });
      this.machine.serialInput(bytes);
    }
    return { accepted, queuedBefore };
  }

  /**
   * Keeps a host input in the record, so a replay gives it again. Given in the recorded past, it makes a new future:
   * the recorded one (its checkpoints and inputs from now on) is dropped, as after an edit.
   */
  private recordInput(input: InputPayload): void {
    const h = this.history;
    if (!h) return;
    if (h.furthest > this.cpu.icount || this.inputsAhead.length > 0) {
      h.forgetFrom(this.cpu.icount);
      this.inputsAhead = [];
      if (this.state === 'stopped') this.checkpoint(true);
    }
    h.recordInput(input);
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
        this.filters.set(f.filterId as FilterId, { condition, text: f.condition?.trim() ?? '' });
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
    if (this.state !== 'running' || this.settling) return;
    if (name === 'cpu-exception') this.announced = { vector: (e as EventMap['cpu-exception']).vector, icount: this.cpu.icount };
    if (name === 'segment-load') this.trackInterruptFrames(e as EventMap['segment-load']);
    if (this.settings.trace.includes(name)) {
      if (this.traceCount++ < TRACE_EVENTS_PER_SLICE) this.emit('trace', name, e);
      else this.traceDropped++;
    }
    if (this.timeline.wants(name)) {
      this.eventOrdinal++;
      this.kindCounts[name] = (this.kindCounts[name] ?? 0) + 1;
      const r = this.replay;
      if (r !== null && this.eventOrdinal === r.untilEvent) {
        // The event travelled to: stop after its instruction, where a filter stop for it would be.
        r.reachedEvent = true;
        this.machine.requestStop();
      }
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
