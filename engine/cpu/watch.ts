// Data watches for the debugger: report guest loads and stores that touch chosen physical byte ranges.
//
// The pages that hold a watched range are flagged through the memory's dispatchers: PF_WATCH for stores
// (bus/store-watch.ts), PF_READ_WATCH for loads (bus/load-watch.ts). The load and store paths already test a
// page's flag byte (for MMIO, code, ROM), so they take their slow path on exactly those pages and tell the watch:
// a store after it is done, a load before. Translated blocks test the same flags in their inline accesses and send
// such an access out of line through the Cpu's own accessors (jit/slow.ts), so blocks keep running while a watch
// is armed and see every access the interpreter sees, at the same instruction. The dispatchers keep a page flagged
// while any of their subscribers holds it. With no watch armed the load and store paths are exactly as without
// one. Loads seen include the decoder's reads of instruction bytes on a decode-cache miss and page-walk reads of
// page tables, since both go through the memory's load methods; debugger reads (peek) never do.

import { PAGE_SHIFT, type PhysicalMemory } from '../bus/memory';
import { loadWatchOf, type LoadWatchSubscription } from '../bus/load-watch';
import { storeWatchOf, type StoreWatchSubscription } from '../bus/store-watch';

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

export class MemoryWatch {
  /** Called for every access that touches an armed range (from inside the guest's instruction). */
  onHit: ((hit: WatchHit) => void) | null = null;
  private ranges: WatchRange[] = [];
  private readonly stores: StoreWatchSubscription;
  private readonly loads: LoadWatchSubscription;

  constructor(private readonly mem: PhysicalMemory) {
    this.stores = storeWatchOf(mem).subscribe((addr, size, oldValue, newValue) => this.check(addr, size, 'write', oldValue, newValue));
    this.loads = loadWatchOf(mem).subscribe((addr, size) => this.check(addr, size, 'read'));
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
    this.stores.setPages(this.pagesOf('write'));
    this.loads.setPages(this.pagesOf('read'));
  }

  /** The pages holding a range that watches accesses of kind `kind`. */
  private pagesOf(kind: 'read' | 'write'): Set<number> {
    const pages = new Set<number>();
    for (const r of this.ranges) {
      if (r.access !== 'readWrite' && r.access !== kind) continue;
      for (let p = r.phys >>> PAGE_SHIFT; p <= (r.phys + r.length - 1) >>> PAGE_SHIFT; p++) pages.add(p);
    }
    return pages;
  }

  private check(addr: number, size: number, access: 'read' | 'write', oldValue?: number, newValue?: number): void {
    for (const r of this.ranges) {
      if (addr + size <= r.phys || addr >= r.phys + r.length) continue;
      if (access === 'read' ? r.access === 'write' : r.access === 'read') continue;
      this.onHit?.({ id: r.id, access, addr, size, oldValue, newValue });
    }
  }

  /** Disarms everything. */
  dispose(): void {
    this.set([]);
    this.onHit = null;
  }
}
