// The CPU: architectural state, segmented memory access, the decoded-instruction cache and the run loop.
//
// Mechanisms live in their own modules (decode/, ops/, protect/, interrupt.ts); this class holds the state they
// share and the hot paths every instruction uses. All state belongs to the instance, so two CPUs can run side by
// side (the lockstep harness).

import { FpuState } from './fpu/state';
import { PAGE_SHIFT, PF_LOAD_SLOW, PhysicalMemory } from '../bus/memory';
import type { IoBus } from '../bus/io-bus';
import {
  EventHub,
  EV_MODE_CHANGE,
  EV_SEGMENT_LOAD,
  type CacheSnapshot,
  type SegmentLoadCause,
} from '../events';
import {
  ARITH,
  ARITH_NO_CF,
  CF,
  computeLazyFlags,
  FIXED1,
  IF,
  LOP_ADD,
  RESERVED0,
  LOP_LOGIC,
  OF,
  PARITY,
  PF,
  SF,
  signBit,
  sizeMask,
  TF,
  RF,
  VM,
  ZF,
  AF,
} from './flags';
import { CpuFault, fault, rule, R_GP_CS_LIMIT, VEC_GP, VEC_SS } from './faults';
import { resolveHandlers } from './decode/decoder';
import type { Instr } from './decode/instr';
import { DecodeCache } from './decode/decode-cache';
import { HANDLERS } from './ops';
import { defaultHotThreshold, NO_BLOCK, rememberSuccessor, successor, type CompiledBlock } from './jit/block';
import { callOutOfLine } from './jit/megamorphic';
import { blockFits, joinRegion, runBlocks } from './jit/dispatch';
import { buildBlock } from './jit/compile';
import { buildPollBlock } from './jit/poll';
import { buildTieredBlock, defaultWasmBlocks, WASM_HOT_THRESHOLD, WASM_TO_JS_AFTER } from './jit/wasm/block';
import { blockClearOfBreakpoints, BreakpointSet } from './jit/breakpoints';
import { deliverFault, deliverExternalInterrupt } from './interrupt';
import { consistencyListenersChanged } from './protect/consistency-events';
import {
  translateLinear,
  type AccessKind,
  ACCESS_READ,
  ACCESS_WRITE,
  ACCESS_FETCH,
  ACCESS_SYSTEM,
  ACCESS_SIZE2,
  ACCESS_SIZE4,
} from './protect/paging';
import { Tlb, flushTlbAll, pagingControlChanged } from './protect/tlb';
import { beforeInstruction, debugRegistersChanged, deliverDebugTraps } from './debug-registers';
import { cpuModel, DEFAULT_CPU_MODEL, modelEflags, signature, type CpuModel, type CpuModelName } from './model';

// General registers in SDM encoding order.
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
// Segment registers in SDM sreg encoding order, then the system segment registers.
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;
export const SEGMENT_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'];

// Access-rights word of a hidden cache: descriptor byte 5 in bits 0–7, the high nibble of byte 6 in bits 12–15.
export const AR_TYPE = 0x000f;
export const AR_ACCESSED = 0x0001;
export const AR_S = 0x0010;
export const AR_DPL = 0x0060;
export const AR_DPL_SHIFT = 5;
export const AR_P = 0x0080;
export const AR_AVL = 0x1000;
export const AR_L = 0x2000;
export const AR_DB = 0x4000;
export const AR_G = 0x8000;
/** Present, S=1, type 3 (read/write data, accessed): what reset and real-mode setup put in data caches. */
export const AR_REAL_DATA = AR_P | AR_S | 0x3;
/** Present, S=1, type 0xB (execute/read code, accessed). */
export const AR_REAL_CODE = AR_P | AR_S | 0xb;

export const CR0_PE = 0x1, CR0_MP = 0x2, CR0_EM = 0x4, CR0_TS = 0x8, CR0_ET = 0x10, CR0_NE = 0x20;
export const CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_NW = 0x20000000, CR0_CD = 0x40000000, CR0_PG = 0x80000000;

export type { CpuModel, CpuModelName } from './model';

/** What the CPU calls on a monitor attached to it (engine/monitor/monitor.ts implements it). */
export interface MonitorHook {
  /** A fault in the run loop (EIP already back at the faulting instruction; `rf` is EFLAGS.RF before the fault). */
  fault(f: CpuFault, rf: number): void;
  /**
   * At an instruction boundary with attention set; true when the monitor handled the boundary's events itself.
   * `ownWorkOnly`: only what the monitor asked for itself (monitorPending), not the guest's traps and interrupts.
   */
  boundary(ownWorkOnly?: boolean): boolean;
  /** The guest runs deprivileged now: the boundary's traps and interrupts are the monitor's to deliver. */
  readonly deprivileged: boolean;
  /** While true, the monitor reports descriptor-write and consistency events itself (the bare tracker stands down). */
  readonly ownsConsistency: boolean;
  /** The CPU was reset (power-on state, a reset line, a loader's start state): the guest's view is the CPU again. */
  reset(): void;
  /** What a machine snapshot must keep of the monitor (the guest's view), and its restore after the CPU's fields. */
  snapshot(): unknown;
  restore(saved: unknown): void;
}
export type CpuMode = 'real' | 'protected' | 'v86';

export interface CpuOptions {
  /** The processor to be (model.ts); default `pentium-pro`. */
  model?: CpuModelName;
}

const R_SEG_NULL = rule('access.null-selector', 'memory reference through a segment register holding a null selector', 'SDM 3A §5.4.1');
const R_SEG_LIMIT = rule('access.limit', 'offset lies outside the segment limit', 'SDM 3A §5.3');
const R_SEG_NOT_WRITABLE = rule('access.not-writable', 'write to a code segment or a read-only data segment', 'SDM 3A §5.5');
const R_SEG_NOT_READABLE = rule('access.not-readable', 'read from an execute-only code segment', 'SDM 3A §5.5');
const R_STACK_LIMIT = rule('access.stack-limit', 'stack access outside the SS limit', 'SDM 3A §6.15 #SS');

export class Cpu {
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  /** What this processor is (model.ts): handlers ask it for capabilities, never for a name. */
  readonly model: CpuModel;
  /**
   * An x87 FPU is on the chip (false only on the 486SX and the internal 386; its ESC opcodes then do nothing or
   * raise #NM). Set from the model; tests may switch it.
   */
  fpuPresent: boolean;
  /** The P6 additions exist (pentium-pro): RDPMC, the hint-NOP space, and the x87 FCMOVcc/FCOMI group. */
  p6: boolean;
  /**
   * The platform has a local APIC at this CPU (set by the machine that adds one): CPUID reports the APIC bit and
   * RDMSR/WRMSR accept IA32_APIC_BASE (1BH). False by default.
   */
  apicPresent = false;
  /** IA32_APIC_BASE (MSR 1BH) while apicPresent: base 0xFEE00000, enabled (bit 11), BSP (bit 8) at reset. */
  apicBase = 0xfee00900;
  /** Called after WRMSR changed IA32_APIC_BASE (the local APIC moves or is disabled); null without an APIC. */
  onApicBaseWrite: ((value: number) => void) | null = null;
  readonly events = new EventHub();

  // ---- general registers: three views of the first 32 bytes of the memory's wasm state area (jit/wasm/state.ts),
  // where WebAssembly blocks read and write them ----
  readonly regs: Int32Array;
  readonly regs16: Uint16Array;
  readonly regs8: Uint8Array;
  // ---- x87 FPU (engine/cpu/fpu/) ----
  readonly fpu = new FpuState();
  /** FERR# changed level (CR0.NE = 0 error reporting); the machine routes it to IRQ13. */
  onFerr: ((level: boolean) => void) | undefined = undefined;
  eip = 0;
  /** EIP of the instruction being executed (faults restart from here). */
  instrStart = 0;

  // ---- segment registers: selector and hidden cache per register ----
  readonly segSel = new Uint16Array(8);
  readonly segBase = new Int32Array(8);
  readonly segLimit = new Uint32Array(8);
  readonly segAr = new Uint16Array(8);
  readonly segValid = new Uint8Array(8);
  /** Offset windows that pass the limit and type checks: [lo, hi] inclusive for the first byte … last byte. */
  readonly readLo = new Float64Array(6);
  readonly readHi = new Float64Array(6);
  readonly writeLo = new Float64Array(6);
  readonly writeHi = new Float64Array(6);

  // ---- system registers ----
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Int32Array(8);
  gdtrBase = 0;
  gdtrLimit = 0xffff;
  idtrBase = 0;
  idtrLimit = 0xffff;
  /** The time-stamp counter (MSR 10H) reads guest instructions retired plus this offset (WRMSR sets it). */
  tscOffset = 0;
  /** IA32_SYSENTER_CS/ESP/EIP (MSRs 174H–176H, protect/sysenter.ts). */
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;

  // ---- flags: materialised bits plus the lazy record ----
  flags = FIXED1;
  lazyMask = 0;
  lazyOp = 0;
  // Unsigned 32-bit values: half of them are not small integers. Starting as a heap number (−0, a zero for every
  // use here) gives V8 the field's final representation at once; starting as 0, the first value ≥ 2^31 changed
  // the Cpu's hidden class, which threw away every optimised function that had used it (issue 13).
  lazyA = -0;
  lazyB = -0;
  lazyRes = -0;
  lazyCin = 0;
  lazySize = 1;

  // ---- derived mode state (kept in step with cr0, eflags.VM and CS) ----
  cpl = 0;
  /** Code is decoded with 32-bit defaults (CS.D = 1, not V86). */
  code32 = false;
  /** Stack accesses use ESP (SS.B = 1), else SP. */
  stack32 = false;
  pagingOn = false;
  a20Mask = 0xffffffff;
  /** a20Mask as a signed 32-bit value (a small integer to V8, where 0xFFFFFFFF is a boxed double) for translate. */
  private a20Bits = -1;
  /** Linear addresses go through translateLinear: paging is on or a data breakpoint is armed. */
  checkLinear = false;
  /** DR7 arms a data breakpoint (debug-registers.ts): data accesses are compared with DR0–DR3. */
  dataBreakpoints = false;
  /** DR6 bits of #DB traps raised by the current instruction (data breakpoints, TF); taken at the next boundary. */
  pendingDebugTraps = 0;
  /**
   * Cached translations (protect/tlb.ts). Replaced only by the monitor, which runs a paging guest on its shadow
   * tables with a TLB of their own and swaps the guest's back in whenever the CPU holds the guest's view.
   */
  tlb: Tlb;

  // ---- run state ----
  halted = false;
  /**
   * Guest time: instructions retired since reset, each iteration of a REP string instruction counted as one (as
   * Bochs and QEMU's icount count them). Devices are timed by it and the virtual time-stamp counter counts it.
   */
  icount = 0;
  /**
   * The guest time at which the current run() must stop (its budget's end; 0 outside run()). A REP string
   * instruction runs at most `runEnd - icount` iterations per execution, so a budget or device deadline falls
   * between two iterations exactly as between two instructions (ops/string.ts).
   */
  runEnd = 0;
  /** Interrupts are inhibited for one instruction after MOV SS, POP SS and STI (SDM 3A §6.8.3). */
  interruptShadow = false;
  /** Level of the INTR line (from the PIC). */
  intrLine = false;
  nmiPending = false;
  /** Supplied by the machine: acknowledges INTR and returns the vector (the PIC's INTA cycle). */
  acknowledgeInterrupt: (() => number) | null = null;
  /** Something needs a look between instructions (interrupts, TF, shadow, stop requests, breakpoints). */
  attention = false;
  stopRequested = false;
  /**
   * The monitor (engine/monitor/) when one is attached: it receives the faults of the run loop and looks at every
   * instruction boundary the CPU visits (both only on paths that already left the hot loop). Null on a bare CPU.
   */
  monitor: MonitorHook | null = null;
  /** The monitor asks for a look at the next instruction boundary (e.g. after a store to a watched table). */
  monitorPending = false;
  /**
   * SBE (scan-before-execute): applied to each newly decoded instruction while the monitor sets it, with the physical
   * page the instruction was fetched from (the monitor keeps which pages it scanned how: dropDecodedPages).
   */
  sbeScan: ((i: Instr, page: number) => void) | null = null;
  /** Linear addresses of the debugger's instruction breakpoints; checked only while non-empty. */
  readonly breakpoints = new BreakpointSet();
  /** Set when the run loop stopped on a breakpoint (cleared by the next run). */
  hitBreakpoint = false;
  private skipBreakpointOnce = false;
  /** The exception being delivered, for the double-fault rule (interrupt.ts). */
  deliveringVector = -1;
  /** Set when a triple fault shut the CPU down. */
  shutdown = false;

  /** The decoded-instruction cache (decode/decode-cache.ts). */
  readonly decoded: DecodeCache;

  constructor(mem: PhysicalMemory, io: IoBus, options: CpuOptions = {}) {
    this.regs = new Int32Array(mem.wasm.buffer, mem.stateOffset, 8);
    this.regs16 = new Uint16Array(mem.wasm.buffer, mem.stateOffset, 16);
    this.regs8 = new Uint8Array(mem.wasm.buffer, mem.stateOffset, 32);
    this.mem = mem;
    this.tlb = new Tlb(mem.claimTlbEntries());
    this.io = io;
    this.model = cpuModel(options.model ?? DEFAULT_CPU_MODEL);
    this.fpuPresent = this.model.fpu;
    this.p6 = this.model.p6;
    this.decoded = new DecodeCache(this, mem);
    this.events.onChange = () => {
      this.updateAttention();
      consistencyListenersChanged(this);
    };
    this.reset();
  }

  // =====================================================================================================
  // Reset (SDM 3A §9.1.1, Table 9-1)
  // =====================================================================================================

  reset(): void {
    this.regs.fill(0);
    this.regs[EDX] = signature(this.model); // processor signature in DX after reset (SDM 3A §9.1.4)
    this.flags = FIXED1;
    this.lazyMask = 0;
    this.eip = 0xfff0;
    this.cr0 = this.model.i486 ? CR0_CD | CR0_NW | CR0_ET : 0;
    this.sysenterCs = this.sysenterEsp = this.sysenterEip = 0;
    this.apicBase = 0xfee00900;
    this.cr2 = this.cr3 = this.cr4 = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    this.gdtrBase = this.idtrBase = 0;
    this.gdtrLimit = this.idtrLimit = 0xffff;
    for (let s = 0; s < 6; s++) {
      this.loadSegmentCache(s, 0, 0, 0xffff, s === CS ? AR_REAL_CODE : AR_REAL_DATA, true, 'reset');
    }
    // CS = F000 with base FFFF0000 until the first far transfer (the reset vector is at FFFFFFF0).
    this.loadSegmentCache(CS, 0xf000, 0xffff0000 | 0, 0xffff, AR_REAL_CODE, true, 'reset');
    this.loadSegmentCache(LDTR, 0, 0, 0xffff, AR_P | 0x2, true, 'reset');
    this.loadSegmentCache(TR, 0, 0, 0xffff, AR_P | 0xb, true, 'reset');
    this.halted = false;
    this.shutdown = false;
    this.interruptShadow = false;
    this.deliveringVector = -1;
    this.nmiPending = false;
    this.pendingDebugTraps = 0;
    this.fpu.powerOn();
    this.a20Mask = 0xffffffff;
    this.a20Bits = -1;
    this.modeChanged();
    this.flushDecodeCache();
    this.monitor?.reset();
  }

  // =====================================================================================================
  // Mode
  // =====================================================================================================

  get mode(): CpuMode {
    if ((this.cr0 & CR0_PE) === 0) return 'real';
    return (this.flags & VM) !== 0 ? 'v86' : 'protected';
  }

  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0;
  }

  get a20Enabled(): boolean {
    return this.a20Mask === 0xffffffff;
  }

  set a20Enabled(on: boolean) {
    this.a20Mask = on ? 0xffffffff : ~0x100000;
    this.a20Bits = this.a20Mask | 0;
    this.codeEpoch++;
  }

  /** Linear-to-physical mappings changed (CR3 write, INVLPG): chained instructions must be fetched again. */
  mappingsChanged(): void {
    this.codeEpoch++;
  }

  /** Recomputes everything derived from CR0, EFLAGS.VM and the CS/SS caches. Call after changing them. */
  modeChanged(): void {
    const pe = (this.cr0 & CR0_PE) !== 0;
    const vm = (this.flags & VM) !== 0;
    if (!pe) this.cpl = 0;
    else if (vm) this.cpl = 3;
    this.code32 = !vm && (this.segAr[CS] & AR_DB) !== 0;
    this.stack32 = !vm && (this.segAr[SS] & AR_DB) !== 0;
    this.pagingOn = pe && (this.cr0 & CR0_PG) !== 0;
    this.codeEpoch++;
    for (let s = 0; s < 6; s++) this.updateWindow(s);
    this.windowsMode = (pe ? 1 : 0) | (vm ? 2 : 0);
    // Control registers may have changed without their own flush (task switch, restore, debugger edits).
    pagingControlChanged(this);
    debugRegistersChanged(this); // sets checkLinear, updates attention
  }

  /** Emits `mode-change` when the mode differs from `before` (callers pass the mode read before their change). */
  noteModeChange(before: CpuMode): void {
    const after = this.mode;
    if (after !== before && this.events.active[EV_MODE_CHANGE]) {
      this.events.emit(EV_MODE_CHANGE, { from: before, to: after, cs: this.segSel[CS], eip: this.instrStart });
    }
  }

  // =====================================================================================================
  // Hidden descriptor caches
  // =====================================================================================================

  /**
   * The only writer of a hidden cache (model.md §1). Mechanisms (segment loads, far transfers, interrupts, task
   * switches, reset, loaders, the monitor) decide what to load; this stores it, recomputes the fast windows and
   * reports the load.
   */
  loadSegmentCache(
    seg: number,
    selector: number,
    base: number,
    limit: number,
    ar: number,
    valid: boolean,
    cause: SegmentLoadCause,
  ): void {
    const report = this.events.active[EV_SEGMENT_LOAD] !== 0;
    const oldSelector = this.segSel[seg];
    const oldCache = report ? this.cacheSnapshot(seg) : null;
    const sameCs =
      seg === CS &&
      oldSelector === selector &&
      this.segBase[seg] === (base | 0) &&
      this.segLimit[seg] === limit >>> 0 &&
      this.segAr[seg] === ar &&
      this.segValid[seg] === (valid ? 1 : 0);
    this.segSel[seg] = selector;
    this.segBase[seg] = base | 0;
    this.segLimit[seg] = limit >>> 0;
    this.segAr[seg] = ar;
    this.segValid[seg] = valid ? 1 : 0;
    this.segmentsWritten |= 1 << seg;
    if (seg === CS) {
      this.code32 = (this.flags & VM) === 0 && (ar & AR_DB) !== 0;
      // The run loop keeps the CS limit of the current epoch in a local and links instructions within an epoch
      // without a mode check: a CS load starts a new epoch — unless it loads what CS held (same selector, hence
      // CPL, base, limit and attributes), as every interrupt and IRET within Linux's kernel does: nothing a link,
      // a remembered target or a block's successor depends on changed, and a new epoch would make the run loop
      // fetch all of them again after each timer tick (the run loop drops its fall-through link when a boundary's
      // delivery moves EIP, which the new epoch used to do).
      if (!sameCs) this.codeEpoch++;
    } else if (seg === SS) this.stack32 = (this.flags & VM) === 0 && (ar & AR_DB) !== 0;
    if (seg < 6) this.updateWindow(seg);
    if (report) {
      this.events.emit(EV_SEGMENT_LOAD, {
        reg: seg,
        oldSelector,
        newSelector: selector,
        oldCache: oldCache!,
        newCache: this.cacheSnapshot(seg),
        cause,
        cs: this.segSel[CS],
        eip: this.instrStart,
      });
    }
  }

  /**
   * Puts a saved state of all eight segment registers back at once, for the monitor's switch between the guest's view
   * and the deprivileged CPU (engine/monitor/guest-state.ts, monitor.ts): bookkeeping, not loads, so nothing is
   * reported. It recomputes what modeChanged does but narrower, since a switch changes little of it — ring
   * compression raises DPLs and RPLs, which no access window depends on: the windows only of registers whose base,
   * limit, validity or type changed (all when PE or VM differ from their last recomputation), and **not the code
   * epoch**. The caller moves the epoch when it leaves the CPU with anything the run loop's links and translated
   * blocks rely on changed (the monitor compares before and after each entry: engine/cpu/code-assumptions.ts);
   * moving it at every switch made the run loop fetch and decode again after every monitor entry.
   */
  restoreSegmentRegisters(sel: Uint16Array, base: Int32Array, limit: Uint32Array, ar: Uint16Array, valid: Uint8Array): void {
    this.segmentsWritten = 0xff;
    const modeBits = ((this.cr0 & CR0_PE) !== 0 ? 1 : 0) | ((this.flags & VM) !== 0 ? 2 : 0);
    const allWindows = modeBits !== this.windowsMode;
    const segSel = this.segSel;
    const segBase = this.segBase;
    const segLimit = this.segLimit;
    const segAr = this.segAr;
    const segValid = this.segValid;
    for (let s = 0; s < 8; s++) {
      const b = base[s];
      const l = limit[s] | 0;
      const a = ar[s];
      const v = valid[s];
      const windowSame = segBase[s] === b && (segLimit[s] | 0) === l && segValid[s] === v && ((segAr[s] ^ a) & WINDOW_AR) === 0;
      segSel[s] = sel[s];
      segBase[s] = b;
      segLimit[s] = l;
      segAr[s] = a;
      segValid[s] = v;
      if (s < 6 && (allWindows || !windowSame)) this.updateWindow(s);
    }
    this.windowsMode = modeBits;
    const pe = (modeBits & 1) !== 0;
    const vm = (modeBits & 2) !== 0;
    if (!pe) this.cpl = 0;
    else if (vm) this.cpl = 3;
    this.code32 = !vm && (this.segAr[CS] & AR_DB) !== 0;
    this.stack32 = !vm && (this.segAr[SS] & AR_DB) !== 0;
    this.pagingOn = pe && (this.cr0 & CR0_PG) !== 0;
    pagingControlChanged(this);
    debugRegistersChanged(this);
  }
  /** PE and VM (bits 0 and 1) when every access window was last recomputed (restoreSegmentRegisters, modeChanged). */
  private windowsMode = -1;

  /**
   * Segment registers (bits by number) whose cache was written since the monitor last cleared this: it puts the
   * guest's view into the CPU, emulates one instruction, and takes back only the registers the instruction loaded.
   */
  segmentsWritten = 0;

  cacheSnapshot(seg: number): CacheSnapshot {
    return {
      base: this.segBase[seg] >>> 0,
      limit: this.segLimit[seg],
      ar: this.segAr[seg],
      valid: this.segValid[seg] !== 0,
    };
  }

  /** Test and loader setup: a real-mode style load (base = selector × 16, limit 0xFFFF, present r/w data or code). */
  setSegmentReal(seg: number, selector: number): void {
    selector &= 0xffff;
    this.loadSegmentCache(seg, selector, selector << 4, 0xffff, seg === CS ? AR_REAL_CODE : AR_REAL_DATA, true, 'loader');
  }

  /** Recomputes the offset windows that pass the limit and type checks for one segment register. */
  private updateWindow(seg: number): void {
    const ar = this.segAr[seg];
    const limit = this.segLimit[seg];
    let lo = 0;
    let hi = limit;
    let readable = this.segValid[seg] !== 0;
    let writable = readable;
    if (readable && (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0) {
      // Protected mode: the type decides (SDM 3A §5.5); real and V86 mode check only the limit.
      const type = ar & AR_TYPE;
      if ((ar & AR_S) === 0) {
        readable = writable = false;
      } else if ((type & 0x8) !== 0) {
        writable = false;
        readable = (type & 0x2) !== 0;
      } else {
        writable = (type & 0x2) !== 0;
        if ((type & 0x4) !== 0) {
          // Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF by the B flag (SDM 3A §3.4.5.1).
          lo = limit + 1;
          hi = (ar & AR_DB) !== 0 ? 0xffffffff : 0xffff;
        }
      }
    }
    this.readLo[seg] = readable ? lo : 1;
    this.readHi[seg] = readable ? hi : 0;
    this.writeLo[seg] = writable ? lo : 1;
    this.writeHi[seg] = writable ? hi : 0;
    // Flat: base 0 and the whole 4 GiB window; the accessors then skip the window and base loads.
    const flat = this.segBase[seg] === 0 && lo === 0 && hi === 0xffffffff;
    const bit = 1 << seg;
    this.flatRead = readable && flat ? this.flatRead | bit : this.flatRead & ~bit;
    this.flatWrite = writable && flat ? this.flatWrite | bit : this.flatWrite & ~bit;
  }
  /**
   * Data segment registers (bits by number) that updateWindow found flat for reads, and for writes. Translated
   * blocks read them through blockKey (jit/block.ts): a block built for flat segments has no window checks.
   */
  flatRead = 0;
  flatWrite = 0;

  /** Raises the fault for an access that failed its window check, naming the rule that failed. */
  accessFault(seg: number, offset: number, size: number, write: boolean): never {
    const vector = seg === SS ? VEC_SS : VEC_GP;
    if (!this.segValid[seg]) return fault(VEC_GP, 0, R_SEG_NULL);
    const ar = this.segAr[seg];
    if ((this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0) {
      const code = (ar & 0x8) !== 0;
      if (write && (code || (ar & 0x2) === 0)) return fault(VEC_GP, 0, R_SEG_NOT_WRITABLE);
      if (!write && code && (ar & 0x2) === 0) return fault(VEC_GP, 0, R_SEG_NOT_READABLE);
    }
    const detail = `offset 0x${offset.toString(16)} size ${size}, limit 0x${this.segLimit[seg].toString(16)}`;
    return fault(vector, 0, seg === SS ? R_STACK_LIMIT : R_SEG_LIMIT, detail);
  }

  // =====================================================================================================
  // Linear → physical
  // =====================================================================================================

  translate(linear: number, access: AccessKind): number {
    if (!this.checkLinear) return (linear & this.a20Bits) >>> 0;
    return (translateLinear(this, linear, access) & this.a20Bits) >>> 0;
  }

  // =====================================================================================================
  // Segmented memory access (the hot path)
  // =====================================================================================================

  // The accessors handlers call take an inline path first, small enough for V8 to inline into each handler (the whole
  // access, translation and memory included, was twice its inlining budget, so every access was a call, which also
  // boxed each offset ≥ 2^31 — a kernel's — as a heap number): a flat segment, an access that cannot cross a page
  // (aligned), paging off or a TLB hit, and plain RAM. Everything else — faults, page-crossing accesses, a TLB miss,
  // data breakpoints, A20 off or another segment, ROM, MMIO, watched and code pages — takes the *Access methods
  // below, which do the whole access from the start (the inline path changes nothing before it gives up).

  /**
   * Physical address of a data access at seg:off that the inline path may do, or a negative number: `flat` is
   * flatRead or flatWrite, `write` 0 or 1 (the TLB's rights bits, protect/paging.ts translateLinear). The access must
   * not cross a page (callers test alignment). A physical address ≥ 2 GiB comes back negative, so it takes the full
   * path too.
   */
  private inlinePhys(flat: number, seg: number, off: number, write: number): number {
    if ((flat & (1 << seg)) === 0 || off < 0 || off > 0xffffffff) return -1;
    let phys = off | 0;
    if (this.checkLinear === true) {
      if (this.pagingOn !== true || this.dataBreakpoints === true) return -1;
      const entry = this.tlb.entries[off >>> 12];
      if ((entry & ((1 + write) << (this.cpl === 3 ? 2 : 0))) === 0) return -1;
      phys = (entry & 0xfffff000) | (phys & 0xfff);
    }
    return phys & this.a20Bits;
  }

  read8(seg: number, off: number): number {
    const phys = this.inlinePhys(this.flatRead, seg, off, 0);
    const mem = this.mem;
    if (phys >= 0 && phys < mem.size && (mem.pageFlags[phys >>> PAGE_SHIFT] & PF_LOAD_SLOW) === 0) return mem.u8[phys];
    return this.read8Access(seg, off);
  }

  read32(seg: number, off: number): number {
    const phys = (off & 3) === 0 ? this.inlinePhys(this.flatRead, seg, off, 0) : -1;
    const mem = this.mem;
    if (phys >= 0 && phys < mem.size && (mem.pageFlags[phys >>> PAGE_SHIFT] & PF_LOAD_SLOW) === 0) return mem.i32[phys >>> 2];
    return this.read32Access(seg, off);
  }

  write8(seg: number, off: number, v: number): void {
    const phys = this.inlinePhys(this.flatWrite, seg, off, 1);
    const mem = this.mem;
    if (phys >= 0 && phys < mem.size && mem.pageFlags[phys >>> PAGE_SHIFT] === 0) mem.u8[phys] = v;
    else this.write8Access(seg, off, v);
  }

  write32(seg: number, off: number, v: number): void {
    const phys = (off & 3) === 0 ? this.inlinePhys(this.flatWrite, seg, off, 1) : -1;
    const mem = this.mem;
    if (phys >= 0 && phys < mem.size && mem.pageFlags[phys >>> PAGE_SHIFT] === 0) mem.i32[phys >>> 2] = v;
    else this.write32Access(seg, off, v);
  }

  // A flat segment (base 0, window 0 … 0xFFFFFFFF: flatRead/flatWrite) needs no window or base load, only the test
  // that the access does not run past 4 GiB, which is the window test for that window.

  private read8Access(seg: number, off: number): number {
    let lin: number;
    if ((this.flatRead & (1 << seg)) !== 0) {
      if (off < 0 || off > 0xffffffff) this.accessFault(seg, off, 1, false);
      lin = off | 0;
    } else {
      if (off < this.readLo[seg] || off > this.readHi[seg]) this.accessFault(seg, off, 1, false);
      lin = (this.segBase[seg] + off) | 0;
    }
    return this.mem.read8(this.translate(lin, ACCESS_READ));
  }

  read16(seg: number, off: number): number {
    let lin: number;
    if ((this.flatRead & (1 << seg)) !== 0) {
      if (off < 0 || off > 0xfffffffe) this.accessFault(seg, off, 2, false);
      lin = off | 0;
    } else {
      if (off < this.readLo[seg] || off + 1 > this.readHi[seg]) this.accessFault(seg, off, 2, false);
      lin = (this.segBase[seg] + off) | 0;
    }
    if ((lin & 0xfff) === 0xfff) return this.readLinear8Access(lin, ACCESS_READ) | (this.readLinear8Access(lin + 1, ACCESS_READ) << 8);
    return this.mem.read16(this.translate(lin, ACCESS_READ | ACCESS_SIZE2));
  }

  private read32Access(seg: number, off: number): number {
    let lin: number;
    if ((this.flatRead & (1 << seg)) !== 0) {
      if (off < 0 || off > 0xfffffffc) this.accessFault(seg, off, 4, false);
      lin = off | 0;
    } else {
      if (off < this.readLo[seg] || off + 3 > this.readHi[seg]) this.accessFault(seg, off, 4, false);
      lin = (this.segBase[seg] + off) | 0;
    }
    if ((lin & 0xfff) > 0xffc) return this.readLinearSplit(lin, 4, ACCESS_READ);
    return this.mem.read32(this.translate(lin, ACCESS_READ | ACCESS_SIZE4));
  }

  private write8Access(seg: number, off: number, v: number): void {
    let lin: number;
    if ((this.flatWrite & (1 << seg)) !== 0) {
      if (off < 0 || off > 0xffffffff) this.accessFault(seg, off, 1, true);
      lin = off | 0;
    } else {
      if (off < this.writeLo[seg] || off > this.writeHi[seg]) this.accessFault(seg, off, 1, true);
      lin = (this.segBase[seg] + off) | 0;
    }
    this.mem.write8(this.translate(lin, ACCESS_WRITE), v);
  }

  write16(seg: number, off: number, v: number): void {
    let lin: number;
    if ((this.flatWrite & (1 << seg)) !== 0) {
      if (off < 0 || off > 0xfffffffe) this.accessFault(seg, off, 2, true);
      lin = off | 0;
    } else {
      if (off < this.writeLo[seg] || off + 1 > this.writeHi[seg]) this.accessFault(seg, off, 2, true);
      lin = (this.segBase[seg] + off) | 0;
    }
    if ((lin & 0xfff) === 0xfff) return this.writeLinearSplit(lin, 2, v);
    this.mem.write16(this.translate(lin, ACCESS_WRITE | ACCESS_SIZE2), v);
  }

  private write32Access(seg: number, off: number, v: number): void {
    let lin: number;
    if ((this.flatWrite & (1 << seg)) !== 0) {
      if (off < 0 || off > 0xfffffffc) this.accessFault(seg, off, 4, true);
      lin = off | 0;
    } else {
      if (off < this.writeLo[seg] || off + 3 > this.writeHi[seg]) this.accessFault(seg, off, 4, true);
      lin = (this.segBase[seg] + off) | 0;
    }
    if ((lin & 0xfff) > 0xffc) return this.writeLinearSplit(lin, 4, v);
    this.mem.write32(this.translate(lin, ACCESS_WRITE | ACCESS_SIZE4), v);
  }

  readMem(seg: number, off: number, size: number): number {
    return size === 1 ? this.read8(seg, off) : size === 2 ? this.read16(seg, off) : this.read32(seg, off);
  }

  writeMem(seg: number, off: number, size: number, v: number): void {
    if (size === 1) this.write8(seg, off, v);
    else if (size === 2) this.write16(seg, off, v);
    else this.write32(seg, off, v);
  }

  /** Checks that an access would pass the segment checks, without doing it (for check-then-commit sequences). */
  checkWrite(seg: number, off: number, size: number): void {
    if (off < this.writeLo[seg] || off + size - 1 > this.writeHi[seg]) this.accessFault(seg, off, size, true);
    if (this.pagingOn) {
      const lin = (this.segBase[seg] + off) | 0;
      this.translate(lin, ACCESS_WRITE);
      this.translate((lin + size - 1) | 0, ACCESS_WRITE);
    }
  }

  checkRead(seg: number, off: number, size: number): void {
    if (off < this.readLo[seg] || off + size - 1 > this.readHi[seg]) this.accessFault(seg, off, size, false);
    if (this.pagingOn) {
      const lin = (this.segBase[seg] + off) | 0;
      this.translate(lin, ACCESS_READ);
      this.translate((lin + size - 1) | 0, ACCESS_READ);
    }
  }

  private readLinear8Access(lin: number, access: AccessKind): number {
    return this.mem.read8(this.translate(lin | 0, access));
  }

  private readLinearSplit(lin: number, size: number, access: AccessKind): number {
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.readLinear8Access(lin + k, access);
    return v;
  }

  private writeLinearSplit(lin: number, size: number, v: number, access: AccessKind = ACCESS_WRITE): void {
    // Translate every byte before storing any, so a page fault on the second page leaves memory untouched.
    const phys: number[] = [];
    for (let k = 0; k < size; k++) phys.push(this.translate((lin + k) | 0, access));
    if ((access & ACCESS_SYSTEM) !== 0) for (let k = 0; k < size; k++) this.mem.writeSystem8(phys[k], (v >>> (8 * k)) & 0xff);
    else for (let k = 0; k < size; k++) this.mem.write8(phys[k], (v >>> (8 * k)) & 0xff);
  }

  // ---- linear accesses for system structures (descriptor tables, IDT, TSS): supervisor, no segmentation ----

  readLinear8(lin: number): number {
    return this.mem.readSystem8(this.translate(lin | 0, ACCESS_SYSTEM));
  }
  readLinear16(lin: number): number {
    return this.readLinear8(lin) | (this.readLinear8(lin + 1) << 8);
  }
  readLinear32(lin: number): number {
    return this.readLinear16(lin) | (this.readLinear16(lin + 2) << 16);
  }
  writeLinear8(lin: number, v: number): void {
    this.mem.writeSystem8(this.translate(lin | 0, ACCESS_WRITE | ACCESS_SYSTEM), v);
  }
  writeLinear16(lin: number, v: number): void {
    this.writeLinearSplit(lin, 2, v, ACCESS_WRITE | ACCESS_SYSTEM);
  }
  writeLinear32(lin: number, v: number): void {
    this.writeLinearSplit(lin, 4, v, ACCESS_WRITE | ACCESS_SYSTEM);
  }

  // =====================================================================================================
  // Operands
  // =====================================================================================================

  getReg(size: number, n: number): number {
    if (size === 4) return this.regs[n] >>> 0;
    if (size === 2) return this.regs16[n << 1];
    return this.regs8[n < 4 ? n << 2 : ((n - 4) << 2) + 1];
  }

  setReg(size: number, n: number, v: number): void {
    if (size === 4) this.regs[n] = v;
    else if (size === 2) this.regs16[n << 1] = v;
    else this.regs8[n < 4 ? n << 2 : ((n - 4) << 2) + 1] = v;
  }

  /** Effective address (offset within the segment) of the instruction's memory operand. */
  ea(i: Instr): number {
    let a = i.disp;
    if (i.base >= 0) a += this.regs[i.base];
    if (i.index >= 0) a += this.regs[i.index] << i.scale;
    return i.as32 ? a >>> 0 : a & 0xffff;
  }

  /** Reads the ModRM r/m operand of `size` bytes. */
  readRm(i: Instr, size: number): number {
    if (i.rm >= 0) return this.getReg(size, i.rm);
    return this.readMem(i.seg, this.ea(i), size);
  }

  writeRm(i: Instr, size: number, v: number): void {
    if (i.rm >= 0) this.setReg(size, i.rm, v);
    else this.writeMem(i.seg, this.ea(i), size, v);
  }

  // =====================================================================================================
  // Stack
  // =====================================================================================================

  get sp(): number {
    return this.stack32 ? this.regs[ESP] >>> 0 : this.regs16[ESP << 1];
  }

  set sp(v: number) {
    if (this.stack32) this.regs[ESP] = v;
    else this.regs16[ESP << 1] = v;
  }

  /** Pushes `size` bytes; ESP changes only after the store succeeded. */
  push(size: number, v: number): void {
    const sp = this.stack32 ? (this.regs[ESP] - size) >>> 0 : (this.regs16[ESP << 1] - size) & 0xffff;
    this.writeMem(SS, sp, size, v);
    this.sp = sp;
  }

  pop(size: number): number {
    const sp = this.sp;
    const v = this.readMem(SS, sp, size);
    this.sp = this.stack32 ? (sp + size) >>> 0 : (sp + size) & 0xffff;
    return v;
  }

  /** Reads the stack `depth` bytes above SP without popping (for check-then-commit returns). */
  peekStack(depth: number, size: number): number {
    const off = this.stack32 ? (this.sp + depth) >>> 0 : (this.sp + depth) & 0xffff;
    return this.readMem(SS, off, size);
  }

  // =====================================================================================================
  // Flags
  // =====================================================================================================

  /** EFLAGS with the lazy arithmetic flags computed. */
  getEflags(): number {
    if (this.lazyMask === 0) return this.flags >>> 0;
    return ((this.flags & ~this.lazyMask) | (this.lazyValue() & this.lazyMask)) >>> 0;
  }

  /**
   * Write of a whole EFLAGS image (reset, task switch, IRET, POPF, the debugger, tests); the mechanisms apply their
   * own rules for which bits may change. Reserved bits are fixed here, for every writer: bit 1 reads 1, bits 3, 5,
   * 15 and 22–31 read 0, and so do AC and ID on a model without them (SDM 1 §3.4.3, model.ts modelEflags).
   */
  setEflags(v: number): void {
    const before = this.flags;
    this.lazyMask = 0;
    this.flags = (v | FIXED1) & ~RESERVED0 & modelEflags(this.model);
    if (((before ^ this.flags) & VM) !== 0) this.modeChanged();
    else this.updateAttention();
  }

  private lazyValue(): number {
    return computeLazyFlags(this.lazyOp, this.lazyA, this.lazyB, this.lazyRes, this.lazyCin, this.lazySize);
  }

  /** Folds pending lazy flags into `flags`. */
  materializeFlags(): void {
    if (this.lazyMask !== 0) {
      this.flags = (this.flags & ~this.lazyMask) | (this.lazyValue() & this.lazyMask);
      this.lazyMask = 0;
    }
  }

  /** Records an operation whose six arithmetic flags are computed lazily. Operands and result are unsigned. */
  setLazyFlags(op: number, a: number, b: number, res: number, size: number, cin: number): void {
    this.lazyOp = op;
    this.lazyA = a;
    this.lazyB = b;
    this.lazyRes = res;
    this.lazyCin = cin;
    this.lazySize = size;
    this.lazyMask = ARITH;
  }

  /** As setLazyFlags, but CF keeps its value (INC, DEC). */
  setLazyFlagsKeepCF(op: number, a: number, b: number, res: number, size: number): void {
    // The new record redefines the other five flags; only a pending CF must be kept.
    if ((this.lazyMask & CF) !== 0) {
      this.flags = (this.flags & ~CF) | (this.getCF() ? CF : 0);
      this.lazyMask = 0;
    }
    this.lazyOp = op;
    this.lazyA = a;
    this.lazyB = b;
    this.lazyRes = res;
    this.lazyCin = 0;
    this.lazySize = size;
    this.lazyMask = ARITH_NO_CF;
  }

  /** Sets flags eagerly: bits in `mask` take their value from `values`. */
  setFlagBits(mask: number, values: number): void {
    // Pending flags outside `mask` stay pending: the record still describes them (getEflags and the get*F readers
    // take each flag from the record only while its lazyMask bit is set). CLC after an ADD computes nothing.
    this.flags = (this.flags & ~mask) | (values & mask);
    this.lazyMask &= ~mask;
  }

  /** ZF, SF and PF from a result, for eager flag setters. */
  static szp(res: number, size: number): number {
    let f = 0;
    if (res === 0) f |= ZF;
    if ((res & signBit(size)) !== 0) f |= SF;
    if (PARITY[res & 0xff]) f |= PF;
    return f;
  }

  getCF(): boolean {
    if ((this.lazyMask & CF) === 0) return (this.flags & CF) !== 0;
    if (this.lazyOp === LOP_ADD) return this.lazyA + this.lazyB + this.lazyCin > sizeMask(this.lazySize);
    if (this.lazyOp === LOP_LOGIC) return false;
    return this.lazyA < this.lazyB + this.lazyCin;
  }
  getZF(): boolean {
    if ((this.lazyMask & ZF) === 0) return (this.flags & ZF) !== 0;
    return this.lazyRes === 0;
  }
  getSF(): boolean {
    if ((this.lazyMask & SF) === 0) return (this.flags & SF) !== 0;
    return (this.lazyRes & signBit(this.lazySize)) !== 0;
  }
  getOF(): boolean {
    if ((this.lazyMask & OF) === 0) return (this.flags & OF) !== 0;
    return (this.lazyValue() & OF) !== 0;
  }
  getPF(): boolean {
    if ((this.lazyMask & PF) === 0) return (this.flags & PF) !== 0;
    return PARITY[this.lazyRes & 0xff] === 1;
  }
  getAF(): boolean {
    if ((this.lazyMask & AF) === 0) return (this.flags & AF) !== 0;
    return (this.lazyValue() & AF) !== 0;
  }

  /** Condition code test (SDM 2 App. B.1.4.7): o no b ae e ne be a s ns p np l ge le g. */
  condition(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.getOF(); break;
      case 1: r = this.getCF(); break;
      case 2: r = this.getZF(); break;
      case 3: r = this.getCF() || this.getZF(); break;
      case 4: r = this.getSF(); break;
      case 5: r = this.getPF(); break;
      case 6: r = this.getSF() !== this.getOF(); break;
      default: r = this.getZF() || this.getSF() !== this.getOF(); break;
    }
    return (cc & 1) === 0 ? r : !r;
  }

  // =====================================================================================================
  // Instruction fetch and the decoded-instruction cache
  // =====================================================================================================

  /** Returns the decoded instruction at CS:eip, decoding and caching it on a miss (decode/decode-cache.ts). */
  fetchInstr(eip: number): Instr {
    return this.decoded.fetch(eip);
  }

  /**
   * Changes whenever a link between decoded instructions may have become wrong: code invalidated, mode, paging or
   * A20 changed. The run loop drops its chain when it moves.
   */
  codeEpoch = 0;

  /** Runs hot straight-line code as translated blocks (jit/); off, every instruction goes through the interpreter. */
  jit = true;
  /** Decodes hot 32-bit forms to specialised handlers (ops/fast.ts); off, every row keeps its table handler. */
  fastHandlers = true;
  /**
   * Set by a translated block that faults: the instructions it retired before the faulting one; and, while a block's
   * slow path may reach a device, those retired before that instruction (the devices' clock adds it; 0 otherwise).
   */
  jitRetired = 0;
  /** Translated blocks entered straight from the block before them (block chaining in run()), for tests and figures. */
  chainedBlockRuns = 0;
  /** Of those, the blocks a region's dispatcher entered without returning to run() (jit/region.ts). */
  regionBlockRuns = 0;
  /** The block a region's dispatcher ran last (its exit's successor table is the run loop's next look). */
  lastBlock: CompiledBlock | null = null;
  /** jit/dispatch.ts runBlocks, which run() calls from this field: a constant target TurboFan would inline (megamorphic.ts callOutOfLine). */
  readonly runBlocksOutOfLine = runBlocks;
  /** Interpreted arrivals at a block head before a block is built there (jit/block.ts HOT_THRESHOLD). */
  hotThreshold = defaultHotThreshold();
  /** Translate to WebAssembly blocks where they apply (jit/wasm/block.ts), at wasmHotThreshold arrivals. */
  wasmBlocks = defaultWasmBlocks();
  wasmHotThreshold = WASM_HOT_THRESHOLD;
  /**
   * Wasm blocks also where paging is on, translating through the TLB (jit/wasm/gen.ts checkAccess). On since the
   * eleventh session, when linked blocks (wasm/link.ts) and interpreter calls inside blocks (wasm/callout.ts) made
   * Linux's windows faster with them than without (docs/speed-history.md, "Where the goals stand after the eleventh
   * session").
   */
  wasmPaging = true;
  wasmToJsAfter = WASM_TO_JS_AFTER;
  /** The wasm block a wasm block's run went on into last (jit/wasm/link.ts), for the run loop's successor lookup. */
  wasmChainedTo: CompiledBlock | null = null;

  flushDecodeCache(): void {
    // Used where the whole CPU state is replaced (reset, snapshot restore): cached translations go too.
    flushTlbAll(this);
    this.dropDecodedInstructions();
  }

  /** The decoded instructions of physical page `page` in the current decode mode (jit/dispatch.ts joinRegion). */
  decodedPage(page: number): Instr[] | undefined {
    return this.decoded.page(page);
  }

  /** Drops the decoded instructions (and the blocks built from them) of these physical pages only; no translation. */
  dropDecodedPages(pages: Iterable<number>): void {
    this.decoded.dropPages(pages);
  }

  /**
   * Drops every decoded instruction (and the blocks built from them) but no translation: the TLB is guest-visible
   * state (a stale entry stays in use), so the monitor's SBE rescans must not touch it.
   */
  dropDecodedInstructions(): void {
    this.decoded.dropAll();
  }

  // =====================================================================================================
  // Run loop
  // =====================================================================================================

  /** Recomputes whether the run loop must look at anything between instructions. */
  /**
   * Work that must see the state at an instruction boundary, not halfway through an instruction (a privilege change
   * reloads CS and SS one after the other; between the two the pair is briefly inconsistent). It runs before the
   * next instruction, or when the run loop returns (Machine.runSlice and step call runBoundaryWork).
   */
  private boundaryWork: (() => void)[] | null = null;

  /** Runs `fn` once the current instruction has completed. `fn` is queued once even if deferred again. */
  deferToBoundary(fn: () => void): void {
    if (this.boundaryWork === null) this.boundaryWork = [fn];
    else if (!this.boundaryWork.includes(fn)) this.boundaryWork.push(fn);
    this.attention = true;
  }

  runBoundaryWork(): void {
    const work = this.boundaryWork;
    if (work === null) return;
    this.boundaryWork = null;
    for (const fn of work) fn();
    this.updateAttention();
  }

  updateAttention(): void {
    this.attention = this.breakpoints.size > 0 || this.needsLookBesidesBreakpoints();
  }

  /** Every reason for `attention` but the debugger's breakpoints (translated blocks keep clear of those). */
  private needsLookBesidesBreakpoints(): boolean {
    return (
      this.stopRequested ||
      this.interruptShadow ||
      this.nmiPending ||
      (this.intrLine && (this.flags & IF) !== 0) ||
      (this.flags & (TF | RF)) !== 0 ||
      this.pendingDebugTraps !== 0 ||
      this.monitorPending ||
      this.boundaryWork !== null ||
      (this.dr[7] & 0xff) !== 0
    );
  }

  setIntrLine(level: boolean): void {
    this.intrLine = level;
    if (level && (this.flags & IF) !== 0) this.halted = false;
    this.updateAttention();
  }

  requestStop(): void {
    this.stopRequested = true;
    this.attention = true;
  }

  /**
   * Executes up to `budget` instructions. Returns how many retired. Stops early on HLT, a triple fault, a stop
   * request or a breakpoint (hitBreakpoint set; the instruction at the breakpoint has not run).
   */
  run(budget: number): number {
    // Guest time is `icount`: a REP string instruction advances it once per iteration (ops/string.ts). The loop
    // counts executions in the local `done` (a local is cheaper than the field on the hot path) and takes it again
    // from `icount` whenever it looks between instructions; an instruction that advanced time by more than one
    // sets `attention` so that it looks.
    const begin = this.icount;
    const end = begin + budget;
    let done = 0;
    this.runEnd = end;
    this.hitBreakpoint = false;
    // A fault's delivery is a transfer: its handler's first instruction is a block head (boot code's fault handlers
    // run as often as the faults do, and would otherwise never be translated).
    let delivered = false;
    while (done < budget && !this.halted && !this.shutdown) {
      try {
        // `prev` is the instruction just executed; when execution fell through to the next address in the same
        // page and mode, its `next` link replaces the fetch (translate + cache lookup).
        let prev: Instr | null = null;
        let epoch = this.codeEpoch;
        // The CS limit while the epoch is `epoch`: CS loads and mode changes move the epoch, so neither the limit nor
        // the decode mode changes under a chain link (which is why links need no mode check).
        let csLimit = this.segLimit[CS];
        let csChecked = firstCheckedStart(csLimit);
        // The instruction at EIP `jumpEip` while the epoch is `jumpEpoch`: the target of the last transfer that
        // needed a fetch, so a loop's backward branch (or any repeated jump to one place) skips the fetch as a
        // chain link does. Within one epoch the decoded instruction at an EIP cannot change (code stores, mapping,
        // mode and CS changes all move the epoch).
        let jumpEip = -1;
        let jumpEpoch = -1;
        let jumpTo: Instr | null = null;
        // Where a run begins is no block head: budgets end anywhere. Where a delivered fault leads is.
        let afterTransfer = delivered;
        delivered = false;
        // The block that just ran, while nothing happened since: its exit's instruction may be remembered.
        let fromBlock: CompiledBlock | null = null;
        // The cached instruction just interpreted when it did not fall through to a linked one: its target cache
        // (Instr.target) may hold the next instruction.
        let via: Instr | null = null;
        // Boolean fields are tested with `=== true` in this loop: V8 types them only as "some oddball", and a plain
        // `if (field)` then compiles to the generic truth test (several compares and a load of the value's map) where
        // `=== true` is one compare. Measured: about a tenth of the interpreter's time.
        while (done < budget) {
          if (this.attention === true) {
            done = this.icount - begin;
            if (done >= budget) break;
            if (this.onlyBreakpointsArmed() && !this.shutdown) {
              // Only the debugger's breakpoints want a look (a logpoint, breakpoints elsewhere): the one test
              // betweenInstructions would make. Nothing moved EIP, so the transfer caches and `prev` stay.
              if (this.breakpoints.hits((this.segBase[CS] + this.eip) >>> 0)) {
                this.hitBreakpoint = true;
                return this.icount - begin;
              }
            } else {
              fromBlock = null;
              via = null;
              const at = this.eip;
              if (this.betweenInstructions()) return this.icount - begin;
              // A delivery (interrupt, trap, monitor entry) moved EIP: the fall-through link of `prev` is not for it.
              if (this.eip !== at) prev = null;
            }
          }
          const start = this.eip;
          this.instrStart = start;
          let i: Instr;
          let cached = true;
          let known: Instr | null;
          if (prev !== null && prev.next !== null && epoch === this.codeEpoch) {
            i = prev.next;
            if ((start ^ SIGN) >= csChecked && start + i.len - 1 > csLimit) fault(VEC_GP, 0, R_GP_CS_LIMIT);
          } else if (via !== null && via.targetEip === (start | 0) && via.targetEpoch === this.codeEpoch) {
            // Where the instruction that just transferred led last time, in the same epoch (whose CS limit the
            // locals then hold: the limit check stays in small integers, as for a link).
            i = via.target!;
            if (epoch !== via.targetEpoch) {
              epoch = via.targetEpoch;
              csLimit = this.segLimit[CS];
              csChecked = firstCheckedStart(csLimit);
            }
            if ((start ^ SIGN) >= csChecked && start + i.len - 1 > csLimit) fault(VEC_GP, 0, R_GP_CS_LIMIT);
          } else if (start === jumpEip && jumpEpoch === this.codeEpoch && jumpTo !== null) {
            i = jumpTo;
            if (start + i.len - 1 > this.segLimit[CS]) fault(VEC_GP, 0, R_GP_CS_LIMIT);
          } else if (fromBlock !== null && (known = successor(fromBlock, start, this.codeEpoch)) !== null && known.d32 === this.code32) {
            // Block to block: the exit's instruction as last time (same epoch: same mapping, mode and code).
            i = known;
            if (start + i.len - 1 > this.segLimit[CS]) fault(VEC_GP, 0, R_GP_CS_LIMIT);
          } else {
            i = this.decoded.fetch(start);
            cached = this.decoded.lastFetchCached;
            if (prev !== null && epoch === this.codeEpoch && cached && prev.d32 === i.d32 && linksWithinPage(this.segBase[CS] + start)) prev.next = i;
            epoch = this.codeEpoch;
            csLimit = this.segLimit[CS];
            csChecked = firstCheckedStart(csLimit);
            if (fromBlock !== null && cached) rememberSuccessor(fromBlock, start, i, epoch);
            if (via !== null && cached) {
              via.target = i;
              via.targetEip = start | 0;
              via.targetEpoch = epoch;
            }
            if (prev === null && cached) {
              jumpEip = start;
              jumpEpoch = epoch;
              jumpTo = i;
            }
          }
          fromBlock = null;
          via = null;
          if (this.jit === true && (!this.attention || this.onlyBreakpointsArmed())) {
            // Blocks run only while nothing needs a look between instructions (traps, interrupt shadows, pending
            // interrupts, stop requests keep `attention` set) but the debugger's breakpoints, none of which may
            // lie inside the block; with the budget covering a whole pass and the mode they were built for.
            const b = i.block;
            if (b !== null) {
              if (
                blockFits(this, b, start, budget - done) &&
                (this.breakpoints.size === 0 || blockClearOfBreakpoints(b, this.breakpoints, this.segBase[CS]))
              ) {
                const last = callOutOfLine(this.runBlocksOutOfLine, this, b, budget - done);
                done = this.icount - begin;
                prev = null;
                afterTransfer = true;
                fromBlock = last;
                continue;
              }
            } else if (
              afterTransfer &&
              (prev === null || prev.block === NO_BLOCK) &&
              ++i.hits >= (this.wasmBlocks === true && this.wasmHotThreshold < this.hotThreshold ? this.wasmHotThreshold : this.hotThreshold) &&
              cached
            ) {
              // Hotness counts at block heads only: where a jump, a block exit or an instruction no block can start
              // at leads (not at every instruction a budget's end left to the interpreter). With wasm blocks on, a
              // wasm block first where one can start (jit/wasm/block.ts), else a JS block at hotThreshold; a loop that
              // polls a port, its own block (jit/poll.ts).
              const b = buildPollBlock(this, i, start) ?? (this.wasmBlocks === true ? buildTieredBlock(this, i, start) : buildBlock(this, i, start));
              if (b !== null) {
                i.block = b;
                if (b !== NO_BLOCK) {
                  this.decoded.blockFreeLists.blockBuilt();
                  joinRegion(this, b, start);
                }
                prev = null;
                continue;
              }
            }
          }
          // i.d32 is the decode mode the instruction was fetched in: the current one (CS.D and not V86).
          const next: number = i.d32 === true ? (start + i.len) >>> 0 : (start + i.len) & 0xffff;
          this.eip = next;
          i.exec(this, i);
          done++;
          this.icount++;
          afterTransfer = true;
          if ((this.halted as boolean) === true) return this.icount - begin; // (a handler may have set it: TS narrowed it above)
          // Falling through keeps the chain; jumps, faults and invalidations (the epoch) break it. Only cached
          // instructions are linked: their pages are watched for stores, so a link never outlives its code. A wrap
          // of IP (or EIP) to 0 is no fall-through: the same decoded instruction, reached through another CS base,
          // falls through to the bytes after it in the same page, so a link made there would be wrong here.
          if (this.eip === next && next !== 0 && cached === true) prev = i;
          else {
            prev = null;
            if (cached === true) via = i;
          }
        }
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        // A fault inside a translated block: count the instructions that retired before the faulting one too.
        this.icount += this.jitRetired;
        this.jitRetired = 0;
        this.eip = this.instrStart;
        // A faulting instruction raises no traps, and a fault handler gets RF = 1 in its EFLAGS image so the
        // restarted instruction skips its instruction breakpoint (SDM 3A §17.3.1.1).
        this.pendingDebugTraps = 0;
        const rf = this.flags & RF;
        this.flags |= RF;
        // The faulting instruction counts once, as on a bare CPU. Under the monitor it counts after the monitor
        // emulated it: the emulation is the guest's instruction, so devices it reads (IN, RDTSC) see the time a
        // bare CPU's execution sees, before the instruction retires.
        if (this.monitor !== null) {
          this.monitor.fault(e, rf);
          this.icount++;
        } else {
          this.icount++;
          deliverFault(this, e);
        }
        delivered = true;
        done = this.icount - begin;
      }
    }
    return this.icount - begin;
  }

  /** Executes one instruction (or delivers one pending interrupt). */
  step(): void {
    const shadow = this.interruptShadow;
    this.skipBreakpointOnce = true;
    this.run(1);
    this.runBoundaryWork();
    this.skipBreakpointOnce = false;
    if (shadow && this.interruptShadow && !this.halted) {
      // The shadow covered the instruction just executed; it lasts one instruction only.
      this.interruptShadow = false;
      this.updateAttention();
    }
    // The monitor takes up what an instruction asked of it (a store to a descriptor table: monitorPending) at the
    // boundary after it; a step settles that now, so the events it causes belong to this step, as on a bare CPU.
    // Only that: the guest's own events at the boundary (debug traps, interrupts) come with the next step, as bare.
    if (this.monitor !== null && this.monitorPending && !this.interruptShadow && !this.halted && !this.shutdown) this.monitor.boundary(true);
  }

  /**
   * Work between instructions when `attention` is set. Returns true when the run loop must return now (stop
   * request, breakpoint).
   */
  private betweenInstructions(): boolean {
    // A monitor entry made inside an instruction's handler (its SBE trap, engine/monitor/monitor.ts sbeEntry) may
    // end in a triple fault: the loop stops here, as its fault path stops after one.
    if (this.shutdown) return true;
    if (this.boundaryWork !== null) this.runBoundaryWork();
    if (this.takeStopRequest()) return true;
    if (this.breakpoints.size > 0 && !this.skipBreakpointOnce) {
      const lin = (this.segBase[CS] + this.eip) >>> 0;
      if (this.breakpoints.hits(lin)) {
        this.hitBreakpoint = true;
        return true;
      }
    }
    this.skipBreakpointOnce = false;
    const before = (this.segBase[CS] + this.eip) >>> 0;
    if (this.interruptShadow) {
      // This instruction runs with interrupts and debug traps inhibited; the shadow ends after it (cleared on the
      // next visit). Traps of the instruction that set the shadow wait until after this one (SDM 3A §6.8.3).
      this.interruptShadow = false;
      this.shadowActive = true;
      this.guestDebug();
      this.updateAttention();
      this.attention = true;
      return false;
    }
    if (this.shadowActive) {
      this.shadowActive = false;
      this.updateAttention();
    }
    // Traps of the previous instruction come before NMI and INTR (SDM 3A §6.9, Table 6-2).
    // Under the monitor, events at the boundary of deprivileged guest code enter the monitor instead.
    // The monitor's entry may report events the debugger stops on (it replays them as the entry ends): that stop
    // comes before the next instruction. For the deferred work of a store (a descriptor-table write) that is where a
    // bare CPU's stop comes too; for a delivery the monitor emulates (debug traps, NMI, an interrupt it does not
    // complete in place), bare delivery below takes a stop its events request only after the handler's first
    // instruction — a known difference (README, issue 13's "Left to do"; in-place-transfer.test.ts pins it).
    if (this.monitor !== null && this.monitor.boundary() && this.takeStopRequest()) return true;
    if (this.monitor === null || !this.monitor.deprivileged) {
      if (this.pendingDebugTraps !== 0) deliverDebugTraps(this);
      if (this.nmiPending || (this.intrLine && (this.flags & IF) !== 0)) {
        try {
          deliverExternalInterrupt(this);
        } catch (e) {
          if (!(e instanceof CpuFault)) throw e;
          deliverFault(this, e);
        }
      }
    }
    // The next instruction's breakpoints and single-step (through the monitor too: raiseDebug asks it).
    this.guestDebug();
    // guestDebug clears RF (set by every fault): recompute, or the loop would stay on this path (and translated
    // blocks stay off) long after the last reason for it.
    this.updateAttention();
    return this.breakpointAfterDelivery(before);
  }

  /**
   * A delivery at this boundary (an interrupt, also one that ends HLT; NMI; a debug trap; a monitor entry that
   * reflected one) moved CS:EIP to a handler whose first instruction runs next: the debugger's breakpoint check
   * above was for the instruction the delivery displaced, so the handler's is made here.
   */
  private breakpointAfterDelivery(before: number): boolean {
    if (this.breakpoints.size === 0 || this.halted || this.shutdown) return false;
    const lin = (this.segBase[CS] + this.eip) >>> 0;
    if (lin === before || !this.breakpoints.hits(lin)) return false;
    this.hitBreakpoint = true;
    return true;
  }
  private shadowActive = false;

  /** Consumes a pending stop request; true when there was one (the run loop returns). */
  private takeStopRequest(): boolean {
    if (!this.stopRequested) return false;
    this.stopRequested = false;
    this.updateAttention();
    return true;
  }

  /**
   * For translated blocks after an out-of-line step (an interpreter call, a slow memory access): whether the block
   * must leave for the run loop's look between instructions. Not for the debugger's breakpoints alone, which the
   * running block is clear of (a logpoint elsewhere would otherwise end every block at its first slow access).
   */
  blockMustLeave(): boolean {
    return !this.onlyBreakpointsArmed();
  }

  /** `attention` is set for the debugger's breakpoints alone (betweenInstructions has checked the current one). */
  onlyBreakpointsArmed(): boolean {
    return this.breakpoints.size > 0 && !this.shadowActive && !this.skipBreakpointOnce && !this.needsLookBesidesBreakpoints();
  }

  /**
   * The guest's instruction breakpoints, RF and single-step before the instruction at CS:EIP (debug-registers.ts).
   * A #DB fault moves EIP to its handler, whose first instruction is checked in turn; the CPU would repeat that
   * without end for a handler that starts on a breakpoint, so the repetition is bounded to keep run() finite.
   */
  private guestDebug(): void {
    for (let k = 0; k < 8 && ((this.flags & (TF | RF)) | (this.dr[7] & 0xff)) !== 0; k++) {
      if (!beforeInstruction(this) || this.halted) return;
    }
  }
}

/**
 * Whether a fall-through to the linear address `linear` may be linked from the instruction that ended there: only
 * when both lie in one page. A link is a field of the earlier instruction, so it is dropped with that instruction's
 * page; an instruction on the next page could be dropped (a store, the self-modifying code of issue 17) or be
 * another one (A20, a new mapping) while the link lived on. Within a page, the next instruction is always the one
 * at the same physical page's next offset, whatever CS base, A20 state or mapping led there.
 */
function linksWithinPage(linear: number): boolean {
  return (linear & 0xfff) !== 0;
}

const SIGN = 0x80000000 | 0;
/** The access-rights bits an access window depends on (updateWindow): S, the type, and B for expand-down. */
const WINDOW_AR = AR_S | AR_TYPE | AR_DB;
/**
 * The lowest EIP from which an instruction (at most 15 bytes) could end beyond a CS limit of `limit`, with the sign
 * bit flipped: `(eip ^ SIGN) >= firstCheckedStart(limit)` is the unsigned `eip >= limit - 14` in small-integer
 * arithmetic, so the run loop's limit check stays off floating point until an instruction comes near the limit.
 */
function firstCheckedStart(limit: number): number {
  return (limit >= 14 ? limit - 14 : 0) ^ SIGN;
}

// Bind handler names in the table to the handler registry once, when the module loads.
const missingHandlers = resolveHandlers(HANDLERS);
/** Table rows whose handler is not written yet (a test asserts this is empty). */
export const MISSING_HANDLERS: readonly string[] = missingHandlers;
