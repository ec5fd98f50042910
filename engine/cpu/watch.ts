// Data watches for the debugger: report guest loads and stores that touch chosen physical byte ranges.
//
// Stores: the pages that hold a watched range get the PF_WATCH flag (memory.ts), so the store path, which already
// tests a page's flag byte, takes its slow path there and calls `mem.onWatchedStore` after the store. The flag
// and the hook are shared with descriptor-table tracking (protect/consistency-events.ts) and the monitor: this
// watch chains to the handler it found when it installed itself, leaves flags it did not set when it goes, and
// `reassert()` (called by the debugger before each run) sets its flags and hook again in case another owner
// cleared a shared page or replaced the hook without chaining.
//
// Loads: plain RAM loads test no flag for speed, so a read watch instead puts checking versions of read8/16/32 on
// the PhysicalMemory instance while it is armed, and puts the class's own methods back when the last read watch
// goes. With no watch ever armed the load and store paths are exactly as before. Loads seen include the
// decoder's reads of instruction bytes on a decode-cache miss and page-walk reads of page tables, since both go
// through the same methods; debugger reads (peek) never do.

import { PAGE_SHIFT, PF_WATCH, PhysicalMemory } from '../machine/memory';

export type WatchAccess = 'read' | 'write' | 'readWrite';

export interface WatchRange {
  id: number;
  /** Physical address of the first byte. */
  phys: number;
  length: number;
  access: WatchAccess;
}

export interface WatchHit {
  id: number;
  access: 'read' | 'write';
  /** Physical address and width of the access that touched the range. */
  addr: number;
  size: number;
  /** Stores: the bytes at the access before and after (little-endian, unsigned). */
  oldValue?: number;
  newValue?: number;
}

type StoreHook = NonNullable<PhysicalMemory['onWatchedStore']>;

export class MemoryWatch {
  /** Called for every access that touches an armed range (from inside the guest's instruction). */
  onHit: ((hit: WatchHit) => void) | null = null;
  private ranges: WatchRange[] = [];
  /** Pages this watch flagged that were not flagged before. */
  private flaggedPages = new Set<number>();
  private previousStoreHook: StoreHook | null = null;
  private readonly storeHook: StoreHook;
  private wantedPages = new Set<number>();
  private inStoreHook = false;
  private inRead = false;
  private readHooked = false;

  constructor(private readonly mem: PhysicalMemory) {
    this.storeHook = (addr, size, oldValue, newValue) => {
      if (this.inStoreHook) return;
      this.inStoreHook = true;
      try {
        this.previousStoreHook?.(addr, size, oldValue, newValue);
      } finally {
        this.inStoreHook = false;
      }
      this.check(addr, size, 'write', oldValue, newValue);
    };
  }

  get armed(): boolean {
    return this.ranges.length > 0;
  }

  /** Replaces the armed ranges (an empty list disarms everything). */
  set(ranges: WatchRange[]): void {
    for (const r of ranges) {
      if (!Number.isInteger(r.phys) || !Number.isInteger(r.length) || r.phys < 0 || r.length < 1 || r.phys + r.length > this.mem.size) {
        throw new RangeError(`watch range 0x${r.phys.toString(16)}+${r.length} is not in installed memory`);
      }
    }
    this.ranges = ranges.slice();
    this.updateStorePages();
    this.updateReadHooks();
  }

  private updateStorePages(): void {
    const wanted = new Set<number>();
    for (const r of this.ranges) {
      if (r.access === 'read') continue;
      for (let p = r.phys >>> PAGE_SHIFT; p <= (r.phys + r.length - 1) >>> PAGE_SHIFT; p++) wanted.add(p);
    }
    for (const p of this.flaggedPages) {
      if (!wanted.has(p)) {
        this.mem.setPageFlag(p, PF_WATCH, false);
        this.flaggedPages.delete(p);
      }
    }
    this.wantedPages = wanted;
    if (wanted.size === 0 && this.mem.onWatchedStore === this.storeHook) {
      this.mem.onWatchedStore = this.previousStoreHook;
      this.previousStoreHook = null;
    }
    this.reassert();
  }

  /** Makes sure the watched pages are flagged and the store hook is in the chain (see the file comment). */
  reassert(): void {
    for (const p of this.wantedPages) {
      if ((this.mem.pageFlags[p] & PF_WATCH) === 0) {
        this.mem.setPageFlag(p, PF_WATCH, true);
        this.flaggedPages.add(p);
      }
    }
    if (this.wantedPages.size > 0 && this.mem.onWatchedStore !== this.storeHook) {
      // Whoever holds the hook now may already chain to ours; the re-entry guard in the hook makes that harmless.
      this.previousStoreHook = this.mem.onWatchedStore;
      this.mem.onWatchedStore = this.storeHook;
    }
  }


  private updateReadHooks(): void {
    const want = this.ranges.some((r) => r.access !== 'write');
    if (want === this.readHooked) return;
    const mem = this.mem as unknown as Record<'read8' | 'read16' | 'read32', (addr: number) => number>;
    const proto = PhysicalMemory.prototype;
    if (want) {
      // An unaligned load is made of narrower loads through the same (hooked) methods: report the outer one only.
      const hook = (size: number, plain: (this: PhysicalMemory, addr: number) => number) =>
        (addr: number): number => {
          if (this.inRead) return plain.call(this.mem, addr);
          this.check(addr, size, 'read');
          this.inRead = true;
          try {
            return plain.call(this.mem, addr);
          } finally {
            this.inRead = false;
          }
        };
      mem.read8 = hook(1, proto.read8);
      mem.read16 = hook(2, proto.read16);
      mem.read32 = hook(4, proto.read32);
    } else {
      // Own properties that are the class's methods (deleting them would turn the object into a slow dictionary).
      mem.read8 = proto.read8;
      mem.read16 = proto.read16;
      mem.read32 = proto.read32;
    }
    this.readHooked = want;
  }

  private check(addr: number, size: number, access: 'read' | 'write', oldValue?: number, newValue?: number): void {
    for (const r of this.ranges) {
      if (addr + size <= r.phys || addr >= r.phys + r.length) continue;
      if (access === 'read' ? r.access === 'write' : r.access === 'read') continue;
      this.onHit?.({ id: r.id, access, addr, size, oldValue, newValue });
    }
  }

  /** Disarms everything and gives the store hook back. */
  dispose(): void {
    this.set([]);
    this.onHit = null;
  }
}
