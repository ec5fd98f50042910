import { describe, expect, it } from 'vitest';
import type { SegmentFields, SegmentMapResponseBody } from '../../debug-adapter/protocol-types';
import { addressSpaceEnd, renderMessage, renderSegmentMap } from '../../extension/segment-map-html';

const flatData: SegmentFields = { base: 0, limit: 0xffffffff, type: 3, s: true, dpl: 0, p: true, db: true, g: true, avl: false, usable: true };
const smallData: SegmentFields = { ...flatData, base: 0x10000, limit: 0xffff, g: false };

function map(overrides: Partial<SegmentMapResponseBody> = {}): SegmentMapResponseBody {
  return {
    mode: 'protected',
    cpl: 0,
    monitor: false,
    gdtr: { base: 0x1000, limit: 0x1f },
    registers: [
      { name: 'CS', selector: 0x08, cache: { ...flatData, type: 0xb }, tableEntry: { ...flatData, type: 0xb }, consistent: true, differs: [] },
      { name: 'DS', selector: 0x10, cache: smallData, tableEntry: flatData, consistent: false, differs: ['base', 'limit'] },
    ],
    gdt: [
      { index: 1, raw: [0x0000ffff, 0x00cf9b00], fields: { ...flatData, type: 0xb } },
      { index: 2, raw: [0x0000ffff, 0x00cf9300], fields: flatData },
    ],
    ...overrides,
  };
}

describe('addressSpaceEnd', () => {
  it('is at least 1 MiB and grows in powers of two to hold every segment', () => {
    expect(addressSpaceEnd([])).toBe(0x100000);
    expect(addressSpaceEnd([{ ...smallData, base: 0xb8000, limit: 0xffff }])).toBe(0x100000);
    expect(addressSpaceEnd([{ ...smallData, base: 0x100000, limit: 0xfff }])).toBe(0x200000);
    expect(addressSpaceEnd([flatData])).toBe(0x100000000);
  });
  it('measures an expand-down segment to its top, not to its limit', () => {
    const stack: SegmentFields = { ...smallData, base: 0, limit: 0xfff, type: 7, db: true };
    expect(addressSpaceEnd([stack])).toBe(0x100000000);
  });
});

describe('renderSegmentMap', () => {
  it('draws a cache bar and an entry bar per register, placed by base and size', () => {
    const html = renderSegmentMap(map());
    expect(html.match(/class="bar cache/g)).toHaveLength(2);
    expect(html.match(/class="bar entry/g)).toHaveLength(2);
    // DS's cache: 64 KiB at 64 KiB in a 4 GiB space.
    expect(html).toContain(`left:${((0x10000 / 2 ** 32) * 100).toFixed(3)}%`);
    expect(html).toContain('left:0.000%;width:100.000%');
  });

  it('highlights an inconsistent register and the fields that differ', () => {
    const html = renderSegmentMap(map());
    expect(html).toContain('<section class="register inconsistent" data-register="DS">');
    expect(html).toContain('inconsistent: base, limit');
    expect(html).toContain('<th class="differs">base</th><th class="differs">limit</th><th>type</th>');
    expect(html).toContain('<tr><th>cache</th><td class="differs">0x00010000</td><td class="differs">0x0000ffff</td>');
    expect(html).toContain('<tr><th>table entry</th><td class="differs">0x00000000</td><td class="differs">0xffffffff</td>');
    expect(html).toContain('<section class="register" data-register="CS">');
  });

  it('names descriptor types in the SDM words', () => {
    const html = renderSegmentMap(map());
    expect(html).toContain('code, execute/read, accessed');
    expect(html).toContain('data, read/write, accessed');
  });

  it('shows the virtual GDT beside the guest GDT under the monitor', () => {
    const virtualised = { index: 2, raw: [0x0000ffff, 0x00cff300] as [number, number], fields: { ...flatData, dpl: 3 } };
    const html = renderSegmentMap(
      map({ monitor: true, virtualGdt: [{ index: 1, raw: [0x0000ffff, 0x00cf9b00], fields: flatData }, virtualised], registers: map().registers.map((r) => ({ ...r, virtualEntry: r.tableEntry })) }),
    );
    expect(html).toContain("Guest GDT beside the monitor's virtual GDT");
    expect(html.match(/class="bar virtual/g)).toHaveLength(2);
    expect(html).toMatch(/<tr class="gdt-row in-use virtualized"><td>2<\/td>/);
    expect(html).toMatch(/<tr class="gdt-row in-use"><td>1<\/td>/);
    expect(html).toContain('0x00cff3000000ffff');
  });

  it('draws a missing table entry as none and an unusable cache dimmed', () => {
    const html = renderSegmentMap(
      map({ registers: [{ name: 'ES', selector: 0, cache: { ...flatData, usable: false }, tableEntry: null, consistent: true, differs: [] }] }),
    );
    expect(html).toContain('class="bar cache unusable"');
    expect(html).toContain('<span class="none">none</span>');
  });

  it('describes real-mode selectors as paragraph numbers, not GDT indexes', () => {
    const real = renderSegmentMap(map({ mode: 'real', registers: [{ name: 'ES', selector: 0x1000, cache: smallData, tableEntry: null, consistent: true, differs: [] }] }));
    expect(real).toContain('real mode: base = 0x1000 × 16');
    expect(real).not.toContain('index 512');
    expect(renderSegmentMap(map())).toContain('index 2 GDT RPL 0');
  });

  it('escapes text it did not write itself', () => {
    expect(renderMessage('<script>')).toBe('<p class="message">&#60;script&#62;</p>');
  });
});
