// Data watches for the debugger: report guest loads and stores that touch chosen physical byte ranges.
//
// Stores: the pages that hold a watched range are watched through the memory's store dispatcher
// (bus/store-watch.ts), which flags them PF_WATCH, so the store path, which already tests a page's flag byte,
// takes its slow path there and reports the store after it is done. The dispatcher keeps a page flagged while any
// of its watchers (this, descriptor-table tracking, the monitor) holds it.
//
// Loads: plain RAM loads test no flag for speed, so a read watch instead puts checking versions of read8/16/32 on
// the PhysicalMemory instance while it is armed, and puts the class's own methods back when the last read watch
// goes. With no watch ever armed the load and store paths are exactly as before. Loads seen include the
// decoder's reads of instruction bytes on a decode-cache miss and page-walk reads of page tables, since both go
// through the same methods; debugger reads (peek) never do.

import { PAGE_SHIFT, PhysicalMemory } from '../bus/memory';
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
  private inRead = false;
  private readHooked = false;

  constructor(private readonly mem: PhysicalMemory) {
    this.stores = storeWatchOf(mem).subscribe((addr, size, oldValue, newValue) => this.check(addr, size, 'write', oldValue, newValue));
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
    this.stores.setPages(wanted);
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

  /** Disarms everything. */
  dispose(): void {
    this.set([]);
    this.onHit = null;
  }
}
