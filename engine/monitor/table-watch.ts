// Write protection of the guest's GDT, LDT and IDT pages (model.md §3): the pages are flagged PF_WATCH, so every
// guest store to them takes the memory's slow path and is reported here after it is done. The monitor refreshes
// the virtual entries the store touched, reports `descriptor-write` as the guest sees it, and looks at consistency
// at the next instruction boundary. The pages are watched through the memory's store dispatcher
// (bus/store-watch.ts), beside the bare consistency tracker and the debugger's data watches. With guest paging
// the pages are the ones the guest's translation names now; the monitor hands them over again before every return.

import { PAGE_SHIFT, type PhysicalMemory } from '../bus/memory';
import { storeWatchOf, type StoreWatchSubscription } from '../bus/store-watch';
import { oldByte, type ReplacedByte } from '../cpu/protect/descriptor-write';

export type WatchedTable = 'GDT' | 'LDT' | 'IDT';

export interface WatchedRange {
  table: WatchedTable;
  /** Linear base and byte limit, as the guest's table register or LDT descriptor gives them. */
  base: number;
  limit: number;
}

const TABLE_CODE: Record<WatchedTable, number> = { GDT: 0, LDT: 1, IDT: 2 };

/**
 * Told once per range a store touched: the first and last byte offsets it wrote in the range, and each byte it
 * replaced there (by linear address through the range's mapping, with its old value).
 */
export type TableStoreListener = (range: WatchedRange, first: number, last: number, replaced: ReplacedByte[]) => void;

/** A guest linear address → physical (-1 when unmapped), as the guest's CPU translates it now. */
export type GuestTranslate = (linear: number) => number;

/**
 * How many linear pages a range touches. Counted, not found by comparing addresses: a table in the upper half of
 * linear space (Linux's GDT and IDT at 0xC1xxxxxx) has a base that is negative as a signed 32-bit number, and a loop
 * from `base & ~0xfff` up to the unsigned end walked a million pages — the translation of each — at every return.
 */
function pageCount(r: WatchedRange): number {
  return (((r.base & 0xfff) + r.limit) >>> 12) + 1;
}

/** The linear address of a range's `k`-th page; wraps at 4 GiB as the CPU's descriptor-table accesses do. */
function pageLinear(r: WatchedRange, k: number): number {
  return ((r.base & ~0xfff) + k * 0x1000) >>> 0;
}

export class TableWatch {
  /** Per watched physical page: the ranges it holds, with the linear address of the page's first byte. */
  private readonly pageRanges = new Map<number, [WatchedRange, number][]>();
  private readonly stores: StoreWatchSubscription;
  /** What the pages were set up from: per range its table, base, limit, each page's translation, then -2. */
  private last: number[] = [];
  private readonly scratch: number[] = [];
  private version = 0;

  constructor(
    mem: PhysicalMemory,
    private readonly listener: TableStoreListener,
  ) {
    this.stores = storeWatchOf(mem).subscribe((addr, size, oldValue) => this.onStore(addr, size, oldValue));
  }

  /**
   * Watches the physical pages behind exactly these ranges (no-op when neither the ranges nor their translations
   * changed). Returns the mapping's version, which changes whenever the ranges or the pages behind them do, so the
   * virtual tables can tell when they must be read again. Pages the guest leaves unmapped are not watched (the
   * guest cannot store through them; a load from them faults). Called before every return to the guest: the
   * comparison is on numbers, and the page lists are rebuilt only on a change.
   */
  watch(ranges: WatchedRange[], translate: GuestTranslate): number {
    if (this.unchanged(ranges, translate)) return this.version;
    const now = this.scratch;
    now.length = 0;
    for (const r of ranges) {
      now.push(TABLE_CODE[r.table], r.base >>> 0, r.limit);
      for (let k = 0, n = pageCount(r); k < n; k++) now.push(translate(pageLinear(r, k)));
      now.push(-2);
    }
    this.last = now.slice();
    this.version++;
    const pages = new Map<number, [WatchedRange, number][]>();
    for (const r of ranges) {
      for (let k = 0, n = pageCount(r); k < n; k++) {
        const lin = pageLinear(r, k);
        const phys = translate(lin);
        if (phys < 0) continue;
        const list = pages.get(phys >>> PAGE_SHIFT) ?? [];
        list.push([r, lin]);
        pages.set(phys >>> PAGE_SHIFT, list);
      }
    }
    this.pageRanges.clear();
    for (const [page, list] of pages) this.pageRanges.set(page, list);
    // Pages beyond installed RAM are left out by the dispatcher.
    this.stores.setPages([...pages.keys()]);
    return this.version;
  }

  /** Whether the ranges and their pages' translations are what `last` recorded (compared in place: no list built). */
  private unchanged(ranges: WatchedRange[], translate: GuestTranslate): boolean {
    const last = this.last;
    let at = 0;
    for (const r of ranges) {
      if (last[at] !== TABLE_CODE[r.table] || last[at + 1] !== r.base >>> 0 || last[at + 2] !== r.limit) return false;
      at += 3;
      for (let k = 0, n = pageCount(r); k < n; k++) if (last[at++] !== translate(pageLinear(r, k))) return false;
      if (last[at++] !== -2) return false;
    }
    return at === last.length;
  }

  /** The version `watch` returned last (it moves at every rebuild and unwatch). */
  get currentVersion(): number {
    return this.version;
  }

  unwatch(): void {
    this.stores.clear();
    this.pageRanges.clear();
    this.last = [];
    this.version++;
  }

  get watchedPages(): number[] {
    return [...this.stores.pages].sort((a, b) => a - b);
  }

  /**
   * The dispatcher calls this only for stores that touch a watched page. Each byte is placed by its own page (a
   * store may straddle into a table from a page that holds none); each range touched is reported once.
   */
  private onStore(addr: number, size: number, oldValue: number): void {
    let hits: Map<WatchedRange, { first: number; last: number; replaced: ReplacedByte[] }> | null = null;
    for (let k = 0; k < size; k++) {
      const at = addr + k;
      const list = this.pageRanges.get(at >>> PAGE_SHIFT);
      if (list === undefined) continue;
      for (const [r, linPage] of list) {
        const linear = (linPage + (at & 0xfff)) >>> 0;
        const off = linear - r.base;
        if (off < 0 || off > r.limit) continue;
        hits ??= new Map();
        let h = hits.get(r);
        if (h === undefined) {
          h = { first: off, last: off, replaced: [] };
          hits.set(r, h);
        }
        h.first = Math.min(h.first, off);
        h.last = Math.max(h.last, off);
        h.replaced.push([linear, oldByte(oldValue, k)]);
      }
    }
    if (hits !== null) for (const [r, h] of hits) this.listener(r, h.first, h.last, h.replaced);
  }
}
