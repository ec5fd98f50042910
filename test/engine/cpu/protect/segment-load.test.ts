import { describe, expect, it, vi } from 'vitest';
import { CS, DS, ES, FS, GS, LDTR, SS, AR_DB, AR_P, AR_S, CR0_PE } from '../../../../engine/cpu/cpu';
import { VEC_GP, VEC_NP, VEC_SS } from '../../../../engine/cpu/faults';
import { VM } from '../../../../engine/cpu/flags';
import { loadSegment } from '../../../../engine/cpu/protect/segment-load';
import { flat32, realMode } from '../harness';
import { accessByte, expectFault, gdtEntry } from './fault-helpers';

const RW = 0x3, RO = 0x1, RW_NOT_ACCESSED = 0x2, EXPAND_DOWN_RW = 0x7, CODE_EXEC_ONLY = 0x8, CODE_READ = 0xb, CODE_CONFORMING_READ = 0xf;

describe('protected-mode SS load checks (SDM MOV, in order)', () => {
  it('NULL selector → #GP(0)', () => {
    const m = flat32([]);
    expectFault(() => loadSegment(m.cpu, SS, 0x0003, 'mov'), VEC_GP, 0, 'segment-load.ss.null');
  });
  it('beyond the GDT limit → #GP(selector)', () => {
    const m = flat32([]);
    expectFault(() => loadSegment(m.cpu, SS, 0x80, 'mov'), VEC_GP, 0x80, 'segment-load.ss.table-limit');
  });
  it('beyond an unusable LDT (LLDT of a NULL selector) → #GP(selector)', () => {
    const m = flat32([]);
    m.cpu.loadSegmentCache(LDTR, 0, 0, 0, 0, false, 'loader');
    expectFault(() => loadSegment(m.cpu, SS, 0x0c, 'mov'), VEC_GP, 0x0c, 'segment-load.ss.table-limit');
  });
  it('read-only data → #GP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, RO);
    expectFault(() => loadSegment(m.cpu, SS, sel, 'mov'), VEC_GP, sel, 'segment-load.ss.type');
  });
  it('readable code → #GP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, CODE_READ);
    expectFault(() => loadSegment(m.cpu, SS, sel, 'mov'), VEC_GP, sel, 'segment-load.ss.type');
  });
  it('RPL ≠ CPL → #GP(selector without RPL)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, RW);
    expectFault(() => loadSegment(m.cpu, SS, sel | 3, 'mov'), VEC_GP, sel, 'segment-load.ss.rpl');
  });
  it('DPL ≠ CPL → #GP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, RW, { dpl: 3 });
    expectFault(() => loadSegment(m.cpu, SS, sel, 'mov'), VEC_GP, sel, 'segment-load.ss.dpl');
  });
  it('not present → #SS(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, RW, { present: false });
    expectFault(() => loadSegment(m.cpu, SS, sel, 'mov'), VEC_SS, sel, 'segment-load.ss.not-present');
  });
  it('a 16-bit (B = 0) stack segment makes pushes use SP', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0x20000, 0xffff, RW, { db: false });
    m.cpu.regs[4] = 0x12340010;
    loadSegment(m.cpu, SS, sel, 'mov');
    expect(m.cpu.stack32).toBe(false);
    m.cpu.push(2, 0xbeef);
    expect(m.cpu.regs[4] >>> 0).toBe(0x1234000e);
    expect(m.mem.peek(0x2000e, 2)).toBe(0xbeef);
    const big = gdtEntry(m, 6, 0, 0xffff, RW, { db: true });
    loadSegment(m.cpu, SS, big, 'mov');
    expect(m.cpu.stack32).toBe(true);
  });
});

describe('protected-mode DS/ES/FS/GS load checks (SDM MOV, in order)', () => {
  it('NULL selector loads an unusable cache; an access through it → #GP(0)', () => {
    const m = flat32([]);
    loadSegment(m.cpu, DS, 0x0002, 'mov');
    expect(m.cpu.segSel[DS]).toBe(2);
    expect(m.cpu.segValid[DS]).toBe(0);
    expectFault(() => m.cpu.readMem(DS, 0x100, 4), VEC_GP, 0, 'access.null-selector');
    expectFault(() => m.cpu.writeMem(DS, 0x100, 1, 0), VEC_GP, 0, 'access.null-selector');
  });
  it('beyond the GDT limit → #GP(selector)', () => {
    const m = flat32([]);
    expectFault(() => loadSegment(m.cpu, ES, 0x83, 'mov'), VEC_GP, 0x80, 'segment-load.data.table-limit');
  });
  it('execute-only code → #GP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, CODE_EXEC_ONLY);
    expectFault(() => loadSegment(m.cpu, FS, sel, 'mov'), VEC_GP, sel, 'segment-load.data.type');
  });
  it('a system descriptor (LDT) → #GP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0x3000, 0x7f, 0x2, { system: true });
    expectFault(() => loadSegment(m.cpu, GS, sel, 'mov'), VEC_GP, sel, 'segment-load.data.type');
  });
  it('data with DPL < CPL → #GP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, RW, { dpl: 0 });
    m.cpu.cpl = 3;
    expectFault(() => loadSegment(m.cpu, DS, sel | 3, 'mov'), VEC_GP, sel, 'segment-load.data.dpl');
  });
  it('data with DPL < RPL at CPL 0 → #GP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, RW, { dpl: 2 });
    expectFault(() => loadSegment(m.cpu, DS, sel | 3, 'mov'), VEC_GP, sel, 'segment-load.data.dpl');
    loadSegment(m.cpu, DS, sel | 2, 'mov');
    expect(m.cpu.segSel[DS]).toBe(sel | 2);
  });
  it('conforming readable code skips the privilege check', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0x4000, 0xffff, CODE_CONFORMING_READ, { dpl: 0 });
    m.cpu.cpl = 3;
    loadSegment(m.cpu, DS, sel | 3, 'mov');
    expect(m.cpu.segBase[DS]).toBe(0x4000);
  });
  it('not present → #NP(selector)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, RW, { present: false });
    expectFault(() => loadSegment(m.cpu, DS, sel, 'mov'), VEC_NP, sel, 'segment-load.data.not-present');
  });
  it('checks type before privilege and privilege before presence', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0xffff, CODE_EXEC_ONLY, { dpl: 0, present: false });
    m.cpu.cpl = 3;
    expectFault(() => loadSegment(m.cpu, DS, sel | 3, 'mov'), VEC_GP, sel, 'segment-load.data.type');
    gdtEntry(m, 5, 0, 0xffff, RW, { dpl: 0, present: false });
    expectFault(() => loadSegment(m.cpu, DS, sel | 3, 'mov'), VEC_GP, sel, 'segment-load.data.dpl');
  });
  it('a fault leaves the register unchanged', () => {
    const m = flat32([]);
    const before = m.cpu.cacheSnapshot(DS);
    const sel = gdtEntry(m, 5, 0, 0xffff, RW, { present: false });
    expectFault(() => loadSegment(m.cpu, DS, sel, 'mov'), VEC_NP, sel, 'segment-load.data.not-present');
    expect(m.cpu.cacheSnapshot(DS)).toEqual(before);
    expect(m.cpu.segSel[DS]).toBe(0x10);
  });
});

describe('accessed bit and cache contents', () => {
  it('sets the accessed bit in memory and in the cache', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 7, 0x123456, 0xabcde, RW_NOT_ACCESSED, { g: true, dpl: 0 });
    expect(accessByte(m, 7) & 1).toBe(0);
    loadSegment(m.cpu, ES, sel, 'mov');
    expect(accessByte(m, 7)).toBe(0x93);
    expect(m.cpu.segBase[ES] >>> 0).toBe(0x123456);
    expect(m.cpu.segLimit[ES]).toBe(0xabcdefff);
    expect(m.cpu.segAr[ES] & 0xff).toBe(0x93);
  });
  it('does not write the descriptor when the bit is already set', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 7, 0, 0xffff, RW);
    const spy = vi.spyOn(m.cpu, 'writeLinear8');
    loadSegment(m.cpu, ES, sel, 'mov');
    expect(spy).not.toHaveBeenCalled();
  });
  it('expand-down data: offsets above the limit up to 0xFFFFFFFF (B = 1) or 0xFFFF (B = 0)', () => {
    const m = flat32([]);
    const big = gdtEntry(m, 5, 0x100000, 0x0fff, EXPAND_DOWN_RW, { db: true });
    loadSegment(m.cpu, DS, big, 'mov');
    m.cpu.writeMem(DS, 0x1000, 4, 0x11223344);
    expect(m.mem.peek(0x101000, 4)).toBe(0x11223344);
    expect(m.cpu.readMem(DS, 0x20000, 1)).toBe(0);
    expectFault(() => m.cpu.readMem(DS, 0xfff, 1), VEC_GP, 0, 'access.limit');
    expectFault(() => m.cpu.readMem(DS, 0xffe, 4), VEC_GP, 0, 'access.limit');
    const small = gdtEntry(m, 6, 0x100000, 0x0fff, EXPAND_DOWN_RW, { db: false });
    loadSegment(m.cpu, DS, small, 'mov');
    expect(m.cpu.readMem(DS, 0xfffe, 2)).toBe(0);
    expectFault(() => m.cpu.readMem(DS, 0x10000, 1), VEC_GP, 0, 'access.limit');
    expectFault(() => m.cpu.readMem(DS, 0xffff, 2), VEC_GP, 0, 'access.limit');
  });
  it('an expand-down stack faults with #SS(0) below its limit', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0, 0x7fff, EXPAND_DOWN_RW, { db: true });
    loadSegment(m.cpu, SS, sel, 'mov');
    m.cpu.regs[4] = 0x8002;
    expectFault(() => m.cpu.push(4, 1), VEC_SS, 0, 'access.stack-limit');
    m.cpu.regs[4] = 0x8004;
    m.cpu.push(4, 1);
    expect(m.cpu.regs[4]).toBe(0x8000);
  });
  it('emits segment-load with the cause', () => {
    const m = flat32([]);
    const seen: string[] = [];
    m.cpu.events.on('segment-load', (e) => seen.push(`${e.reg}:${e.newSelector}:${e.cause}`));
    loadSegment(m.cpu, FS, 0x10, 'lfs');
    expect(seen).toEqual([`${FS}:16:lfs`]);
  });
});

describe('real and V86 mode loads', () => {
  it('real mode: base = selector × 16, limit and attributes kept (unreal mode)', () => {
    // mov ax,0x1234 ; mov ds,ax ; mov ebx,[dword 0x20000] (67 8B 1D) ; hlt
    const m = realMode([0xb8, 0x34, 0x12, 0x8e, 0xd8, 0x67, 0x66, 0x8b, 0x1d, 0x00, 0x00, 0x02, 0x00, 0xf4]);
    m.cpu.loadSegmentCache(DS, 0, 0, 0xffffffff, AR_P | AR_S | 0x3 | AR_DB, true, 'loader');
    m.mem.write32(0x12340 + 0x20000, 0xcafef00d);
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.segBase[DS]).toBe(0x12340);
    expect(m.cpu.segLimit[DS]).toBe(0xffffffff);
    expect(m.cpu.segAr[DS]).toBe(AR_P | AR_S | 0x3 | AR_DB);
    expect(m.cpu.regs[3] >>> 0).toBe(0xcafef00d);
  });
  it('real mode: a normal limit still faults beyond 0xFFFF', () => {
    const m = realMode([]);
    loadSegment(m.cpu, ES, 0x2000, 'mov');
    expect(m.cpu.segBase[ES]).toBe(0x20000);
    expectFault(() => m.cpu.readMem(ES, 0xffff, 2), VEC_GP, 0, 'access.limit');
  });
  it('V86 mode: base = selector × 16, limit 0xFFFF, DPL 3', () => {
    const m = flat32([]);
    m.cpu.loadSegmentCache(ES, 0x10, 0, 0xffffffff, AR_P | AR_S | 0x3 | AR_DB, true, 'loader');
    m.cpu.setEflags(m.cpu.getEflags() | VM);
    loadSegment(m.cpu, ES, 0xb800, 'mov');
    expect(m.cpu.segBase[ES]).toBe(0xb8000);
    expect(m.cpu.segLimit[ES]).toBe(0xffff);
    expect(m.cpu.segAr[ES]).toBe(0xf3);
    expect(m.cpu.cr0 & CR0_PE).toBe(CR0_PE);
    void CS;
  });
});
