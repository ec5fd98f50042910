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

  // Linux keeps its GDT and IDT at 0xC1xxxxxx: as signed 32-bit numbers those bases are negative, and the page loop
  // used to run from the negative base up to the unsigned end — a million translations at every monitor return,
  // which made a monitored Linux boot take minutes per million instructions.
  it('translates only the pages of a table in the upper half of linear space, at every call', () => {
    const mem = new PhysicalMemory(1 << 20);
    const calls: number[] = [];
    const watch = new TableWatch(mem, (_r, first) => calls.push(first));
    const translated: number[] = [];
    const translate = (linear: number): number => {
      translated.push(linear);
      return linear >= 0xc1234000 && linear < 0xc1236000 ? linear - 0xc1234000 + 0x7000 : -1;
    };
    const ranges: WatchedRange[] = [
      { table: 'GDT', base: 0xc1234f80, limit: 0xff },
      { table: 'IDT', base: 0xc1235000, limit: 0x7ff },
    ];
    watch.watch(ranges, translate);
    expect([...new Set(translated)]).toEqual([0xc1234000, 0xc1235000]);
    expect(translated.length).toBeLessThanOrEqual(6); // at most once to compare and once to rebuild
    expect(watch.watchedPages).toEqual([7, 8]);
    translated.length = 0;
    watch.watch(ranges, translate); // unchanged: the same three translations, no rebuild
    expect(translated).toHaveLength(3);
    mem.write8(0x8010, 1);
    expect(calls).toEqual([0x90, 0x10]); // GDT byte 0x90 (linear 0xc1235010) and IDT byte 0x10
  });

  it('follows a table that wraps around 4 GiB onto page 0, as the CPU addresses it', () => {
    const { watch } = watching([{ table: 'GDT', base: 0xfffff800, limit: 0xfff }]);
    expect(watch.watchedPages).toEqual([0]); // page 0xFFFFF is beyond this memory; linear 0 is page 0
  });
});
