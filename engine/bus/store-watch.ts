// One dispatcher for the stores to PF_WATCH pages, shared by everyone who watches them: descriptor-table tracking
// of a bare CPU (cpu/protect/consistency-events.ts), the debugger's data watches (cpu/watch.ts) and the monitor's
// table write protection (monitor/table-watch.ts).
//
// PhysicalMemory has one `onWatchedStore` hook and one PF_WATCH bit per page. When each watcher set the bit and
// chained the hook itself, one clearing a page's bit or putting back the hook it found silently turned another's
// watch off. Here each watcher is a subscription with its own page set; a page's PF_WATCH bit is on exactly while
// at least one subscription holds it (a count per page), and the hook, installed once per memory, hands a store to
// the subscriptions that hold its first or last page. A subscription never touches the bit or the hook directly.
//
// A handler that was already on the memory when the dispatcher installed itself (a watcher not yet moved onto it)
// is called first, for every watched store, as the old chains did.

import { PAGE_SHIFT, PF_WATCH, type PhysicalMemory } from './memory';

/** Told of a store after it is done: first byte, width (1, 2 or 4) and the bytes there before and after. */
export type WatchedStoreListener = (addr: number, size: number, oldValue: number, newValue: number) => void;

export class StoreWatchSubscription {
  private readonly held = new Set<number>();
  private closed = false;

  constructor(
    private readonly hub: StoreWatchHub,
    /** @internal */
    readonly listener: WatchedStoreListener,
  ) {}

  /** The pages watched now (change them through add, setPages and clear). */
  get pages(): ReadonlySet<number> {
    return this.held;
  }

  /** Watches one more page (pages outside installed RAM are ignored: no store there is ever reported). */
  add(page: number): void {
    if (this.closed) throw new Error('store watch subscription used after close()');
    if (this.held.has(page) || !this.hub.holdPage(page)) return;
    this.held.add(page);
  }

  /** Watches exactly these pages. */
  setPages(pages: Iterable<number>): void {
    const wanted = new Set(pages);
    for (const p of this.held) {
      if (!wanted.has(p)) {
        this.held.delete(p);
        this.hub.releasePage(p);
      }
    }
    for (const p of wanted) this.add(p);
  }

  has(page: number): boolean {
    return this.held.has(page);
  }

  /** Watches no page (the subscription stays and can watch again). */
  clear(): void {
    for (const p of this.held) this.hub.releasePage(p);
    this.held.clear();
  }

  /** Stops for good: releases every page and leaves the dispatcher. */
  close(): void {
    this.clear();
    this.closed = true;
    this.hub.remove(this);
  }
}

export class StoreWatchHub {
  private subscriptions: StoreWatchSubscription[] = [];
  /** Per page: how many subscriptions hold it. */
  private readonly holders: Uint16Array;
  private readonly previous: WatchedStoreListener | null;

  constructor(private readonly mem: PhysicalMemory) {
    this.holders = new Uint16Array(mem.pageFlags.length);
    this.previous = mem.onWatchedStore;
    mem.onWatchedStore = (addr, size, oldValue, newValue) => this.dispatch(addr, size, oldValue, newValue);
  }

  subscribe(listener: WatchedStoreListener): StoreWatchSubscription {
    const s = new StoreWatchSubscription(this, listener);
    this.subscriptions = [...this.subscriptions, s];
    return s;
  }

  /** How many subscriptions hold `page` (0 for a page outside installed RAM). */
  holderCount(page: number): number {
    return page >= 0 && page < this.holders.length ? this.holders[page] : 0;
  }

  /** @internal */
  holdPage(page: number): boolean {
    if (!Number.isInteger(page) || page < 0 || page >= this.holders.length) return false;
    if (this.holders[page]++ === 0) this.mem.setPageFlag(page, PF_WATCH, true);
    return true;
  }

  /** @internal */
  releasePage(page: number): void {
    if (--this.holders[page] === 0) this.mem.setPageFlag(page, PF_WATCH, false);
  }

  /** @internal */
  remove(s: StoreWatchSubscription): void {
    this.subscriptions = this.subscriptions.filter((x) => x !== s);
  }

  private dispatch(addr: number, size: number, oldValue: number, newValue: number): void {
    this.previous?.(addr, size, oldValue, newValue);
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + size - 1) >>> PAGE_SHIFT;
    // A listener may subscribe or close while it runs; the array is replaced then, never changed in place.
    for (const s of this.subscriptions) {
      if (s.has(first) || s.has(last)) s.listener(addr, size, oldValue, newValue);
    }
  }
}

const hubs = new WeakMap<PhysicalMemory, StoreWatchHub>();

/** The memory's dispatcher, installed on first use. */
export function storeWatchOf(mem: PhysicalMemory): StoreWatchHub {
  let hub = hubs.get(mem);
  if (hub === undefined) {
    hub = new StoreWatchHub(mem);
    hubs.set(mem, hub);
  }
  return hub;
}
