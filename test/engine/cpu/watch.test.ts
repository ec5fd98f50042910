// Data watches (engine/cpu/watch.ts): stores through the PF_WATCH slow path, loads through the PF_READ_WATCH one,
// and sharing watched pages with other subscribers of the memory's dispatchers (bus/store-watch.ts, load-watch.ts).
import { describe, expect, it } from 'vitest';
import { PF_READ_WATCH, PF_WATCH, PhysicalMemory } from '../../../engine/bus/memory';
import { MemoryWatch, type WatchHit } from '../../../engine/cpu/watch';
import { storeWatchOf } from '../../../engine/bus/store-watch';

function setup(): { mem: PhysicalMemory; watch: MemoryWatch; hits: WatchHit[] } {
  const mem = new PhysicalMemory(64 * 1024);
  const watch = new MemoryWatch(mem);
  const hits: WatchHit[] = [];
  watch.onHit = (h) => hits.push(h);
  return { mem, watch, hits };
}

describe('MemoryWatch', () => {
  it('reports stores that touch a write watch with the old and new value, and nothing else', () => {
    const { mem, watch, hits } = setup();
    watch.set([{ id: 7, phys: 0x2004, length: 4, access: 'write' }]);
    mem.write32(0x2000, 0x11111111); // same page, outside the range
    mem.write16(0x2006, 0xbeef); // inside
    mem.write32(0x3000, 1); // another page
    expect(mem.read32(0x2004) >>> 0).toBe(0xbeef0000);
    expect(hits).toEqual([{ id: 7, access: 'write', addr: 0x2006, size: 2, oldValue: 0, newValue: 0xbeef }]);
    expect(mem.read8(0x2004)).toBe(0); // reads are not reported by a write watch
    expect(hits.length).toBe(1);
  });

  it('reports each load that touches a read watch once, whole, before it is done, and flags only its pages', () => {
    const { mem, watch, hits } = setup();
    mem.write32(0xfe, 0x44332211);
    watch.set([{ id: 1, phys: 0x100, length: 1, access: 'read' }]);
    expect([mem.pageFlags[0] & PF_READ_WATCH, mem.pageFlags[0] & PF_WATCH, mem.pageFlags[1]]).toEqual([PF_READ_WATCH, 0, 0]);
    expect(mem.read32(0xfe) >>> 0).toBe(0x44332211); // bytes 0xFE..0x101 include 0x100: one hit, not one per part
    expect(mem.read16(0x100)).toBe(0x4433);
    mem.read8(0x101); // the same page, outside the range
    mem.read8(0x1100); // another page
    mem.write8(0x100, 0x55); // a store: not a read watch's business
    expect(hits.map((h) => [h.access, h.addr, h.size])).toEqual([
      ['read', 0xfe, 4],
      ['read', 0x100, 2],
    ]);
    // A load across a page boundary whose second page holds the range.
    watch.set([{ id: 2, phys: 0x1000, length: 2, access: 'read' }]);
    expect(mem.pageFlags[0] & PF_READ_WATCH).toBe(0);
    mem.read32(0xffe);
    expect(hits.slice(2).map((h) => [h.id, h.addr, h.size])).toEqual([[2, 0xffe, 4]]);
    // Disarmed: the page flag goes, nothing more is reported.
    watch.set([]);
    expect(mem.pageFlags[1] & PF_READ_WATCH).toBe(0);
    mem.read32(0xffe);
    expect(hits.length).toBe(3);
  });

  it('two watches on one page: each keeps its own ranges, and the page stays flagged while either holds it', () => {
    const mem = new PhysicalMemory(64 * 1024);
    const a = new MemoryWatch(mem);
    const b = new MemoryWatch(mem);
    const seen: string[] = [];
    a.onHit = (h) => seen.push(`a${h.addr.toString(16)}`);
    b.onHit = (h) => seen.push(`b${h.addr.toString(16)}`);
    a.set([{ id: 1, phys: 0x2000, length: 1, access: 'read' }]);
    b.set([{ id: 1, phys: 0x2004, length: 1, access: 'readWrite' }]);
    mem.read8(0x2000);
    mem.read8(0x2004);
    a.dispose();
    expect(mem.pageFlags[2] & PF_READ_WATCH).toBe(PF_READ_WATCH);
    mem.read8(0x2000);
    mem.read8(0x2004);
    b.dispose();
    expect(mem.pageFlags[2] & (PF_READ_WATCH | PF_WATCH)).toBe(0);
    mem.read8(0x2004);
    expect(seen).toEqual(['a2000', 'b2004', 'b2004']);
  });

  it('shares watched pages with other subscribers of the memory\'s store dispatcher', () => {
    const { mem, watch, hits } = setup();
    const seen: number[] = [];
    const other = storeWatchOf(mem).subscribe((addr) => seen.push(addr));
    other.add(2);
    watch.set([{ id: 1, phys: 0x2000, length: 8, access: 'readWrite' }, { id: 2, phys: 0x5000, length: 1, access: 'write' }]);
    mem.write8(0x2001, 1);
    mem.write8(0x5000, 1);
    expect(seen).toEqual([0x2001]);
    expect(hits.map((h) => h.id)).toEqual([1, 2]);
    // Dropping the watch keeps the page the other subscriber holds, and drops the one only the watch held.
    watch.set([]);
    expect(mem.pageFlags[2] & PF_WATCH).toBe(PF_WATCH);
    expect(mem.pageFlags[5] & PF_WATCH).toBe(0);
    mem.write8(0x2002, 1);
    expect(seen).toEqual([0x2001, 0x2002]);
    expect(hits.length).toBe(2);
    // And the other subscriber closing does not disturb a watch that is armed again.
    watch.set([{ id: 3, phys: 0x2000, length: 4, access: 'write' }]);
    other.close();
    mem.write8(0x2003, 1);
    expect(hits.map((h) => h.id)).toEqual([1, 2, 3]);
    expect(seen).toEqual([0x2001, 0x2002]);
  });

  it('rejects ranges outside installed memory', () => {
    const { watch } = setup();
    expect(() => watch.set([{ id: 1, phys: 0xffff, length: 2, access: 'write' }])).toThrow(RangeError);
  });
});
