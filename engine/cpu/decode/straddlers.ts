// Decoded instructions that straddle a page's end: their first bytes on one physical page, the rest on whichever page
// the next linear page maps to. They are kept here, by the physical address of their first byte and decode mode,
// beside the per-page lists of decode-cache.ts (which hold only instructions within one page).
//
// Before, such an instruction was decoded again at every execution. No block takes it in (a block is a trace through
// one page, jit/compile.ts collectBlock), so it is interpreted each time it runs, and Linux's boot runs a loop with
// one of them about 600 000 times in the 250 M instructions after 2.25 G, and another 20 000 times per 250 M in
// lib/mpi (issue 13, docs/speed-history.md "Page-straddling instructions").
//
// Why a kept one is still the instruction a fetch would decode:
// - its bytes: both pages' bytes are marked decoded (code-bytes.ts) and flagged as code, so a store to any of them
//   reaches DecodeCache.invalidate, which drops it here (`stored`); a page dropped whole drops those that touch it;
// - its tail's page: DecodeCache.fetch takes it only when the next linear page still translates to the page its tail
//   was read from, and only within the CS limit (otherwise it decodes again, which raises the fault the bytes'
//   fetch order gives: a #GP for a byte beyond the limit, a #PF for the next page);
// - it is no "cached" instruction for the run loop (DecodeCache.lastFetchCached false, as before): no fall-through link
//   (followed without a fetch, in any code epoch) and no remembered transfer target is made to or from it, so
//   every arrival at it fetches it here.
// Only on a bare CPU: under the monitor every decode goes through its scan (Cpu.sbeScan), which records the page an
// instruction was decoded from, and it drops pages by that record; a straddler is decoded each time there, as before.

import { PAGE_SHIFT } from '../../bus/memory';
import type { CodeBytes } from './code-bytes';
import type { Instr } from './instr';

const PAGE_SIZE = 1 << PAGE_SHIFT;

/** One straddling instruction: its first byte's physical address and the physical page of the rest. */
export interface Straddler {
  readonly i: Instr;
  readonly phys: number;
  readonly tail: number;
}

/** The straddling instructions of one decode mode. */
export class Straddlers {
  private readonly at = new Map<number, Straddler>();
  /** By page: those with bytes in it (first or tail page). */
  private readonly byPage = new Map<number, Straddler[]>();

  constructor(private readonly bytes: CodeBytes) {}

  /** The one whose first byte is at physical `phys`, if kept. */
  get(phys: number): Straddler | undefined {
    return this.at.get(phys);
  }

  /** Keeps `i`, decoded from physical `phys` on with its tail in page `tail`, and marks its bytes decoded. */
  add(i: Instr, phys: number, tail: number): void {
    const old = this.at.get(phys);
    if (old !== undefined) this.drop(old);
    const s: Straddler = { i, phys, tail };
    this.at.set(phys, s);
    this.markBytes(s);
    for (const p of pagesOf(s)) {
      const list = this.byPage.get(p);
      if (list === undefined) this.byPage.set(p, [s]);
      else list.push(s);
    }
  }

  /** Whether one of them has bytes in page `page` (which then stays a code page). */
  has(page: number): boolean {
    return this.byPage.has(page);
  }

  /**
   * A store of `size` bytes at physical `addr` touched decoded bytes of page `page` (the caller has dropped what it
   * changed of that page's own instructions, which may have cleared the page's bits): drops those whose bytes it
   * changed, and marks again the bytes of those it left.
   */
  stored(page: number, addr: number, size: number): void {
    const list = this.byPage.get(page);
    if (list === undefined) return;
    for (const s of [...list]) {
      if (overlaps(s, page, addr, size)) this.drop(s);
      else this.markBytes(s);
    }
  }

  /** Drops those with bytes in page `page` (the page's decoded instructions go whole). */
  dropPage(page: number): void {
    const list = this.byPage.get(page);
    if (list !== undefined) for (const s of [...list]) this.drop(s);
  }

  /** Forgets every one (every decoded instruction was dropped). */
  clear(): void {
    this.at.clear();
    this.byPage.clear();
  }

  private drop(s: Straddler): void {
    this.at.delete(s.phys);
    for (const p of pagesOf(s)) {
      const list = this.byPage.get(p);
      if (list === undefined) continue;
      const left = list.filter((o) => o !== s);
      if (left.length > 0) this.byPage.set(p, left);
      else this.byPage.delete(p);
    }
  }

  private markBytes(s: Straddler): void {
    const head = PAGE_SIZE - (s.phys & (PAGE_SIZE - 1));
    this.bytes.mark(s.phys, head);
    this.bytes.mark(s.tail << PAGE_SHIFT, s.i.len - head);
  }
}

/** The pages `s` has bytes in (one when both halves are in the same frame, mapped twice). */
function pagesOf(s: Straddler): number[] {
  const first = s.phys >>> PAGE_SHIFT;
  return first === s.tail ? [first] : [first, s.tail];
}

/** Whether a store of `size` bytes at physical `addr` changes a byte of `s` in page `page`. */
function overlaps(s: Straddler, page: number, addr: number, size: number): boolean {
  const head = PAGE_SIZE - (s.phys & (PAGE_SIZE - 1));
  const ranges: [number, number][] = [];
  if (page === s.phys >>> PAGE_SHIFT) ranges.push([s.phys, s.phys + head]);
  if (page === s.tail) ranges.push([s.tail << PAGE_SHIFT, (s.tail << PAGE_SHIFT) + s.i.len - head]);
  return ranges.some(([from, to]) => addr < to && addr + size > from);
}
