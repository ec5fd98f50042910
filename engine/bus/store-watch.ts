// One dispatcher for the stores to PF_WATCH pages, shared by everyone who watches them: descriptor-table tracking
// of a bare CPU (cpu/protect/consistency-events.ts), the debugger's data watches (cpu/watch.ts) and the monitor's
// table write protection (monitor/table-watch.ts). The same page-counting hub serves loads (PF_READ_WATCH pages,
// bus/load-watch.ts).
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

export class PageWatchSubscription<L> {
  private readonly held = new Set<number>();
  private closed = false;

  constructor(
    private readonly hub: PageWatchHub<L>,
    /** @internal */
    readonly listener: L,
  ) {}

  /** The pages watched now (change them through add, setPages and clear). */
  get pages(): ReadonlySet<number> {
    return this.held;
  }

  /** Watches one more page (pages outside installed RAM are ignored: no access there is ever reported). */
  add(page: number): void {
    if (this.closed) throw new Error('page watch subscription used after close()');
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

/** Subscriptions to one page flag of one memory: the flag is on for a page while a subscription holds it. */
export class PageWatchHub<L> {
  /** @internal Replaced, never changed in place: a listener may subscribe or close while the hook walks it. */
  subscriptions: PageWatchSubscription<L>[] = [];
  /** Per page: how many subscriptions hold it. */
  private readonly holders: Uint16Array;

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly flag: number,
  ) {
    this.holders = new Uint16Array(mem.pageFlags.length);
  }

  subscribe(listener: L): PageWatchSubscription<L> {
    const s = new PageWatchSubscription(this, listener);
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
    if (this.holders[page]++ === 0) this.mem.setPageFlag(page, this.flag, true);
    return true;
  }

  /** @internal */
  releasePage(page: number): void {
    if (--this.holders[page] === 0) this.mem.setPageFlag(page, this.flag, false);
  }

  /** @internal */
  remove(s: PageWatchSubscription<L>): void {
    this.subscriptions = this.subscriptions.filter((x) => x !== s);
  }
}

export type StoreWatchHub = PageWatchHub<WatchedStoreListener>;
export type StoreWatchSubscription = PageWatchSubscription<WatchedStoreListener>;

/** Installs the hub's dispatch as the memory's store hook, behind a handler that was there before. */
function installStoreHook(mem: PhysicalMemory, hub: StoreWatchHub): void {
  const previous = mem.onWatchedStore;
  mem.onWatchedStore = (addr, size, oldValue, newValue) => {
    previous?.(addr, size, oldValue, newValue);
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + size - 1) >>> PAGE_SHIFT;
    for (const s of hub.subscriptions) {
      if (s.has(first) || s.has(last)) s.listener(addr, size, oldValue, newValue);
    }
  };
}

const hubs = new WeakMap<PhysicalMemory, StoreWatchHub>();

/** The memory's dispatcher, installed on first use. */
export function storeWatchOf(mem: PhysicalMemory): StoreWatchHub {
  let hub = hubs.get(mem);
  if (hub === undefined) {
    hub = new PageWatchHub<WatchedStoreListener>(mem, PF_WATCH);
    installStoreHook(mem, hub);
    hubs.set(mem, hub);
  }
  return hub;
}
