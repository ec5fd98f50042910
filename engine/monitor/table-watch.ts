// Write protection of the guest's GDT, LDT and IDT pages (model.md §3): the pages are flagged PF_WATCH, so every
// guest store to them takes the memory's slow path and is reported here after it is done. The monitor refreshes
// the virtual entries the store touched, reports `descriptor-write` as the guest sees it, and looks at consistency
// at the next instruction boundary. The pages are watched through the memory's store dispatcher
// (machine/store-watch.ts), beside the bare consistency tracker and the debugger's data watches.

import { PAGE_SHIFT, type PhysicalMemory } from '../machine/memory';
import { storeWatchOf, type StoreWatchSubscription } from '../machine/store-watch';

export type WatchedTable = 'GDT' | 'LDT' | 'IDT';

export interface WatchedRange {
  table: WatchedTable;
  /** Linear (= physical: the monitor runs paged guests emulated) base and byte limit. */
  base: number;
  limit: number;
}

export type TableStoreListener = (range: WatchedRange, first: number, last: number, addr: number, size: number, oldValue: number) => void;

export class TableWatch {
  private ranges: WatchedRange[] = [];
  private readonly stores: StoreWatchSubscription;
  private key = '';

  constructor(
    mem: PhysicalMemory,
    private readonly listener: TableStoreListener,
  ) {
    this.stores = storeWatchOf(mem).subscribe((addr, size, oldValue) => this.onStore(addr, size, oldValue));
  }

  /** Watches exactly these ranges (no-op when they did not change). */
  watch(ranges: WatchedRange[]): void {
    const key = ranges.map((r) => `${r.table}:${r.base}:${r.limit}`).join('|');
    if (key === this.key) return;
    this.key = key;
    this.ranges = ranges;
    const pages: number[] = [];
    for (const r of ranges) {
      for (let p = r.base >>> PAGE_SHIFT; p <= (r.base + r.limit) >>> PAGE_SHIFT; p++) pages.push(p);
    }
    // Pages beyond installed RAM are left out by the dispatcher.
    this.stores.setPages(pages);
  }

  unwatch(): void {
    this.stores.clear();
    this.ranges = [];
    this.key = '';
  }

  get watchedPages(): number[] {
    return [...this.stores.pages].sort((a, b) => a - b);
  }

  /** The dispatcher calls this only for stores that touch a watched page. */
  private onStore(addr: number, size: number, oldValue: number): void {
    for (const r of this.ranges) {
      const first = addr - r.base;
      const last = first + size - 1;
      if (last < 0 || first > r.limit) continue;
      this.listener(r, Math.max(first, 0), Math.min(last, r.limit), addr, size, oldValue);
    }
  }
}
