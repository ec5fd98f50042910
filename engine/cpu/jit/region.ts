// Regions: the translated blocks of one code page reached through one linear page, under one decode mode, block
// key and CS base (issue 13, "dispatch between blocks"). After a block of a region, the block of the same region
// at the new EIP runs straight away, found by its page offset in the region's table: the run loop's successor
// lookup (a hash, three typed-array loads, an epoch compare), its blockFits (the block key recomputed, the CS limit)
// and its breakpoint test are not repeated for each transfer, and the blocks a region reaches need no successor
// slot (a RET leaving to many callers in the page finds each of them).
//
// Why a transfer inside a region is as safe as the run loop's chaining (Cpu.run):
// - every block of a region was built from the same page's decoded instructions (one `Instr[]` of the decoded
//   cache; regions are found from that list, by identity), so while one of them is current they all are: a store
//   into the page's decoded bytes or a drop of the page replaces the whole list, and its regions with it;
// - the run loop enters a region only at a block that fits (it starts at EIP, a pass fits the budget, its block
//   key, the CS limit: dispatch.ts blockFits), under the region's CS base, with the CS limit covering every block
//   of the region (lastByte) and no breakpoint armed (regionFits). The entry block was just reached through the
//   current mapping, and every block of the region lies in the same linear page (`linear`): so each is the code
//   at its EIP now;
// - between blocks the region leaves when the code epoch moved (self-modifying code, an invalidation), when
//   `attention` is set (interrupts, traps, stop requests, monitor work, a breakpoint armed) or when the next block
//   is not in the region or its pass does not fit the budget: where the run loop would have stopped chaining;
// - the block key, the CS base and limit and the decode mode cannot change inside a block: blocks hold no
//   instruction that loads a segment, changes the mode or CPL, or writes a control or debug register, and the
//   handlers they call have no such effect (jit/ops.ts CALLABLE).
//
// Guest time: the region adds each block's instructions to `icount` as the block returns, so a fault in a later
// block (the run loop adds `jitRetired`) and a device's clock (`icount + jitRetired`) see what they would after
// the same blocks run one by one from the run loop.
//
// Measured against a region that was one generated function per page (a `switch` on EIP calling each block
// directly, compiled again at every block added): that was slower (docs/speed-history.md, "Regions").

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import type { CompiledBlock } from './block';
import { runBlock } from './megamorphic';

export interface Region {
  /** Block key (blockKey) of every block in the region. */
  readonly key: number;
  /** The CS base the blocks were built under: their EIPs address this page only through it. */
  readonly csBase: number;
  /**
   * The linear page the blocks were reached through (as int32). The same physical page may be mapped at several
   * linear pages, and a mapping may change between epochs; a region holds only blocks of one linear page, so an
   * exit to the same page offset through another linear page finds no block here.
   */
  readonly linear: number;
  /**
   * By the page offset of a block's first byte (`(csBase + eip) & 0xfff`): 1 + its index in `blocks`, 0 for none.
   * A byte per offset (4 KiB a region) rather than an array of 4 096 references (32 KiB): a kernel has code in
   * thousands of pages.
   */
  readonly slots: Uint8Array;
  readonly blocks: CompiledBlock[];
  /** The largest offset the CS limit must cover for any block of the region (CompiledBlock.lastByte). */
  lastByte: number;
}

/** Most blocks in one region (its slots are bytes). */
const MAX_REGION_BLOCKS = 255;

/** Regions by the decoded-instruction list of their page (a dropped list takes its regions with it). */
const byPage = new WeakMap<Instr[], Region[]>();

/** Adds block `b` (just built under `key` with CS base `csBase`, from the decoded list `page`) to its page's region. */
export function addToRegion(page: Instr[], b: CompiledBlock, key: number, csBase: number): void {
  let list = byPage.get(page);
  if (list === undefined) {
    list = [];
    byPage.set(page, list);
  }
  const linear = ((csBase + b.eip) & ~0xfff) | 0;
  let r = list.find((x) => x.key === key && x.csBase === csBase && x.linear === linear);
  if (r === undefined) {
    r = { key, csBase, linear, slots: new Uint8Array(0x1000), blocks: [], lastByte: 0 };
    list.push(r);
  }
  const slot = (csBase + b.eip) & 0xfff;
  if (r.slots[slot] !== 0 || r.blocks.length >= MAX_REGION_BLOCKS) return;
  r.blocks.push(b);
  r.slots[slot] = r.blocks.length;
  r.lastByte = Math.max(r.lastByte, b.lastByte);
  b.region = r;
}

/**
 * Runs block `b` of region `r` (it fits: dispatch.ts blockFits, regionFits), then while nothing needs a look, the
 * code epoch is unchanged and the budget `left` covers a pass, the region's block at the new EIP. Returns the
 * instructions retired; `cpu.lastBlock` is the block that ran last.
 */
export function dispatchRegion(r: Region, cpu: Cpu, b: CompiledBlock, left: number): number {
  const epoch = cpu.codeEpoch;
  const slots = r.slots;
  const blocks = r.blocks;
  const base = r.csBase;
  let n = 0;
  for (;;) {
    const m = runBlock(b, cpu, left - n);
    n += m;
    cpu.icount += m;
    if (cpu.wasmChainedTo !== null) {
      // A wasm block went on into others inside wasm (wasm/link.ts): the last one ran last.
      b = cpu.wasmChainedTo;
      cpu.wasmChainedTo = null;
    }
    if (cpu.attention === true || cpu.codeEpoch !== epoch) break;
    const eip = cpu.eip;
    const k = slots[(base + eip) & 0xfff];
    if (k === 0) break;
    const nb = blocks[k - 1];
    if (nb.eip !== eip || nb.len > left - n) break;
    cpu.instrStart = eip;
    cpu.chainedBlockRuns++;
    cpu.regionBlockRuns++;
    b = nb;
  }
  cpu.lastBlock = b;
  return n;
}

/**
 * Puts block `b` in the place of `old` (a block of the same EIP, built from the same page's decoded instructions
 * under the same key: wasm/block.ts replacing a wasm block by the JS block of the same head) in `old`'s region.
 */
export function replaceInRegion(old: CompiledBlock, b: CompiledBlock): void {
  const r = old.region;
  if (r === null) return;
  const k = r.blocks.indexOf(old);
  if (k < 0) return;
  r.blocks[k] = b;
  r.lastByte = Math.max(r.lastByte, b.lastByte);
  b.region = r;
}
