// The data accessors' inline path (Cpu.read8/read32/write8/write32 → inlinePhys): a flat segment, an access within
// one page, paging off or a TLB hit with the right rights, and plain RAM. Everything else must take the full path,
// with its faults, walks, A20 wrap and page side effects. Each case here uses an address the inline path would
// otherwise accept, so it fails when one of the inline path's tests is missing.

import { describe, expect, it } from 'vitest';
import { CR0_WP, DS } from '../../../engine/cpu/cpu';
import { PF_WATCH } from '../../../engine/bus/memory';
import { flat32, type TestMachine } from './harness';
import { A, D, enablePaging, P, pte, RW, setPte, US } from './paging-fixtures';
import { expectFault } from './protect/fault-helpers';

function paged(): TestMachine {
  const m = flat32([0xf4], 0x10000);
  enablePaging(m);
  return m;
}

describe('data accesses: the inline path and the full path agree', () => {
  it('reads and writes through a TLB entry to a remapped page, and a stale entry stays in use until flushed', () => {
    const m = paged();
    setPte(m, 0x300000, 0x350000 | P | RW | US);
    m.mem.i32[0x350010 >>> 2] = 0x11223344;
    expect(m.cpu.read32(DS, 0x300010) >>> 0).toBe(0x11223344); // walk, then the TLB
    m.cpu.write32(DS, 0x300014, 0x55667788 | 0);
    m.cpu.write8(DS, 0x300018, 0x99);
    expect(m.mem.i32[0x350014 >>> 2] >>> 0).toBe(0x55667788);
    expect(m.mem.u8[0x350018]).toBe(0x99);
    expect(m.cpu.read8(DS, 0x300018)).toBe(0x99);
    // The PTE moves the page, without INVLPG: the TLB's translation is still the one used (SDM 3A §4.10.4.4).
    setPte(m, 0x300000, 0x360000 | P | RW | US);
    expect(m.cpu.read32(DS, 0x300010) >>> 0).toBe(0x11223344);
    m.cpu.tlb.invalidate(0x300000 >>> 12);
    expect(m.cpu.read32(DS, 0x300010) >>> 0).toBe(m.mem.i32[0x360010 >>> 2] >>> 0);
  });

  it('a supervisor read fills the TLB; a user read of that supervisor page still faults (#PF, error code 5)', () => {
    const m = paged();
    setPte(m, 0x300000, 0x300000 | P | RW); // supervisor only
    m.cpu.read32(DS, 0x300000);
    m.cpu.cpl = 3;
    expectFault(() => m.cpu.read32(DS, 0x300004), 14, 5, 'paging.user');
    expect(m.cpu.cr2 >>> 0).toBe(0x300004);
    expectFault(() => m.cpu.write8(DS, 0x300005, 1), 14, 7, 'paging.user');
  });

  it('a write through an entry filled by a read walks again and sets the dirty bit; a read-only page faults with WP', () => {
    const m = paged();
    m.cpu.read32(DS, 0x301000);
    expect(pte(m, 0x301000) & (A | D)).toBe(A);
    m.cpu.write32(DS, 0x301000, 5);
    expect(pte(m, 0x301000) & (A | D)).toBe(A | D);
    setPte(m, 0x302000, 0x302000 | P | US); // read-only
    m.cpu.cr0 |= CR0_WP;
    m.cpu.read8(DS, 0x302000);
    expectFault(() => m.cpu.write32(DS, 0x302000, 1), 14, 3, 'paging.read-only');
  });

  it('an aligned access never crosses a page; an unaligned one that does faults on the second page, storing nothing', () => {
    const m = paged();
    m.cpu.write32(DS, 0x303ffc, 0x01020304); // fills the TLB for the first page, writable (dirty)
    setPte(m, 0x304000, 0);
    expectFault(() => m.cpu.write32(DS, 0x303ffe, 0x7f7f7f7f), 14, 2, 'paging.pte-not-present');
    expect(m.cpu.cr2 >>> 0).toBe(0x304000);
    expect(m.mem.i32[0x303ffc >>> 2]).toBe(0x01020304);
    expectFault(() => m.cpu.read32(DS, 0x303ffd), 14, 0, 'paging.pte-not-present');
  });

  it('ROM ignores stores, MMIO sees every access, a watched page reports its store, a code page drops its code', () => {
    const m = flat32([0x40, 0xf4], 0x10000); // inc eax; hlt
    m.mem.mapRom(0x40000, new Uint8Array(0x1000).fill(0xaa));
    m.cpu.write32(DS, 0x40000, 0);
    m.cpu.write8(DS, 0x40004, 0);
    expect(m.cpu.read32(DS, 0x40000) >>> 0).toBe(0xaaaaaaaa);
    const seen: string[] = [];
    m.mem.mapMmio(0x50000, 0x1000, {
      read8: (a) => (seen.push(`r8 ${a.toString(16)}`), 0x12),
      read32: (a) => (seen.push(`r32 ${a.toString(16)}`), 0x12345678),
      write8: (a, v) => void seen.push(`w8 ${a.toString(16)} ${v}`),
      write32: (a, v) => void seen.push(`w32 ${a.toString(16)} ${v.toString(16)}`),
    });
    expect(m.cpu.read32(DS, 0x50010)).toBe(0x12345678);
    expect(m.cpu.read8(DS, 0x50011)).toBe(0x12);
    m.cpu.write32(DS, 0x50020, 0xcafe);
    m.cpu.write8(DS, 0x50021, 7);
    expect(seen).toEqual(['r32 50010', 'r8 50011', 'w32 50020 cafe', 'w8 50021 7']);
    const stores: number[] = [];
    m.mem.onWatchedStore = (addr) => void stores.push(addr);
    m.mem.setPageFlag(0x60, PF_WATCH, true);
    m.cpu.write32(DS, 0x60008, 1);
    m.cpu.write8(DS, 0x6000c, 1);
    expect(stores).toEqual([0x60008, 0x6000c]);
    m.cpu.jit = false;
    m.cpu.run(1); // decodes the page of the code
    m.cpu.write8(DS, 0x10001, 0x40); // the HLT becomes INC EAX
    m.cpu.run(1);
    expect(m.cpu.regs[0]).toBe(2);
  });

  it('with A20 off, a flat access at 1 MiB wraps to 0', () => {
    const m = flat32([0xf4], 0x10000);
    m.mem.i32[0x10 >>> 2] = 0x0badf00d;
    m.cpu.a20Enabled = false;
    expect(m.cpu.read32(DS, 0x100010)).toBe(0x0badf00d);
    m.cpu.write8(DS, 0x100014, 0x77);
    expect(m.mem.u8[0x14]).toBe(0x77);
    m.cpu.a20Enabled = true;
    expect(m.cpu.read32(DS, 0x100010)).toBe(m.mem.i32[0x100010 >>> 2]);
  });

  it('a non-flat segment keeps its window: an access past the limit faults (#GP), one inside adds the base', () => {
    const m = flat32([0xf4], 0x10000);
    m.cpu.loadSegmentCache(DS, 0x10, 0x20000, 0xfff, 0x93 | 0x4000, true, 'loader');
    m.mem.i32[0x20ffc >>> 2] = 0x5a5a5a5a;
    expect(m.cpu.read32(DS, 0xffc)).toBe(0x5a5a5a5a);
    expectFault(() => m.cpu.read32(DS, 0x1000), 13, 0, 'access.limit');
    expectFault(() => m.cpu.write8(DS, 0x1000, 0), 13, 0, 'access.limit');
  });
});
