import { describe, expect, it } from 'vitest';
import { CS, DS, ES, SS, CR0_PE, CR0_PG, AR_P, AR_S } from '../../../../engine/cpu/cpu';
import { checkConsistency } from '../../../../engine/cpu/protect/consistency';
import { loadSegment } from '../../../../engine/cpu/protect/segment-load';
import { flat32, GDT_BASE, realMode, SEL_CODE32, SEL_DATA32, writeDescriptor } from '../harness';
import { gdtEntry } from './fault-helpers';

describe('consistency of hidden caches (model.md §2)', () => {
  it('a freshly loaded register is consistent (the accessed bit is ignored)', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0x1000, 0xffff, 0x2);
    loadSegment(m.cpu, DS, sel, 'mov');
    expect(checkConsistency(m.cpu, DS)).toMatchObject({ consistent: true, differs: [], unreal: false });
  });
  it('rewriting the descriptor after the load makes the cache stale', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 5, 0x1000, 0xffff, 0x3);
    loadSegment(m.cpu, DS, sel, 'mov');
    gdtEntry(m, 5, 0x2000, 0xffff, 0x1, { dpl: 1 });
    const r = checkConsistency(m.cpu, DS);
    expect(r.consistent).toBe(false);
    expect(r.differs).toEqual(['base', 'type', 'dpl']);
    expect(r.entry?.base).toBe(0x2000);
  });
  it('reports a selector beyond the limit and a not-present entry as reasons', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 15, 0, 0xffff, 0x3);
    loadSegment(m.cpu, ES, sel, 'mov');
    m.cpu.gdtrLimit = 15 * 8 - 1;
    expect(checkConsistency(m.cpu, ES).differs).toEqual(['selector-beyond-limit']);
    m.cpu.gdtrLimit = 16 * 8 - 1;
    gdtEntry(m, 15, 0, 0xffff, 0x3, { present: false });
    expect(checkConsistency(m.cpu, ES).differs).toEqual(['not-present']);
  });
  it('a NULL data selector with an unusable cache is consistent; a usable one is not', () => {
    const m = flat32([]);
    loadSegment(m.cpu, DS, 0, 'mov');
    expect(checkConsistency(m.cpu, DS).consistent).toBe(true);
    m.cpu.loadSegmentCache(DS, 0, 0, 0xffff, AR_P | AR_S | 3, true, 'loader');
    expect(checkConsistency(m.cpu, DS).differs).toEqual(['usable']);
  });

  it('PE 0 → 1 leaves real-mode caches behind protected-mode selectors', () => {
    // In real mode: DS = 0x10 (base 0x100). Then set CR0.PE with MOV CR0 and look at the caches.
    const m = realMode([0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x01, 0x0f, 0x22, 0xc0, 0xf4]); // mov eax,cr0; or eax,1; mov cr0,eax; hlt
    writeDescriptor(m.mem, GDT_BASE + 0x08, 0, 0xfffff, 0xb, { g: true });
    writeDescriptor(m.mem, GDT_BASE + 0x10, 0, 0xfffff, 0x3, { g: true });
    m.cpu.gdtrBase = GDT_BASE;
    m.cpu.gdtrLimit = 0x17;
    m.cpu.setSegmentReal(DS, 0x10);
    const modes: string[] = [];
    m.cpu.events.on('mode-change', (e) => modes.push(`${e.from}->${e.to}`));
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.mode).toBe('protected');
    expect(modes).toEqual(['real->protected']);
    const ds = checkConsistency(m.cpu, DS);
    expect(ds.consistent).toBe(false);
    expect(ds.differs).toEqual(['base', 'limit', 'db', 'g']);
    expect(ds.unreal).toBe(false);
    // CS = 0 in protected mode: a NULL code selector cannot be reloaded at all.
    expect(checkConsistency(m.cpu, CS).differs).toEqual(['usable']);
    // Reloading DS makes it consistent.
    loadSegment(m.cpu, DS, 0x10, 'mov');
    expect(checkConsistency(m.cpu, DS).consistent).toBe(true);
  });

  it('PE 1 → 0 leaves protected-mode caches in real mode: unreal mode', () => {
    // 32-bit code: mov eax,cr0; and eax,~1; mov cr0,eax; xor eax,eax; mov es,ax; hlt
    const m = flat32([0x0f, 0x20, 0xc0, 0x83, 0xe0, 0xfe, 0x0f, 0x22, 0xc0, 0x31, 0xc0, 0x8e, 0xc0, 0xf4]);
    const modes: string[] = [];
    m.cpu.events.on('mode-change', (e) => modes.push(`${e.from}->${e.to}`));
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.mode).toBe('real');
    expect(modes).toEqual(['protected->real']);
    // DS still holds selector 0x10 with base 0 and a 4 GiB limit: a reload would give base 0x100.
    const ds = checkConsistency(m.cpu, DS);
    expect(ds).toMatchObject({ consistent: false, differs: ['base'], unreal: true });
    // ES was reloaded in real mode: base 0 = 0 × 16 matches, the 4 GiB limit stays (still unreal).
    const es = checkConsistency(m.cpu, ES);
    expect(es).toMatchObject({ consistent: true, differs: [], unreal: true });
    expect(m.cpu.segLimit[ES]).toBe(0xffffffff);
    expect(m.cpu.segSel[SS]).toBe(SEL_DATA32);
    expect(m.cpu.segSel[CS]).toBe(SEL_CODE32);
  });

  it('reads page tables without setting accessed bits', () => {
    const m = flat32([]);
    const pd = 0x100000, pt = 0x101000;
    m.mem.write32(pd, pt | 0x3);
    for (let p = 0; p < 1024; p++) m.mem.write32(pt + p * 4, (p << 12) | 0x3);
    m.cpu.cr3 = pd;
    m.cpu.cr0 |= CR0_PG | CR0_PE;
    m.cpu.modeChanged();
    m.mem.write32(GDT_BASE + 0x10 + 4, m.mem.peek(GDT_BASE + 0x14, 4) | 0x100); // descriptor already accessed
    const r = checkConsistency(m.cpu, DS);
    expect(r.differs).toEqual([]);
    expect(m.mem.peek(pd, 4) & 0x20).toBe(0);
    expect(m.mem.peek(pt, 4) & 0x60).toBe(0);
    m.cpu.readLinear32(GDT_BASE);
    expect(m.mem.peek(pt, 4) & 0x20).toBe(0x20);
  });
});
