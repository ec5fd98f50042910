// The shared dispatcher of watched stores (engine/bus/store-watch.ts): page flags are the union of the
// subscriptions' pages, and a store reaches exactly the subscriptions that hold its page.
import { describe, expect, it } from 'vitest';
import { PF_WATCH, PhysicalMemory } from '../../../engine/bus/memory';
import { storeWatchOf } from '../../../engine/bus/store-watch';

type Seen = [number, number, number, number][];

function flagged(mem: PhysicalMemory, page: number): boolean {
  return (mem.pageFlags[page] & PF_WATCH) !== 0;
}

describe('store watch dispatcher', () => {
  it('keeps one hub per memory and installs its hook once', () => {
    const mem = new PhysicalMemory(64 * 1024);
    const hub = storeWatchOf(mem);
    const hook = mem.onWatchedStore;
    expect(hook).not.toBeNull();
    expect(storeWatchOf(mem)).toBe(hub);
    hub.subscribe(() => {}).add(1);
    expect(mem.onWatchedStore).toBe(hook);
  });

  it('reports a store, after it is done, to the subscriptions holding its page only', () => {
    const mem = new PhysicalMemory(64 * 1024);
    const hub = storeWatchOf(mem);
    const a: Seen = [];
    const b: Seen = [];
    hub.subscribe((...s) => a.push(s)).add(2);
    hub.subscribe((...s) => b.push(s)).add(3);
    mem.write32(0x2010, 0x11223344);
    mem.write16(0x3000, 0xbeef);
    mem.write8(0x4000, 1); // unwatched page
    expect(a).toEqual([[0x2010, 4, 0, 0x11223344]]);
    expect(b).toEqual([[0x3000, 2, 0, 0xbeef]]);
    // A store straddling pages 2 and 3 is reported to both; one from an unwatched page into a watched one too.
    mem.write32(0x2ffe, 0xaabbccdd);
    mem.write16(0x1fff, 0x0102);
    expect(a.slice(1)).toEqual([[0x2ffe, 4, 0xbeef0000, 0xaabbccdd], [0x1fff, 2, 0, 0x0102]]);
    expect(b.slice(1)).toEqual([[0x2ffe, 4, 0xbeef0000, 0xaabbccdd]]);
  });

  it('keeps a page flagged while any subscription holds it: one leaving does not turn another off', () => {
    const mem = new PhysicalMemory(64 * 1024);
    const hub = storeWatchOf(mem);
    const seen: Seen = [];
    const keeper = hub.subscribe((...s) => seen.push(s));
    const leaver = hub.subscribe(() => {});
    keeper.add(5);
    leaver.add(5);
    leaver.add(6);
    expect(hub.holderCount(5)).toBe(2);
    leaver.clear();
    expect(flagged(mem, 5)).toBe(true);
    expect(flagged(mem, 6)).toBe(false);
    leaver.close();
    mem.write8(0x5000, 9);
    expect(seen).toEqual([[0x5000, 1, 0, 9]]);
    keeper.close();
    expect(flagged(mem, 5)).toBe(false);
    expect(hub.holderCount(5)).toBe(0);
    mem.write8(0x5000, 10);
    expect(seen.length).toBe(1);
  });

  it('replaces a page set, ignores pages beyond RAM, and refuses use after close', () => {
    const mem = new PhysicalMemory(64 * 1024);
    const hub = storeWatchOf(mem);
    const s = hub.subscribe(() => {});
    s.setPages([1, 2, 3]);
    s.setPages([3, 4, 16, -1]);
    expect([1, 2, 3, 4].map((p) => flagged(mem, p))).toEqual([false, false, true, true]);
    expect(s.has(16)).toBe(false);
    expect(hub.holderCount(16)).toBe(0);
    s.add(3); // holding a page twice counts once
    expect(hub.holderCount(3)).toBe(1);
    s.close();
    expect(() => s.add(1)).toThrow(/after close/);
    expect(flagged(mem, 3)).toBe(false);
  });

  it('calls a handler that was on the memory before it first, for every watched store', () => {
    const mem = new PhysicalMemory(64 * 1024);
    const order: string[] = [];
    mem.onWatchedStore = (addr) => order.push(`old ${addr.toString(16)}`);
    mem.setPageFlag(7, PF_WATCH, true); // the old handler's own page
    const hub = storeWatchOf(mem);
    hub.subscribe((addr) => order.push(`new ${addr.toString(16)}`)).add(2);
    mem.write8(0x2000, 1);
    mem.write8(0x7000, 1);
    expect(order).toEqual(['old 2000', 'new 2000', 'old 7000']);
  });
});
