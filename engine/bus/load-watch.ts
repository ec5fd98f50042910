// One dispatcher for the loads from PF_READ_WATCH pages (the debugger's read watches, cpu/watch.ts), built like the
// store dispatcher (bus/store-watch.ts): a page's PF_READ_WATCH bit is on exactly while a subscription holds it.
//
// The flag, not a replaced load method, is what sends a load to be reported: the memory's loads and translated
// blocks' inline loads already test a page's flag byte for MMIO, and test PF_READ_WATCH in the same mask
// (PF_LOAD_SLOW), so a read watch costs nothing on other pages and blocks keep running while one is armed. The
// memory calls the hook once per guest load (an unaligned or split load is reported whole, by its outer access)
// before it is done; debugger reads (peek) never reach it.

import { PAGE_SHIFT, PF_READ_WATCH, type PhysicalMemory } from './memory';
import { PageWatchHub, type PageWatchSubscription } from './store-watch';

/** Told of a load from a watched page: first byte and width (1, 2 or 4). */
export type WatchedLoadListener = (addr: number, size: number) => void;

export type LoadWatchHub = PageWatchHub<WatchedLoadListener>;
export type LoadWatchSubscription = PageWatchSubscription<WatchedLoadListener>;

const hubs = new WeakMap<PhysicalMemory, LoadWatchHub>();

/** The memory's load dispatcher, installed on first use. */
export function loadWatchOf(mem: PhysicalMemory): LoadWatchHub {
  let hub = hubs.get(mem);
  if (hub === undefined) {
    const h = new PageWatchHub<WatchedLoadListener>(mem, PF_READ_WATCH);
    mem.onWatchedLoad = (addr, size) => {
      const first = addr >>> PAGE_SHIFT;
      const last = (addr + size - 1) >>> PAGE_SHIFT;
      for (const s of h.subscriptions) {
        if (s.has(first) || s.has(last)) s.listener(addr, size);
      }
    };
    hubs.set(mem, h);
    hub = h;
  }
  return hub;
}
