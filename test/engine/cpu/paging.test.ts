// 32-bit paging rules (SDM 3A ch. 4) checked on Cpu.translate: each #PF condition with its error code, rule id
// and CR2, the accessed and dirty bits written to the tables, CR0.WP, 4 MiB pages, and tables outside memory.

import { describe, expect, it } from 'vitest';
import { CR0_WP } from '../../../engine/cpu/cpu';
import { VEC_PF } from '../../../engine/cpu/faults';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_SYSTEM, ACCESS_WRITE } from '../../../engine/cpu/protect/paging';
import { flat32 } from './harness';
import { expectFault } from './protect/fault-helpers';
import { A, D, enablePaging, P, PAGE_TABLE_1, PS, pde, pte, RW, setPde, setPte, US } from './paging-fixtures';

const CR4_PSE = 0x10;
const LIN = 0x123456; // page 0x123 of the identity map, offset 0x456

function paged() {
  const m = flat32([0xf4]);
  enablePaging(m);
  return m;
}

describe('translation and #PF error codes', () => {
  it('walks both levels: linear = physical under the identity map; a changed PTE redirects the page', () => {
    const m = paged();
    expect(m.cpu.translate(LIN, ACCESS_READ)).toBe(LIN);
    setPte(m, 0x3ff000, 0x155000 | P | RW);
    expect(m.cpu.translate(0x3ff010, ACCESS_READ)).toBe(0x155010);
  });

  it('a not-present PDE: #PF with P = 0, W/R as the access, U/S = 0 at CPL 0; CR2 = the address', () => {
    const m = paged();
    const lin = 0x00c00123; // directory entry 3 is empty
    expectFault(() => m.cpu.translate(lin, ACCESS_READ), VEC_PF, 0, 'paging.pde-not-present');
    expect(m.cpu.cr2 >>> 0).toBe(lin);
    expectFault(() => m.cpu.translate(lin + 1, ACCESS_WRITE), VEC_PF, 2, 'paging.pde-not-present');
    expect(m.cpu.cr2 >>> 0).toBe(lin + 1);
  });

  it('a not-present PTE at CPL 3: U/S = 1 in the error code; a system access at CPL 3 has U/S = 0', () => {
    const m = paged();
    setPte(m, LIN, 0);
    m.cpu.cpl = 3;
    expectFault(() => m.cpu.translate(LIN, ACCESS_READ), VEC_PF, 4, 'paging.pte-not-present');
    expectFault(() => m.cpu.translate(LIN, ACCESS_WRITE), VEC_PF, 6, 'paging.pte-not-present');
    expectFault(() => m.cpu.translate(LIN, ACCESS_READ | ACCESS_SYSTEM), VEC_PF, 0, 'paging.pte-not-present');
    expectFault(() => m.cpu.translate(LIN, ACCESS_FETCH), VEC_PF, 4, 'paging.pte-not-present');
  });

  it('user access to a supervisor page faults (P = 1) whichever level has U/S = 0; supervisor and system accesses pass', () => {
    const m = paged();
    setPte(m, LIN, LIN & ~0xfff | P | RW); // PTE supervisor
    m.cpu.cpl = 3;
    expectFault(() => m.cpu.translate(LIN, ACCESS_READ), VEC_PF, 5, 'paging.user');
    expectFault(() => m.cpu.translate(LIN, ACCESS_WRITE), VEC_PF, 7, 'paging.user');
    expect(m.cpu.translate(LIN, ACCESS_READ | ACCESS_SYSTEM)).toBe(LIN);
    m.cpu.cpl = 0;
    expect(m.cpu.translate(LIN, ACCESS_WRITE)).toBe(LIN);

    const n = paged();
    setPde(n, 0, pde(n, 0) & ~US); // directory entry supervisor, PTE user
    n.cpu.cpl = 3;
    expectFault(() => n.cpu.translate(0x5000, ACCESS_READ), VEC_PF, 5, 'paging.user');
  });

  it('CR0.WP: a supervisor write to a read-only page passes with WP = 0 and faults with WP = 1; a user write always faults', () => {
    const m = paged();
    setPte(m, LIN, (LIN & ~0xfff) | P | US); // read-only
    expect(m.cpu.translate(LIN, ACCESS_WRITE)).toBe(LIN);
    const w = paged();
    setPte(w, LIN, (LIN & ~0xfff) | P | US);
    w.cpu.cr0 |= CR0_WP;
    w.cpu.modeChanged();
    expectFault(() => w.cpu.translate(LIN, ACCESS_WRITE), VEC_PF, 3, 'paging.read-only');
    expect(w.cpu.translate(LIN, ACCESS_READ)).toBe(LIN);
    const u = paged();
    setPte(u, LIN, (LIN & ~0xfff) | P | US);
    u.cpu.cpl = 3;
    expectFault(() => u.cpu.translate(LIN, ACCESS_WRITE), VEC_PF, 7, 'paging.read-only');
    // Read-only in the directory entry binds as well (the more restrictive level wins).
    const d = paged();
    setPde(d, 0, pde(d, 0) & ~RW);
    d.cpu.cpl = 3;
    expectFault(() => d.cpu.translate(0x7000, ACCESS_WRITE), VEC_PF, 7, 'paging.read-only');
  });

  it('a failed access leaves the accessed and dirty bits alone', () => {
    const m = paged();
    setPte(m, LIN, (LIN & ~0xfff) | P | RW);
    m.cpu.cpl = 3;
    expectFault(() => m.cpu.translate(LIN, ACCESS_WRITE), VEC_PF, 7, 'paging.user');
    expect(pte(m, LIN) & (A | D)).toBe(0);
    expect(pde(m, LIN) & A).toBe(0);
  });
});

describe('accessed and dirty bits', () => {
  it('a read sets A in the PDE and PTE; a write sets D in the PTE only, never in the PDE', () => {
    const m = paged();
    m.cpu.translate(LIN, ACCESS_READ);
    expect(pte(m, LIN) & (A | D)).toBe(A);
    expect(pde(m, LIN) & (A | D)).toBe(A);
    m.cpu.translate(LIN + 4, ACCESS_WRITE);
    expect(pte(m, LIN) & (A | D)).toBe(A | D);
    expect(pde(m, LIN) & D).toBe(0);
    expect(pte(m, LIN + 0x1000) & (A | D)).toBe(0); // the next page was not touched
  });

  it('the first write to a page already cached by a read still sets D in memory', () => {
    const m = paged();
    m.cpu.translate(LIN, ACCESS_READ); // cached without write rights: the page is clean
    expect(pte(m, LIN) & D).toBe(0);
    m.cpu.translate(LIN, ACCESS_WRITE);
    expect(pte(m, LIN) & D).toBe(D);
  });

  it('data stores through Cpu.write32 mark the page dirty; instruction fetches only accessed', () => {
    const m = paged();
    m.cpu.write32(3, LIN, 0x11223344); // DS
    expect(m.mem.peek(LIN, 4)).toBe(0x11223344);
    expect(pte(m, LIN) & (A | D)).toBe(A | D);
    m.cpu.translate(0x20000, ACCESS_FETCH);
    expect(pte(m, 0x20000) & (A | D)).toBe(A);
  });
});

describe('4 MiB pages (CR4.PSE)', () => {
  it('PS = 1 with CR4.PSE maps 4 MiB; A and D are set in the directory entry', () => {
    const m = flat32([0xf4], 0x10000, 16 << 20);
    enablePaging(m);
    m.cpu.cr4 |= CR4_PSE;
    m.cpu.modeChanged();
    setPde(m, 0x800000, 0x400000 | PS | P | RW);
    expect(m.cpu.translate(0x8abcde, ACCESS_READ)).toBe(0x4abcde);
    expect(pde(m, 0x800000) & (A | D)).toBe(A);
    m.cpu.translate(0x9fffff, ACCESS_WRITE);
    expect(pde(m, 0x800000) & (A | D)).toBe(A | D);
  });

  it('without CR4.PSE the PS bit is ignored: the entry points at a page table', () => {
    const m = flat32([0xf4], 0x10000, 16 << 20);
    enablePaging(m);
    m.mem.i32[(PAGE_TABLE_1 >>> 2) + 5] = 0x777000 | P | RW;
    setPde(m, 0x800000, PAGE_TABLE_1 | PS | P | RW);
    expect(m.cpu.translate(0x805123, ACCESS_READ)).toBe(0x777123);
  });

  it('reserved bits 21:13 of a 4 MiB entry: #PF with P = 1 and RSVD = 1', () => {
    const m = paged();
    m.cpu.cr4 |= CR4_PSE;
    m.cpu.modeChanged();
    setPde(m, 0x400000, 0x400000 | 0x2000 | PS | P | RW);
    expectFault(() => m.cpu.translate(0x400010, ACCESS_READ), VEC_PF, 9, 'paging.reserved-bit');
    expectFault(() => m.cpu.translate(0x400010, ACCESS_WRITE), VEC_PF, 0xb, 'paging.reserved-bit');
  });
});

describe('page tables outside installed memory (open bus)', () => {
  it('entries read as 0xFFFFFFFF: present, writable, user; the translation lands in the open bus, no exception', () => {
    const m = paged();
    m.cpu.cr3 = 0x80000000; // far above the 4 MiB of RAM
    m.cpu.modeChanged();
    // PDE = 0xFFFFFFFF → page table at 0xFFFFF000 → PTE = 0xFFFFFFFF → frame 0xFFFFF000.
    expect(m.cpu.translate(0x1234, ACCESS_READ) >>> 0).toBe(0xfffff234);
    expect(m.cpu.read32(3, 0x1234) >>> 0).toBe(0xffffffff);
    m.cpu.write32(3, 0x1234, 5); // A/D updates and the store go to the open bus and are dropped
  });

  it('with CR4.PSE the same bits make a 4 MiB entry with reserved bits set: #PF(RSVD), not an engine error', () => {
    const m = paged();
    m.cpu.cr4 |= CR4_PSE;
    m.cpu.cr3 = 0x80000000;
    m.cpu.modeChanged();
    expectFault(() => m.cpu.translate(0x1234, ACCESS_READ), VEC_PF, 9, 'paging.reserved-bit');
  });
});
