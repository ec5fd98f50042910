// bitLength (engine/cpu/fpu/float80.ts), which every rounding calls: the number of bits of a positive BigInt, at
// every width from 1 bit to the 16,000-bit integers exact decimal conversion makes, around each power of two.
import { describe, expect, it } from 'vitest';
import { bitLength } from '../../../../engine/cpu/fpu/float80';

describe('bitLength', () => {
  it('counts the bits of values around every power of two up to 2^700, and of very wide values', () => {
    for (let k = 0; k <= 700; k++) {
      const p = 1n << BigInt(k);
      for (const n of [p, p + 1n, 2n * p - 1n, p + (p >> 1n)]) expect(bitLength(n), `2^${k} case ${n.toString(16)}`).toBe(n.toString(2).length);
    }
    const wide = 10n ** 4950n;
    expect(bitLength(wide)).toBe(wide.toString(2).length);
    expect(bitLength(wide - 1n)).toBe((wide - 1n).toString(2).length);
  });
});
