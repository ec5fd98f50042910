// The monitor (model.md §3, engine/monitor/README.md): runs guest protected-mode code deprivileged on the engine's
// CPU, enters on every fault, interrupt and SBE trap through its own IDT and TSS (real CPU delivery), emulates or
// reflects against the guest's view, and returns by the two return sequences as real CPU operations.
//
// States:
//   emulated — the CPU holds the guest's own state and runs it as a bare CPU would (real mode, the switch into
//              protected mode, V86 mode, paging, and any state the deprivileged CPU cannot reproduce);
//   direct   — the CPU runs the guest at CPL 3 on the virtual GDT, the monitor's IDT and TSS; `guest` holds the
//              guest's view of everything the real CPU shows differently.

import type { Cpu, MonitorHook } from '../cpu/cpu';
import { CodeAssumptions } from '../cpu/code-assumptions';
import { CR0_PE, CR0_PG, CS, DS, ES, ESP, FS, GS, LDTR, SEGMENT_NAMES, SS, TR, AR_P, AR_S, AR_DPL, AR_DPL_SHIFT } from '../cpu/cpu';
import { CpuFault, fault, NO_ERROR_CODE, pushesErrorCode, R_GP_CS_LIMIT, rule, VEC_DB, VEC_GP, VEC_NMI, VEC_PF } from '../cpu/faults';
import { FIXED1, IF, IOPL, NT, RF, TF, VM } from '../cpu/flags';
import { deliverFault, deliverInterrupt, raiseException, SOURCE_EXCEPTION, SOURCE_EXTERNAL } from '../cpu/interrupt';
import { iretEflags, protectedEflags } from '../cpu/protect/iret';
import { adjustSp, checkPops, peekSlot, stackOffset } from '../cpu/protect/stack-frame';
import { deliverDebugTraps, DR6_BS } from '../cpu/debug-registers';
import { decode } from '../cpu/decode/decoder';
import { Instr, type Handler } from '../cpu/decode/instr';
import { HANDLERS } from '../cpu/ops';
import { disassembleOne } from '../cpu/decode/disassemble';
import { ACCESS_FETCH } from '../cpu/protect/paging';
import { peekWalk } from '../cpu/protect/peek';
import { TLB_FRAME, TLB_USER_WRITE, type Tlb, type TlbSnapshot } from '../cpu/protect/tlb';
import { accessRightsOf, decodeDescriptor, Descriptor, encodeSegment } from '../cpu/protect/descriptor';
import { checkConsistency } from '../cpu/protect/consistency';
import { loadSegment } from '../cpu/protect/segment-load';
import { descriptorBefore, type ReplacedByte } from '../cpu/protect/descriptor-write';
import { consistencyListenersChanged } from '../cpu/protect/consistency-events';
import { EventHub, EV_MODE_CHANGE, EV_SEGMENT_LOAD, EV_CACHE_CONSISTENT, EV_CACHE_INCONSISTENT, EV_DESCRIPTOR_WRITE, EV_MONITOR_TRAP, EV_SBE_CHANGE } from '../events';
import type { PhysicalMemory } from '../bus/memory';
import type { MonitorTrapEvent, SegmentLoadCause, SegmentLoadEvent } from '../events';
import { GuestState } from './guest-state';
import { EntryRecorder } from './entry-recorder';
import { HiddenMemory } from './hidden-memory';
import {
  IDT_OFFSET,
  MON_VECTOR_EXTERNAL,
  MON_VECTOR_SBE,
  MON_VECTOR_TABLE_WRITE,
  MON_VECTORS,
  MONITOR_BYTES,
  monitorBaseIndex,
  RETURN_CODE,
  RETURN_CODE_OFFSET,
  STACK_OFFSET,
  STACK_SIZE,
  TSS_LIMIT,
  TSS_OFFSET,
  VGDT_OFFSET,
  VLDT_OFFSET,
} from './layout';
import { isAlwaysSensitive, isSensitive } from './sensitive';
import { guestFlags, inPlaceHandlers } from './in-place';
import { ordinaryInterruptGate, ordinarySameLevelReturn } from './in-place-transfer';
import { ordinaryDataLoad } from './in-place-segment';
import { LookInputs } from './look-inputs';
import { LDT_SLOT, slotOf, VirtualTables } from './virtual-tables';
import { virtualizeAccessRights, virtualizeHigh } from './virtualize';
import { MonitorCounters } from './counters';
import { TableWatch, type WatchedRange } from './table-watch';
import { ShadowPaging } from './shadow-paging';

export type SbeMode = 'auto' | 'on' | 'off';
/** What the decoder binds: nothing, the always-sensitive set, or everything sensitive. */
type Scan = 'none' | 'always' | 'all';
const SCANS: readonly Scan[] = ['none', 'always', 'all'];
export type MonitorState = 'emulated' | 'direct';
export type ReturnPath = 'consistent' | 'inconsistent';

export interface MonitorOptions {
  /** `auto` (default): SBE off only while model.md's conditions hold; `on`/`off` force it for experiments. */
  sbe?: SbeMode;
  /**
   * Entry and return shortcuts (default on; engine/monitor/README.md "The cost of one entry"): a fault enters
   * without the real delivery through the monitor's IDT, and a return that would repeat the last real consistent
   * return's loads sets the CPU to their result. Off, every entry and return runs as real CPU operations (the tests
   * compare both, instruction by instruction).
   */
  shortcuts?: boolean;
}

/** One return to the guest, for tests and the Monitor scope. */
export interface ReturnRecord {
  path: ReturnPath;
  /** Registers whose cache was written into the virtual table at their selector before their load. */
  written: string[];
  /** Virtual-table slots marked inaccessible afterwards ("GDT[3]", "LDT[1]"). */
  marked: string[];
  icount: number;
}

const R_SBE = rule('monitor.sbe', 'a sensitive instruction is bound to the monitor by scan-before-execute', 'engine/monitor/README.md (SBE)');
const CR4_VME = 0x1;
const CR4_PVI = 0x2;
const CR4_PSE = 0x10;
const CR4_PGE = 0x80;
const DATA_SEGS = [DS, ES, FS, GS];
/** The empty list of a consistent return's record (shared: records are read, never changed). */
const NONE: string[] = Object.freeze([]) as unknown as string[];
const VECTOR_REASONS: Record<number, string> = {
  0: 'de', 1: 'debug', 2: 'nmi', 3: 'bp', 4: 'of', 5: 'br', 6: 'ud', 7: 'nm', 8: 'df', 10: 'ts', 11: 'np', 12: 'ss',
  13: 'gp', 14: 'pf', 16: 'mf', 17: 'ac',
};

/** How enter() delivers the event into the monitor: an exception, an interrupt through its IDT, pending debug traps. */
const ENTER_EXCEPTION = 0;
const ENTER_INTERRUPT = 1;
const ENTER_DEBUG_TRAPS = 2;

/** What boundaryEntry did: nothing was due, a monitor entry, an external interrupt delivered in place. */
const BOUNDARY_NONE = 0;
const BOUNDARY_ENTERED = 1;
const BOUNDARY_IN_PLACE = 2;

/** One immutable fault object serves every SBE trap (a trap is the monitor's most frequent entry). */
const SBE_FAULT = new CpuFault(MON_VECTOR_SBE, NO_ERROR_CODE, R_SBE);

export class Monitor implements MonitorHook {
  state: MonitorState = 'emulated';
  readonly guest = new GuestState();
  /** Why the monitor runs the guest emulated now (null while direct). */
  emulatedBecause: string | null = 'not started';
  /** Real CPU operations of the monitor itself (its entries, context switches and return sequences). */
  readonly internalEvents = new EventHub();
  readonly counters = new MonitorCounters();
  readonly tables: VirtualTables;
  readonly hidden: HiddenMemory;
  readonly sbeMode: SbeMode;
  readonly shortcuts: boolean;
  sbeOn = true;
  sbeCondition = 'the monitor is not engaged';
  /** Per register (ES…GS, LDTR, TR): 'consistent' or the differing fields, as last reported. */
  readonly consistency: string[] = new Array<string>(8).fill('');
  /**
   * The last return sequences run (most recent last, bounded). A direct return (the shortcut that sets the result of
   * a consistent sequence without running it) is not recorded here, to spare the entry a record: `lastReturn` and
   * `onReturn` see every return.
   */
  readonly returns: ReturnRecord[] = [];
  /** Called after every return to the guest, direct ones included (tests, the debugger's Monitor scope). */
  onReturn: ((r: ReturnRecord) => void) | null = null;
  /** Guest time of the last direct return while it is the latest return (-1 when a recorded one came after it). */
  private directReturnAt = -1;
  /** Set to a reason when the monitor had to give up running a state deprivileged (never thrown). */
  lastPanic: string | null = null;

  /** The guest's TLB (the CPU's own): in the CPU whenever it holds the guest's view. */
  readonly guestTlb: Tlb;
  /** Shadow page tables for a paging guest (shadow-paging.ts). */
  readonly shadow: ShadowPaging;
  /** Linear page of the last real #PF while the guest ran directly: its shadow entry is made after the entry. */
  private shadowMiss = -1;
  /** The inputs of the last consistency look (consistencyInputsChanged), and a count of changes to the tables. */
  private readonly look: LookInputs;
  /** Whether the last look after an entry found the guest runnable deprivileged (afterGuestView). */
  private lastLookRunnable = false;
  /** What prepareTables last watched and built from (tablesUnchanged); NaN: look again. */
  private readonly tablesKey = new Float64Array(10).fill(NaN);
  private tableEpoch = 0;
  /** The current entry's monitor-trap event (asEntry emits it first when the entry ends). */
  private entryTrap: MonitorTrapEvent | null = null;
  private readonly mem: PhysicalMemory;
  private readonly watch: TableWatch;
  /**
   * The real segment state the last return left (ES…GS), to recognise loads the guest did directly since: after a
   * direct return, `returnResult` itself (what that return set; nothing copied), else `ownInstalled`.
   */
  private installed: GuestState;
  private readonly ownInstalled = new GuestState();
  /** The guest's hub (where the debugger listens). */
  private readonly liveEvents: EventHub;
  /** Where guest-visible events go while the monitor handles an entry: recorded, then replayed after its trap event. */
  private guestSink: EventHub;
  private readonly recorder = new EntryRecorder();
  private muteDepth = 0;
  private scan: Scan = 'none';
  /** Set while restore() runs: scan changes wait for its end. */
  private holdScan = false;
  private pendingExternal = -1;
  private sbeSince = 0;
  private readonly returnCode: Instr[] = [];
  private readonly returnOffsets: number[] = [];
  private inEntry = false;
  /** sbeDecision's answer while the guest runs at CPL 0–2, and the CPL and CS RPL it was made for. */
  private cplDecision: [boolean, string] = [true, ''];
  private cplDecisionKey = -1;
  /**
   * The last real consistent return (returnToGuest): the guest's segment registers, CPL and LDTR it returned to, and
   * the monitor's GDT limit and window address then (`returnKey`), and the real CPU's segment registers it left
   * (`returnResult`). Valid while `returnKeyValid`. A later return to the same guest state, with every virtual entry
   * still holding what those loads read, gives the same caches: directReturn sets them without the loads.
   */
  private readonly returnKey = new GuestState();
  private readonly returnResult = new GuestState();
  private returnKeyGdtLimit = -1;
  private returnKeyLinear = -1;
  private returnKeyValid = false;
  /** The virtual tables' version when every register's slot last held its cache for `returnKey` (directReturn). */
  private returnKeySlots = -1;
  /**
   * Whether `guest`'s segment registers (LDTR included) held `returnKey`'s when the current entry put them into the
   * CPU, and `enteredSegments` the registers the entry's emulation wrote since (Cpu.segmentsWritten): the others still
   * hold the key's, so directReturn compares only these. Anything else that changes `guest`'s registers clears it.
   */
  private guestIsKey = false;
  private enteredSegments = 0xff;
  /** The guest's descriptor of the current in-place segment load or transfer (loadSegmentInPlace, iretInPlace, deliverInPlace). */
  private readonly inPlaceDescriptor = new Descriptor();
  /** The guest's IDT gate of the current in-place delivery, and the real CPU's descriptor of an in-place CS load. */
  private readonly inPlaceGate = new Descriptor();
  private readonly realDescriptor = new Descriptor();
  /** External interrupts delivered in place (deliverInPlace). */
  private readonly inPlaceInterrupts = this.counters.inPlaceCounter('interrupt');
  /** A reused descriptor pair for the slot checks (encodeSegment's `out`). */
  private readonly pair: [number, number] = [0, 0];
  /** returnToGuest's record of the slots it wrote (reused: cleared at each return). */
  private readonly writtenSlots = new Map<number, string[]>();
  /** The ranges prepareTables watches, reused: the watch keeps these objects and rebuilds whenever their values change. */
  private readonly watchedRanges: WatchedRange[] = [
    { table: 'GDT', base: 0, limit: 0 },
    { table: 'LDT', base: 0, limit: 0 },
    { table: 'IDT', base: 0, limit: 0 },
  ];
  private readonly watchedRangesNoLdt = [this.watchedRanges[0], this.watchedRanges[2]];
  /** Sensitive instructions completed in place, without a monitor entry (in-place.ts). */
  private readonly inPlace = inPlaceHandlers(this);
  /** What SBE binds a sensitive instruction to: the monitor's entry, made in the handler's place or by a thrown trap. */
  private readonly sbeBound: Handler;
  /**
   * The physical pages holding instructions decoded under each scan since applyScan last dropped them (a page may be
   * in two sets: code decoded under both).
   */
  private readonly scannedPages: Record<Scan, Set<number>> = { none: new Set(), always: new Set(), all: new Set() };
  private readonly scanAll = (i: Instr, page: number): void => {
    this.scannedPages.all.add(page);
    const own = i.row === null ? undefined : this.inPlace.get(i.row.handler);
    if (own !== undefined) i.exec = own;
    else if (isSensitive(i)) i.exec = this.sbeBound;
  };
  private readonly scanAlways = (i: Instr, page: number): void => {
    this.scannedPages.always.add(page);
    if (isAlwaysSensitive(i)) i.exec = this.sbeBound;
  };
  /** While nothing is bound: only where code was decoded (an engagement drops those pages). */
  private readonly scanNone = (_i: Instr, page: number): void => {
    this.scannedPages.none.add(page);
  };
  /** The decoded instruction whose SBE trap the current entry handles (sbeEntry): emulateOne executes it. */
  private sbeInstr: Instr | null = null;
  /**
   * What the run loop and translated blocks assume of the CPU when an entry begins: the entry's two switches leave
   * the code epoch alone, and endEntry moves it only if the entry changed any of it (engine/cpu/code-assumptions.ts).
   */
  private readonly codeState = new CodeAssumptions();
  /**
   * Where the guest goes on after the current entry if it changes nothing of the flow: an SBE trap's fall-through, a
   * boundary event's EIP; -1 for a fault (the run loop starts its chain over after one). Anywhere else (a fault the
   * emulation delivered), endEntry moves the epoch: a translated block that called the trap goes on only at its
   * fall-through.
   */
  private entryNext = -1;

  constructor(
    readonly cpu: Cpu,
    options: MonitorOptions = {},
  ) {
    if (cpu.monitor !== null) throw new Error('a monitor is already attached to this CPU');
    this.mem = cpu.mem;
    this.installed = this.ownInstalled;
    this.sbeMode = options.sbe ?? 'auto';
    this.shortcuts = options.shortcuts ?? true;
    this.sbeBound = this.shortcuts ? (_cpu, i) => this.sbeEntry(i) : (_cpu, i) => this.sbeTrap(i);
    this.hidden = new HiddenMemory(cpu.mem, MONITOR_BYTES);
    this.tables = new VirtualTables(this.hidden);
    this.guestTlb = cpu.tlb;
    this.look = new LookInputs(cpu.mem, this.guestTlb);
    this.shadow = new ShadowPaging(cpu, this.hidden, this.guestTlb);
    this.tables.translate = (linear) => this.guestPhysical(linear);
    this.liveEvents = cpu.events;
    this.guestSink = cpu.events;
    this.watch = new TableWatch(cpu.mem, (r, first, last, replaced) => this.onTableStore(r, first, last, replaced));
    this.decodeReturnCode();
    cpu.monitor = this;
    // What was decoded before the monitor came is recorded under no scan: it goes now, and from here on every page
    // of decoded code is known by the scan it was decoded under (applyScan).
    cpu.sbeScan = this.scanNone;
    cpu.dropDecodedInstructions();
    cpu.events.on('mode-change', () => {
      if (this.state === 'emulated' && this.muteDepth === 0) this.requestLook();
    });
    this.requestLook();
  }

  get ownsConsistency(): boolean {
    return this.state === 'direct';
  }

  get deprivileged(): boolean {
    return this.state === 'direct';
  }

  inPlaceCounter(name: string): { n: number } {
    return this.counters.inPlaceCounter(name);
  }

  enterForBound(i: Instr): void {
    this.sbeBound(this.cpu, i);
  }

  /**
   * A data segment load by the deprivileged guest at CPL 0–2, completed in place (in-place.ts): when the guest's load
   * is an ordinary one (in-place-segment.ts), the register was last reported consistent and holds what the last
   * return installed, and its virtual entry holds the guest's entry as ring compression makes it (no return's
   * cache written there), the real CPU's load (protect/segment-load.ts) loads the register from that entry — the
   * cache a consistent return's pop gives it — and the guest's record, the installed state and the guest's
   * segment-load event follow, as the emulation gives them. Nothing else of an entry's work is due: at CPL 0–2 SBE stays on
   * whatever the registers hold, whyNotDirect asks of a data register only a usable, readable cache within the
   * guest's table (which the load's checks ensure), and the register stays consistent, as reported.
   */
  loadSegmentInPlace(seg: number, selector: number, cause: SegmentLoadCause): boolean {
    const cpu = this.cpu;
    const d = this.inPlaceDescriptor;
    if (!this.inPlaceLoadable(seg)) return false;
    if (!ordinaryDataLoad(this.mem, this.guest, this.guestTlb, cpu.a20Mask, selector, d) || !this.slotHoldsGuest(selector, d)) return false;
    // The look an entry makes after the load would find every other register as last reported (its inputs stand:
    // look-inputs.ts) and this one consistent: nothing to report. Otherwise the entry reports what changed.
    if (this.look.differs(this.guest, cpu.a20Mask, this.tableEpoch, seg)) return false;
    this.mute();
    try {
      loadSegment(cpu, seg, selector, cause);
    } finally {
      this.unmute();
    }
    this.recordInPlaceLoad(seg, selector, d, cause);
    return true;
  }

  /**
   * What every load of `seg` completed in place asks of the monitor's state: no entry under way, the guest at CPL
   * 0–2 (SBE stays on whatever the registers hold), the register last reported consistent and holding what the last
   * return installed.
   */
  private inPlaceLoadable(seg: number): boolean {
    return !this.inEntry && this.guest.cpl !== 3 && this.consistency[seg] === 'consistent' && !this.loadedSinceReturn(seg);
  }

  /** Whether `selector`'s virtual entry holds the guest's descriptor `d` as ring compression makes it (no return's cache written there). */
  private slotHoldsGuest(selector: number, d: Descriptor): boolean {
    const slot = selector >>> 3;
    const t = this.tables;
    return !t.dirty.has(slot) && t.slotHolds(slot, d.lo, virtualizeHigh(d.hi, this.guest.cpl));
  }

  /**
   * After a load of `seg` completed in place on the real CPU: the guest's record of the register (`selector` and the
   * cache its descriptor `d` gives), the installed state when the real register moved, the look's record of it, and
   * the guest's segment-load event, as the emulation gives them.
   */
  private recordInPlaceLoad(seg: number, selector: number, d: Descriptor, cause: SegmentLoadCause): void {
    const g = this.guest;
    const cpu = this.cpu;
    const ar = accessRightsOf(d);
    const ev = this.liveEvents;
    const report = ev.active[EV_SEGMENT_LOAD] !== 0;
    const oldSelector = g.sel[seg];
    const oldCache = report ? g.cache(seg) : null;
    if (oldSelector !== selector || g.base[seg] !== (d.base | 0) || g.limit[seg] !== d.limit || g.ar[seg] !== ar || g.valid[seg] !== 1) {
      g.setSegment(seg, selector, d.base, d.limit, ar, true);
      this.guestIsKey = false;
    }
    if (this.loadedSinceReturn(seg)) {
      this.ownInstalledState();
      this.takeLiveSegment(this.installed, seg);
    }
    this.look.recordRegister(g, seg, cpu.a20Mask);
    if (report) {
      ev.emit(EV_SEGMENT_LOAD, { reg: seg, oldSelector, newSelector: selector, oldCache: oldCache!, newCache: g.cache(seg), cause, cs: g.sel[CS], eip: cpu.instrStart });
    }
  }

  /**
   * CS loaded in place by a transfer within the guest's privilege level (in-place-transfer.ts): the real CPU's load
   * from the virtual entry (slotHoldsGuest) through the compressed selector, as its own far transfer commits one
   * (protect/code-segment.ts branchFar; the accessed bit is set already), then the guest's record with RPL = CPL.
   */
  private loadCodeInPlace(selector: number, d: Descriptor, cause: SegmentLoadCause): void {
    const cpu = this.cpu;
    const g = this.guest;
    const v = decodeDescriptor(d.lo, virtualizeHigh(d.hi, g.cpl), this.realDescriptor);
    if ((cpu.segBase[CS] | 0) !== (v.base | 0)) cpu.mappingsChanged();
    this.mute();
    try {
      cpu.loadSegmentCache(CS, (selector & 0xfffc) | 3, v.base, v.limit, accessRightsOf(v), true, cause);
    } finally {
      this.unmute();
    }
    this.recordInPlaceLoad(CS, (selector & 0xfffc) | g.cpl, d, cause);
  }

  /**
   * The guest's IRET completed in place (in-place.ts): a protected-mode return within its privilege level through an
   * ordinary code descriptor (in-place-transfer.ts ordinarySameLevelReturn), CS and SS as the last return installed
   * them and reported consistent. False (nothing changed) when it must be emulated. The frame is read by the real
   * CPU, whose SS has the guest's base, limit and type and whose pages are the guest's TLB's: a fault there (the
   * guest's #SS or #PF, or a shadow miss) is thrown before anything changed, and the run loop hands it to the
   * monitor, whose emulation of the IRET on the guest's view raises the guest's own.
   */
  iretInPlace(os32: boolean): boolean {
    const cpu = this.cpu;
    const g = this.guest;
    // NT = 1: a task return through the TSS's back link (protect/task-switch.ts).
    if (!this.inPlaceLoadable(CS) || this.loadedSinceReturn(SS) || (cpu.flags & NT) !== 0) return false;
    const size = os32 ? 4 : 2;
    // IF top 6 (12) bytes of stack not within stack limits THEN #SS(0)
    checkPops(cpu, 3, size);
    const eip = peekSlot(cpu, 0, size);
    const selector = cpu.peekStack(size, 2);
    const popped = peekSlot(cpu, 2 * size, size);
    // IF tempEFLAGS(VM) = 1 and CPL = 0 (32-bit): RETURN-TO-VIRTUAL-8086-MODE
    if (size === 4 && (popped & VM) !== 0 && g.cpl === 0) return false;
    const d = this.inPlaceDescriptor;
    if (!ordinarySameLevelReturn(this.mem, g, this.guestTlb, cpu.a20Mask, selector, eip, d) || !this.slotHoldsGuest(selector, d)) return false;
    if (this.look.differs(g, cpu.a20Mask, this.tableEpoch, CS)) return false;
    // EFLAGS by the guest's CPL and IOPL (protect/iret.ts), computed before the transfer as bare IRET computes them.
    const flags = iretEflags(cpu, guestFlags(cpu, g), g.cpl, popped, size);
    this.loadCodeInPlace(selector, d, 'iret');
    cpu.eip = eip >>> 0;
    adjustSp(cpu, 3 * size);
    g.eflags = flags;
    cpu.setEflags(flags & ~IOPL);
    return true;
  }

  /**
   * External interrupt `vector` delivered in place at this boundary: through an ordinary interrupt or trap gate of
   * the guest's IDT to a handler at its own privilege level (in-place-transfer.ts ordinaryInterruptGate), CS and SS
   * as the last return installed them and reported consistent, and the frame's slots within SS and writable in the
   * real CPU's TLB (a miss there is a shadow fill the entry makes). The frame is pushed by the real CPU through the
   * guest's stack, then CS:EIP and EFLAGS as bare delivery sets them (protect/interrupt.ts deliverSamePrivilege).
   * False (nothing changed) when the monitor's entry must deliver it.
   */
  private deliverInPlace(vector: number): boolean {
    const cpu = this.cpu;
    const g = this.guest;
    if (!this.inPlaceLoadable(CS) || this.loadedSinceReturn(SS)) return false;
    const gate = this.inPlaceGate;
    const d = this.inPlaceDescriptor;
    if (!ordinaryInterruptGate(this.mem, g, this.guestTlb, cpu.a20Mask, vector, gate, d) || !this.slotHoldsGuest(gate.selector, d)) return false;
    const size = gate.is32 ? 4 : 2;
    // IF current stack does not have room for the frame THEN #SS(EXT): left to the emulation, as a page the frame
    // would reach without a writable translation in the real TLB.
    if (!this.framePushable(3, size)) return false;
    if (this.look.differs(g, cpu.a20Mask, this.tableEpoch, CS)) return false;
    // (Debug traps of the instruction before were taken first at this boundary: none is pending to drop, as bare
    // delivery drops them, interrupt.ts deliverInterrupt.)
    const flags = guestFlags(cpu, g);
    cpu.push(size, size === 4 ? flags : flags & 0xffff);
    cpu.push(size, g.sel[CS]);
    cpu.push(size, size === 4 ? cpu.eip : cpu.eip & 0xffff);
    this.loadCodeInPlace(gate.selector, d, 'interrupt');
    cpu.eip = gate.offset >>> 0;
    // TF, NT, RF, VM ← 0; an interrupt gate also clears IF, a trap gate does not.
    const next = (flags & ~(gate.kind === 'interrupt-gate' ? TF | NT | RF | VM | IF : TF | NT | RF | VM)) >>> 0;
    g.eflags = next;
    cpu.setEflags(next & ~IOPL);
    this.inPlaceInterrupts.n++;
    return true;
  }

  /** Whether `count` pushes of `size` bytes by the deprivileged CPU pass SS's checks and its TLB without a fault. */
  private framePushable(count: number, size: number): boolean {
    const cpu = this.cpu;
    const entries = cpu.tlb.entries;
    for (let k = 1; k <= count; k++) {
      const off = stackOffset(cpu, -k * size);
      if (off < cpu.writeLo[SS] || off + size - 1 > cpu.writeHi[SS]) return false;
      if (!cpu.pagingOn) continue;
      const lin = (cpu.segBase[SS] + off) >>> 0;
      // The real CPU runs the guest at CPL 3: a user write.
      if ((entries[lin >>> 12] & TLB_USER_WRITE) === 0 || (entries[((lin + size - 1) >>> 0) >>> 12] & TLB_USER_WRITE) === 0) return false;
    }
    return true;
  }

  // =====================================================================================================
  // Hooks called by the CPU
  // =====================================================================================================

  fault(f: CpuFault, rf: number): void {
    if (this.state !== 'direct' || this.inEntry) {
      deliverFault(this.cpu, f);
      return;
    }
    const reason = f.vector === MON_VECTOR_SBE ? 'sbe' : (VECTOR_REASONS[f.vector] ?? `vector-${f.vector}`);
    // A real #PF on the shadow tables: CR2 is the real CPU's (the guest's own CR2 stays in its view).
    this.shadowMiss = f.vector === VEC_PF ? this.cpu.cr2 >>> 12 : -1;
    this.enter(ENTER_EXCEPTION, f.vector, f.errorCode, reason, rf);
  }

  /**
   * The SBE trap as an entry shortcut: the bound handler enters the monitor itself and returns, instead of throwing
   * a fault for the run loop to catch (a JavaScript exception, unwinding out of the loop and setting it up again,
   * was the largest single cost of an entry). It does what the run loop's fault path does before it hands a fault
   * over (Cpu.run): EIP back to the instruction, its debug traps dropped, RF set as a fault's delivery sets it. The
   * run loop then counts the instruction once, as its fault path does after the monitor's emulation; inside a
   * translated block (jit/compile.ts interpreterCall) the instructions the block retired before this one are in
   * `jitRetired` and count when the block returns, so they are added to the count for the entry's duration only:
   * what the emulation reads of guest time (the TSC, devices) is what the fault path gives it.
   */
  private sbeEntry(i: Instr): void {
    const cpu = this.cpu;
    if (this.state !== 'direct' || this.inEntry) {
      // The CPU holds the guest's own state (no binding outlives direct execution; this is a bare CPU's step).
      HANDLERS[i.row!.handler](cpu, i);
      return;
    }
    const retired = cpu.jitRetired;
    cpu.icount += retired;
    cpu.jitRetired = 0;
    this.entryNext = cpu.eip; // the run loop and interpreterCall set the fall-through before the handler
    cpu.eip = cpu.instrStart;
    cpu.pendingDebugTraps = 0;
    const rf = cpu.flags & RF;
    cpu.flags |= RF;
    this.shadowMiss = -1;
    this.sbeInstr = i;
    this.enter(ENTER_EXCEPTION, MON_VECTOR_SBE, NO_ERROR_CODE, 'sbe', rf);
    this.sbeInstr = null;
    cpu.icount -= retired;
    // A triple fault in the emulation: the run loop stops at the boundary (Cpu.betweenInstructions), as after its
    // fault path; a translated block returns to it first.
    if (cpu.shutdown) cpu.attention = true;
  }

  /**
   * The SBE trap without the entry shortcuts: a fault that the run loop hands to the monitor before the instruction
   * executes (sbeEntry is the shortcut). While the guest does not run deprivileged the instruction is a bare CPU's.
   */
  private sbeTrap(i: Instr): void {
    if (this.state !== 'direct' || this.inEntry) {
      HANDLERS[i.row!.handler](this.cpu, i);
      return;
    }
    throw SBE_FAULT;
  }

  boundary(ownWorkOnly = false): boolean {
    const cpu = this.cpu;
    if (this.state !== 'direct') {
      if (!cpu.monitorPending) return false;
      cpu.monitorPending = false;
      cpu.updateAttention();
      if (!this.tryEngage()) return false;
    }
    if (ownWorkOnly) return cpu.monitorPending && this.boundaryEntry() === BOUNDARY_ENTERED;
    // Everything this boundary holds, in a bare CPU's order, before the next guest instruction: one entry may leave
    // another event due (an interrupt waiting behind a debug trap), and none of them is an instruction. An interrupt
    // delivered in place ends the boundary as a bare CPU's delivery does (Cpu.betweenInstructions): its handler's
    // first instruction runs next, and a stop a listener requested during the delivery is taken after it, as bare.
    let entered = false;
    for (let k = 0; k < 8 && this.state === 'direct' && !cpu.shutdown; k++) {
      const r = this.boundaryEntry();
      if (r !== BOUNDARY_ENTERED) break;
      entered = true;
    }
    return entered;
  }

  /**
   * One monitor entry for an event due at this boundary (BOUNDARY_ENTERED), an external interrupt delivered in place
   * (BOUNDARY_IN_PLACE), or nothing due (BOUNDARY_NONE).
   */
  private boundaryEntry(): number {
    const cpu = this.cpu;
    if (cpu.monitorPending) {
      cpu.monitorPending = false;
      cpu.updateAttention();
      // Not a guest event: the store's debug traps (single-step, data breakpoints) are still the guest's to take.
      const traps = cpu.pendingDebugTraps;
      this.enter(ENTER_INTERRUPT, MON_VECTOR_TABLE_WRITE, NO_ERROR_CODE, 'table-write', 0);
      cpu.pendingDebugTraps |= traps;
      if (traps !== 0) cpu.attention = true;
      return BOUNDARY_ENTERED;
    }
    // Traps of the previous instruction come before NMI and INTR (SDM 3A §6.9, Table 6-2).
    if (cpu.pendingDebugTraps !== 0) {
      this.enter(ENTER_DEBUG_TRAPS, 0, 0, 'debug', 0);
      return BOUNDARY_ENTERED;
    }
    if (cpu.nmiPending) {
      cpu.nmiPending = false;
      cpu.halted = false;
      cpu.updateAttention();
      this.pendingExternal = VEC_NMI;
      this.enter(ENTER_INTERRUPT, MON_VECTOR_EXTERNAL, NO_ERROR_CODE, 'nmi', 0);
      return BOUNDARY_ENTERED;
    }
    if (cpu.intrLine && (cpu.flags & IF) !== 0) {
      cpu.halted = false;
      const vector = cpu.acknowledgeInterrupt ? cpu.acknowledgeInterrupt() & 0xff : 0;
      cpu.updateAttention();
      if (this.deliverInPlace(vector)) return BOUNDARY_IN_PLACE;
      this.pendingExternal = vector;
      this.enter(ENTER_INTERRUPT, MON_VECTOR_EXTERNAL, NO_ERROR_CODE, 'external-interrupt', 0);
      return BOUNDARY_ENTERED;
    }
    return BOUNDARY_NONE;
  }

  reset(): void {
    this.cpu.tlb = this.guestTlb;
    if (this.state === 'direct') this.leaveDirect('CPU reset');
    this.mem.hiddenSystem = false;
    this.mem.hiddenData = false;
    this.emulatedBecause = 'CPU reset';
    this.requestLook();
  }

  /** A machine snapshot keeps the guest's view (the CPU's own fields may be the deprivileged ones). */
  snapshot(): unknown {
    const g = new GuestState();
    this.currentGuest(g);
    // What the monitor last reported (SBE, each register's consistency): its next reports are changes from these.
    // The guest's TLB is guest-visible state (a stale entry stays in use): kept, so a restore translates as before.
    const tlb = this.guestTlb.save();
    return { guest: g, halted: this.cpu.halted, sbeOn: this.sbeOn, sbeCondition: this.sbeCondition, consistency: [...this.consistency], tlb };
  }

  /**
   * After Machine.restore wrote the CPU's fields: the guest's view goes back into the CPU, and the monitor starts
   * over from the emulated state, with no shadow entries and no window placed, and engages again at once when the
   * guest's state allows (rebuilding its tables), as at any boundary. What it does from here on depends on the
   * snapshot and memory alone: reverse execution's record restores every checkpoint it takes in the forward run
   * too (engine/machine/history.ts), so a replay from one meets the monitor's traps and SBE switches of the first
   * run one for one.
   */
  restore(saved: unknown): void {
    // The scan changes of leaving and engaging again drop the decoded instructions only if the scan differs in the
    // end: a restart on unchanged memory (a checkpoint: Machine.restoreState's `sameMemory`) keeps its translations.
    const scanBefore = this.scan;
    this.holdScan = true;
    try {
      this.restart(saved);
    } finally {
      this.holdScan = false;
    }
    if (this.scan !== scanBefore) this.dropAllDecoded();
  }

  private restart(saved: unknown): void {
    const s = saved as { guest: GuestState; sbeOn?: boolean; sbeCondition?: string; consistency?: string[]; tlb?: TlbSnapshot };
    if (this.state === 'direct') this.leaveDirect('snapshot restored');
    if (s.sbeOn !== undefined) this.sbeOn = s.sbeOn;
    if (s.sbeCondition !== undefined) this.sbeCondition = s.sbeCondition;
    if (s.consistency !== undefined) this.consistency.splice(0, this.consistency.length, ...s.consistency);
    this.look.known = false;
    this.mem.hiddenData = false;
    this.mem.hiddenSystem = false;
    this.mute();
    try {
      this.installGuest(s.guest);
      this.cpu.mappingsChanged(); // the switch leaves the code epoch alone (Cpu.restoreSegmentRegisters)
      // The guest's TLB as saved, before the window is placed (it avoids slots the TLB translates): the same at a
      // checkpoint's restart as at every later restore of it, so a replay meets the same shadow misses.
      // (Machine.restoreState has moved the code epoch on: nothing was fetched through the TLB since.)
      if (s.tlb !== undefined) this.guestTlb.load(s.tlb);
      else this.guestTlb.clear(false);
    } finally {
      this.unmute();
    }
    this.shadow.reset();
    this.shadowMiss = -1;
    this.pendingExternal = -1;
    this.guest.copyFrom(s.guest);
    this.guestIsKey = false;
    this.emulatedBecause = 'snapshot restored';
    this.requestLook();
    const cpu = this.cpu;
    if (!cpu.interruptShadow && !cpu.halted && !cpu.shutdown) this.boundary(true);
  }

  // =====================================================================================================
  // Entering the monitor
  // =====================================================================================================

  /**
   * The CPU delivers an event through the monitor's IDT (real delivery: stack switch to the monitor stack through
   * the TSS, frame pushed), then the monitor reads the frame, takes the guest's view, acts, and returns.
   */
  private enter(how: number, vector: number, errorCode: number, reason: string, rf: number): void {
    if (this.sbeInstr === null) this.entryNext = how === ENTER_EXCEPTION ? -1 : this.cpu.eip;
    if (!this.beginEntry()) return;
    try {
      this.entryBody(how, vector, errorCode, reason, rf);
    } catch (e) {
      this.entryFailed(`a ${reason} entry`, e);
    } finally {
      this.endEntry();
    }
  }

  /** One entry's work (enter): real delivery into the monitor, the guest's view, emulation or reflection, return. */
  private entryBody(how: number, deliverVector: number, errorCode: number, reason: string, rf: number): void {
    const cpu = this.cpu;
    let vector: number;
    if (how === ENTER_EXCEPTION && this.shortcuts) {
      // A fault needs nothing of the real delivery but the frame it would push: the faulting instruction's EIP, CS,
      // EFLAGS, ESP and SS are still in the CPU (the run loop put EIP back to the instruction's start). Debug traps
      // (DR6) and interrupt acknowledgements have effects of their own and keep the real delivery.
      vector = deliverVector;
      this.counters.directEntries++;
      this.takeFrame(vector, rf, cpu.eip, cpu.segSel[CS], cpu.getEflags(), cpu.regs[ESP] >>> 0, cpu.segSel[SS]);
    } else {
      this.mem.hiddenData = true;
      if (how === ENTER_EXCEPTION) raiseException(cpu, deliverVector, errorCode);
      else if (how === ENTER_INTERRUPT) deliverInterrupt(cpu, deliverVector, errorCode, SOURCE_EXTERNAL);
      else deliverDebugTraps(cpu);
      if (cpu.shutdown || cpu.segSel[CS] !== this.tables.codeSelector) {
        this.panic(`delivery of the ${reason} event into the monitor failed`);
        return;
      }
      vector = cpu.eip;
      this.readFrame(vector, rf);
    }
    this.toGuestView();
    this.counters.countTrap(reason);
    const trap = this.trapEvent(reason, vector);
    this.entryTrap = trap;
    switch (vector) {
      case MON_VECTOR_EXTERNAL:
        this.deliverToGuest(this.pendingExternal, SOURCE_EXTERNAL);
        this.pendingExternal = -1;
        break;
      case MON_VECTOR_TABLE_WRITE:
        break;
      case VEC_DB:
        this.deliverToGuest(VEC_DB, SOURCE_EXCEPTION);
        break;
      default:
        this.emulateOne(rf);
    }
    // What the emulation or reflection wrote of the segment registers is all that changed of them (toGuestView).
    this.afterGuestView(reason === 'table-write' ? 'descriptor-write' : reason === 'external-interrupt' ? 'interrupt' : 'segment-load', cpu.segmentsWritten);
    if (trap !== null) trap.returnPath = this.describeReturn();
  }

  /**
   * Runs `body` as one monitor entry: the monitor's own operations muted, what the guest sees happen recorded and
   * replayed afterwards on the guest's hub (after the entry's `monitor-trap`, when it has one), and any error in the
   * monitor turned into a panic — the guest then runs emulated; nothing escapes into the guest's run.
   */
  private asEntry(what: string, body: () => void): void {
    if (!this.beginEntry()) return;
    try {
      body();
    } catch (e) {
      this.entryFailed(what, e);
    } finally {
      this.endEntry();
    }
  }

  /** The start of an entry (asEntry's first half, spelled out in enter so the hot path allocates no closure). */
  private beginEntry(): boolean {
    this.inEntry = true;
    this.codeState.capture(this.cpu);
    this.recorder.clear();
    this.recorder.follow(this.liveEvents);
    this.guestSink = this.recorder;
    this.entryTrap = null;
    this.mute();
    return true;
  }

  private entryFailed(what: string, e: unknown): void {
    const why = e instanceof CpuFault ? `fault ${e.vector} (${e.rule.id}${e.detail ? `: ${e.detail}` : ''})` : (e as Error).message;
    this.panic(`monitor error during ${what}: ${why}`);
  }

  private endEntry(): void {
    const cpu = this.cpu;
    this.inEntry = false;
    if (!this.codeState.settle(cpu) && this.entryNext >= 0 && cpu.eip !== this.entryNext) cpu.mappingsChanged();
    this.entryNext = -1;
    while (this.muteDepth > 0) this.unmute();
    this.guestSink = this.liveEvents;
    (cpu as { events: EventHub }).events = this.liveEvents;
    const trap = this.entryTrap;
    this.entryTrap = null;
    if (trap !== null && this.liveEvents.active[EV_MONITOR_TRAP]) this.liveEvents.emit(EV_MONITOR_TRAP, trap);
    this.recorder.replay(this.liveEvents);
  }

  /**
   * A debugger edit while the machine is stopped between instructions: the guest's view goes into the CPU, `edit`
   * changes it exactly as on a bare CPU (registers, flags, caches, control registers), and the monitor takes it
   * back as it does after an entry — consistency re-judged and reported, SBE decided, then a return sequence (or
   * the emulated state, when the edited state cannot run deprivileged). No instruction runs and no trap is counted.
   */
  editGuestView(edit: (cpu: Cpu) => void): void {
    if (this.state !== 'direct' || this.inEntry) {
      edit(this.cpu);
      return;
    }
    this.currentGuest(this.guest);
    this.guestIsKey = false;
    this.asEntry('a debugger edit', () => {
      this.toGuestView();
      edit(this.cpu);
      // Debugger writes to guest memory bypass the table watch: the virtual tables are read again.
      this.forgetTables();
      this.tableEpoch++;
      this.afterGuestView('debugger-edit');
    });
  }

  /** How the last entry ended, for the trap event. */
  private describeReturn(): string {
    if (this.state !== 'direct') return `emulated (${this.emulatedBecause})`;
    const r = this.lastReturn;
    if (r === null || r.path === 'consistent') return 'consistent';
    return `inconsistent (${r.written.join(',')} cache written; ${r.marked.join(',')} marked not present)`;
  }

  /** Reads the interrupt frame the CPU pushed on the monitor stack and takes the guest's registers from it. */
  private readFrame(vector: number, rf: number): void {
    const h = this.hidden;
    let at = STACK_OFFSET + (this.cpu.regs[ESP] >>> 0);
    if (vector < 32 && pushesErrorCode(vector)) at += 4;
    this.takeFrame(vector, rf, h.read32(at), h.read32(at + 4) & 0xffff, h.read32(at + 8), h.read32(at + 12), h.read32(at + 16) & 0xffff);
  }

  /** Takes the guest's registers from an interrupt frame's values (pushed by a real delivery, or still in the CPU). */
  private takeFrame(vector: number, rf: number, eip: number, cs: number, eflags: number, esp: number, ss: number): void {
    const g = this.guest;
    // Data segment registers still hold what the guest ran with; CS and SS are in the frame.
    this.adoptDirectLoads(g);
    if (cs !== this.installed.sel[CS]) this.adoptFromSlot(g, CS, cs);
    if (ss !== this.installed.sel[SS]) this.adoptFromSlot(g, SS, ss);
    g.eip = eip;
    g.esp = esp;
    let flags = (eflags & ~IOPL) | (g.eflags & IOPL);
    if (vector < 32 && vector !== VEC_DB && vector !== VEC_NMI) flags = (flags & ~RF) | rf;
    if (vector === MON_VECTOR_SBE) flags = (flags & ~RF) | rf;
    g.eflags = flags >>> 0;
  }

  /** Data segment registers the guest loaded directly since the last return (ring 3, or SBE forced off). */
  private adoptDirectLoads(g: GuestState): void {
    for (const s of DATA_SEGS) if (this.loadedSinceReturn(s)) this.takeLiveSegment(g, s);
  }

  /** During direct execution: every segment register loaded directly since the return, into the guest's view. */
  private adoptLiveLoads(): void {
    const g = this.guest;
    for (let s = 0; s < 6; s++) {
      if (!this.loadedSinceReturn(s)) continue;
      this.takeLiveSegment(g, s);
      this.ownInstalledState();
      this.takeLiveSegment(this.installed, s);
      if (s === CS) g.cpl = this.cpu.cpl;
    }
  }

  /** `installed` as a record of its own, to be changed (it may be the last return's result). */
  private ownInstalledState(): void {
    if (this.installed === this.ownInstalled) return;
    this.ownInstalled.copyFrom(this.installed);
    this.installed = this.ownInstalled;
  }

  /** Whether the real CPU's register differs from what the last return installed (a direct load since). */
  private loadedSinceReturn(s: number): boolean {
    const cpu = this.cpu;
    const inst = this.installed;
    return (
      cpu.segSel[s] !== inst.sel[s] ||
      cpu.segBase[s] !== inst.base[s] ||
      cpu.segLimit[s] !== inst.limit[s] ||
      cpu.segAr[s] !== inst.ar[s] ||
      cpu.segValid[s] !== inst.valid[s]
    );
  }

  /** Copies the real CPU's register `s` (selector and cache) into a guest record. */
  private takeLiveSegment(g: GuestState, s: number): void {
    const cpu = this.cpu;
    if (g === this.guest) this.guestIsKey = false;
    g.setSegment(s, cpu.segSel[s], cpu.segBase[s], cpu.segLimit[s], cpu.segAr[s], cpu.segValid[s] !== 0);
  }

  /** CS or SS changed by a direct far transfer: the cache is the virtual entry it was loaded from. */
  private adoptFromSlot(g: GuestState, seg: number, selector: number): void {
    if (g === this.guest) this.guestIsKey = false;
    const [lo, hi] = this.tables.readSlot(slotOf(selector));
    const d = decodeDescriptor(lo, hi);
    g.setSegment(seg, selector, d.base, d.limit, ((d.hi >>> 8) & 0xf0ff) | 1, true);
    if (seg === CS) g.cpl = selector & 3;
  }

  /** The guest's view, complete, now (the CPU holds it while emulated; direct: tracked state and live registers). */
  currentGuest(out: GuestState = new GuestState()): GuestState {
    const cpu = this.cpu;
    if (this.state !== 'direct' || this.inEntry) {
      out.captureFrom(cpu);
      return out;
    }
    const g = this.guest;
    out.copyFrom(g);
    this.adoptDirectLoads(out);
    for (const s of [CS, SS]) {
      if (cpu.segSel[s] !== this.installed.sel[s]) {
        this.takeLiveSegment(out, s);
        if (s === CS) out.cpl = cpu.cpl;
      }
    }
    out.eip = cpu.eip;
    out.esp = cpu.regs[ESP] >>> 0;
    out.eflags = ((cpu.getEflags() & ~IOPL) | (g.eflags & IOPL)) >>> 0;
    return out;
  }

  /** Puts the guest's view into the CPU; events are live again (what the guest does now is reported as bare). */
  private toGuestView(): void {
    this.mem.hiddenData = false;
    this.mem.hiddenSystem = false;
    this.installGuest(this.guest);
    this.cpu.segmentsWritten = 0;
    this.unmute();
  }

  /** The guest's view into the CPU, with the guest's own TLB (the shadow's stays with the real context). */
  private installGuest(g: GuestState): void {
    this.cpu.tlb = this.guestTlb;
    g.installOn(this.cpu);
  }

  /**
   * Physical address of a guest linear address as the guest's CPU translates it now: its TLB entry, else a walk of
   * its tables without side effects; -1 when unmapped.
   */
  guestPhysical(linear: number): number {
    const g = this.guest;
    const a20 = this.cpu.a20Mask;
    if ((g.cr0 & CR0_PG) === 0 || (g.cr0 & CR0_PE) === 0) return ((linear >>> 0) & a20) >>> 0;
    const entry = this.guestTlb.entries[linear >>> 12];
    if (entry !== 0) return (((entry & TLB_FRAME) | (linear & 0xfff)) & a20) >>> 0;
    return peekWalk(this.mem, g.cr3, g.cr4, a20, linear);
  }

  private trapEvent(reason: string, vector: number): MonitorTrapEvent | null {
    if (!this.liveEvents.active[EV_MONITOR_TRAP]) return null;
    const instruction = vector === MON_VECTOR_EXTERNAL ? `interrupt ${this.pendingExternal}` : vector === MON_VECTOR_TABLE_WRITE ? 'store to a descriptor table' : this.instructionText();
    return { reason, instruction, cs: this.cpu.segSel[CS], eip: this.cpu.eip };
  }

  /** The instruction at the guest's CS:EIP, disassembled (for monitor-trap). */
  instructionText(): string {
    const cpu = this.cpu;
    const read = (off: number): number => {
      const phys = off > cpu.segLimit[CS] ? -1 : this.guestPhysical((cpu.segBase[CS] + off) >>> 0);
      return phys < 0 ? -1 : this.hidden.guestByte(phys);
    };
    try {
      return disassembleOne(read, cpu.eip, cpu.code32).text;
    } catch {
      return '(unreadable)';
    }
  }

  /** Reflects an interrupt or exception into the guest's IDT as bare hardware delivers it. */
  private deliverToGuest(vector: number, source: number): void {
    const cpu = this.cpu;
    try {
      cpu.halted = false;
      deliverInterrupt(cpu, vector, NO_ERROR_CODE, source);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      deliverFault(cpu, e);
    }
  }

  /**
   * Executes the guest's instruction at CS:EIP on the CPU holding the guest's view, with the engine's own handler:
   * exactly what a bare CPU does, including the exception it raises (delivered through the guest's IDT).
   */
  private emulateOne(rf: number): void {
    const cpu = this.cpu;
    cpu.flags = (cpu.flags & ~RF) | rf;
    const start = cpu.eip;
    cpu.instrStart = start;
    // Single-step armed as the run loop arms it before an instruction (the real CPU's arming was dropped with the
    // fault that brought the monitor in): TF at the start traps after it, unless the instruction itself cancels
    // the trap (INT n). It is taken at the next boundary, through the monitor.
    if ((cpu.flags & TF) !== 0) cpu.pendingDebugTraps |= DR6_BS;
    // Guest time while it executes is what a bare CPU sees, the instructions before it (the time-stamp counter that
    // RDTSC and RDMSR read and WRMSR sets, device time for port I/O): the run loop's fault path counts the trapped
    // instruction only after this emulation (Cpu.run).
    // An SBE trap brings the instruction the CPU decoded (sbeEntry): the same bytes in the same mode, executed by its
    // own handler; other entries decode it from the guest's view.
    const kept = this.sbeInstr;
    this.sbeInstr = null;
    try {
      if (kept !== null && kept.d32 === cpu.code32 && kept.row !== null) {
        cpu.eip = cpu.code32 ? (start + kept.len) >>> 0 : (start + kept.len) & 0xffff;
        HANDLERS[kept.row.handler](cpu, kept);
      } else {
        const i = decode(this.fetchGuestByte, start, cpu.code32, new Instr());
        cpu.eip = cpu.code32 ? (start + i.len) >>> 0 : (start + i.len) & 0xffff;
        i.exec(cpu, i);
      }
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      cpu.eip = cpu.instrStart;
      cpu.pendingDebugTraps = 0;
      cpu.flags |= RF;
      deliverFault(cpu, e);
    }
  }

  private readonly fetchGuestByte = (offset: number): number => {
    const cpu = this.cpu;
    if (offset > cpu.segLimit[CS]) fault(VEC_GP, 0, R_GP_CS_LIMIT);
    return cpu.mem.read8(cpu.translate((cpu.segBase[CS] + offset) | 0, ACCESS_FETCH));
  };

  // =====================================================================================================
  // After the guest's view changed: stay emulated, or return to direct execution
  // =====================================================================================================

  private afterGuestView(cause: string, segments = 0xff): void {
    const cpu = this.cpu;
    const g = this.guest;
    g.captureFrom(cpu, segments);
    this.enteredSegments = segments;
    cpu.monitorPending = false;
    // whyNotDirect and the SBE decision read nothing but the consistency look's inputs (mode, CR0, CR3, CPL, GDTR,
    // A20, every segment register) and the consistency found from them, except under guest paging: whether the
    // monitor's window has room (the guest's directory and TLB) and, at CPL 3, whether the tables' pages are in the
    // guest's TLB. When no input changed since a look that found the guest runnable, the rest is asked again and
    // the other answers are the same as then (most entries change nothing of it).
    const epoch = this.tableEpoch;
    const inputsChanged = this.consistencyInputsChanged();
    const same = !inputsChanged && this.lastLookRunnable;
    const paging = (g.cr0 & CR0_PG) !== 0;
    const why = cpu.shutdown ? 'the guest shut down (triple fault)' : same ? this.noWindowRoom() : this.whyNotDirect();
    this.lastLookRunnable = why === null;
    if (why !== null) {
      // What the entry changed is reported before the bare tracker takes over from here as its baseline (a switch
      // to real or V86 mode changes every register's consistency, as on a bare CPU).
      if (!cpu.shutdown) this.recheckConsistency(this.bareCause(cause), false, inputsChanged);
      this.leaveDirect(why);
      return;
    }
    this.preparePaging();
    this.prepareTables();
    // A rebuild of the virtual tables counts as a change of the consistency look's inputs (tableEpoch).
    const tablesMoved = this.tableEpoch !== epoch;
    this.recheckConsistency(this.bareCause(cause), false, inputsChanged || tablesMoved);
    if (!same || tablesMoved || (paging && g.cpl === 3)) this.updateSbe();
    this.returnToGuest();
  }

  /** The cause a bare CPU's tracker gives the entry's changes: the first segment load or mode change seen in it. */
  private bareCause(fallback: string): string {
    const { ids, payloads, count } = this.recorder;
    for (let k = 0; k < count; k++) {
      // A task switch reports its loads and table registers as 'task-switch' (protect/task-switch.ts), and LLDT its
      // LDTR load as 'lldt': both recheck at once through tableRegistersChanged with their own cause
      // (protect/consistency-events.ts), before the segment load's recheck deferred to the instruction's end.
      if (ids[k] === EV_SEGMENT_LOAD) {
        const loadCause = (payloads[k] as SegmentLoadEvent).cause;
        return loadCause === 'task-switch' || loadCause === 'lldt' ? loadCause : 'segment-load';
      }
      if (ids[k] === EV_MODE_CHANGE) return 'mode-change';
    }
    return fallback;
  }

  /** In emulated state: engage when the guest's state can run deprivileged. */
  private tryEngage(): boolean {
    const cpu = this.cpu;
    const g = this.guest;
    g.captureFrom(cpu);
    this.guestIsKey = false;
    const why = this.whyNotDirect();
    if (why !== null) {
      this.emulatedBecause = why;
      // The switch into protected mode: look again at every boundary until CS and SS are loaded.
      if ((g.cr0 & CR0_PE) !== 0 && (g.eflags & VM) === 0 && !cpu.shutdown) this.requestLook();
      // The scan stays as it is (applyScan: a binding made in an earlier engagement is kept while emulated).
      return false;
    }
    this.counters.engagements++;
    this.forgetTables();
    this.preparePaging();
    this.prepareTables();
    this.recheckConsistency('engage', true, true);
    this.updateSbe();
    this.returnToGuest();
    return this.state === 'direct';
  }

  /** Why the guest's state (in `guest`) cannot run deprivileged now, or null when it can. */
  whyNotDirect(): string | null {
    const g = this.guest;
    const cpu = this.cpu;
    if ((g.cr0 & CR0_PE) === 0) return 'real mode';
    if ((g.eflags & VM) !== 0) return 'virtual-8086 mode';
    const noRoom = this.noWindowRoom();
    if (noRoom !== null) return noRoom;
    const top = this.hidden.base + MONITOR_BYTES - 1;
    if (!cpu.a20Enabled && ((this.hidden.base | top) & 0x100000) !== 0) return 'A20 is masked over the monitor region';
    if (!VirtualTables.fits(g.gdtrLimit)) return 'the guest GDT leaves no room for the monitor entries';
    const monitorIndex = monitorBaseIndex(g.gdtrLimit);
    for (let s = 0; s < 6; s++) {
      const name = SEGMENT_NAMES[s];
      const sel = g.sel[s];
      const ar = g.ar[s];
      if ((sel & 0xfffc) === 0) {
        if (s === CS || s === SS) return `${name} holds a null selector (protected mode not entered yet)`;
        if (g.valid[s]) return `${name} holds a usable cache behind a null selector`;
        continue;
      }
      if (!g.valid[s] || (ar & AR_S) === 0) return `${name} holds an unusable or system cache`;
      const code = (ar & 0x8) !== 0;
      if (s === CS && !code) return 'CS holds a data segment cache';
      if (s === SS && (code || (ar & 0x2) === 0)) return 'SS holds a cache that is not writable data';
      if (s !== CS && code && (ar & 0x2) === 0) return `${name} holds an execute-only code cache`;
      if ((sel & 4) === 0) {
        if (sel >>> 3 >= monitorIndex) return `${name} selector 0x${sel.toString(16)} lies beyond the guest's GDT limit`;
      } else if (!g.valid[LDTR] || (g.sel[LDTR] & 0xfffc) === 0 || (sel & 0xfff8) + 7 > g.limit[LDTR]) {
        return `${name} selector 0x${sel.toString(16)} lies beyond the guest's LDT`;
      }
    }
    // One IRET loads CS and SS from their entries of the virtual table: two selectors naming one entry cannot give
    // a code cache and a data cache at once (one of them is stale; GRUB hands over to a multiboot kernel so). The
    // data registers can share, since each is popped in turn.
    if (((g.sel[CS] ^ g.sel[SS]) & 0xfffc) === 0) return `CS and SS share the descriptor of selector 0x${(g.sel[CS] & 0xfffc).toString(16)}`;
    return null;
  }

  /** With guest paging, why the monitor's window finds no free slot (whyNotDirect); null when it does. */
  private noWindowRoom(): string | null {
    const g = this.guest;
    if ((g.cr0 & CR0_PG) === 0 || this.shadow.hasRoom(g.cr3)) return null;
    return "guest paging maps every 4 MiB of linear space (no room for the monitor's window)";
  }

  private prepareTables(force = false): void {
    const g = this.guest;
    const ldtValid = g.valid[LDTR] !== 0 && (g.sel[LDTR] & 0xfffc) !== 0;
    if (!force && this.tablesUnchanged(ldtValid)) return;
    const [gdt, ldt, idt] = this.watchedRanges;
    gdt.base = g.gdtrBase;
    gdt.limit = g.gdtrLimit;
    ldt.base = g.base[LDTR] >>> 0;
    ldt.limit = Math.min(g.limit[LDTR], 0xffff);
    idt.base = g.idtrBase;
    idt.limit = g.idtrLimit;
    const ranges = ldtValid ? this.watchedRanges : this.watchedRangesNoLdt;
    // With guest paging the pages behind the tables can change (CR3, INVLPG): the tables are read again then.
    const mapping = this.watch.watch(ranges, this.tables.translate);
    if (this.tables.sync(g.gdtrBase, g.gdtrLimit, ldtValid, g.base[LDTR], g.limit[LDTR], g.cpl, mapping)) this.tableEpoch++;
    this.rememberTables(ldtValid, mapping);
  }

  /**
   * Whether prepareTables would find what it found last time: without guest paging the watched pages and the
   * virtual tables follow from the table registers, the LDT's cache, the guest's CPL and A20 alone (the watch's
   * `unchanged` and the tables' `sync` compare the same), and nothing since unwatched the pages or invalidated the
   * tables (`forgetTables`). With guest paging the translation may have moved: it always looks.
   */
  private tablesUnchanged(ldtValid: boolean): boolean {
    const g = this.guest;
    const k = this.tablesKey;
    return (
      (g.cr0 & CR0_PG) === 0 &&
      k[0] === g.gdtrBase &&
      k[1] === g.gdtrLimit &&
      k[2] === (ldtValid ? 1 : 0) &&
      k[3] === g.base[LDTR] &&
      k[4] === g.limit[LDTR] &&
      k[5] === g.idtrBase &&
      k[6] === g.idtrLimit &&
      k[7] === g.cpl &&
      k[8] === this.cpu.a20Mask &&
      k[9] === this.watch.currentVersion
    );
  }

  private rememberTables(ldtValid: boolean, mapping: number): void {
    const g = this.guest;
    const k = this.tablesKey;
    if ((g.cr0 & CR0_PG) !== 0) {
      k[0] = NaN;
      return;
    }
    k[0] = g.gdtrBase;
    k[1] = g.gdtrLimit;
    k[2] = ldtValid ? 1 : 0;
    k[3] = g.base[LDTR];
    k[4] = g.limit[LDTR];
    k[5] = g.idtrBase;
    k[6] = g.idtrLimit;
    k[7] = g.cpl;
    k[8] = this.cpu.a20Mask;
    k[9] = mapping;
  }

  /** The virtual tables read again at the next prepareTables (a new engagement, a debugger edit, leaving). */
  private forgetTables(): void {
    this.tables.invalidate();
    this.tablesKey[0] = NaN;
  }

  /**
   * Guest paging: the shadow's window placed and its entries made for the guest's CPL class, then the entry for
   * the page whose real #PF brought the monitor in. Without paging the hidden region's linear address is physical.
   */
  private preparePaging(): void {
    const g = this.guest;
    if ((g.cr0 & CR0_PG) === 0) {
      this.hidden.linear = this.hidden.base;
      return;
    }
    if (!this.shadow.prepare(g.cr3, g.cpl)) throw new Error('no room for the monitor window');
    this.hidden.linear = this.shadow.windowLinear;
    if (this.shadowMiss >= 0) this.shadow.fill(this.shadowMiss);
    this.shadowMiss = -1;
  }

  /** Leaves direct execution: the CPU keeps (or gets) the guest's own state and runs it as a bare CPU. */
  private leaveDirect(why: string): void {
    this.emulatedBecause = why;
    this.lastLookRunnable = false;
    this.returnKeyValid = false;
    this.guestIsKey = false;
    if (this.state === 'direct') {
      this.accountSbeTime();
      this.state = 'emulated';
      this.counters.disengagements++;
    }
    this.watch.unwatch();
    this.forgetTables();
    // The binding stays (applyScan): code decoded while emulated is bound too, and the next engagement drops nothing.
    this.mem.hiddenSystem = false;
    this.mem.hiddenData = false;
    this.syncBareTracker();
    const g = this.guest;
    if ((g.cr0 & CR0_PE) !== 0 && (g.eflags & VM) === 0 && !this.cpu.shutdown) this.requestLook();
  }

  /** Something went wrong that the monitor cannot run deprivileged: put the guest's view back and run emulated. */
  private panic(why: string): void {
    this.counters.panics++;
    this.lastPanic = why;
    try {
      this.mem.hiddenData = false;
      this.mem.hiddenSystem = false;
      this.mute();
      this.installGuest(this.guest);
      this.cpu.mappingsChanged(); // the switch leaves the code epoch alone (Cpu.restoreSegmentRegisters)
    } finally {
      while (this.muteDepth > 0) this.unmute();
    }
    this.leaveDirect(why);
  }

  // =====================================================================================================
  // Consistency and SBE
  // =====================================================================================================

  /** Recomputes each register's consistency on the CPU holding the guest's view; reports changes. */
  private recheckConsistency(cause: string, baseline: boolean, inputsChanged: boolean): void {
    const cpu = this.cpu;
    const ev = this.guestSink;
    if (!baseline && !inputsChanged) return;
    // A baseline look records no inputs: the next look compares afresh.
    if (baseline) this.look.known = false;
    for (let reg = 0; reg < 8; reg++) {
      const r = checkConsistency(cpu, reg);
      const now = r.consistent ? 'consistent' : r.differs.join(',');
      if (now === this.consistency[reg]) continue;
      this.consistency[reg] = now;
      if (baseline) continue;
      const id = r.consistent ? EV_CACHE_CONSISTENT : EV_CACHE_INCONSISTENT;
      if (ev.active[id]) ev.emit(id, { reg, differs: r.consistent ? [] : r.differs, cause, cs: cpu.segSel[CS], eip: cpu.instrStart });
    }
  }

  /**
   * Whether anything a register's consistency depends on may have changed since the last look (look-inputs.ts: the
   * guest's mode, CR0, CR3, CR4, CPL, GDTR, A20, each register's selector and cache, the tables' contents —
   * `tableEpoch`: every guest store to them is watched, every rebuild and debugger edit counts — and with guest
   * paging where each register's descriptor is found); records them when one did. `guest` holds the guest's view.
   */
  private consistencyInputsChanged(): boolean {
    const g = this.guest;
    const a20 = this.cpu.a20Mask;
    if (!this.look.differs(g, a20, this.tableEpoch)) return false;
    this.look.record(g, a20, this.tableEpoch);
    return true;
  }

  /** Model.md §3: SBE is off only while every selector has RPL 3, every loaded descriptor DPL 3, every cache is consistent. */
  sbeDecision(): [boolean, string] {
    if (this.sbeMode === 'on') return [true, 'forced on (--sbe on)'];
    if (this.sbeMode === 'off') return [false, 'forced off (--sbe off)'];
    const g = this.guest;
    if (g.cpl !== 3) {
      // The decision of every entry from ring-0 code: its text is built once per CPL and RPL, not per entry.
      const key = g.cpl * 4 + (g.sel[CS] & 3);
      if (key !== this.cplDecisionKey) {
        this.cplDecisionKey = key;
        this.cplDecision = [true, `guest CPL ${g.cpl} (CS RPL ${g.sel[CS] & 3})`];
      }
      return this.cplDecision;
    }
    for (let s = 0; s < 6; s++) {
      const sel = g.sel[s];
      if ((sel & 0xfffc) !== 0 && (sel & 3) !== 3) return [true, `${SEGMENT_NAMES[s]} selector 0x${hex4(sel)} has RPL ${sel & 3}`];
    }
    for (let s = 0; s < 6; s++) {
      const dpl = (g.ar[s] & AR_DPL) >>> AR_DPL_SHIFT;
      if (g.valid[s] && dpl !== 3) return [true, `${SEGMENT_NAMES[s]} descriptor DPL ${dpl}`];
    }
    for (let s = 0; s < 6; s++) {
      if (this.consistency[s] !== 'consistent') return [true, `${SEGMENT_NAMES[s]} cache inconsistent (${this.consistency[s]})`];
    }
    if ((g.cr0 & CR0_PG) !== 0) {
      const page = this.tablePageOutsideTlb();
      if (page !== null) return [true, page];
    }
    return [false, 'all selectors RPL 3, all descriptors DPL 3, all caches consistent'];
  }

  /**
   * With guest paging, a direct segment load reads the virtual GDT, not the guest's table through its TLB; a bare
   * CPU whose TLB lacks the table's page would walk and set the accessed bits there (SDM 3A §4.8). So SBE stays on
   * (loads trap and are emulated through the guest's paging) until every page of the GDT and LDT is in its TLB.
   */
  private tablePageOutsideTlb(): string | null {
    const g = this.guest;
    const ranges: [string, number, number][] = [['GDT', g.gdtrBase, g.gdtrLimit]];
    if (g.valid[LDTR] && (g.sel[LDTR] & 0xfffc) !== 0) ranges.push(['LDT', g.base[LDTR] >>> 0, Math.min(g.limit[LDTR], 0xffff)]);
    for (const [table, base, limit] of ranges) {
      for (let page = base >>> 12; page <= ((base + limit) >>> 0) >>> 12; page++) {
        if (this.guestTlb.entries[page] === 0) return `${table} page 0x${((page << 12) >>> 0).toString(16)} not in the guest's TLB`;
      }
    }
    return null;
  }

  private updateSbe(): void {
    const [on, condition] = this.sbeDecision();
    if (on !== this.sbeOn) {
      this.accountSbeTime();
      this.sbeOn = on;
      this.counters.sbeChanges++;
      if (this.guestSink.active[EV_SBE_CHANGE]) this.guestSink.emit(EV_SBE_CHANGE, { on, condition });
    }
    this.sbeCondition = condition;
    this.applyScan(this.sbeMode === 'off' ? 'none' : on ? 'all' : 'always');
  }

  private accountSbeTime(): void {
    const now = this.cpu.icount;
    if (this.state === 'direct') {
      if (this.sbeOn) this.counters.sbeOnInstructions += now - this.sbeSince;
      else this.counters.sbeOffInstructions += now - this.sbeSince;
    }
    this.sbeSince = now;
  }

  /**
   * Binds the decoder's SBE predicate. Engaging (a scan that binds) drops the pages holding code decoded under any
   * other scan, so every instruction there is decoded and scanned again, with the blocks built from them; the pages
   * decoded under this scan in an earlier engagement keep their instructions and blocks. Leaving keeps the binding:
   * a bound instruction runs as a bare CPU's while the monitor does not run the guest deprivileged (sbeEntry and the
   * in-place handlers look first), so what the guest decodes while emulated (its real-mode code, its switch into
   * protected mode) is bound as well and the next engagement finds no page decoded under another scan. A guest that
   * switches modes around its BIOS calls (SYSLINUX: 136 switches to its kernel) used to have all its code decoded
   * and translated again after each; then (scan 'none' while emulated) every page holding code of both modes — the
   * cold-code workload's single page, 20 000 switches — was still dropped at each engagement. Only the code decoded
   * before the first engagement is decoded unbound (scan 'none': a guest that never reaches protected mode runs
   * its sensitive instructions natively in translated code).
   */
  private applyScan(scan: Scan): void {
    if (scan === this.scan) return;
    this.scan = scan;
    const cpu = this.cpu;
    cpu.sbeScan = scan === 'all' ? this.scanAll : scan === 'always' ? this.scanAlways : this.scanNone;
    if (this.holdScan) return; // restore() drops them once at its end, if the scan changed
    if (scan === 'none') return;
    // Translated blocks call a sensitive instruction's handler through its decoded record (jit/ops.ts: none of them
    // is translated natively once bound), so the bound trap fires inside blocks too; a block built from unbound
    // instructions goes with the page it was built from.
    const drop: number[] = [];
    for (const other of SCANS) {
      if (other === scan) continue;
      for (const page of this.scannedPages[other]) drop.push(page);
      this.scannedPages[other].clear();
    }
    for (const page of drop) this.scannedPages[scan].delete(page);
    if (drop.length > 0) cpu.dropDecodedPages(drop);
  }

  /** Every decoded instruction dropped: no page holds code of any scan. */
  private dropAllDecoded(): void {
    this.cpu.dropDecodedInstructions();
    for (const s of SCANS) this.scannedPages[s].clear();
  }

  // =====================================================================================================
  // Guest stores to its descriptor tables
  // =====================================================================================================

  private onTableStore(r: WatchedRange, first: number, last: number, replaced: ReplacedByte[]): void {
    this.tableEpoch++;
    if (this.state !== 'direct') return;
    const cpu = this.cpu;
    // A store from directly executed code: registers the guest loaded directly since the return are taken into its
    // view now, from the live caches, before their virtual entries change under them.
    if (!this.inEntry) this.adoptLiveLoads();
    const ev = this.guestSink;
    for (let index = first >>> 3; index <= last >>> 3; index++) {
      if (r.table !== 'IDT') {
        const slot = index | (r.table === 'LDT' ? LDT_SLOT : 0);
        if (!this.tables.dirty.has(slot)) this.tables.refresh(slot);
      }
      if (ev.active[EV_DESCRIPTOR_WRITE] && this.muteDepth === 0) {
        const entry = (r.base + index * 8) >>> 0;
        const after: [number, number] = [this.tables.guestLinear32(entry) >>> 0, this.tables.guestLinear32((entry + 4) >>> 0) >>> 0];
        const before = descriptorBefore(after, entry, replaced);
        const inGuestView = this.inEntry;
        ev.emit(EV_DESCRIPTOR_WRITE, {
          table: r.table,
          index,
          oldValue: [before[0], before[1]],
          newValue: [after[0], after[1]],
          cs: inGuestView ? cpu.segSel[CS] : this.currentGuest().sel[CS],
          eip: cpu.instrStart,
        });
      }
    }
    if (!this.inEntry) this.requestLook();
  }

  /**
   * Starts or stops the bare CPU's consistency tracker (it stands down while the monitor is engaged), judged on the
   * guest's hub — not on the monitor's internal or recording hub, which may be installed right now.
   */
  private syncBareTracker(): void {
    const cpu = this.cpu as { events: EventHub };
    const current = cpu.events;
    cpu.events = this.liveEvents;
    try {
      consistencyListenersChanged(this.cpu);
    } finally {
      cpu.events = current;
    }
  }

  requestLook(): void {
    this.cpu.monitorPending = true;
    this.cpu.attention = true;
  }

  // =====================================================================================================
  // Returning to the guest (model.md §3): real descriptor writes, segment loads and IRET
  // =====================================================================================================

  private decodeReturnCode(): void {
    const bytes = RETURN_CODE;
    let off = 0;
    while (off < bytes.length) {
      const start = off;
      const i = decode((o) => bytes[o - RETURN_CODE_OFFSET] ?? 0, RETURN_CODE_OFFSET + start, true, new Instr());
      this.returnCode.push(i);
      this.returnOffsets.push(RETURN_CODE_OFFSET + start);
      off += i.len;
    }
  }

  /** Runs instruction `k` of the return code (pop ds, pop es, pop fs, pop gs, iretd) on the CPU. */
  private execReturn(k: number): boolean {
    const cpu = this.cpu;
    const i = this.returnCode[k];
    const at = this.returnOffsets[k];
    cpu.instrStart = at;
    cpu.eip = at + i.len;
    try {
      i.exec(cpu, i);
      return true;
    } catch (e) {
      if (e instanceof CpuFault) return false;
      throw e;
    }
  }

  /** Switches the CPU to the monitor's context: its tables, CPL 0, its code and stack segments. */
  private monitorContext(): void {
    const cpu = this.cpu;
    const t = this.tables;
    this.mem.hiddenData = true;
    this.installMonitorTables();
    cpu.setEflags(FIXED1);
    cpu.cpl = 0;
    const code = t.monitorCode;
    const stack = t.monitorStack;
    cpu.loadSegmentCache(CS, t.codeSelector, code.base, code.limit, code.ar, true, 'monitor');
    cpu.loadSegmentCache(SS, t.stackSelector, stack.base, stack.limit, stack.ar, true, 'monitor');
    cpu.regs[ESP] = STACK_SIZE;
    cpu.modeChanged();
  }

  /**
   * What the deprivileged guest runs on, set by the monitor's context switch and kept by its return: the real
   * control registers, the monitor's GDT, IDT and TSS, the virtual LDT, and the TLB the CPU walks with.
   */
  private installMonitorTables(): void {
    const cpu = this.cpu;
    const g = this.guest;
    const h = this.hidden;
    const t = this.tables;
    this.installMonitorRegisters();
    cpu.loadSegmentCache(TR, t.tssSelector, h.linear + TSS_OFFSET, TSS_LIMIT, AR_P | 0xb, true, 'monitor');
    if (g.valid[LDTR] && (g.sel[LDTR] & 0xfffc) !== 0) {
      cpu.loadSegmentCache(LDTR, g.sel[LDTR], h.linear + VLDT_OFFSET, Math.min(g.limit[LDTR], 0xffff), AR_P | 0x2, true, 'monitor');
    } else {
      cpu.loadSegmentCache(LDTR, g.sel[LDTR], 0, 0, 0, false, 'monitor');
    }
  }

  /** installMonitorTables but TR and LDTR: the control registers, table registers and TLB of direct execution. */
  private installMonitorRegisters(): void {
    const cpu = this.cpu;
    const g = this.guest;
    const h = this.hidden;
    const t = this.tables;
    this.mem.hiddenSystem = true;
    const paging = (g.cr0 & CR0_PG) !== 0;
    // A paging guest runs on the shadow tables (shadow-paging.ts), 4 KiB pages only, none global.
    cpu.tlb = paging ? this.shadow.realTlb : this.guestTlb;
    cpu.cr0 = (g.cr0 | CR0_PE) | 0;
    cpu.cr2 = g.cr2 | 0;
    cpu.cr3 = (paging ? this.shadow.directory : g.cr3) | 0;
    cpu.cr4 = ((g.cpl < 3 ? g.cr4 & ~(CR4_VME | CR4_PVI) : g.cr4) & (paging ? ~(CR4_PSE | CR4_PGE) : -1)) | 0;
    cpu.gdtrBase = (h.linear + VGDT_OFFSET) | 0;
    cpu.gdtrLimit = t.gdtLimit;
    cpu.idtrBase = (h.linear + IDT_OFFSET) | 0;
    cpu.idtrLimit = MON_VECTORS * 8 - 1;
    // SYSENTER with IA32_SYSENTER_CS[15:2] = 0 raises #GP(0) at any CPL: the guest's SYSENTER traps to the monitor.
    cpu.sysenterCs = 0;
  }

  /**
   * The return: frame [DS ES FS GS EIP CS EFLAGS ESP SS] on the monitor stack; for each data segment register,
   * when its cache differs from what its virtual entry would load, the cache is written into the virtual table at
   * its own selector first (the inconsistent path); `pop` loads it. Slots so written are marked not present once
   * all four are loaded, then IRET (CS and SS get the same treatment before it).
   */
  private returnToGuest(): void {
    const cpu = this.cpu;
    const g = this.guest;
    const t = this.tables;
    const h = this.hidden;
    // The return code's instructions are the monitor's, not the guest's: the instruction a later event reports
    // (an interrupt delivered at the next boundary says where the guest was) stays the guest's, as on a bare CPU.
    const guestInstrStart = cpu.instrStart;
    this.mute();
    try {
      if (this.directReturn()) return;
      this.monitorContext();
      t.restoreDirty();
      const top = STACK_SIZE - 36;
      const frame = STACK_OFFSET + top;
      const realIopl = g.cpl === 3 ? g.eflags & IOPL : 0;
      h.write32(frame, g.sel[DS]);
      h.write32(frame + 4, g.sel[ES]);
      h.write32(frame + 8, g.sel[FS]);
      h.write32(frame + 12, g.sel[GS]);
      h.write32(frame + 16, g.eip);
      h.write32(frame + 20, g.sel[CS] | 3);
      h.write32(frame + 24, ((g.eflags & ~(IOPL | VM)) | realIopl) >>> 0);
      h.write32(frame + 28, g.esp);
      h.write32(frame + 32, g.sel[SS] | 3);
      cpu.regs[ESP] = top;
      const written = this.writtenSlots;
      written.clear();
      for (let k = 0; k < 4; k++) {
        const seg = DATA_SEGS[k];
        this.placeCache(seg, written);
        if (!this.execReturn(k)) return this.panic(`return sequence: pop ${SEGMENT_NAMES[seg]} faulted`);
      }
      const csSlot = slotOf(g.sel[CS]);
      const ssSlot = slotOf(g.sel[SS]);
      const marked: string[] = [];
      if (written.size > 0) for (const slot of written.keys()) if (slot !== csSlot && slot !== ssSlot) marked.push(this.mark(slot));
      this.placeCache(CS, written);
      this.placeCache(SS, written);
      if (!this.execReturn(4)) return this.panic('return sequence: IRET faulted');
      if (written.size > 0) for (const slot of written.keys()) if (slot === csSlot || slot === ssSlot) marked.push(this.mark(slot));
      if (cpu.cpl !== 3) return this.panic('return sequence: IRET did not reach CPL 3');
      // IRET to a 16-bit stack segment loads SP only, leaving the high half of the monitor's ESP (the "espfix"
      // problem of real monitors): put the guest's whole ESP back.
      cpu.regs[ESP] = g.esp | 0;
      this.installed = this.ownInstalled;
      this.installed.sel.set(cpu.segSel);
      this.installed.base.set(cpu.segBase);
      this.installed.limit.set(cpu.segLimit);
      this.installed.ar.set(cpu.segAr);
      this.installed.valid.set(cpu.segValid);
      this.mem.hiddenData = false;
      const path: ReturnPath = written.size > 0 ? 'inconsistent' : 'consistent';
      if (path === 'consistent') this.counters.returnsConsistent++;
      else this.counters.returnsInconsistent++;
      this.rememberReturn(path === 'consistent');
      const regs: string[] = written.size === 0 ? NONE : [];
      if (written.size > 0) for (const names of written.values()) regs.push(...names);
      this.recordReturn({ path, written: regs, marked: marked.length === 0 ? NONE : marked, icount: cpu.icount });
      if (this.state !== 'direct') {
        this.state = 'direct';
        this.emulatedBecause = null;
        this.sbeSince = cpu.icount;
        this.syncBareTracker();
        this.prepareTables(true); // the bare tracker, stopping, cleared the watch flag on pages it shared with ours
      }
    } finally {
      cpu.instrStart = guestInstrStart;
      if (this.state === 'direct' || this.muteDepth > 0) while (this.muteDepth > 0) this.unmute();
    }
  }

  /** The last return to the guest, of either kind. */
  get lastReturn(): ReturnRecord | null {
    if (this.directReturnAt >= 0) return { path: 'consistent', written: NONE, marked: NONE, icount: this.directReturnAt };
    return this.returns.length > 0 ? this.returns[this.returns.length - 1] : null;
  }

  private recordReturn(record: ReturnRecord): void {
    this.directReturnAt = -1;
    this.returns.push(record);
    // Bounded to the last 256 or so, trimmed in batches (a shift per return moved all of them every time).
    if (this.returns.length > 512) this.returns.splice(0, this.returns.length - 256);
    this.onReturn?.(record);
  }

  /** After a real return: what it returned to and what it left in the CPU, for directReturn (consistent ones only). */
  private rememberReturn(consistent: boolean): void {
    this.returnKeyValid = consistent && this.shortcuts;
    if (!this.returnKeyValid) {
      this.guestIsKey = false;
      return;
    }
    this.returnKey.copyFrom(this.guest);
    this.returnResult.captureFrom(this.cpu);
    this.returnKeyGdtLimit = this.tables.gdtLimit;
    this.returnKeyLinear = this.hidden.linear;
    this.returnKeySlots = this.tables.version; // a consistent return: every slot loaded its register's cache
    this.guestIsKey = true;
  }

  /**
   * The return without the monitor's context switch, its frame, its four pops and its IRET, when they would load
   * exactly what the last real consistent return loaded (rememberReturn): the guest is in direct execution, its
   * segment registers, CPL and LDTR are those of that return, the monitor's GDT limit and window have not moved, no
   * slot is dirty or marked, and each register's virtual entry still holds the descriptor of its cache — so each
   * load reads the same descriptor words as then and gives the same cache, and the IRET's checks pass as then (its
   * EIP checked against CS's limit here). The CPU gets what the real sequence leaves: the monitor's tables and the
   * real control registers, those caches, CPL 3, EFLAGS by IRET's own rule at CPL 0, the guest's EIP and ESP.
   * `test/engine/monitor/shortcuts.test.ts` compares the whole real CPU state with and without this after every
   * instruction.
   */
  private directReturn(): boolean {
    const cpu = this.cpu;
    const g = this.guest;
    const k = this.returnKey;
    const t = this.tables;
    if (!this.returnKeyValid || this.state !== 'direct' || t.dirty.size !== 0 || t.marked.size !== 0) return false;
    if (t.gdtLimit !== this.returnKeyGdtLimit || this.hidden.linear !== this.returnKeyLinear || g.cpl !== k.cpl) return false;
    const changed = this.guestIsKey ? this.enteredSegments : 0xff;
    for (let s = 0; s <= LDTR; s++) {
      if ((changed & (1 << s)) === 0) continue;
      if (g.sel[s] !== k.sel[s] || g.base[s] !== k.base[s] || g.limit[s] !== k.limit[s] || g.ar[s] !== k.ar[s] || g.valid[s] !== k.valid[s]) {
        this.guestIsKey = false;
        return false;
      }
    }
    // The slots as the last look found them (no write since: the same words), else each one looked at again.
    if (t.version !== this.returnKeySlots) {
      for (let s = 0; s < 6; s++) if (!this.slotLoads(s)) return false;
      this.returnKeySlots = t.version;
    }
    const r = this.returnResult;
    if (g.eip > r.limit[CS]) return false; // the real IRET faults: the real sequence says so (a panic)
    this.installMonitorRegisters();
    // IRET at CPL 0 from the monitor's EFLAGS (FIXED1) with the frame's image (returnToGuest's frame + 24).
    cpu.cpl = 0;
    cpu.setEflags(FIXED1);
    const realIopl = g.cpl === 3 ? g.eflags & IOPL : 0;
    cpu.setEflags(protectedEflags(cpu, ((g.eflags & ~(IOPL | VM)) | realIopl) >>> 0, 4));
    cpu.cpl = r.cpl;
    cpu.eip = g.eip >>> 0;
    cpu.regs[ESP] = g.esp | 0;
    // The six loads' caches, and TR and LDTR as installMonitorTables loads them (from the same GDT limit, window
    // and guest LDTR, all in the key); then the mode.
    cpu.restoreSegmentRegisters(r.sel, r.base, r.limit, r.ar, r.valid);
    this.installed = r; // what the loads left (returnResult changes only at the next real return, which replaces this)
    this.mem.hiddenData = false;
    this.counters.returnsConsistent++;
    this.counters.directReturns++;
    this.guestIsKey = true;
    this.directReturnAt = cpu.icount;
    if (this.onReturn !== null) this.onReturn({ path: 'consistent', written: NONE, marked: NONE, icount: cpu.icount });
    return true;
  }

  /** Whether register `seg`'s virtual entry holds its (virtualized) cache, so a load gives it (null: nothing to load). */
  private slotLoads(seg: number): boolean {
    const g = this.guest;
    const sel = g.sel[seg];
    if ((sel & 0xfffc) === 0) return true;
    const [lo, hi] = encodeSegment(g.base[seg], g.limit[seg], virtualizeAccessRights(g.ar[seg], g.cpl), this.pair);
    return this.tables.slotHolds(slotOf(sel), lo, hi);
  }

  /** Writes a register's (virtualized) cache into the virtual table at its selector when its entry would not load it. */
  private placeCache(seg: number, written: Map<number, string[]>): void {
    const g = this.guest;
    const t = this.tables;
    const sel = g.sel[seg];
    if ((sel & 0xfffc) === 0) return; // a null selector loads the unusable cache the guest holds
    const slot = slotOf(sel);
    const [lo, hi] = encodeSegment(g.base[seg], g.limit[seg], virtualizeAccessRights(g.ar[seg], g.cpl), this.pair);
    if (t.slotHolds(slot, lo, hi)) return;
    t.writeSlot(slot, lo, hi);
    t.dirty.add(slot);
    const names = written.get(slot) ?? [];
    names.push(SEGMENT_NAMES[seg]);
    written.set(slot, names);
  }

  private mark(slot: number): string {
    const t = this.tables;
    const [lo, hi] = t.readSlot(slot);
    t.writeSlot(slot, lo, (hi & ~0x8000) >>> 0);
    t.marked.add(slot);
    return `${(slot & LDT_SLOT) !== 0 ? 'LDT' : 'GDT'}[${slot & 0xffff}]`;
  }

  // =====================================================================================================
  // Events: the monitor's own operations go to `internalEvents`, not to the guest's hub
  // =====================================================================================================

  private mute(): void {
    if (this.muteDepth++ === 0) (this.cpu as { events: EventHub }).events = this.internalEvents;
  }

  private unmute(): void {
    if (this.muteDepth === 0) return;
    if (--this.muteDepth === 0) (this.cpu as { events: EventHub }).events = this.guestSink;
  }

  /** Where the debugger listens: the guest's events (the hub the CPU had when the monitor attached). */
  get guestEvents(): EventHub {
    return this.liveEvents;
  }

  /** Physical pages of the guest's tables the monitor write-protects now. */
  get watchedPages(): number[] {
    return this.watch.watchedPages;
  }

  /** The SBE on/off time including the current period. */
  sbeTime(): { on: number; off: number } {
    const extra = this.state === 'direct' ? this.cpu.icount - this.sbeSince : 0;
    return {
      on: this.counters.sbeOnInstructions + (this.sbeOn ? extra : 0),
      off: this.counters.sbeOffInstructions + (this.sbeOn ? 0 : extra),
    };
  }
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

/** Attaches a monitor to a machine's CPU. The guest runs emulated until it enters protected mode. */
export function attachMonitor(machine: { cpu: Cpu }, options: MonitorOptions = {}): Monitor {
  return new Monitor(machine.cpu, options);
}
