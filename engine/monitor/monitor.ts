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
import { CR0_PE, CR0_PG, CS, DS, ES, ESP, FS, GS, SEGMENT_NAMES, SS } from '../cpu/cpu';
import { CpuFault, NO_ERROR_CODE, pushesErrorCode, rule, VEC_DB, VEC_NMI, VEC_PF } from '../cpu/faults';
import { IF, IOPL, RF, VM } from '../cpu/flags';
import { deliverFault, deliverInterrupt, raiseException, SOURCE_EXCEPTION, SOURCE_EXTERNAL } from '../cpu/interrupt';
import { deliverDebugTraps } from '../cpu/debug-registers';
import type { Handler, Instr } from '../cpu/decode/instr';
import { HANDLERS } from '../cpu/ops';
import { disassembleOne } from '../cpu/decode/disassemble';
import { peekWalk } from '../cpu/protect/peek';
import { PFEC_RSVD, PFEC_US, PFEC_WR } from '../cpu/protect/paging';
import { TLB_FRAME, type Tlb, type TlbSnapshot } from '../cpu/protect/tlb';
import { checkConsistency } from '../cpu/protect/consistency';
import { descriptorBefore, type ReplacedByte } from '../cpu/protect/descriptor-write';
import { EventHub, EV_CACHE_CONSISTENT, EV_CACHE_INCONSISTENT, EV_DESCRIPTOR_WRITE, EV_MONITOR_TRAP, EV_SBE_CHANGE } from '../events';
import type { PhysicalMemory } from '../bus/memory';
import type { MonitorTrapEvent, SegmentLoadCause } from '../events';
import { GuestState } from './guest-state';
import { EventRouting } from './event-routing';
import { HiddenMemory } from './hidden-memory';
import {
  MON_VECTOR_EXTERNAL,
  MON_VECTOR_SBE,
  MON_VECTOR_TABLE_WRITE,
  MONITOR_BYTES,
  STACK_OFFSET,
} from './layout';
import { inPlaceHandlers } from './in-place';
import { ReturnSequence } from './return-sequence';
import { DirectReturn } from './direct-return';
import { SbeScan } from './sbe-scan';
import { noWindowRoom, whyNotDirect } from './direct-conditions';
import { TablePreparation } from './table-preparation';
import { Emulation } from './emulation';
import { SbeDecision, type SbeMode } from './sbe-decision';
import { InPlaceCompletion, type InPlaceMonitorState } from './in-place-completion';
import { LookInputs } from './look-inputs';
import { LDT_SLOT, slotOf, VirtualTables } from './virtual-tables';
import { MonitorCounters } from './counters';
import { NONE, ReturnLog, type ReturnPath, type ReturnRecord } from './return-log';
import { InstalledSegments } from './installed-segments';
import { TableWatch, type WatchedRange } from './table-watch';
import { ShadowPaging } from './shadow-paging';

export type { SbeMode };
export type MonitorState = 'emulated' | 'direct';
export type { ReturnPath, ReturnRecord };

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

const R_SBE = rule('monitor.sbe', 'a sensitive instruction is bound to the monitor by scan-before-execute', 'engine/monitor/README.md (SBE)');
const DATA_SEGS = [DS, ES, FS, GS];
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
  /** The last returns to the guest, and who is told of each (return-log.ts). */
  private readonly returnLog = new ReturnLog();
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
  private tableEpoch = 0;
  /** The current entry's monitor-trap event (asEntry emits it first when the entry ends). */
  private entryTrap: MonitorTrapEvent | null = null;
  private readonly mem: PhysicalMemory;
  private readonly watch: TableWatch;
  private readonly preparation: TablePreparation;
  private readonly emulation: Emulation;
  /** The real segment state the last return left, and the guest's direct loads since (installed-segments.ts). */
  private readonly installed: InstalledSegments;
  /** Where the CPU reports: the guest's hub, `internalEvents`, or during an entry its recorder (event-routing.ts). */
  private readonly routing: EventRouting;
  /** What the decoder binds to the monitor (sbe-scan.ts). */
  private readonly scan: SbeScan;
  private pendingExternal = -1;
  private sbeSince = 0;
  private inEntry = false;
  /** sbeDecision's answer while the guest runs at CPL 0–2, and the CPL and CS RPL it was made for. */
  private readonly decision = new SbeDecision();
  /** The return sequence's real CPU operations (return-sequence.ts). */
  private readonly sequence: ReturnSequence;
  /** The return shortcut's record of the last real consistent return (direct-return.ts). */
  private readonly shortcut: DirectReturn;
  /** The real CPU's side of the loads and transfers completed in place, over a narrow view of this monitor. */
  private readonly completion: InPlaceCompletion;
  /** Real #PFs resolved as shadow misses without an entry (shadowMissInPlace). */
  private readonly shadowMisses = this.counters.inPlaceCounter('shadow-miss');
  /** returnToGuest's record of the slots it wrote (reused: cleared at each return). */
  private readonly writtenSlots = new Map<number, string[]>();
  /** Sensitive instructions completed in place, without a monitor entry (in-place.ts). */
  private readonly inPlace = inPlaceHandlers(this);
  /** What SBE binds a sensitive instruction to: the monitor's entry, made in the handler's place or by a thrown trap. */
  private readonly sbeBound: Handler;
  /** The decoded instruction whose SBE trap the current entry handles (sbeEntry): the emulation executes it. */
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
    this.sbeMode = options.sbe ?? 'auto';
    this.shortcuts = options.shortcuts ?? true;
    this.sbeBound = this.shortcuts ? (_cpu, i) => this.sbeEntry(i) : (_cpu, i) => this.sbeTrap(i);
    this.hidden = new HiddenMemory(cpu.mem, MONITOR_BYTES);
    this.tables = new VirtualTables(this.hidden);
    this.guestTlb = cpu.tlb;
    this.look = new LookInputs(cpu.mem, this.guestTlb);
    this.shadow = new ShadowPaging(cpu, this.hidden, this.guestTlb);
    this.tables.translate = (linear) => this.guestPhysical(linear);
    this.routing = new EventRouting(cpu, this.internalEvents);
    this.watch = new TableWatch(cpu.mem, (r, first, last, replaced) => this.onTableStore(r, first, last, replaced));
    this.preparation = new TablePreparation(this.watch, this.tables);
    this.emulation = new Emulation(cpu);
    this.completion = new InPlaceCompletion(this.inPlaceState(), this.counters.inPlaceCounter('interrupt'));
    this.sequence = new ReturnSequence(cpu, this.guest, this.tables, this.hidden, this.shadow, this.guestTlb);
    this.shortcut = new DirectReturn(cpu, this.guest, this.tables, this.hidden, this.sequence);
    this.installed = new InstalledSegments(cpu, this.guest, this.tables, () => {
      this.shortcut.guestIsKey = false;
    });
    cpu.monitor = this;
    this.scan = new SbeScan(cpu, this.inPlace, this.sbeBound);
    cpu.events.on('mode-change', () => {
      if (this.state === 'emulated' && !this.routing.muted) this.requestLook();
    });
    this.requestLook();
  }

  /** What in-place-completion.ts sees of this monitor: its guest view, tables and look, and a few of its private steps. */
  private inPlaceState(): InPlaceMonitorState {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const monitor = this;
    return {
      cpu: this.cpu,
      mem: this.mem,
      guest: this.guest,
      guestTlb: this.guestTlb,
      tables: this.tables,
      look: this.look,
      consistency: this.consistency,
      guestEvents: this.routing.live,
      get tableEpoch(): number {
        return monitor.tableEpoch;
      },
      get inEntry(): boolean {
        return monitor.inEntry;
      },
      loadedSinceReturn: (seg) => this.installed.loadedSinceReturn(seg),
      takeInstalled: (seg) => this.installed.take(seg),
      guestSegmentsChanged: () => {
        this.shortcut.guestIsKey = false;
      },
      mute: () => this.routing.mute(),
      unmute: () => this.routing.unmute(),
    };
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

  /** A data segment load completed in place (in-place-completion.ts); false when it must be emulated. */
  loadSegmentInPlace(seg: number, selector: number, cause: SegmentLoadCause): boolean {
    return this.completion.loadSegment(seg, selector, cause);
  }

  /** The guest's IRET completed in place (in-place-completion.ts); false (nothing changed) when it must be emulated. */
  iretInPlace(os32: boolean): boolean {
    return this.completion.iret(os32);
  }

  /** The guest's far RET completed in place (in-place-completion.ts); false (nothing changed) when it must be emulated. */
  farReturnInPlace(os32: boolean, release: number): boolean {
    return this.completion.farReturn(os32, release);
  }

  /** The guest's far JMP completed in place (in-place-completion.ts); false (nothing changed) when it must be emulated. */
  farJumpInPlace(selector: number, offset: number, os32: boolean): boolean {
    return this.completion.farJump(selector, offset, os32);
  }

  // =====================================================================================================
  // Hooks called by the CPU
  // =====================================================================================================

  fault(f: CpuFault, rf: number): void {
    if (this.state !== 'direct' || this.inEntry) {
      deliverFault(this.cpu, f);
      return;
    }
    if (f.vector === VEC_PF && this.shadowMissInPlace(f.errorCode, rf)) return;
    const reason = f.vector === MON_VECTOR_SBE ? 'sbe' : (VECTOR_REASONS[f.vector] ?? `vector-${f.vector}`);
    // A real #PF on the shadow tables: CR2 is the real CPU's (the guest's own CR2 stays in its view).
    this.shadowMiss = f.vector === VEC_PF ? this.cpu.cr2 >>> 12 : -1;
    this.enter(ENTER_EXCEPTION, f.vector, f.errorCode, reason, rf);
  }

  /**
   * A real #PF that is only a shadow miss (shadow-paging.ts fillMiss: the guest's TLB holds the translation with the
   * access's right), resolved without an entry: the shadow entry made, and the instruction run again on the real CPU,
   * as a bare CPU runs it once through its TLB. Nothing of the guest's changes (its TLB, tables and CR2 are not
   * touched); the real CPU is put back as it was at the instruction's start: EIP there (the run loop's fault path
   * put it back), RF as it was (the fault path set it for a handler), the real CR2 the guest's (as a return leaves
   * it), and the instruction not counted (the fault path counts it after this, for an emulation that retires it;
   * here it retires when it runs again). Done only when the boundary before the restart takes nothing
   * (`attention` clear with RF as it was): no interrupt, trap, interrupt shadow, breakpoint or stop request could
   * come between the two tries that a bare CPU, taking no fault, would see after the instruction. Anything else
   * enters, and the entry emulates the instruction. Linux's boot: 115 000 of its 138 000 #PF entries.
   */
  private shadowMissInPlace(errorCode: number, rf: number): boolean {
    const cpu = this.cpu;
    const g = this.guest;
    const flags = cpu.flags;
    const attention = cpu.attention;
    cpu.flags = (flags & ~RF) | rf;
    cpu.updateAttention();
    // The real CPU's accesses to guest pages are user accesses (CPL 3); a reserved-bit fault is no miss.
    const miss = (errorCode & (PFEC_US | PFEC_RSVD)) === PFEC_US;
    if (cpu.attention || !miss || !this.shadow.fillMiss(cpu.cr2 >>> 12, (errorCode & PFEC_WR) !== 0, g.cpl)) {
      cpu.flags = flags;
      cpu.attention = attention;
      return false;
    }
    cpu.cr2 = g.cr2 | 0;
    cpu.icount--;
    this.shadowMisses.n++;
    return true;
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
      if (this.completion.deliver(vector)) return BOUNDARY_IN_PLACE;
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
    const scanBefore = this.scan.current;
    this.scan.hold = true;
    try {
      this.restart(saved);
    } finally {
      this.scan.hold = false;
    }
    if (this.scan.current !== scanBefore) this.scan.dropAll();
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
    this.routing.mute();
    try {
      this.installGuest(s.guest);
      this.cpu.mappingsChanged(); // the switch leaves the code epoch alone (Cpu.restoreSegmentRegisters)
      // The guest's TLB as saved, before the window is placed (it avoids slots the TLB translates): the same at a
      // checkpoint's restart as at every later restore of it, so a replay meets the same shadow misses.
      // (Machine.restoreState has moved the code epoch on: nothing was fetched through the TLB since.)
      if (s.tlb !== undefined) this.guestTlb.load(s.tlb);
      else this.guestTlb.clear(false);
    } finally {
      this.routing.unmute();
    }
    this.shadow.reset();
    this.shadowMiss = -1;
    this.pendingExternal = -1;
    this.guest.copyFrom(s.guest);
    this.shortcut.guestIsKey = false;
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
        this.emulation.reflect(this.pendingExternal, SOURCE_EXTERNAL);
        this.pendingExternal = -1;
        break;
      case MON_VECTOR_TABLE_WRITE:
        break;
      case VEC_DB:
        this.emulation.reflect(VEC_DB, SOURCE_EXCEPTION);
        break;
      default: {
        const kept = this.sbeInstr;
        this.sbeInstr = null;
        this.emulation.emulateOne(rf, kept);
      }
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
    this.entryTrap = null;
    this.routing.beginEntry();
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
    const trap = this.entryTrap;
    this.entryTrap = null;
    this.routing.endEntry(trap);
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
    this.shortcut.guestIsKey = false;
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
    this.installed.adoptDirectLoads(g);
    if (cs !== this.installed.selector(CS)) this.installed.adoptFromSlot(g, CS, cs);
    if (ss !== this.installed.selector(SS)) this.installed.adoptFromSlot(g, SS, ss);
    g.eip = eip;
    g.esp = esp;
    let flags = (eflags & ~IOPL) | (g.eflags & IOPL);
    if (vector < 32 && vector !== VEC_DB && vector !== VEC_NMI) flags = (flags & ~RF) | rf;
    if (vector === MON_VECTOR_SBE) flags = (flags & ~RF) | rf;
    g.eflags = flags >>> 0;
  }

  /** The guest's view, complete, now (the CPU holds it while emulated; direct: tracked state and live registers). */
  currentGuest(out: GuestState = new GuestState()): GuestState {
    const cpu = this.cpu;
    if (this.state !== 'direct' || this.inEntry) {
      out.captureFrom(cpu);
      return out;
    }
    return this.installed.liveGuest(out);
  }

  /** Puts the guest's view into the CPU; events are live again (what the guest does now is reported as bare). */
  private toGuestView(): void {
    this.mem.hiddenData = false;
    this.mem.hiddenSystem = false;
    this.installGuest(this.guest);
    this.cpu.segmentsWritten = 0;
    this.routing.unmute();
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
    if (!this.routing.live.active[EV_MONITOR_TRAP]) return null;
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

  // =====================================================================================================
  // After the guest's view changed: stay emulated, or return to direct execution
  // =====================================================================================================

  private afterGuestView(cause: string, segments = 0xff): void {
    const cpu = this.cpu;
    const g = this.guest;
    g.captureFrom(cpu, segments);
    this.shortcut.enteredSegments = segments;
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
    const why = cpu.shutdown ? 'the guest shut down (triple fault)' : same ? noWindowRoom(this.guest, this.shadow) : this.whyNotDirect();
    this.lastLookRunnable = why === null;
    if (why !== null) {
      // What the entry changed is reported before the bare tracker takes over from here as its baseline (a switch
      // to real or V86 mode changes every register's consistency, as on a bare CPU).
      if (!cpu.shutdown) this.recheckConsistency(this.routing.bareCause(cause), false, inputsChanged);
      this.leaveDirect(why);
      return;
    }
    this.preparePaging();
    this.prepareTables();
    // A rebuild of the virtual tables counts as a change of the consistency look's inputs (tableEpoch).
    const tablesMoved = this.tableEpoch !== epoch;
    this.recheckConsistency(this.routing.bareCause(cause), false, inputsChanged || tablesMoved);
    if (!same || tablesMoved || (paging && g.cpl === 3)) this.updateSbe();
    this.returnToGuest();
  }

  /** Why the guest's state (in `guest`) cannot run deprivileged now, or null when it can (direct-conditions.ts). */
  whyNotDirect(): string | null {
    return whyNotDirect(this.guest, this.cpu.a20Enabled, this.hidden, this.shadow);
  }

  /** In emulated state: engage when the guest's state can run deprivileged. */
  private tryEngage(): boolean {
    const cpu = this.cpu;
    const g = this.guest;
    g.captureFrom(cpu);
    this.shortcut.guestIsKey = false;
    const why = this.whyNotDirect();
    if (why !== null) {
      this.emulatedBecause = why;
      // The switch into protected mode: look again at every boundary until CS and SS are loaded.
      if ((g.cr0 & CR0_PE) !== 0 && (g.eflags & VM) === 0 && !cpu.shutdown) this.requestLook();
      // The scan stays as it is (sbe-scan.ts: a binding made in an earlier engagement is kept while emulated).
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

  /** The guest's tables watched and the virtual tables built from them (table-preparation.ts); a rebuild moves `tableEpoch`. */
  private prepareTables(force = false): void {
    if (this.preparation.prepare(this.guest, this.cpu.a20Mask, force)) this.tableEpoch++;
  }

  /** The virtual tables read again at the next prepareTables (a new engagement, a debugger edit, leaving). */
  private forgetTables(): void {
    this.preparation.forget();
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
    this.shortcut.forget();
    if (this.state === 'direct') {
      this.accountSbeTime();
      this.state = 'emulated';
      this.counters.disengagements++;
    }
    this.watch.unwatch();
    this.forgetTables();
    // The binding stays (sbe-scan.ts): code decoded while emulated is bound too, and the next engagement drops nothing.
    this.mem.hiddenSystem = false;
    this.mem.hiddenData = false;
    this.routing.syncBareTracker();
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
      this.routing.mute();
      this.installGuest(this.guest);
      this.cpu.mappingsChanged(); // the switch leaves the code epoch alone (Cpu.restoreSegmentRegisters)
    } finally {
      this.routing.unmuteAll();
    }
    this.leaveDirect(why);
  }

  // =====================================================================================================
  // Consistency and SBE
  // =====================================================================================================

  /** Recomputes each register's consistency on the CPU holding the guest's view; reports changes. */
  private recheckConsistency(cause: string, baseline: boolean, inputsChanged: boolean): void {
    const cpu = this.cpu;
    const ev = this.routing.sink;
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
    return this.decision.decide(this.sbeMode, this.guest, this.consistency, this.guestTlb);
  }

  private updateSbe(): void {
    const [on, condition] = this.sbeDecision();
    if (on !== this.sbeOn) {
      this.accountSbeTime();
      this.sbeOn = on;
      this.counters.sbeChanges++;
      if (this.routing.sink.active[EV_SBE_CHANGE]) this.routing.sink.emit(EV_SBE_CHANGE, { on, condition });
    }
    this.sbeCondition = condition;
    this.scan.apply(this.sbeMode === 'off' ? 'none' : on ? 'all' : 'always');
  }

  private accountSbeTime(): void {
    const now = this.cpu.icount;
    if (this.state === 'direct') {
      if (this.sbeOn) this.counters.sbeOnInstructions += now - this.sbeSince;
      else this.counters.sbeOffInstructions += now - this.sbeSince;
    }
    this.sbeSince = now;
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
    if (!this.inEntry) this.installed.adoptLiveLoads();
    const ev = this.routing.sink;
    for (let index = first >>> 3; index <= last >>> 3; index++) {
      if (r.table !== 'IDT') {
        const slot = index | (r.table === 'LDT' ? LDT_SLOT : 0);
        if (!this.tables.dirty.has(slot)) this.tables.refresh(slot);
      }
      if (ev.active[EV_DESCRIPTOR_WRITE] && !this.routing.muted) {
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

  requestLook(): void {
    this.cpu.monitorPending = true;
    this.cpu.attention = true;
  }

  // =====================================================================================================
  // Returning to the guest (model.md §3): real descriptor writes, segment loads and IRET
  // =====================================================================================================

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
    const seq = this.sequence;
    // The return code's instructions are the monitor's, not the guest's: the instruction a later event reports
    // (an interrupt delivered at the next boundary says where the guest was) stays the guest's, as on a bare CPU.
    const guestInstrStart = cpu.instrStart;
    this.routing.mute();
    try {
      if (this.directReturn()) return;
      seq.monitorContext();
      t.restoreDirty();
      seq.writeFrame();
      const written = this.writtenSlots;
      written.clear();
      for (let k = 0; k < 4; k++) {
        const seg = DATA_SEGS[k];
        seq.placeCache(seg, written);
        if (!seq.execReturn(k)) return this.panic(`return sequence: pop ${SEGMENT_NAMES[seg]} faulted`);
      }
      const csSlot = slotOf(g.sel[CS]);
      const ssSlot = slotOf(g.sel[SS]);
      const marked: string[] = [];
      if (written.size > 0) for (const slot of written.keys()) if (slot !== csSlot && slot !== ssSlot) marked.push(seq.mark(slot));
      seq.placeCache(CS, written);
      seq.placeCache(SS, written);
      if (!seq.execReturn(4)) return this.panic('return sequence: IRET faulted');
      if (written.size > 0) for (const slot of written.keys()) if (slot === csSlot || slot === ssSlot) marked.push(seq.mark(slot));
      if (cpu.cpl !== 3) return this.panic('return sequence: IRET did not reach CPL 3');
      // IRET to a 16-bit stack segment loads SP only, leaving the high half of the monitor's ESP (the "espfix"
      // problem of real monitors): put the guest's whole ESP back.
      cpu.regs[ESP] = g.esp | 0;
      this.installed.fromReturn();
      this.mem.hiddenData = false;
      const path: ReturnPath = written.size > 0 ? 'inconsistent' : 'consistent';
      if (path === 'consistent') this.counters.returnsConsistent++;
      else this.counters.returnsInconsistent++;
      this.shortcut.remember(path === 'consistent' && this.shortcuts);
      const regs: string[] = written.size === 0 ? NONE : [];
      if (written.size > 0) for (const names of written.values()) regs.push(...names);
      this.returnLog.record({ path, written: regs, marked: marked.length === 0 ? NONE : marked, icount: cpu.icount });
      if (this.state !== 'direct') {
        this.state = 'direct';
        this.emulatedBecause = null;
        this.sbeSince = cpu.icount;
        this.routing.syncBareTracker();
        this.prepareTables(true); // the bare tracker, stopping, cleared the watch flag on pages it shared with ours
      }
    } finally {
      cpu.instrStart = guestInstrStart;
      if (this.state === 'direct' || this.routing.muted) this.routing.unmuteAll();
    }
  }

  /** The last return sequences run (most recent last, bounded; return-log.ts). */
  get returns(): ReturnRecord[] {
    return this.returnLog.returns;
  }

  /** The last return to the guest, of either kind. */
  get lastReturn(): ReturnRecord | null {
    return this.returnLog.last;
  }

  /** Called after every return to the guest, direct ones included (tests, the debugger's Monitor scope). */
  get onReturn(): ((r: ReturnRecord) => void) | null {
    return this.returnLog.onReturn;
  }

  set onReturn(listener: ((r: ReturnRecord) => void) | null) {
    this.returnLog.onReturn = listener;
  }

  /**
   * The return shortcut (direct-return.ts): the CPU set to what the last real consistent return left, when the
   * return would repeat it; then what the real sequence records of a consistent return.
   */
  private directReturn(): boolean {
    const cpu = this.cpu;
    const r = this.shortcut.take(this.state === 'direct');
    if (r === null) return false;
    this.installed.fromDirectReturn(r);
    this.mem.hiddenData = false;
    this.counters.returnsConsistent++;
    this.counters.directReturns++;
    this.returnLog.direct(cpu.icount);
    return true;
  }

  // =====================================================================================================
  // Events: the monitor's own operations go to `internalEvents`, not to the guest's hub (event-routing.ts)
  // =====================================================================================================

  /** Where the debugger listens: the guest's events (the hub the CPU had when the monitor attached). */
  get guestEvents(): EventHub {
    return this.routing.live;
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

/** Attaches a monitor to a machine's CPU. The guest runs emulated until it enters protected mode. */
export function attachMonitor(machine: { cpu: Cpu }, options: MonitorOptions = {}): Monitor {
  return new Monitor(machine.cpu, options);
}
