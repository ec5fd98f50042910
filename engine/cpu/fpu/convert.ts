// Conversions between the register format and the memory formats (SDM vol. 1 §4.2, §4.7, §8.2; vol. 2 FLD, FST,
// FILD, FIST, FBLD, FBSTP): single and double reals, 16/32/64-bit integers and 18-digit packed BCD.

import {
  BIAS,
  Cls,
  classify,
  DE,
  DOUBLE,
  EXP_MAX,
  f80,
  fromInteger,
  IE,
  INDEFINITE,
  PE,
  roundTo,
  roundToInteger,
  SINGLE,
  type F80,
  type Format,
  type FpEnv,
} from './float80';

/** A single or double real (its bits as a BigInt) widened to extended: exact; SNaN → IE and quietened; a denormal
 *  raises #D (SDM vol. 2 FLD: #IA for an SNaN, #D for a denormal source). */
export function fromReal(env: FpEnv, bits: bigint, fmt: Format, quiet = true): F80 {
  const fracBits = BigInt(fmt.precision - 1);
  const expBits = fmt === SINGLE ? 8n : 11n;
  const sign = Number((bits >> (fracBits + expBits)) & 1n);
  const exp = Number((bits >> fracBits) & ((1n << expBits) - 1n));
  const frac = bits & ((1n << fracBits) - 1n);
  const toTop = 63n - fracBits;
  if (exp === (1 << Number(expBits)) - 1) {
    if (frac === 0n) return f80(sign, EXP_MAX, 1n << 63n);
    const snan = (frac & (1n << (fracBits - 1n))) === 0n;
    // An arithmetic instruction sees the SNaN itself (for the NaN rules of Table 4-7); FLD quietens it with #IA.
    if (snan && quiet) env.flags |= IE;
    return f80(sign, EXP_MAX, (1n << 63n) | (quiet ? 1n << 62n : 0n) | (frac << toTop));
  }
  if (exp === 0) {
    if (frac === 0n) return f80(sign, 0, 0n);
    env.flags |= DE;
    return scaleInt(sign, frac, fmt.emin - (fmt.precision - 1));
  }
  return f80(sign, exp - fmt.bias + BIAS, (1n << 63n) | (frac << toTop));
}

/** sign × n × 2^e for a small exact n (no rounding needed: the range of single/double fits extended). */
function scaleInt(sign: number, n: bigint, e: number): F80 {
  const v = fromInteger(sign, n);
  return f80(sign, v.exp + e, v.sig);
}

/** Result of a store conversion: the bits to write, or null when an unmasked exception forbids the store. */
export function toReal(env: FpEnv, a: F80, fmt: Format): bigint | null {
  const fracBits = BigInt(fmt.precision - 1);
  const expBits = fmt === SINGLE ? 8n : 11n;
  const expMax = (1n << expBits) - 1n;
  const c = classify(a);
  const signBit = BigInt(a.sign) << (fracBits + expBits);
  const pack = (e: bigint, f: bigint): bigint => signBit | (e << fracBits) | f;
  switch (c) {
    case Cls.Zero:
      return pack(0n, 0n);
    case Cls.Infinity:
      return pack(expMax, 0n);
    case Cls.Unsupported:
      env.flags |= IE;
      return env.unmasked(IE) ? null : indefiniteReal(fmt);
    case Cls.QNaN:
    case Cls.SNaN: {
      if (c === Cls.SNaN) {
        env.flags |= IE;
        if (env.unmasked(IE)) return null;
      }
      const f = ((a.sig | (1n << 62n)) >> (63n - fracBits)) & ((1n << fracBits) - 1n);
      return pack(expMax, f);
    }
    default: {
      const exp = a.exp === 0 ? 1 : a.exp;
      const r = roundTo(env, a.sign, a.sig, exp - BIAS - 63, false, fmt);
      if (r.noStore) return null;
      if (r.exp === 2 * fmt.bias + 1) return pack(expMax, 0n);
      const hidden = 1n << fracBits;
      return pack(BigInt(r.exp), r.sig & (hidden - 1n));
    }
  }
}

function indefiniteReal(fmt: Format): bigint {
  return fmt === SINGLE ? 0xffc00000n : 0xfff8000000000000n;
}

/** Integer widths of FILD/FIST: bits → range. */
export function fromIntBits(bits: bigint, width: number): F80 {
  const w = BigInt(width);
  const neg = ((bits >> (w - 1n)) & 1n) === 1n;
  const n = neg ? (1n << w) - bits : bits;
  return fromInteger(neg ? 1 : 0, n);
}

/** FIST/FISTP: rounds by RC; NaN, infinity, unsupported or out of range is invalid and stores the integer
 *  indefinite (the most negative integer) when IE is masked (SDM vol. 2 FIST). Returns the bits or null. */
export function toIntBits(env: FpEnv, a: F80, width: number): bigint | null {
  const w = BigInt(width);
  const indefinite = 1n << (w - 1n);
  const c = classify(a);
  if (c === Cls.QNaN || c === Cls.SNaN || c === Cls.Infinity || c === Cls.Unsupported) {
    env.flags |= IE;
    return env.unmasked(IE) ? null : indefinite;
  }
  // a denormal source raises no #D on a store (the host x87 agrees)
  const r = roundToInteger(env.rc, a);
  const limit = r.sign ? 1n << (w - 1n) : (1n << (w - 1n)) - 1n;
  if (r.n > limit) {
    env.flags |= IE;
    return env.unmasked(IE) ? null : indefinite;
  }
  if (r.inexact) {
    env.flags |= PE;
    env.roundedUp = r.up;
  }
  const v = r.sign ? -r.n : r.n;
  return v & ((1n << w) - 1n);
}

const TEN18 = 10n ** 18n;

/** FBLD: 18 BCD digits and a sign byte → extended, exact (SDM vol. 2 FBLD; invalid digits give undefined values). */
export function fromBcd(bytes: Uint8Array): F80 {
  let n = 0n;
  for (let k = 8; k >= 0; k--) n = n * 100n + BigInt((bytes[k] >> 4) * 10 + (bytes[k] & 15));
  return fromInteger(bytes[9] >> 7, n);
}

/** FBSTP: rounds by RC, then 18 digits; out of range or not a number is invalid → BCD indefinite when masked. */
export function toBcd(env: FpEnv, a: F80): Uint8Array | null {
  const c = classify(a);
  const out = new Uint8Array(10);
  const indefinite = (): Uint8Array | null => {
    env.flags |= IE;
    if (env.unmasked(IE)) return null;
    out.fill(0);
    out[7] = 0xc0;
    out[8] = 0xff;
    out[9] = 0xff;
    return out;
  };
  if (c === Cls.QNaN || c === Cls.SNaN || c === Cls.Infinity || c === Cls.Unsupported) return indefinite();
  const r = roundToInteger(env.rc, a);
  if (r.n >= TEN18) return indefinite();
  if (r.inexact) {
    env.flags |= PE;
    env.roundedUp = r.up;
  }
  let n = r.n;
  for (let k = 0; k < 9; k++) {
    const two = Number(n % 100n);
    n /= 100n;
    out[k] = ((Math.floor(two / 10)) << 4) | (two % 10);
  }
  out[9] = a.sign ? 0x80 : 0;
  return out;
}

export { INDEFINITE, DOUBLE, SINGLE };
