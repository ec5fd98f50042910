// Decimal text of extended values (engine/cpu/fpu/decimal.ts): reading decimal into the nearest 80-bit value, and
// the shortest decimal that reads back as the same value. The pairs were read by glibc's strtold on the host.
import { describe, expect, it } from 'vitest';
import { decimalToF80, f80Class, f80FromBytes, f80FromHex, f80Hex, f80ToBytes, f80ToDecimal } from '../../../../engine/cpu/fpu/decimal';
import { f80 } from '../../../../engine/cpu/fpu/float80';

const HOST: [string, string][] = [
  ['0.1', '0x3ffbcccccccccccccccd'],
  ['1.5', '0x3fffc000000000000000'],
  ['3.14159265358979323851', '0x4000c90fdaa22168c235'],
  ['1e4000', '0x73e6d1ba8323fe558c61'],
  ['-2.5e-4940', '0x80000000000ff7e2e3f5'],
  ['4e-4951', '0x00000000000000000001'],
  ['1.18973149535723176502e+4932', '0x7ffeffffffffffffffff'],
  ['123456789012345678901234567890', '0x405fc77487fb61b9f077'],
  ['0.3333333333333333333333', '0x3ffdaaaaaaaaaaaaaaab'],
];

describe('extended values as decimal text', () => {
  it('reads decimal text as glibc strtold does (nearest, ties to even, denormals)', () => {
    for (const [text, hex] of HOST) expect(f80Hex(decimalToF80(text)!), text).toBe(hex);
  });

  it('writes the shortest decimal that reads back as the same value', () => {
    expect(f80ToDecimal(f80FromHex('0x3ffbcccccccccccccccd')!)).toBe('0.1');
    expect(f80ToDecimal(f80FromHex('0x3fffc000000000000000')!)).toBe('1.5');
    expect(f80ToDecimal(f80FromHex('0x4000c90fdaa22168c235')!)).toBe('3.1415926535897932385');
    expect(f80ToDecimal(f80FromHex('0x00000000000000000001')!)).toBe('4e-4951');
    expect(f80ToDecimal(f80FromHex('0x7ffeffffffffffffffff')!)).toBe('1.189731495357231765e+4932');
    expect(f80ToDecimal(f80FromHex('0x405fc77487fb61b9f077')!)).toBe('1.234567890123456789e+29');
    // 0.1 as a double, widened exactly: more digits are needed than for the double itself.
    expect(f80ToDecimal(f80FromHex('0x3ffbccccccccccccd000')!)).toBe('0.10000000000000000555');
    expect(f80ToDecimal(f80FromHex('0x40058000000000000000')!)).toBe('64');
  });

  it('round-trips random encodings of every finite class', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let n = 0; n < 200; n++) {
      const exp = n % 4 === 0 ? next() % 8 : next() % 0x7fff;
      const sig = ((BigInt(next()) << 32n) | BigInt(next())) | (exp === 0 ? 0n : 1n << 63n);
      const a = f80(next() & 1, exp, exp === 0 ? sig & ((1n << 63n) - 1n) : sig);
      const back = decimalToF80(f80ToDecimal(a))!;
      expect(f80Hex(back), f80ToDecimal(a)).toBe(f80Hex(a));
    }
  });

  it('names specials and the encodings the P6 does not support', () => {
    expect(f80ToDecimal(f80(1, 0, 0n))).toBe('-0');
    expect(f80ToDecimal(f80(0, 0x7fff, 1n << 63n))).toBe('inf');
    expect(f80ToDecimal(f80(1, 0x7fff, 0xc000000000000000n))).toBe('-nan');
    expect(f80Class(f80(1, 0x7fff, 0xc000000000000000n))).toBe('real indefinite');
    expect(f80ToDecimal(f80(0, 0x7fff, 0xa000000000000000n))).toBe('snan');
    expect(f80ToDecimal(f80(0, 0x7fff, 0n))).toBe('pseudo-infinity');
    expect(f80ToDecimal(f80(0, 0x7fff, 5n))).toBe('pseudo-NaN');
    expect(f80ToDecimal(f80(0, 0x3fff, 0x4000000000000000n))).toBe('unnormal 0.5');
    expect(f80Class(f80(0, 0, 1n << 63n))).toBe('pseudo-denormal');
    expect(decimalToF80('-inf')).toEqual(f80(1, 0x7fff, 1n << 63n));
    expect(f80Hex(decimalToF80('1e5000')!)).toBe('0x7fff8000000000000000');
    expect(decimalToF80('1.2.3')).toBeUndefined();
    expect(decimalToF80('')).toBeUndefined();
    expect(f80FromHex('0x1234567890123456789012')).toBeUndefined();
  });

  it('keeps the memory layout of FSTP m80', () => {
    const a = f80FromHex('0xc000c90fdaa22168c235')!;
    expect(Array.from(f80ToBytes(a))).toEqual([0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0xc0]);
    expect(f80FromBytes(f80ToBytes(a))).toEqual(a);
  });
});
