import { describe, expect, it } from 'vitest';
import {
  accessRightsOf,
  decodeDescriptor,
  encodeGate,
  encodeSegment,
  segmentAccessRights,
  TYPE_CALL_GATE32,
  TYPE_INT_GATE16,
  TYPE_TASK_GATE,
  TYPE_TSS32_BUSY,
  TYPE_TRAP_GATE32,
} from '../../../../engine/cpu/protect/descriptor';
import { AR_DB, AR_G, AR_P, AR_S } from '../../../../engine/cpu/cpu';

describe('descriptor decoding', () => {
  it('decodes a flat 4 GiB code segment with G scaling the limit once', () => {
    const d = decodeDescriptor(0x0000ffff, 0x00cf9a00);
    expect(d.kind).toBe('code');
    expect(d.base).toBe(0);
    expect(d.rawLimit).toBe(0xfffff);
    expect(d.limit).toBe(0xffffffff);
    expect(d.db && d.g && d.p && d.s).toBe(true);
    expect(d.readable && !d.conforming && !d.accessed).toBe(true);
    expect(accessRightsOf(d)).toBe(AR_P | AR_S | 0xa | AR_DB | AR_G);
  });
  it('decodes base bits from all three fields', () => {
    const d = decodeDescriptor(0x56780fff, 0x12409234);
    expect(d.base).toBe(0x12345678);
    expect(d.limit).toBe(0x00fff);
    expect(d.kind).toBe('data');
    expect(d.writable && !d.expandDown && d.db && !d.g).toBe(true);
  });
  it('decodes gates: selector, offset halves, parameter count, 16/32-bit form', () => {
    const [lo, hi] = encodeGate(TYPE_CALL_GATE32, 0x0008, 0x12345678, { dpl: 3, paramCount: 5 });
    const g = decodeDescriptor(lo, hi);
    expect(g.kind).toBe('call-gate');
    expect([g.selector, g.offset, g.paramCount, g.dpl, g.is32, g.p]).toEqual([8, 0x12345678, 5, 3, true, true]);
    const [lo16, hi16] = encodeGate(TYPE_INT_GATE16, 0x0010, 0x12345678);
    const i16 = decodeDescriptor(lo16, hi16);
    expect([i16.kind, i16.offset, i16.is32]).toEqual(['interrupt-gate', 0x5678, false]);
    const t = decodeDescriptor(...encodeGate(TYPE_TRAP_GATE32, 8, 0x1000, { present: false }));
    expect([t.kind, t.p]).toEqual(['trap-gate', false]);
    expect(decodeDescriptor(...encodeGate(TYPE_TASK_GATE, 0x28, 0)).kind).toBe('task-gate');
  });
  it('decodes system segments and reserved types', () => {
    const tss = decodeDescriptor(...encodeSegment(0x4000, 0x67, segmentAccessRights(TYPE_TSS32_BUSY, { system: true })));
    expect([tss.kind, tss.busy, tss.is32, tss.base, tss.limit]).toEqual(['tss', true, true, 0x4000, 0x67]);
    expect(decodeDescriptor(0, 0x8800).kind).toBe('reserved');
  });
  it('encodeSegment round-trips a cache (base, scaled limit, access rights)', () => {
    for (const [base, limit, ar] of [
      [0x00123400, 0xffff, AR_P | AR_S | 0x3],
      [0xfe000000, 0xffffffff, AR_P | AR_S | 0xb | AR_DB | AR_G | (3 << 5)],
      [0x000b8000, 0x7fff, AR_P | AR_S | 0x7],
    ]) {
      const d = decodeDescriptor(...encodeSegment(base, limit, ar));
      expect([d.base, d.limit, accessRightsOf(d)]).toEqual([base >>> 0, limit >>> 0, ar]);
    }
  });
});
