// Self-modifying code at the granularity of instructions: a store into the bytes of decoded instructions drops those
// instructions only, when no translated block was built from the page's decoded instructions (a block holds
// instructions of its page wherever they are, so such a page still goes whole, with its blocks and regions).
//
// GRUB's BIOS call trampoline (issue 13) stores the registers into immediates of its own 16-bit code twice per call;
// dropping the whole page each time decoded its other instructions again (about 50 per call) and allocated a new
// list of 4 096 slots. What else refers to a decoded instruction, and why it stays right:
// - a fall-through link (Instr.next) from the instruction that ends where a dropped one starts: cleared here;
// - a transfer's remembered target (Instr.target), a block's successor table and the run loop's locals: valid only
//   in the code epoch they were made in, which the caller moves;
// - the bitmap of decoded bytes (code-bytes.ts): the dropped instructions' bytes are cleared, then those that a
//   remaining instruction overlapping them still covers are marked again.

import { PAGE_SHIFT } from '../../bus/memory';
import type { CodeBytes } from './code-bytes';
import type { Instr } from './instr';
import { NO_BLOCK } from '../jit/block';

/** The longest x86 instruction, in bytes (SDM vol. 2 §2.3.11). */
const MAX_LENGTH = 15;

/** Whether a translated block was built from one of these decoded instructions. */
export function hasBlocks(list: readonly (Instr | undefined)[]): boolean {
  for (let o = 0; o < list.length; o++) {
    const b = list[o]?.block;
    if (b !== undefined && b !== null && b !== NO_BLOCK) return true;
  }
  return false;
}

/**
 * hasBlocks with a memory of the lists found without blocks: each look scans 4 096 slots, and GRUB's boot looks
 * 1 222 times (stores beside code, the BIOS trampoline's stores into its own page), 25–45 ms of its CPU. A list
 * found without blocks stays so until the next block is built anywhere (`blockBuilt`, which the run loop calls
 * whenever a decoded instruction gets a block): the answer is remembered with the count of blocks built then.
 */
export class BlockFreeLists {
  private built = 0;
  private readonly free = new WeakMap<readonly (Instr | undefined)[], number>();

  blockBuilt(): void {
    this.built++;
  }

  hasBlocks(list: readonly (Instr | undefined)[]): boolean {
    if (this.free.get(list) === this.built) return false;
    if (hasBlocks(list)) return true;
    this.free.set(list, this.built);
    return false;
  }
}

/**
 * Drops the decoded instructions of `list` (page `page`, decoded bytes `bytes`) that overlap the page offsets
 * `from`..`to` (exclusive); returns whether any was dropped.
 */
export function dropOverlapping(list: (Instr | undefined)[], bytes: CodeBytes, page: number, from: number, to: number): boolean {
  let lo = to;
  let hi = from;
  for (let o = Math.max(0, from - (MAX_LENGTH - 1)); o < to; o++) {
    const i = list[o];
    if (i === undefined || o + i.len <= from) continue;
    list[o] = undefined;
    if (o < lo) lo = o;
    if (o + i.len > hi) hi = o + i.len;
  }
  const dropped = lo < hi;
  // Links into the dropped instructions come from instructions that end inside lo..hi.
  for (let o = Math.max(0, lo - MAX_LENGTH); o < hi; o++) {
    const i = list[o];
    if (i !== undefined && i.next !== null && list[o + i.len] !== i.next) i.next = null;
  }
  // The stored bytes' bits too: a bit no instruction covers any more (none dropped) is set again by none below.
  if (from < lo) lo = from;
  if (to > hi) hi = to;
  const base = page << PAGE_SHIFT;
  bytes.clearRange(base + lo, hi - lo);
  for (let o = Math.max(0, lo - (MAX_LENGTH - 1)); o < hi; o++) {
    const i = list[o];
    if (i !== undefined && o + i.len > lo) bytes.mark(base + o, i.len);
  }
  return dropped;
}
