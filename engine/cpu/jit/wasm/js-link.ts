// JS blocks linked among the wasm blocks (issue 13): a loop handed from its wasm block to the JS block of its head
// (wasm/block.ts retier) is reached from the wasm blocks around it through the dispatcher (wasm/link.ts), which calls
// it through an import and goes on into the wasm block at its exit, instead of returning to the run loop before it
// and entering wasm again after it. Linux's lib/mpi: `mpihelp_submul_1`'s loop, a JS block since the thirteenth
// session, cost two switches between JavaScript and wasm per call of the function (47 000 JS block runs per 250 M
// instructions, a third of the window's entries into wasm).
//
// Why the call is the run loop's chaining: the dispatcher links to the JS block only under the conditions it links
// to a wasm block (its tag is current in this code epoch, a pass fits the budget, the entering block's key, the CS
// limit covers it, no breakpoint armed: wasm/link.ts), and the JS block runs with the Cpu as the run loop gives it:
// the flags and lazy record the blocks before it left, EIP and `instrStart` at its head, and `icount` counting the
// instructions the run retired before it (as an interpreter call has it, wasm/callout.ts), so its interpreter calls
// read the interpreter's clock and a fault inside it is the interpreter's fault there (the run loop then adds
// `jitRetired`, the JS block's count before the faulting instruction). After it the dispatcher goes on only where
// the run loop's chaining would: nothing asks for a look (attention), the code epoch and A20 are as they were.

import type { Cpu } from '../../cpu';
import { makeBlock, type CompiledBlock } from '../block';
import type { BlockInstr } from '../emitter';
import { runBlock } from '../megamorphic';
import { flagsFromState } from './callout';
import type { Linker } from './link';
import { INTERPRET_CALL_LEFT, S_BEFORE, S_EIP, S_FLAGS, S_INTERPRET, S_LMASK } from './state';

/** A JS block with a link index (the owner the linker knows it by). */
export class JsLink {
  /** The block the run loop and the regions hold: `js`, entered through enterJs. */
  block: CompiledBlock | null = null;
  tag = 0;
  /** (As a wasm block's: a JS block is never handed over again, and no instruction of it is left to the wrapper.) */
  readonly retiered = true;
  readonly instrs: BlockInstr[] = [];

  constructor(
    readonly js: CompiledBlock,
    readonly linker: Linker,
  ) {}
}

/**
 * The BlockFn of a linked JS block entered from the run loop (bound to its JsLink): links lead to it at its EIP in
 * this code epoch (as a wasm block's wrapper does for itself, wasm/block.ts runWasm), then the JS block runs.
 */
function enterJs(this: JsLink, c: Cpu, left: number): number {
  this.linker.enter(this.js.eip, this.tag, c.codeEpoch | 0);
  return runBlock(this.js, c, left);
}

/**
 * JS block `js` with a link index in `linker`, as a block the run loop runs (entering it makes links lead to it);
 * `js` itself when every index is taken.
 */
export function linkJsBlock(linker: Linker, js: CompiledBlock): CompiledBlock {
  const link = new JsLink(js, linker);
  const b = makeBlock(js.eip, js.len, js.firstByte, js.lastCodeByte, js.lastByte, js.key, enterJs.bind(link), js.source, js.repeats);
  link.tag = linker.addJs(link, b);
  if (link.tag === 0) return js;
  link.block = b;
  return b;
}

/**
 * The JS block call of `cpu`'s linker (the dispatcher module's import "m"."js"): runs the JS block at link index
 * `index` with `left` instructions of budget, after the S_BEFORE instructions the run's blocks before it retired.
 * Leaves the state area as a wasm block's exit does: EIP, the flags folded (the next wasm block loads them; the JS
 * block's record kinds are not all the dispatcher's fold's), and S_INTERPRET -1, or INTERPRET_CALL_LEFT when the
 * dispatcher must link no further (as after an interpreter call: wasm/callout.ts).
 */
export function jsBlockCall(cpu: Cpu, S: Int32Array, linker: Linker): (index: number, left: number) => number {
  return (index, left) => {
    const c = cpu;
    const link = linker.owners[index]!.deref() as JsLink;
    flagsFromState(c, S);
    const eip = S[S_EIP] >>> 0;
    c.eip = eip;
    c.instrStart = eip;
    const before = S[S_BEFORE];
    c.icount += before;
    const epoch = c.codeEpoch;
    const a20 = c.a20Mask;
    const n = runBlock(link.js, c, left);
    c.icount -= before;
    if (c.lazyMask !== 0) c.materializeFlags();
    S[S_FLAGS] = c.flags;
    S[S_LMASK] = 0;
    S[S_EIP] = c.eip;
    const leave = n === 0 || (c.attention && c.blockMustLeave()) || c.codeEpoch !== epoch || c.a20Mask !== a20;
    S[S_INTERPRET] = leave ? INTERPRET_CALL_LEFT : -1;
    return n;
  };
}
