// The interpreter call of WebAssembly blocks: an instruction of the trace that wasm/instrs.ts does not translate
// (RCL/RCR, LAHF/SAHF, the BCD adjustments, IN/OUT, PUSH Sreg, ...) runs through its interpreter
// handler from inside the block, and the block goes on after it, as a JS block's interpreterCall does (jit/ops.ts).
// Before the call the block stores its registers (the Cpu's: Cpu.regs is the state area's first slots) and its
// flags and pending record in the state area; the call below gives the Cpu those flags, runs the handler with
// `instrStart`, EIP and `icount` as the interpreter has them there, and hands EFLAGS back folded. A fault
// propagates out of the block from the handler with that state, so it is the interpreter's fault at this
// instruction. After anything that needs the run loop (an interrupt made pending, a stop request: the same test
// as the JS blocks'), a store into translated code (the code epoch moved) or an A20 change (the block's accesses
// were generated for the mask it was entered with), the block leaves with the instruction retired.

import type { Cpu } from '../../cpu';
import type { BlockInstr } from '../emitter';
import { INTERPRET_CALL_LEFT, S_BEFORE, S_EIP, S_FLAGS, S_INTERPRET, S_LA, S_LB, S_LCIN, S_LAST, S_LMASK, S_LOP, S_LR, S_LSIZE } from './state';

/**
 * The Cpu's flags from the state area at a block's exit or interpreter call: EFLAGS and the pending lazy record
 * (S_LMASK -1: the block has defined no flag, the Cpu's flags and record stand).
 */
export function flagsFromState(c: Cpu, S: Int32Array): void {
  const mask = S[S_LMASK];
  if (mask < 0) return;
  c.flags = S[S_FLAGS];
  c.lazyMask = mask;
  if (mask !== 0) {
    c.lazyOp = S[S_LOP];
    c.lazyA = S[S_LA] >>> 0;
    c.lazyB = S[S_LB] >>> 0;
    c.lazyRes = S[S_LR] >>> 0;
    c.lazyCin = S[S_LCIN];
    c.lazySize = S[S_LSIZE];
  }
}

/** Result of the call: the block goes on (registers and EFLAGS reloaded from the state area), or leaves. */
export const CALL_GOES_ON = 0;
export const CALL_LEAVES = 1;

/**
 * The function every block of a memory calls through its table "m"."call" (the dispatcher module's thunk forwards to
 * it: wasm/encoder.ts encodeModule, wasm/link.ts): (k, retired) runs instruction `k` of the calling
 * block — the one the dispatcher entered last (S_LAST; `instrsOf` finds its instructions) — with `retired`
 * instructions of this block retired before it, and S_BEFORE more by the blocks linked before it in this run.
 * Leaving, the state area holds the exit's EIP and eager flags, and S_INTERPRET = INTERPRET_CALL_LEFT tells the
 * dispatcher (wasm/link.ts) to link no further.
 */
export function interpreterCall(cpu: Cpu, S: Int32Array, instrsOf: (index: number) => BlockInstr[]): (k: number, retired: number) => number {
  return (k, retired) => {
    const c = cpu;
    flagsFromState(c, S);
    const bi = instrsOf(S[S_LAST])[k];
    retired += S[S_BEFORE];
    c.instrStart = bi.eip;
    c.eip = bi.next;
    // `icount` is the interpreter's count at this instruction while the handler runs, for everything that reads
    // it: the devices' clock, RDTSC, the console's and the events' timestamps. A fault leaves it so, with
    // `jitRetired` 0: the run loop then counts what retired before the instruction once (Cpu.run's catch).
    c.icount += retired;
    const epoch = c.codeEpoch;
    const a20 = c.a20Mask;
    bi.i.exec(c, bi.i);
    c.icount -= retired;
    if (c.lazyMask !== 0) c.materializeFlags();
    S[S_FLAGS] = c.flags;
    if ((c.attention && c.blockMustLeave()) || c.codeEpoch !== epoch || c.a20Mask !== a20 || c.eip !== bi.next) {
      S[S_LMASK] = 0;
      S[S_EIP] = c.eip;
      S[S_INTERPRET] = INTERPRET_CALL_LEFT;
      return CALL_LEAVES;
    }
    return CALL_GOES_ON;
  };
}
