// The monitor's write protection of the guest's tables (engine/monitor/table-watch.ts): each byte of a store is
// placed by its own page, so a store that straddles into a table from a page without one is seen, and a store
// across a page boundary inside one range is reported once, with every byte it replaced.
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../../engine/bus/memory';
import { TableWatch, type WatchedRange } from '../../../engine/monitor/table-watch';

function watching(ranges: WatchedRange[]) {
  const mem = new PhysicalMemory(1 << 20);
  const calls: string[] = [];
  const watch = new TableWatch(mem, (r, first, last, replaced) =>
    calls.push(`${r.table} ${first}-${last} ${replaced.map(([lin, old]) => `${lin.toString(16)}:${old.toString(16)}`).join(' ')}`),
  );
  watch.watch(ranges, (linear) => linear);
  return { mem, calls, watch };
}

describe('TableWatch', () => {
  it('sees a store that starts on a page without a table', () => {
    const { mem, calls, watch } = watching([{ table: 'GDT', base: 0x6000, limit: 0x7f }]);
    expect(watch.watchedPages).toEqual([6]);
    mem.write32(0x5ffe, 0x12345678);
    expect(calls).toEqual(['GDT 0-1 6000:0 6001:0']);
  });

  it('reports a store across a page boundary inside a range once', () => {
    const { mem, calls } = watching([{ table: 'GDT', base: 0x5ffc, limit: 0x17 }]);
    mem.write32(0x5ffc, 0xaabbccdd);
    calls.length = 0;
    mem.write32(0x5ffe, 0x12345678);
    expect(calls).toEqual(['GDT 2-5 5ffe:bb 5fff:aa 6000:0 6001:0']);
  });

  it('follows the translation it is given (a table on a page the guest maps elsewhere)', () => {
    const mem = new PhysicalMemory(1 << 20);
    const calls: number[] = [];
    const watch = new TableWatch(mem, (_r, first) => calls.push(first));
    watch.watch([{ table: 'LDT', base: 0x400000, limit: 0xf }], (linear) => linear - 0x400000 + 0x9000);
    expect(watch.watchedPages).toEqual([9]);
    mem.write32(0x9008, 1);
    expect(calls).toEqual([8]);
  });
});
