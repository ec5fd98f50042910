// WebAssembly blocks (issue 13, docs/speed-history.md "A WebAssembly tier"): the same traces as the JS blocks
// (jit/compile.ts collectBlock), compiled to a wasm function that V8's baseline compiler (Liftoff) turns into machine
// code in microseconds, so a block runs fast from its first entry and can be built after far fewer arrivals than a JS
// block, whose function runs unoptimised until TurboFan's 15–70 ms compile.
//
// A wasm block holds the trace under a 32-bit stack and code segment: the instructions wasm/instrs.ts translates
// (with flat ES/SS/DS for their memory operands) as wasm code, the others a JS block may call in place, and port
// I/O, as interpreter calls from inside the function (wasm/callout.ts), after which the block goes on. The trace
// ends at the first instruction that is neither (a branch form the block does not translate), which the wrapper
// runs in the interpreter as the block's last instruction.
// The wrapper below moves registers and flags between the Cpu and the state area, runs the function, and, when the
// function left for the interpreter at an instruction (an access that is not plain RAM, a RET past the CS limit),
// runs that instruction with the Cpu state the interpreter would have there: `instrStart` on it and `jitRetired`
// holding the instructions retired before it, so a fault is the interpreter's fault (block.ts, BlockFn).
//
// The wrapper enters a block through its memory's dispatcher (wasm/link.ts), which goes on into the wasm block at
// each exit's EIP inside wasm while the run loop would have chained to it; the exit the wrapper then finishes is the
// last block's. Block functions are compiled in batches (WASM_BATCH), several to a module.

import type { Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import { blockKey, keyFlatSegments, keyPaging, keyStack32, keyUser, makeBlock, NO_BLOCK, type CompiledBlock } from '../block';
import { replaceInRegion } from '../region';
import { blockBounds, buildBlock, collectBlock, inheritHotness, runsTableHandler } from '../compile';
import { endsBlock, isRepString, TRACE_NEXT, traceStep, translatable } from '../ops';
import type { BlockInstr } from '../emitter';
import { OP, type FunctionBody } from './encoder';
import { WasmGen } from './gen';
import { emitForm, LEFT, supported, type FormModel } from './instrs';
import { linkerOf, type Linker } from './link';
import { segmentsToState } from './operands';
import { flagsFromState, interpreterCall } from './callout';
import { systemToState } from './system';
import { jsBlockCall, linkJsBlock, type JsLink } from './js-link';
import { S_CHAINED, S_EIP, S_EPOCH, S_FLAGS, S_INTERPRET, S_LAST, S_LMASK, S_TO_JS } from './state';

/** Whether a wasm block translates `i` itself (its handler is the table's and wasm/instrs.ts has the form). */
function native(i: Instr, flat: number, model: FormModel): boolean {
  return runsTableHandler(i) && supported(i, flat, model);
}

/**
 * Whether a wasm block runs `i` through its interpreter handler and goes on after it (wasm/callout.ts): the trace
 * holds only instructions a JS block may call in place (jit/ops.ts translatable), and all but the block ends among
 * them leave EIP at the next instruction.
 */
function calledOut(i: Instr): boolean {
  return runsTableHandler(i) && !endsBlock(i);
}

/**
 * Instructions no JS block holds (jit/ops.ts CALLABLE) that a wasm block calls the interpreter for, going on after
 * them unless they asked for the run loop (wasm/callout.ts: an interrupt line, a reset or stop request, an A20
 * change, STI's interrupt shadow). IN and OUT: GRUB's kernel calibrates its clock with about 175 000 reads of port
 * 61h in a loop of three instructions, which then runs as one repeating block. RDTSC reads the devices' clock
 * (icount + jitRetired, as the call sets it), CLI/STI the interrupt flag (the call hands EFLAGS back): Linux's
 * sched_clock and its IRQ-off sections (this_cpu operations under CLI … POPF) start with them. RDTSC, CLI and STI
 * are wasm forms where the table's handlers run them (wasm/system.ts), calls only under the monitor's bindings.
 */
const WASM_CALLS = new Set(['inI', 'inDX', 'outI', 'outDX', 'rdtsc', 'cli', 'sti']);
function takesIntoWasm(i: Instr): boolean {
  return takesString(i) || (i.row !== null && WASM_CALLS.has(i.row.handler));
}

/**
 * What any wasm trace takes in: the instructions a JS block may hold, and REP string instructions, which no JS block
 * holds and wasm blocks run natively (wasm/strings.ts) or leave to the wrapper as their last instruction: Linux's
 * memset, memcpy and strlen came between two blocks, each a return to JavaScript.
 */
function takesString(i: Instr): boolean {
  return translatable(i) || isRepString(i);
}

/** Whether a block holds a REP string instruction it runs itself: no JS block can stand for it (retier). */
function runsRep(instrs: BlockInstr[], nativeAt: boolean[]): boolean {
  return instrs.some((bi, k) => nativeAt[k] && isRepString(bi.i));
}

/**
 * The instructions of the block at `first`: the trace up to and including its first instruction the block neither
 * translates nor calls out to the interpreter (which the wrapper interprets as the block's last).
 */
function wasmTrace(cpu: Cpu, first: Instr, eip: number, flat: number): BlockInstr[] {
  const cut = { at: -1 };
  // Under the monitor too: its in-place and SBE handlers stand for the table's there, so a block's port I/O, CLI
  // and STI end it and run in the wrapper (runWasm), at the interpreter's instruction count.
  const trace = collectBlock(cpu, first, eip, cut, takesIntoWasm);
  for (let k = 0; k < trace.length; k++) {
    const i = trace[k].i;
    if (!native(i, flat, cpu.model) && !calledOut(i)) return trace.slice(0, k + 1);
  }
  // A trace cut by its length or its page's end: the code after it becomes a block head at its next arrival, as
  // for JS blocks (compile.ts inheritHotness): Linux's unrolled crypto transforms (2 000 instructions a call) ran
  // interpreted 200 calls per 64-instruction piece.
  if (cut.at >= 0) inheritHotness(cpu, cut.at);
  return trace;
}

/**
 * Whether `bi` is no branch and the instruction after it is at `start` (EIP not wrapping around to it): a block
 * whose trace ends with it goes on at its own start.
 */
function fallsThroughTo(bi: BlockInstr, start: number): boolean {
  return traceStep(bi.i) === TRACE_NEXT && bi.next === start && bi.eip + bi.i.len === start;
}

/** The wasm function's bytes for `instrs` (the last may be one the wrapper interprets). */
function generate(
  instrs: BlockInstr[],
  translated: number,
  nativeAt: boolean[],
  flat: number,
  memSize: number,
  state: number,
  paging: WasmGen['paging'],
): { body: FunctionBody; entryFlags: boolean; segments: number; repeats: boolean } {
  const g = new WasmGen(instrs, memSize, state, paging);
  g.flat = flat;
  g.prologue();
  g.openExitTail();
  const start = instrs[0].eip;
  // A branch back to the start makes the block repeat: the body is a loop. So does a trace whose last instruction
  // falls through to its start (as a JS block's, jit/ops.ts traceEndSource): one that begins inside a loop (where an
  // interrupt returned or a trace cut by its length left off) and takes the loop's back branch in its middle. Linux's
  // lib/mpi loops ran so, one pass per block run, each through the dispatcher: 2.9 M runs per 250 M instructions.
  const fallsToStart = translated === instrs.length && fallsThroughTo(instrs[translated - 1], start);
  const repeats =
    fallsToStart ||
    instrs.slice(0, translated).some((bi) => ['jcc', 'jmpRel', 'loop'].includes(bi.i.row!.handler) && ((bi.next + bi.i.imm) >>> 0) === start);
  if (repeats) {
    g.stale = 0;
    g.entryFlagsUsed = true;
    g.open(OP.loop);
    g.loopDepth = g.depth;
  }
  let left = false;
  for (let k = 0; k < translated && !left; k++) {
    g.k = k;
    const i = instrs[k].i;
    if (nativeAt[k]) left = emitForm(g, i) === LEFT;
    else g.callInterpreter();
  }
  if (!left) {
    if (fallsToStart) {
      g.k = translated - 1;
      g.branchTo(start);
    } else {
      g.k = translated;
      if (translated < instrs.length) g.interpretHere();
      else g.exit(instrs[translated - 1].next, translated);
    }
  }
  if (repeats) g.close();
  g.f.op(OP.unreachable);
  g.closeExitTail();
  return { body: g.f, entryFlags: g.entryFlagsUsed, segments: g.segments, repeats };
}

/** The state area of `cpu`'s memory as int32 slots. */
const stateViews = new WeakMap<object, Int32Array>();
function stateOf(cpu: Cpu): Int32Array {
  let s = stateViews.get(cpu.mem);
  if (s === undefined) {
    s = new Int32Array(cpu.mem.wasm.buffer, cpu.mem.stateOffset, 64);
    stateViews.set(cpu.mem, s);
  }
  return s;
}

/** What a wasm block's wrapper knows of its block. */
class WasmBlock {
  /** The block (once made). */
  block: CompiledBlock | null = null;
  /** Its link index and tag in `linker` (wasm/link.ts): its function's place in the table, its record. */
  index = 0;
  /** 0 while its function waits in the linker's queue. */
  tag = 0;
  /** Runs while it waited. */
  waits = 0;
  retiered = false;

  constructor(
    /** The block's instructions; the last may be one the wrapper interprets. */
    readonly instrs: BlockInstr[],
    readonly S: Int32Array,
    /** The block reads flags it has not set itself: the Cpu's lazy record is folded in before it runs. */
    readonly entryFlags: boolean,
    /** Its head. */
    readonly first: Instr,
    /** The TLB entries it translates through (paging on), or null. */
    readonly tlb: Int32Array | null,
    readonly linker: Linker,
    /** It branches back to its own start (its body is a wasm loop). */
    readonly repeats: boolean,
  ) {}
}

/**
 * The BlockFn of a wasm block (bound to its WasmBlock; one function for all blocks, so V8 optimises it once): flags
 * in (folded first when the block reads flags it has not set itself), the block and the blocks linked after it
 * through the dispatcher (wasm/link.ts), flags out, and the instruction the last block left to the interpreter. The
 * registers need no copying: Cpu.regs is the state area's first slots. After Cpu.wasmToJsAfter instructions retired
 * in a block, it gives way to the JS block of the same head (retier).
 */
function runWasm(this: WasmBlock, c: Cpu, left: number): number {
  const tlb = this.tlb;
  if (tlb !== null && (c.tlb.entries !== tlb || c.dataBreakpoints || !c.pagingOn)) {
    // Built to translate through the TLB in the memory; now another TLB is in use (the monitor's shadow
    // tables), or linear accesses must be compared with armed data breakpoints: the first instruction runs in
    // the interpreter, the run loop goes on from the next.
    return interpretFirst(c, this);
  }
  if (this.tag === 0) {
    // Its function waits for the linker's next batch (WASM_BATCH), which comes when this head has been arrived at
    // a quarter of the build threshold again: meanwhile its first instruction runs in the interpreter.
    if (++this.waits < c.wasmHotThreshold >> 2) return interpretFirst(c, this);
    this.linker.flush();
  }
  if (this.entryFlags && c.lazyMask !== 0) c.materializeFlags();
  const S = this.S;
  S[S_FLAGS] = c.flags;
  // (A JS block the dispatcher called ran last: its exit needs nothing of the wrapper, wasm/js-link.ts.)
  let last: WasmBlock | JsLink = this;
  const L = this.linker;
  // Segment registers do not change inside wasm (no block translates or calls a segment load), so what the entry
  // writes holds for every block linked after this one.
  if (L.segments !== 0) segmentsToState(c, S, L.segments);
  systemToState(c, S);
  S[S_CHAINED] = 0;
  // No flag defined yet in this run: an interpreter call before the first block defines one keeps the Cpu's.
  S[S_LMASK] = -1;
  const epoch = c.codeEpoch | 0;
  S[S_EPOCH] = epoch;
  const toJs = c.wasmToJsAfter;
  S[S_TO_JS] = toJs < 0x7fffffff ? toJs : 0x7fffffff;
  L.enter(this.block!.eip, this.tag, epoch);
  // Links only while no breakpoint is armed (none may lie inside a block the run loop did not test): key -1
  // matches no block.
  let n = L.dispatch(this.index, left, c.a20Mask | 0, c.segLimit[1] | 0, c.breakpoints.size === 0 ? this.block!.key : -1, c.lazyMask !== 0 ? 1 : 0);
  const chained = S[S_CHAINED];
  if (chained !== 0) {
    // The run went on into other blocks inside wasm: the last one's exit is the one to finish here.
    c.chainedBlockRuns += chained;
    L.linkedRuns += chained;
    const lastIndex = S[S_LAST];
    if (lastIndex !== this.index) last = L.owners[lastIndex]!.deref() as WasmBlock | JsLink;
    c.wasmChainedTo = last.block;
  }
  flagsFromState(c, S);
  c.eip = S[S_EIP] >>> 0;
  const k = S[S_INTERPRET];
  if (k >= 0) {
    // The instruction at the exit runs in the interpreter, as a JS block's handler call does (ops.ts
    // interpreterCall), after the `n` instructions of the run.
    n = interpretAt(c, last.instrs[k], n);
  }
  if (!last.retiered && L.retired(last.index) >= c.wasmToJsAfter) retier(c, last);
  return n;
}

/**
 * Runs `bi` in the interpreter after `retired` instructions of the run, with `icount` the interpreter's count at it
 * (as an interpreter call has it, callout.ts), for everything that reads it: the devices' clock, the console's and
 * the events' timestamps, the monitor's in-place port I/O. A fault propagates from here with the instructions before
 * it counted, `jitRetired` 0. Returns the instructions retired with it: `retired`, and 1 or a REP string
 * instruction's iterations (which it counts in `icount` itself but for the last), `icount` left as it was: the run
 * loop adds the result to the `icount` it read before the call (dispatch.ts enterBlock).
 */
function interpretAt(c: Cpu, bi: BlockInstr, retired: number): number {
  c.instrStart = bi.eip;
  c.eip = bi.next;
  const before = c.icount;
  c.icount = before + retired;
  bi.i.exec(c, bi.i);
  const n = c.icount - before + 1;
  c.icount = before;
  return n;
}

/** Runs the first instruction of `w`'s block in the interpreter instead of the block; returns what it retired. */
function interpretFirst(c: Cpu, w: WasmBlock): number {
  return interpretAt(c, w.instrs[0], 0);
}

/**
 * Replaces a wasm block that has run long enough by the JS block of its head (when one can be built there), if it
 * is a loop whose runs are long inside itself: code that hot pays for TurboFan's compile, after which the JS
 * block, with its access checks hoisted out of the loop, runs faster than Liftoff's code (the loop benchmark's
 * steady state: 1 000 MIPS in wasm, 1 450 in JS). Other blocks stay wasm blocks: the JS block's gain is in its loop,
 * and a JS block among wasm blocks costs a call from wasm to JavaScript at each run (wasm/js-link.ts; a return to
 * the run loop on each way when the handover was first made), where wasm blocks link inside wasm (Linux's XZ
 * decompressor, whose hot blocks leave after a pass or two: its first 1 G instructions in 2.8 s of CPU with every
 * block handed over, 2.2–2.4 s with none). Called at the block's exit, where the mode is still the one it was built
 * for; the loop goes to JS if its runs were long on average (LOOP_RUN_TO_JS). It is asked once; after a handover
 * links lead to the JS block, none to the wasm block.
 */
function retier(cpu: Cpu, w: WasmBlock): void {
  const old = w.block;
  const L = w.linker;
  // The instructions a run of the block retired on average, its links' blocks not counted.
  const run = L.retired(w.index) / L.runs(w.index);
  w.retiered = true; // once
  L.stopCounting(w.index);
  if (old === null || w.first.block !== old || !w.repeats || run < LOOP_RUN_TO_JS) return;
  const js = buildBlock(cpu, w.first, old.eip);
  if (js === NO_BLOCK) return;
  // Linked: the wasm blocks around the loop reach it and go on after it inside wasm (wasm/js-link.ts).
  const b = linkJsBlock(L, js);
  w.first.block = b;
  replaceInRegion(old, b);
  L.unlink(w.index);
}

/**
 * The wasm block at `first` (CS:`eip`), or null when the mode is not one wasm blocks handle or its first instruction
 * is not translated. `batched`: its function may wait in the linker's queue for the next batch (WASM_BATCH);
 * otherwise the queue is compiled now.
 */
export function buildWasmBlock(cpu: Cpu, first: Instr, eip: number, batched = false): CompiledBlock | null {
  const key = blockKey(cpu);
  if (!keyStack32(key) || !cpu.code32 || !first.d32) return null;
  // With paging on, accesses translate through the TLB's entries in the wasm memory (gen.ts checkAccess), so the
  // TLB in use must be those (not the monitor's shadow TLB) and no data breakpoint may be armed.
  const mem = cpu.mem;
  const tlb = keyPaging(key) ? cpu.tlb.entries : null;
  if (tlb !== null && (!cpu.wasmPaging || tlb.buffer !== mem.wasm.buffer || cpu.dataBreakpoints || !cpu.pagingOn)) return null;
  const flat = keyFlatSegments(key);
  const instrs = wasmTrace(cpu, first, eip, flat);
  if (instrs.length === 0) return null;
  const nativeAt = instrs.map((bi) => native(bi.i, flat, cpu.model));
  const lastAt = instrs.length - 1;
  const translated = nativeAt[lastAt] || calledOut(instrs[lastAt].i) ? instrs.length : lastAt;
  // A block whose instructions would all be interpreter calls runs nothing faster than the interpreter.
  if (!nativeAt.slice(0, translated).includes(true)) return null;
  const paging = tlb === null ? null : { tlb: tlb.byteOffset, readRight: keyUser(key) ? 4 : 1 };
  const { body, entryFlags, segments, repeats } = generate(instrs, translated, nativeAt, flat, mem.size, mem.stateOffset, paging);
  const S = stateOf(cpu);
  const linker = linkerOf(mem.wasm, mem.stateOffset, mem.linkOffset, (l) => ({
    call: interpreterCall(cpu, S, (index) => (l.owners[index]!.deref() as WasmBlock).instrs),
    js: jsBlockCall(cpu, S, l),
  }));
  linker.segments |= segments;
  const w = new WasmBlock(instrs, S, entryFlags, first, tlb, linker, repeats);
  // A block whose REP iterations count towards its retired instructions would give way to a JS block that stops
  // before the REP, which then runs in the interpreter again: such blocks stay.
  if (runsRep(instrs, nativeAt)) w.retiered = true;
  const { firstByte, lastCodeByte, lastByte } = blockBounds(instrs, eip);
  // (* the instruction the wrapper interprets; ! the interpreter calls.)
  const source = `wasm: ${instrs.map((bi, k) => (k < translated ? (nativeAt[k] ? '' : '!') : '*') + bi.i.row!.handler).join(' ')}`;
  // `repeats`: traces built later stop at this block's head (compile.ts loopHead) rather than take a pass in.
  const b = makeBlock(eip, instrs.length, firstByte, lastCodeByte, lastByte, key, runWasm.bind(w), source, repeats);
  w.index = linker.add(w, b, instrs.length, key, lastByte, entryFlags);
  if (w.index === 0) return null; // every link index taken
  if (w.retiered) linker.stopCounting(w.index);
  w.block = b;
  linker.queue(w.index, body, (tag) => (w.tag = tag));
  if (!batched || linker.queued.length >= WASM_BATCH || cpu.wasmHotThreshold >> 2 === 0) linker.flush();
  return b;
}

/**
 * The run loop's builder while wasm blocks are on (Cpu.wasmBlocks): at Cpu.wasmHotThreshold arrivals a wasm block
 * if one can start here; else the JS block at Cpu.hotThreshold arrivals (null meanwhile: the head's hit count is
 * set so that it comes back here then), or NO_BLOCK at once where no JS block can start.
 */
const noWasm = new WeakSet<Instr>();
export function buildTieredBlock(cpu: Cpu, i: Instr, eip: number): CompiledBlock | null {
  if (!noWasm.has(i)) {
    const w = buildWasmBlock(cpu, i, eip, true);
    if (w !== null) return w;
    noWasm.add(i);
    // An instruction no JS block can start with either (RDTSC, a REP string operation) gets NO_BLOCK now: until it
    // has one, the instruction after it is no block head (Cpu.run counts arrivals after a NO_BLOCK), and Linux's
    // code after such heads ran interpreted for their first 30 000 passes.
    if (i.hits < cpu.hotThreshold && translatable(i)) {
      i.hits = cpu.wasmHotThreshold - (cpu.hotThreshold - i.hits);
      return null;
    }
  }
  return buildBlock(cpu, i, eip);
}

/**
 * Arrivals at a block head before a wasm block is built there: a wasm block costs tens of microseconds to build and
 * runs compiled code from its first entry, so it pays after a few hundred runs where a JS block needs tens of
 * thousands (block.ts HOT_THRESHOLD).
 */
export const WASM_HOT_THRESHOLD = 200;

/**
 * Most wasm blocks compiled in one module: a built block's function waits for the batch (wasm/link.ts flush), which
 * is compiled when this many wait or one of them has been arrived at a quarter of Cpu.wasmHotThreshold times.
 */
export const WASM_BATCH = 16;

/**
 * Instructions a wasm block retires before the JS block of its head replaces it (Cpu.wasmToJsAfter, retier). A JS
 * block starts in V8's interpreter and pays its TurboFan compiles, which only code this hot pays back: at 2 M, five
 * of GRUB's LZMA blocks were replaced and GRUB took 1.11–1.15 s of CPU, at 16 M 0.91–0.92 s; Linux's lib/mpi window
 * 3.32–3.37 → 3.11–3.13 s (docs/speed-history.md, "Where the goals stand after the eleventh session"). The loop
 * benchmark's block still gives way within its 50 M warm-up, and its steady state is the JS block's.
 */
export const WASM_TO_JS_AFTER = 16_000_000;

/**
 * The instructions a run of a repeating wasm block must have retired on average (its own, not those of the blocks
 * linked after it) when its WASM_TO_JS_AFTER is reached for retier to hand it to JS. The loop benchmark's block runs
 * a slice's budget at a time; Linux's lib/mpi loops 340 (mpihelp_addmul_1, 8 passes) to 2 700 (mpihelp_submul_1,
 * 57 passes) a call; GRUB's repeating blocks, a few passes. A JS block's pass is faster (hoisted checks), but each
 * run of it among wasm blocks cost two returns to the run loop and its entry's checks: the lib/mpi window at 3.25 G
 * ran 250 M instructions in 0.53–0.59 s at 1 024 (submul's loop handed over), 0.55–0.64 s at 256 (both), 0.60–0.62 s
 * with neither. It was the run that reached WASM_TO_JS_AFTER (at 4 096), a coin toss for loops whose runs vary. With
 * the JS block reached from wasm (wasm/js-link.ts: a call, about 120 ns less a run), 256 was still slower (500 M:
 * 1.24 against 1.10–1.15 s).
 */
export const LOOP_RUN_TO_JS = 1024;

let wasmDefault = true;

/** Whether new Cpus start with wasm blocks on (Cpu.wasmBlocks): yes, unless RINGSIDE_WASM=0 in the environment. */
export function defaultWasmBlocks(): boolean {
  return wasmDefault;
}

export function setDefaultWasmBlocks(on: boolean): void {
  wasmDefault = on;
}

if (typeof process !== 'undefined' && process.env.RINGSIDE_WASM !== undefined) wasmDefault = process.env.RINGSIDE_WASM === '1';
