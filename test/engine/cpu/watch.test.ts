// Data watches (engine/cpu/watch.ts): stores through the PF_WATCH slow path, loads through per-instance hooks,
// and sharing watched pages with other subscribers of the memory's store dispatcher (bus/store-watch.ts).
import { describe, expect, it } from 'vitest';
import { PF_WATCH, PhysicalMemory } from '../../../engine/bus/memory';
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

  it('reports loads for read watches and restores the plain load path when disarmed', () => {
    const { mem, watch, hits } = setup();
    const plain = PhysicalMemory.prototype.read32;
    watch.set([{ id: 1, phys: 0x100, length: 1, access: 'read' }]);
    mem.read32(0xfe); // bytes 0xFE..0x101 include 0x100
    mem.read8(0x200);
    expect(hits.map((h) => [h.access, h.addr, h.size])).toEqual([['read', 0xfe, 4]]);
    watch.set([]);
    expect(mem.read32).toBe(plain);
    mem.read8(0x100);
    expect(hits.length).toBe(1);
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
