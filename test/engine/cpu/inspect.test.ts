import { describe, expect, it } from 'vitest';
import { DS, EAX, LDTR, TR } from '../../../engine/cpu/cpu';
import { inspectCpu, inspectIvt, inspectSegment, inspectTable, inspectTss } from '../../../engine/cpu/inspect';
import { TYPE_TSS32_BUSY } from '../../../engine/cpu/protect/descriptor';
import { loadSegment } from '../../../engine/cpu/protect/segment-load';
import { flat32, GDT_BASE, realMode, SEL_DATA32, writeDescriptor } from './harness';

describe('inspect: read-only CPU snapshots', () => {
  it('registers, decoded EFLAGS (lazy flags computed), control registers, mode, CPL', () => {
    // mov eax,1 ; sub eax,1 (ZF pending in the lazy record) ; hlt
    const m = flat32([0xb8, 0x01, 0x00, 0x00, 0x00, 0x83, 0xe8, 0x01, 0xf4]);
    m.cpu.run(10);
    const lazyBefore = m.cpu.lazyMask;
    const s = inspectCpu(m.cpu);
    expect(m.cpu.lazyMask).toBe(lazyBefore);
    expect(s.registers.EAX).toBe(0);
    expect(s.registers.EIP).toBe(0x10009);
    expect([s.eflags.zf, s.eflags.cf, s.eflags.iopl]).toEqual([true, false, 0]);
    expect([s.mode, s.cpl, s.cr0.pe, s.cr0.pg, s.a20]).toEqual(['protected', 0, true, false, true]);
    expect(s.gdtr).toEqual({ base: GDT_BASE, limit: 127 });
    expect(s.segments.map((g) => g.name)).toEqual(['CS', 'SS', 'DS', 'ES', 'FS', 'GS', 'LDTR', 'TR']);
  });
  it('a segment register: selector parts, decoded cache, table entry and consistency', () => {
    const m = flat32([]);
    loadSegment(m.cpu, DS, SEL_DATA32 | 0, 'mov');
    writeDescriptor(m.mem, GDT_BASE + SEL_DATA32, 0x1000, 0xffff, 0x3);
    const ds = inspectSegment(m.cpu, DS);
    expect([ds.selector, ds.index, ds.ti, ds.rpl]).toEqual([SEL_DATA32, 2, 0, 0]);
    expect(ds.cache).toMatchObject({ base: 0, limit: 0xffffffff, type: 3, s: true, dpl: 0, p: true, db: true, g: true, usable: true, description: 'data read/write' });
    expect(ds.tableEntry).toMatchObject({ base: 0x1000, limit: 0xffff, g: false, address: GDT_BASE + SEL_DATA32 });
    expect([ds.consistent, ds.differs]).toEqual([false, ['base', 'limit', 'g']]);
  });
  it('descriptor tables, the real-mode IVT and the TSS, without side effects', () => {
    const m = flat32([]);
    const gdt = inspectTable(m.cpu, 'GDT', 0, 5);
    expect(gdt.map((e) => e.kind)).toEqual(['reserved', 'code', 'data', 'code', 'data']);
    expect(gdt[1].description).toBe('code execute/read');
    m.cpu.loadSegmentCache(LDTR, 0, 0, 0, 0, false, 'lldt');
    expect(inspectTable(m.cpu, 'LDT')).toEqual([]);
    writeDescriptor(m.mem, 0x6008, 0x9000, 0xff, 0x3, { dpl: 3 });
    m.cpu.loadSegmentCache(LDTR, 0x28, 0x6000, 0x0f, 0x82, true, 'lldt');
    expect(inspectTable(m.cpu, 'LDT').map((e) => [e.index, e.base, e.dpl])).toEqual([[0, 0, 0], [1, 0x9000, 3]]);
    writeDescriptor(m.mem, GDT_BASE + 7 * 8, 0x7000, 0x67, TYPE_TSS32_BUSY, { system: true });
    m.cpu.loadSegmentCache(TR, 7 * 8, 0x7000, 0x67, 0x8b, true, 'loader');
    m.mem.write32(0x7004, 0x80000);
    m.mem.write16(0x7008, 0x10);
    m.mem.write32(0x7028, 0xdeadbeef);
    const tss = inspectTss(m.cpu)!;
    expect([tss.bits, tss.busy, tss.stacks[0], tss.regs[EAX]]).toEqual([32, true, { ss: 0x10, esp: 0x80000 }, 0xdeadbeef]);
    const r = realMode([]);
    r.mem.write32(0x21 * 4, 0x12345678);
    expect(inspectIvt(r.cpu, 0x21, 1)).toEqual([{ vector: 0x21, segment: 0x1234, offset: 0x5678 }]);
  });
});
