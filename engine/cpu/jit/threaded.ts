// The first tier of translation: threaded blocks, for code that runs a few hundred to a few tens of thousands of
// times (issue 13, README "Speed on real code"). A translated block (compile.ts) costs V8 a parse, a baseline
// compile and, once it is hot, 15–35 ms of TurboFan per block, and runs slower than the interpreter until then; so
// blocks come only after HOT_THRESHOLD arrivals, and lukewarm code (Linux's crypto self-tests, GRUB's warm-up) ran
// in the interpreter's run loop, whose own work per instruction (the fetch or link, the CS-limit and epoch tests,
// the block-or-not test, the counters) is about half of the interpreter's time.
//
// A threaded block is the same trace a translated block would take in (collectBlock), kept as the list of its
// decoded instructions and run by ONE function shared by every threaded block (`runThreaded`, optimised by
// TurboFan once): for each instruction it sets instrStart and EIP as the interpreter does and calls the
// instruction's handler — it IS the interpreter, without the run loop's per-instruction look-ups. It leaves when EIP
// is not where the trace goes on (a branch went the other way), when something needs a look between instructions
// (`attention`: a REP iteration count, an interrupt raised by a store to a device, POPF's IF or TF), or when a store
// hit decoded code (the code epoch moved). It is a CompiledBlock to the run loop: entered under the same checks
// (whole pass within the budget, mode key, CS limit, no breakpoint inside), chained by the same successor tables,
// and dropped with its page's decoded instructions. After HOT_THRESHOLD arrivals in all (interpreted and threaded)
// its head gets a translated block, which replaces it.

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import { blockKey, makeBlock, NO_BLOCK, type CompiledBlock } from './block';
import { buildBlock, collectBlock } from './compile';
import { isRepString, translatable } from './ops';

/** A threaded block's instructions and where each one leaves EIP when the trace goes on (CompiledBlock.thread). */
export interface Thread {
  /** The block these instructions are (what exit tables lead to). */
  readonly block: CompiledBlock;
  /** The instruction the block starts at (its arrivals count towards the translated block: Instr.hits). */
  readonly head: Instr;
  readonly eip: number;
  readonly key: number;
  readonly instrs: Instr[];
  /** EIP after each instruction as the interpreter sets it before the handler runs (the fall-through). */
  readonly fall: Float64Array;
  /** EIP after each instruction where the trace goes on (the next instruction's EIP; the last: unused). */
  readonly to: Float64Array;
  /** Whether the head may still get a translated block (false once tried: none can start there). */
  promotable: boolean;
  /**
   * The threaded blocks this block's exits led to, by exit EIP (`exitEip`, as int32), each valid while the code
   * epoch is its `exitEpoch`: the runner goes on into them without returning to the run loop (see `linkExit`).
   */
  readonly exitEpoch: Float64Array;
  readonly exitEip: Int32Array;
  readonly exit: (Thread | null)[];
}

/** Entries of a threaded block's exit table (a power of two). */
const EXIT_SLOTS = 4;

function exitSlot(eip: number): number {
  return (eip ^ (eip >>> 5)) & (EXIT_SLOTS - 1);
}

/**
 * Instructions a threaded block may hold: what a translated block may, REP string instructions, whose handler
 * takes the budget left from `icount` — which the runner keeps exact — and sets `attention` after more than one
 * iteration, and port I/O.
 */
export function threadable(i: Instr): boolean {
  return translatable(i) || isRepString(i) || (i.row !== null && PORT_IO.has(i.row.handler));
}

/** IN and OUT: a device sees `icount`, exact here; an interrupt it raises sets `attention`, which ends the run. */
const PORT_IO = new Set(['inI', 'inDX', 'outI', 'outDX']);

/**
 * The block at `first` (CS:`eip`) for a head that has had `first.hits` arrivals: a translated block once they reach
 * the Cpu's hotThreshold, a threaded block before; NO_BLOCK when no block can start there.
 */
export function buildTier(cpu: Cpu, first: Instr, eip: number): CompiledBlock {
  if (first.hits >= cpu.hotThreshold) return buildBlock(cpu, first, eip);
  return buildThreaded(cpu, first, eip);
}

/** Builds the threaded block at `first` (CS:`eip`), or NO_BLOCK when its first instruction cannot start one. */
export function buildThreaded(cpu: Cpu, first: Instr, eip: number): CompiledBlock {
  const trace = collectBlock(cpu, first, eip, threadable);
  if (trace.length === 0) return NO_BLOCK;
  const n = trace.length;
  const instrs: Instr[] = [];
  const fall = new Float64Array(n);
  const to = new Float64Array(n);
  let firstByte = eip;
  let lastCodeByte = eip;
  for (let k = 0; k < n; k++) {
    const { i, eip: at, next } = trace[k];
    instrs.push(i);
    fall[k] = next;
    to[k] = k + 1 < n ? trace[k + 1].eip : -1;
    firstByte = Math.min(firstByte, at);
    lastCodeByte = Math.max(lastCodeByte, at + i.len - 1);
  }
  // Branch handlers check their targets against the CS limit themselves (ops/control.ts nearTarget), as in the
  // interpreter, so the block's bytes are all the limit must cover.
  const block = makeBlock(eip, n, firstByte, lastCodeByte, lastCodeByte, blockKey(cpu), runThreaded, '');
  const exit: (Thread | null)[] = [];
  for (let k = 0; k < EXIT_SLOTS; k++) exit.push(null);
  const thread: Thread = {
    block,
    head: first,
    eip,
    key: block.key,
    instrs,
    fall,
    to,
    promotable: true,
    exitEpoch: new Float64Array(EXIT_SLOTS).fill(-1),
    exitEip: new Int32Array(EXIT_SLOTS),
    exit,
  };
  block.thread = thread;
  return block;
}

/** Whether `b` is a threaded block (for tests and figures). */
export function isThreaded(b: CompiledBlock | null): boolean {
  return b !== null && b.thread !== null;
}

/**
 * The last threaded block that returned to the run loop, the Cpu it ran on, its exit EIP and the code epoch then:
 * when the next threaded block entered on that Cpu starts at that EIP in that epoch, it is what the exit leads to
 * (within one epoch the decoded instruction at an EIP cannot change), and the first block's exit table learns it.
 */
let leftBlock: Thread | null = null;
let leftCpu: Cpu | null = null;
let leftEip = -1;
let leftEpoch = -1;

/**
 * Runs a threaded block (`this`; the run loop calls `b.run(cpu, left)`), then the threaded blocks its exits lead
 * to while they are known (exit tables), whole passes fit the budget and nothing needs a look: the run loop's
 * block chaining without its per-block tests, which hold for the whole run here — no instruction a threaded block
 * holds changes the mode, a segment or the CS limit, the epoch is tested after every instruction, and breakpoints
 * stop the chain. Guest time stays exact as it runs: `icount` advances after each instruction as in the
 * interpreter (devices, REP budgets and the fault path read it), and is taken back before returning, since the run
 * loop adds the returned count. A fault thrown by a handler leaves `instrStart` at the faulting instruction,
 * `icount` at the instructions before it and `jitRetired` at 0: the run loop's fault path then finishes the
 * instruction as it does for an interpreted one.
 */
function runThreaded(this: CompiledBlock, c: Cpu, left: number): number {
  let t = this.thread as Thread;
  const epoch = c.codeEpoch;
  if (leftCpu === c && leftEip === t.eip && leftEpoch === epoch && leftBlock !== null) linkExit(leftBlock, t, epoch);
  const begin = c.icount;
  let eip = t.eip;
  // Leaves by `break run` only: one way out, so no call on the way out lacks type feedback when V8 optimises the
  // loop while it runs (a deopt there would repeat at every return).
  run: for (;;) {
    const instrs = t.instrs;
    const fall = t.fall;
    const to = t.to;
    const last = instrs.length - 1;
    const start = t.eip;
    pass: for (;;) {
      // Every pass is an arrival at the head (a loop inside one block must still get its translated block).
      if (++t.head.hits >= c.hotThreshold && t.promotable) promote(t, c);
      for (let k = 0; ; k++) {
        const i = instrs[k];
        c.instrStart = eip;
        c.eip = fall[k];
        i.exec(c, i);
        c.icount++;
        eip = c.eip;
        if (k === last) break;
        if (eip !== to[k]) break pass;
        if (c.codeEpoch !== epoch || (c.attention === true && c.blockMustLeave())) break run;
      }
      if (c.codeEpoch !== epoch || (c.attention === true && c.blockMustLeave())) break run;
      // A pass ended: it goes round again when it ended at its start and another whole pass fits the budget.
      if (eip !== start || c.icount - begin + instrs.length > left) break;
    }
    // Left at `eip` (a branch the other way, or the pass's end): on into the threaded block it led to last time.
    const k = exitSlot(eip);
    const nb = t.exit[k];
    if (nb === null || t.exitEip[k] !== (eip | 0) || t.exitEpoch[k] !== epoch) break;
    if (nb.head.block !== nb.block || nb.key !== t.key || c.icount - begin + nb.instrs.length > left || c.breakpoints.size !== 0) break;
    t = nb;
  }
  leftBlock = t;
  leftCpu = c;
  leftEip = eip;
  leftEpoch = c.codeEpoch;
  // The run loop adds the count to `icount` itself.
  const n = c.icount - begin;
  c.icount = begin;
  return n;
}

/**
 * Remembers that an exit of `from` to `to.eip` leads to `to` in code epoch `epoch`. The CS limit cannot change
 * within an epoch, so `to`'s last byte stays within it; the mode key is tested when the link is taken.
 */
function linkExit(from: Thread, to: Thread, epoch: number): void {
  const k = exitSlot(to.eip);
  from.exitEpoch[k] = epoch;
  from.exitEip[k] = to.eip;
  from.exit[k] = to;
}

/**
 * Gives the head its translated block (it has had hotThreshold arrivals). The threaded block runs this once more;
 * the next arrival finds the translated one. The mode key is the threaded block's, which the run loop just checked.
 */
function promote(t: Thread, c: Cpu): void {
  t.promotable = false;
  const b = buildBlock(c, t.head, t.eip);
  if (b !== NO_BLOCK) t.head.block = b;
}
