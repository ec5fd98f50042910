// Decimal text of 80-bit extended values for the debugger (the FPU scope, C `long double`s): the shortest decimal
// that reads back as the same value, and decimal text read into the nearest extended value (round to nearest,
// ties to even, as FLD of a decimal constant would be). Exact: BigInt arithmetic on m × 2^e, never JS doubles,
// whose 53 bits cannot hold a 64-bit significand.

import { bitLength, BIAS, classify, Cls, EXP_MAX, f80, FpEnv, roundExt, type F80 } from './float80';

/** Significant digits that always suffice to round-trip a 64-bit significand: ⌈64·log10 2⌉ + 1. */
const MAX_DIGITS = 21;

const pow10 = (k: number): bigint => 10n ** BigInt(k);

/** The 10 bytes of an extended value as stored in memory: significand little-endian, then sign and exponent. */
export function f80ToBytes(a: F80): Uint8Array {
  const out = new Uint8Array(10);
  let s = a.sig;
  for (let k = 0; k < 8; k++) {
    out[k] = Number(s & 0xffn);
    s >>= 8n;
  }
  const se = (a.sign << 15) | a.exp;
  out[8] = se & 0xff;
  out[9] = se >> 8;
  return out;
}

export function f80FromBytes(b: Uint8Array): F80 {
  let sig = 0n;
  for (let k = 7; k >= 0; k--) sig = (sig << 8n) | BigInt(b[k]);
  const se = b[8] | (b[9] << 8);
  return f80(se >> 15, se & EXP_MAX, sig);
}

/** The raw register as 20 hex digits, sign/exponent first: `0x3fffc000000000000000` is 1.5. */
export function f80Hex(a: F80): string {
  return '0x' + ((a.sign << 15) | a.exp).toString(16).padStart(4, '0') + a.sig.toString(16).padStart(16, '0');
}

/** Reads `0x` followed by up to 20 hex digits as a raw register (the inverse of f80Hex); undefined when not that. */
export function f80FromHex(text: string): F80 | undefined {
  const m = /^0x([0-9a-f]{1,20})$/i.exec(text.trim());
  if (!m) return undefined;
  const v = BigInt('0x' + m[1]);
  const se = Number(v >> 64n);
  return f80(se >> 15, se & EXP_MAX, v & ((1n << 64n) - 1n));
}

/** What an encoding is, for the FPU scope: the classes of SDM vol. 1 §8.2.2 and Table 8-3. */
export function f80Class(a: F80): string {
  const c = classify(a);
  switch (c) {
    case Cls.Zero:
      return 'zero';
    case Cls.Denormal:
      return a.sig >> 63n ? 'pseudo-denormal' : 'denormal';
    case Cls.Normal:
      return 'normal';
    case Cls.Infinity:
      return 'infinity';
    case Cls.QNaN:
      return a.sign === 1 && a.sig === 0xc000000000000000n ? 'real indefinite' : 'QNaN';
    case Cls.SNaN:
      return 'SNaN';
    default:
      if (a.exp === EXP_MAX) return a.sig & ((1n << 63n) - 1n) ? 'pseudo-NaN' : 'pseudo-infinity';
      return 'unnormal';
  }
}

/** The value m × 2^e of a finite encoding (denormals and pseudo-denormals use exponent 1, as the FPU reads them). */
function exact(a: F80): { m: bigint; e: number } {
  return { m: a.sig, e: (a.exp === 0 ? 1 : a.exp) - BIAS - 63 };
}

/** m × 2^e × 10^-k rounded to an integer, ties to even. */
function scaledRound(m: bigint, e: number, k: number): bigint {
  let num = m;
  let den = 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  if (k >= 0) den *= pow10(k);
  else num *= pow10(-k);
  const q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** The value rounded to `p` significant digits: digits D (p of them) and k with value ≈ D × 10^k. */
function toDigits(m: bigint, e: number, p: number): { d: bigint; k: number } {
  // Decimal exponent of the leading digit, estimated from the binary one (may be one too small).
  let lead = Math.floor((bitLength(m) - 1 + e) * Math.log10(2));
  for (;;) {
    const k = lead - p + 1;
    const d = scaledRound(m, e, k);
    if (d >= pow10(p)) {
      // The estimate was one low, or rounding carried into a new digit (9.99… → 10.0…).
      if (d === pow10(p)) return { d: pow10(p - 1), k: k + 1 };
      lead++;
      continue;
    }
    if (d < pow10(p - 1)) {
      lead--;
      continue;
    }
    return { d, k };
  }
}

/** D × 10^k as text: plain where the exponent is small (as C's %g would), else `1.2345e+100`. */
function digitsText(d: bigint, k: number): string {
  let s = d.toString();
  while (s.length > 1 && s.endsWith('0')) {
    s = s.slice(0, -1);
    k++;
  }
  const lead = k + s.length - 1;
  if (lead >= -5 && lead < MAX_DIGITS) {
    if (k >= 0) return s + '0'.repeat(k);
    const point = s.length + k;
    return point > 0 ? `${s.slice(0, point)}.${s.slice(point)}` : `0.${'0'.repeat(-point)}${s}`;
  }
  return `${s[0]}${s.length > 1 ? '.' + s.slice(1) : ''}e${lead < 0 ? '-' : '+'}${Math.abs(lead)}`;
}

/**
 * The shortest decimal that reads back (decimalToF80) as the same extended value; `inf`, `nan`, `snan` for the
 * specials (with their sign), and for the encodings the P6 no longer supports their class name with the value the
 * bits would have (`unnormal 1.5`).
 */
export function f80ToDecimal(a: F80): string {
  const sign = a.sign ? '-' : '';
  const c = classify(a);
  if (c === Cls.Zero) return `${sign}0`;
  if (c === Cls.Infinity) return `${sign}inf`;
  if (c === Cls.QNaN) return `${sign}nan`;
  if (c === Cls.SNaN) return `${sign}snan`;
  if (a.exp === EXP_MAX) return f80Class(a);
  const { m, e } = exact(a);
  if (m === 0n) return `${f80Class(a)} ${sign}0`;
  if (c === Cls.Unsupported) {
    const u = toDigits(m, e, MAX_DIGITS);
    return `unnormal ${sign}${digitsText(u.d, u.k)}`;
  }
  const target = c === Cls.Denormal && a.sig >> 63n ? f80(a.sign, 1, a.sig) : a;
  for (let p = 1; p <= MAX_DIGITS; p++) {
    const { d, k } = toDigits(m, e, p);
    const back = fromDigits(a.sign, d, k);
    if (back.exp === target.exp && back.sig === target.sig) return `${sign}${digitsText(d, k)}`;
  }
  const { d, k } = toDigits(m, e, MAX_DIGITS);
  return `${sign}${digitsText(d, k)}`;
}

const env = new FpEnv();

/** (−1)^sign × D × 10^k rounded to the nearest extended value (all exceptions masked: overflow gives infinity). */
function fromDigits(sign: number, d: bigint, k: number): F80 {
  if (d === 0n) return f80(sign, 0, 0n);
  const digits = d.toString().length;
  // Beyond the extended range (about 1.19e4932 and 3.6e-4951) without computing enormous powers of ten.
  if (k + digits > 4934) return f80(sign, EXP_MAX, 1n << 63n);
  if (k + digits < -4952) return f80(sign, 0, 0n);
  env.reset(0, 64, 0x3f);
  if (k >= 0) return roundExt(env, sign, d * pow10(k), 0, false);
  const den = pow10(-k);
  const shift = Math.max(0, 68 + bitLength(den) - bitLength(d));
  const num = d << BigInt(shift);
  return roundExt(env, sign, num / den, -shift, num % den !== 0n);
}

/**
 * Decimal text (`1.5`, `-2.5e-10`, `.5`, `inf`, `-infinity`, `nan`) as the nearest extended value; undefined when
 * the text is not a number.
 */
export function decimalToF80(text: string): F80 | undefined {
  const t = text.trim().toLowerCase();
  const special = /^([+-]?)(inf|infinity|nan)$/.exec(t);
  if (special) {
    const sign = special[1] === '-' ? 1 : 0;
    return special[2] === 'nan' ? f80(sign, EXP_MAX, 0xc000000000000000n) : f80(sign, EXP_MAX, 1n << 63n);
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d{1,9}))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  const d = BigInt((m[2] + frac).replace(/^0+(?=.)/, '') || '0');
  return fromDigits(m[1] === '-' ? 1 : 0, d, Number(m[4] ?? '0') - frac.length);
}
