// The run loop's way into translated code: whether a block may run at EIP now (blockFits), entering it directly or
// through its region's dispatcher (enterBlock, regionFits), chaining on into the blocks its exits led to last time
// (runBlocks), and putting a newly built block into its page's region (joinRegion). Cpu.run (cpu.ts) asks these at
// a block head; everything here keeps icount, instrStart and the successor tables as the interpreter would.

import { ACCESS_FETCH } from '../protect/paging';
import { PAGE_SHIFT } from '../../bus/memory';
import { CpuFault } from '../faults';
import { CS, type Cpu } from '../cpu';
import { blockKey, successor, type CompiledBlock } from './block';
import { blockClearOfBreakpoints } from './breakpoints';
import { runBlock } from './megamorphic';
import { addToRegion, dispatchRegion, type Region } from './region';

/**
 * Runs block `b`, which fits at EIP, then, while nothing but breakpoints needs a look, the blocks its exits led to
 * last time, within `left` instructions; returns the block that ran last.
 *
 * The run loop calls it out of line (jit/megamorphic.ts callOutOfLine, never inlined into Cpu.run): the paths here
 * are first taken at different times of a boot (the first block, the first region dispatch, the first chain), and
 * each first time in an optimised function throws that function's code away ("insufficient type feedback" deopts).
 * Inlined into run(), each cost a TurboFan compile of the whole run loop (20–100 ms of compiler time; 9 in GRUB's
 * boot) and sent the loop back to V8's bytecode interpreter until the next one was done; here it costs a recompile
 * of this function.
 */
export function runBlocks(cpu: Cpu, b: CompiledBlock, left: number): CompiledBlock {
  const begin = cpu.icount;
  // A block of a region runs through the region's dispatcher, which goes on into the region's other blocks itself
  // (jit/region.ts) and keeps `icount` as it goes.
  let last = enterBlock(cpu, b, left);
  let done = cpu.icount - begin;
  // Block chaining: while nothing but breakpoints needs a look, the block an exit led to last time (same epoch:
  // same code, mapping and mode) runs straight away, under the conditions of a block entered from run().
  while ((cpu.attention === false || cpu.onlyBreakpointsArmed()) && done < left) {
    const at = cpu.eip;
    const known = successor(last, at, cpu.codeEpoch);
    if (known === null) break;
    const nb = known.block;
    if (nb === null || known.d32 !== cpu.code32 || !blockFits(cpu, nb, at, left - done)) break;
    if (cpu.breakpoints.size !== 0 && !blockClearOfBreakpoints(nb, cpu.breakpoints, cpu.segBase[CS])) break;
    cpu.instrStart = at;
    cpu.chainedBlockRuns++;
    last = enterBlock(cpu, nb, left - done);
    done = cpu.icount - begin;
  }
  return last;
}

/**
 * Whether block `b` may run at EIP `at` now, breakpoints aside: it starts there, a whole pass fits in the `left`
 * budget, it was built for the current mode (blockKey), the CS limit covers its code and constant branch targets.
 * The run loop asks before a block entered from the interpreter and before each chained one. (A data watch does
 * not keep blocks off: their inline accesses test the page flags that send watched accesses out of line.)
 */
export function blockFits(cpu: Cpu, b: CompiledBlock, at: number, left: number): boolean {
  return b.eip === at && b.len <= left && b.key === blockKey(cpu) && b.lastByte <= cpu.segLimit[CS];
}

/**
 * Runs block `b`, which fits at EIP (blockFits, breakpoints), with `left` instructions of budget: through its
 * region when that may dispatch (jit/region.ts), which then goes on into the region's other blocks. Adds what
 * retired to `icount`; returns the block that ran last (whose exit the run loop looks up next).
 */
function enterBlock(cpu: Cpu, b: CompiledBlock, left: number): CompiledBlock {
  const r = b.region;
  if (r !== null && regionFits(cpu, r)) {
    dispatchRegion(r, cpu, b, left);
    return cpu.lastBlock!;
  }
  cpu.icount += runBlock(b, cpu, left);
  const w = cpu.wasmChainedTo;
  if (w !== null) {
    // A wasm block went on into others inside wasm (wasm/link.ts): the last one's exit is the one to look up.
    cpu.wasmChainedTo = null;
    return w;
  }
  return b;
}

/**
 * Whether region `r` may dispatch now, its entry block having fitted (blockFits): it has more than one block, its
 * CS base is the current one (so each of its blocks' EIPs is in the entry block's linear page), the CS limit
 * covers all its blocks, and no breakpoint is armed.
 */
function regionFits(cpu: Cpu, r: Region): boolean {
  return r.blocks.length > 1 && cpu.breakpoints.size === 0 && r.csBase === cpu.segBase[CS] && r.lastByte <= cpu.segLimit[CS];
}

/**
 * Puts block `b`, just built at EIP `eip`, into the region of its page's decoded instructions (jit/region.ts).
 * The page is found as fetchInstr finds it (the head was fetched there a moment ago); a fault on the way (the
 * mapping went away meanwhile) leaves the block alone.
 */
export function joinRegion(cpu: Cpu, b: CompiledBlock, eip: number): void {
  let phys: number;
  try {
    phys = cpu.translate((cpu.segBase[CS] + (cpu.code32 ? eip : eip & 0xffff)) | 0, ACCESS_FETCH);
  } catch (e) {
    if (e instanceof CpuFault) return;
    throw e;
  }
  const page = cpu.decodedPage(phys >>> PAGE_SHIFT);
  if (page !== undefined && page[phys & 0xfff] !== undefined && page[phys & 0xfff].block === b) addToRegion(page, b, b.key, cpu.segBase[CS]);
}
