// The software TLB (SDM 3A §4.10): cached translations are used until a flush, keep their rights, and are dropped
// by the SDM's flush rules (CR3 load except global pages, INVLPG, CR0.PG/WP and CR4.PSE/PGE changes).

import { describe, expect, it } from 'vitest';
import { CR0_WP } from '../../../engine/cpu/cpu';
import { VEC_PF } from '../../../engine/cpu/faults';
import { ACCESS_READ, ACCESS_WRITE } from '../../../engine/cpu/protect/paging';
import { flushTlb, flushTlbAll, invalidatePage, pagingControlChanged } from '../../../engine/cpu/protect/tlb';
import { flat32 } from './harness';
import { expectFault } from './protect/fault-helpers';
import { D, enablePaging, G, P, PS, pte, RW, setPde, setPte, US } from './paging-fixtures';

const CR4_PSE = 0x10;
const CR4_PGE = 0x80;
const LIN = 0x123456;
const OTHER = 0x155000;

function paged() {
  const m = flat32([0xf4]);
  enablePaging(m);
  return m;
}

describe('stale translations until a flush', () => {
  it('a PTE changed without INVLPG is not seen: the old translation stays in use (as on real processors)', () => {
    const m = paged();
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(LIN);
    setPte(m, LIN, OTHER | P | RW);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(LIN);
    invalidatePage(m.cpu, LIN + 0xaaa); // any address in the page
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(OTHER | 0x456);
  });

  it('an unmapped page keeps working until INVLPG, then faults', () => {
    const m = paged();
    m.cpu.translate(LIN, ACCESS_READ);
    setPte(m, LIN, 0);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(LIN);
    invalidatePage(m.cpu, LIN);
    expectFault(() => m.cpu.translate(LIN, ACCESS_READ), VEC_PF, 0, 'paging.pte-not-present');
  });

  it('INVLPG drops one page only', () => {
    const m = paged();
    m.cpu.translate(0x5000, ACCESS_READ);
    m.cpu.translate(0x6000, ACCESS_READ);
    setPte(m, 0x5000, OTHER | P | RW);
    setPte(m, 0x6000, (OTHER + 0x1000) | P | RW);
    invalidatePage(m.cpu, 0x5000);
    expect(m.cpu.translate(0x5000, ACCESS_READ)).toBe(OTHER);
    expect(m.cpu.translate(0x6000, ACCESS_READ)).toBe(0x6000);
  });

  it('a CR3 load drops the cached translations', () => {
    const m = paged();
    m.cpu.translate(LIN, ACCESS_READ);
    setPte(m, LIN, OTHER | P | RW);
    flushTlb(m.cpu);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(OTHER | 0x456);
  });

  it('INVLPG inside a 4 MiB page drops every cached piece of it', () => {
    const m = flat32([0xf4], 0x10000, 16 << 20);
    enablePaging(m);
    m.cpu.cr4 |= CR4_PSE;
    m.cpu.modeChanged();
    setPde(m, 0x400000, 0x400000 | PS | P | RW);
    m.cpu.translate(0x400000, ACCESS_READ);
    m.cpu.translate(0x7ff000, ACCESS_READ);
    setPde(m, 0x400000, 0x800000 | PS | P | RW);
    invalidatePage(m.cpu, 0x512345);
    expect(m.cpu.translate(0x400000, ACCESS_READ)).toBe(0x800000);
    expect(m.cpu.translate(0x7ff000, ACCESS_READ)).toBe(0xbff000);
  });
});

describe('rights kept in the TLB', () => {
  it('a supervisor access caches a supervisor page; a later CPL 3 access still faults', () => {
    const m = paged();
    setPte(m, LIN, (LIN & ~0xfff) | P | RW);
    m.cpu.translate(LIN, ACCESS_WRITE);
    m.cpu.cpl = 3;
    expectFault(() => m.cpu.translate(LIN, ACCESS_READ), VEC_PF, 5, 'paging.user');
  });

  it('a read-only page cached by a read still faults a user write', () => {
    const m = paged();
    setPte(m, LIN, (LIN & ~0xfff) | P | US | D);
    m.cpu.cpl = 3;
    m.cpu.translate(LIN, ACCESS_READ);
    expectFault(() => m.cpu.translate(LIN, ACCESS_WRITE), VEC_PF, 7, 'paging.read-only');
  });

  it('setting CR0.WP drops the supervisor write right to read-only pages', () => {
    const m = paged();
    setPte(m, LIN, (LIN & ~0xfff) | P | US);
    m.cpu.translate(LIN, ACCESS_WRITE); // WP = 0: allowed, cached with write rights
    m.cpu.cr0 |= CR0_WP;
    pagingControlChanged(m.cpu);
    expectFault(() => m.cpu.translate(LIN, ACCESS_WRITE), VEC_PF, 3, 'paging.read-only');
  });

  it('a cleared dirty bit is set again by the next write only after a flush (the cached entry is dirty)', () => {
    const m = paged();
    m.cpu.translate(LIN, ACCESS_WRITE);
    setPte(m, LIN, pte(m, LIN) & ~D);
    m.cpu.translate(LIN, ACCESS_WRITE);
    expect(pte(m, LIN) & D).toBe(0);
    invalidatePage(m.cpu, LIN);
    m.cpu.translate(LIN, ACCESS_WRITE);
    expect(pte(m, LIN) & D).toBe(D);
  });
});

describe('global pages (CR4.PGE)', () => {
  function globalPage() {
    const m = paged();
    m.cpu.cr4 |= CR4_PGE;
    pagingControlChanged(m.cpu);
    setPte(m, LIN, (LIN & ~0xfff) | P | RW | G);
    m.cpu.translate(LIN, ACCESS_READ);
    m.cpu.translate(0x5000, ACCESS_READ);
    setPte(m, LIN, OTHER | P | RW | G);
    setPte(m, 0x5000, (OTHER + 0x1000) | P | RW);
    return m;
  }

  it('a CR3 load keeps global translations and drops the others', () => {
    const m = globalPage();
    flushTlb(m.cpu);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(LIN);
    expect(m.cpu.translate(0x5000, ACCESS_READ)).toBe(OTHER + 0x1000);
  });

  it('INVLPG drops a global translation', () => {
    const m = globalPage();
    invalidatePage(m.cpu, LIN);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(OTHER | 0x456);
  });

  it('clearing CR4.PGE drops global translations', () => {
    const m = globalPage();
    m.cpu.cr4 &= ~CR4_PGE;
    pagingControlChanged(m.cpu);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(OTHER | 0x456);
  });

  it('without CR4.PGE the G bit is ignored: a CR3 load drops the page', () => {
    const m = paged();
    setPte(m, LIN, (LIN & ~0xfff) | P | RW | G);
    m.cpu.translate(LIN, ACCESS_READ);
    setPte(m, LIN, OTHER | P | RW);
    flushTlb(m.cpu);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(OTHER | 0x456);
  });

  it('flushing everything drops global translations too', () => {
    const m = globalPage();
    flushTlbAll(m.cpu);
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(OTHER | 0x456);
  });
});

describe('host-side changes', () => {
  it('a CR3 changed outside an instruction (task switch, debugger) is noticed by modeChanged', () => {
    const m = paged();
    m.cpu.translate(LIN, ACCESS_READ);
    // A second directory whose first entry maps page LIN elsewhere.
    const dir2 = 0x240000, table2 = 0x241000;
    for (let k = 0; k < 1024; k++) m.mem.i32[(table2 >>> 2) + k] = (k << 12) | P | RW;
    m.mem.i32[(table2 >>> 2) + (LIN >>> 12)] = OTHER | P | RW;
    m.mem.i32[dir2 >>> 2] = table2 | P | RW;
    m.cpu.cr3 = dir2;
    m.cpu.modeChanged();
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(OTHER | 0x456);
  });

  it('many pages between flushes: every translation stays right when the fill list overflows', () => {
    const m = flat32([0xf4], 0x10000, 64 << 20);
    // Map 0–48 MiB identity through twelve page tables at 48 MiB.
    const dir = 0x3000000;
    for (let t = 0; t < 12; t++) {
      const table = dir + 0x1000 * (t + 1);
      for (let k = 0; k < 1024; k++) m.mem.i32[(table >>> 2) + k] = (((t << 10) + k) << 12) | P | RW;
      m.mem.i32[(dir >>> 2) + t] = table | P | RW;
    }
    m.cpu.cr3 = dir;
    m.cpu.cr0 |= 0x80000000;
    m.cpu.modeChanged();
    for (let page = 0; page < 12 * 1024; page++) expect(m.cpu.translate(page * 0x1000 + 7, ACCESS_READ)).toBe(page * 0x1000 + 7);
    expect(m.cpu.tlb.size).toBeLessThanOrEqual(12 * 1024);
    flushTlb(m.cpu);
    expect(m.cpu.tlb.size).toBe(0);
  });
});
