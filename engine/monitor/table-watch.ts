// Write protection of the guest's GDT, LDT and IDT pages (model.md §3): the pages are flagged PF_WATCH, so every
// guest store to them takes the memory's slow path and is reported here after it is done. The monitor refreshes
// the virtual entries the store touched, reports `descriptor-write` as the guest sees it, and looks at consistency
// at the next instruction boundary. Whoever watched stores before the monitor is called first (the chain is kept).

import { PAGE_SHIFT, PF_WATCH, type PhysicalMemory } from '../machine/memory';

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
  private readonly pages = new Set<number>();
  private readonly previous: PhysicalMemory['onWatchedStore'];
  private key = '';

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly listener: TableStoreListener,
  ) {
    this.previous = mem.onWatchedStore;
    mem.onWatchedStore = (addr, size, oldValue, newValue) => this.onStore(addr, size, oldValue, newValue);
  }

  /** Watches exactly these ranges (no-op when they did not change). */
  watch(ranges: WatchedRange[]): void {
    const key = ranges.map((r) => `${r.table}:${r.base}:${r.limit}`).join('|');
    if (key === this.key) {
      // Others share the flag (the bare consistency tracker, the debugger's data watches) and clear it when they
      // stop watching a page: set it again.
      for (const p of this.pages) this.mem.setPageFlag(p, PF_WATCH, true);
      return;
    }
    this.unwatch();
    this.key = key;
    this.ranges = ranges;
    for (const r of ranges) {
      for (let p = r.base >>> PAGE_SHIFT; p <= (r.base + r.limit) >>> PAGE_SHIFT; p++) {
        if (p >= this.mem.pageFlags.length) break;
        this.pages.add(p);
        this.mem.setPageFlag(p, PF_WATCH, true);
      }
    }
  }

  unwatch(): void {
    for (const p of this.pages) this.mem.setPageFlag(p, PF_WATCH, false);
    this.pages.clear();
    this.ranges = [];
    this.key = '';
  }

  get watchedPages(): number[] {
    return [...this.pages].sort((a, b) => a - b);
  }

  private onStore(addr: number, size: number, oldValue: number, newValue: number): void {
    this.previous?.(addr, size, oldValue, newValue);
    if (!this.pages.has(addr >>> PAGE_SHIFT) && !this.pages.has((addr + size - 1) >>> PAGE_SHIFT)) return;
    for (const r of this.ranges) {
      const first = addr - r.base;
      const last = first + size - 1;
      if (last < 0 || first > r.limit) continue;
      this.listener(r, Math.max(first, 0), Math.min(last, r.limit), addr, size, oldValue);
    }
  }
}
