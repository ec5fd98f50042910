// Exact extended-precision arithmetic (SDM vol. 1 §4.2, §4.8, ch. 8): the 80-bit double-extended format with an
// explicit integer bit, rounding to 24/53/64 bits in all four rounding modes, denormals, and the exceptions each step
// raises. Values travel as { sign, exp, sig }: `exp` the 15-bit biased exponent field, `sig` the 64-bit significand
// field (integer bit J at bit 63) as a BigInt. Results are computed exactly (BigInt integers), then rounded once.

export const BIAS = 16383;
export const EXP_MAX = 0x7fff;
const J = 1n << 63n;
const SIG_MASK = (1n << 64n) - 1n;

/** x87 exception flags, as in the status word's low bits (SDM vol. 1 §8.1.3). */
export const IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20;

/** Rounding-control values (control word bits 10–11, SDM vol. 1 Table 4-8). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

export interface F80 {
  sign: number;
  exp: number;
  sig: bigint;
}

export function f80(sign: number, exp: number, sig: bigint): F80 {
  return { sign, exp, sig };
}

/** Real indefinite: the default QNaN an invalid operation delivers when IE is masked (SDM vol. 1 §4.8.3.7). */
export const INDEFINITE: F80 = Object.freeze(f80(1, EXP_MAX, 0xc000000000000000n));
export const ZERO: F80 = Object.freeze(f80(0, 0, 0n));

/** Operand classes (SDM vol. 1 §8.2.2 and Table 8-3 for the encodings the P6 no longer supports). */
export const enum Cls {
  Zero,
  Denormal, // exponent 0, J = 0 (denormal) or J = 1 (pseudo-denormal): both raise #D as operands
  Normal,
  Infinity,
  QNaN,
  SNaN,
  /** Pseudo-NaN, pseudo-infinity, unnormal: invalid operands on the 387 and later (SDM vol. 1 §8.2.2). */
  Unsupported,
}

export function classify(a: F80): Cls {
  const jbit = (a.sig & J) !== 0n;
  if (a.exp === 0) return a.sig === 0n ? Cls.Zero : Cls.Denormal;
  if (a.exp === EXP_MAX) {
    if (!jbit) return Cls.Unsupported;
    const frac = a.sig & (J - 1n);
    if (frac === 0n) return Cls.Infinity;
    return (a.sig & (1n << 62n)) !== 0n ? Cls.QNaN : Cls.SNaN;
  }
  return jbit ? Cls.Normal : Cls.Unsupported;
}

export function isNaNClass(c: Cls): boolean {
  return c === Cls.QNaN || c === Cls.SNaN;
}

/** The rounding environment of one operation and what it raised. */
export class FpEnv {
  rc = RC_NEAREST;
  /** Significand bits of the result: 24, 53 or 64 (precision control), 64 for operations PC does not govern. */
  precision = 64;
  /** Exception masks (control word bits 0–5). */
  masks = 0x3f;
  /** Exceptions raised so far. */
  flags = 0;
  /** The last rounding increased the magnitude (reported in C1, SDM vol. 1 §8.1.3.1). */
  roundedUp = false;
  /** The memory source operand was a single/double denormal (normalised on its way in, still a #D operand). */
  sourceDenormal = false;

  reset(rc: number, precision: number, masks: number): this {
    this.rc = rc;
    this.precision = precision;
    this.masks = masks;
    this.flags = 0;
    this.roundedUp = false;
    this.sourceDenormal = false;
    return this;
  }

  unmasked(flag: number): boolean {
    return (this.masks & flag) === 0;
  }
}

/** A destination format: significand bits, smallest and largest unbiased exponent of a normal number, bias. */
export interface Format {
  readonly precision: number;
  readonly emin: number;
  readonly emax: number;
  readonly bias: number;
  /** Exponent bias adjustment for unmasked overflow/underflow to a register (SDM vol. 1 §4.9.1.4/5); 0: no store. */
  readonly adjust: number;
}
export const EXTENDED: Format = { precision: 64, emin: -16382, emax: 16383, bias: BIAS, adjust: 24576 };
export const DOUBLE: Format = { precision: 53, emin: -1022, emax: 1023, bias: 1023, adjust: 0 };
export const SINGLE: Format = { precision: 24, emin: -126, emax: 127, bias: 127, adjust: 0 };

const TWO_64 = 1n << 64n;
const TWO_128 = 1n << 128n;

export function bitLength(n: bigint): number {
  // n > 0. Called for every rounding, so no loop over bits: wide values by their hex length, then the top 64 bits
  // as two 32-bit halves through Math.clz32.
  if (n >= TWO_128) {
    const hex = n.toString(16);
    return 4 * (hex.length - 1) + (32 - Math.clz32(parseInt(hex[0], 16)));
  }
  let bits = 0;
  let x = n;
  if (x >= TWO_64) {
    x >>= 64n;
    bits = 64;
  }
  const hi = Number(x >> 32n);
  return hi > 0 ? bits + 64 - Math.clz32(hi) : bits + 32 - Math.clz32(Number(x));
}

/**
 * The result of rounding: sign, biased exponent field and significand of the target format (integer bit included:
 * at bit precision−1 for a normal number; a denormal has exponent field 0), or `overflowed`/`zero`.
 */
export interface Rounded {
  sign: number;
  /** Biased exponent (0 for denormals and zero). */
  exp: number;
  /** Significand with its integer bit at bit precision−1 (normal) or below it (denormal). */
  sig: bigint;
  /** The result did not fit (unmasked O/U with no bias adjustment: nothing may be stored). */
  noStore: boolean;
}

/**
 * Rounds the exact value (−1)^sign × m × 2^e (m > 0; `sticky` says the true value has more bits below m's last) to
 * `fmt`, with precision min(env.precision, fmt.precision), raising P, U and O as SDM vol. 1 §4.9.1 says: tininess is
 * detected before rounding; a masked underflow is signalled only when the result is also inexact; an unmasked one
 * (and an unmasked overflow) delivers the result with its exponent adjusted by ∓24576 for a register destination.
 */
export function roundTo(env: FpEnv, sign: number, m: bigint, e: number, sticky: boolean, fmt: Format): Rounded {
  const p = Math.min(env.precision, fmt.precision);
  const nbits = bitLength(m);
  let lead = e + nbits - 1;
  const tiny = lead < fmt.emin;
  let adjust = 0;
  if (tiny && env.unmasked(UE)) {
    if (fmt.adjust === 0) {
      env.flags |= UE;
      return { sign, exp: 0, sig: 0n, noStore: true };
    }
    adjust = fmt.adjust;
  }
  const ee = e + adjust;
  lead += adjust;
  const lsb = Math.max(lead, fmt.emin) - p + 1;
  // r = m × 2^(ee − lsb) truncated; rest = the discarded part as (half, above) comparison
  let r: bigint;
  let inexact = sticky;
  let cmpHalf = 0; // −1 below half, 0 exactly half, 1 above half (of one unit in the last place)
  const shift = lsb - ee;
  if (shift <= 0) {
    r = m << BigInt(-shift);
    cmpHalf = sticky ? -1 : -2; // -2: nothing discarded
  } else {
    const sh = BigInt(shift);
    r = m >> sh;
    const rest = m & ((1n << sh) - 1n);
    const half = 1n << (sh - 1n);
    if (rest !== 0n) inexact = true;
    if (rest > half) cmpHalf = 1;
    else if (rest === half) cmpHalf = sticky ? 1 : 0;
    else cmpHalf = rest === 0n && !sticky ? -2 : -1;
  }
  let up = false;
  if (inexact) {
    switch (env.rc) {
      case RC_NEAREST:
        up = cmpHalf > 0 || (cmpHalf === 0 && (r & 1n) === 1n);
        break;
      case RC_DOWN:
        up = sign === 1;
        break;
      case RC_UP:
        up = sign === 0;
        break;
      default:
        up = false;
    }
  }
  if (up) r += 1n;
  let rlead = r === 0n ? -Infinity : bitLength(r) - 1 + lsb;
  if (tiny) {
    if (inexact || adjust) env.flags |= UE;
  }
  // overflow
  if (rlead > fmt.emax) {
    if (env.unmasked(OE)) {
      if (fmt.adjust === 0) {
        env.flags |= OE;
        return { sign, exp: 0, sig: 0n, noStore: true };
      }
      env.flags |= OE;
      // redo with the exponent brought back into range, unless even that cannot hold it (then as if masked)
      if (rlead - fmt.adjust <= fmt.emax) return roundTo(env, sign, m, e - fmt.adjust, sticky, fmt);
      env.flags |= PE;
      env.roundedUp = true;
      return { sign, exp: 2 * fmt.bias + 1, sig: J, noStore: false };
    }
    env.flags |= OE | PE;
    const toInf = env.rc === RC_NEAREST || (env.rc === RC_UP && sign === 0) || (env.rc === RC_DOWN && sign === 1);
    env.roundedUp = toInf;
    if (toInf) return { sign, exp: 2 * fmt.bias + 1, sig: fmt === EXTENDED ? J : 1n << BigInt(fmt.precision - 1), noStore: false };
    const maxSig = ((1n << BigInt(p)) - 1n) << BigInt(fmt.precision - p);
    return { sign, exp: fmt.emax + fmt.bias, sig: maxSig, noStore: false };
  }
  if (inexact) {
    env.flags |= PE;
    env.roundedUp = up;
  }
  if (r === 0n) return { sign, exp: 0, sig: 0n, noStore: false };
  // place r so its units are 2^(exponent − (precision − 1)) of the target format
  if (rlead >= fmt.emin) {
    const sig = shiftTo(r, lsb, rlead - (fmt.precision - 1));
    return { sign, exp: rlead + fmt.bias - (adjust && lead - adjust > fmt.emax ? 0 : 0), sig, noStore: false };
  }
  rlead = fmt.emin;
  return { sign, exp: 0, sig: shiftTo(r, lsb, fmt.emin - (fmt.precision - 1)), noStore: false };
}

/** r × 2^from expressed in units of 2^to (exact: callers ensure no bits are lost). */
function shiftTo(r: bigint, from: number, to: number): bigint {
  return from >= to ? r << BigInt(from - to) : r >> BigInt(to - from);
}

/** Rounds an exact value to an extended register value (F80). */
export function roundExt(env: FpEnv, sign: number, m: bigint, e: number, sticky: boolean): F80 {
  const r = roundTo(env, sign, m, e, sticky, EXTENDED);
  return f80(r.sign, r.exp, r.sig);
}

/** Unpacks a finite nonzero value as m × 2^e with m's top bit at bit 63 (denormals normalised). */
export function unpack(a: F80): { m: bigint; e: number } {
  const exp = a.exp === 0 ? 1 : a.exp;
  return { m: a.sig, e: exp - BIAS - 63 };
}

/** Propagates NaN operands as SDM vol. 1 Table 4-7 says for the x87 FPU: SNaNs are quietened, a QNaN beats an
 *  SNaN, and of two NaNs of one kind the larger significand wins (equal ones: the positive one). */
export function propagateNaN(env: FpEnv, a: F80, b: F80 | null): F80 {
  const ca = classify(a);
  const cb = b ? classify(b) : Cls.Zero;
  if (ca === Cls.SNaN || cb === Cls.SNaN) env.flags |= IE;
  const quiet = (x: F80): F80 => f80(x.sign, x.exp, x.sig | (1n << 62n));
  if (!b || !isNaNClass(cb)) return quiet(a);
  if (!isNaNClass(ca)) return quiet(b);
  if (ca === Cls.QNaN && cb === Cls.SNaN) return a;
  if (ca === Cls.SNaN && cb === Cls.QNaN) return b;
  const sa = a.sig & ((1n << 62n) - 1n);
  const sb = b.sig & ((1n << 62n) - 1n);
  if (sa > sb) return quiet(a);
  if (sb > sa) return quiet(b);
  return quiet(a.sign <= b.sign ? a : b);
}

/**
 * The operand checks every arithmetic instruction makes first (SDM vol. 1 §8.5.1.1/§8.5.2): an unsupported
 * encoding or an SNaN is invalid, NaNs propagate, and a denormal raises #D. Returns the NaN/indefinite result
 * when the operation ends here, else null.
 */
export function checkOperands(env: FpEnv, a: F80, b: F80 | null, denormals = true): F80 | null {
  const ca = classify(a);
  const cb = b ? classify(b) : Cls.Zero;
  if (ca === Cls.Unsupported || cb === Cls.Unsupported) return invalid(env);
  if (isNaNClass(ca) || isNaNClass(cb)) return propagateNaN(env, isNaNClass(ca) ? a : (b as F80), isNaNClass(ca) ? b : a);
  return denormals ? checkDenormals(env, ca, cb) : null;
}

/** #D for a denormal operand; an unmasked one stops the instruction (returns the placeholder it will not store). */
export function checkDenormals(env: FpEnv, ca: Cls, cb: Cls): F80 | null {
  if (ca === Cls.Denormal || cb === Cls.Denormal || env.sourceDenormal) {
    env.flags |= DE;
    // an unmasked #D stops the instruction before it computes anything (SDM vol. 1 §8.5.2)
    if (env.unmasked(DE)) return INDEFINITE;
  }
  return null;
}

export function invalid(env: FpEnv): F80 {
  env.flags |= IE;
  return INDEFINITE;
}

const infinity = (sign: number): F80 => f80(sign, EXP_MAX, J);
const zero = (sign: number): F80 => f80(sign, 0, 0n);
export { infinity, zero };

/** Sign of an exact zero sum: +0 except when rounding down (SDM vol. 1 §4.8.3.4, Table 4-6). */
function zeroSumSign(env: FpEnv): number {
  return env.rc === RC_DOWN ? 1 : 0;
}

export function add(env: FpEnv, a: F80, b: F80, subtract = false): F80 {
  const bb = subtract ? f80(b.sign ^ 1, b.exp, b.sig) : b;
  const early = checkOperands(env, a, subtract ? b : bb);
  if (early) return early;
  const ca = classify(a), cb = classify(bb);
  if (ca === Cls.Infinity || cb === Cls.Infinity) {
    if (ca === Cls.Infinity && cb === Cls.Infinity && a.sign !== bb.sign) return invalid(env);
    return ca === Cls.Infinity ? infinity(a.sign) : infinity(bb.sign);
  }
  if (ca === Cls.Zero && cb === Cls.Zero) return zero(a.sign === bb.sign ? a.sign : zeroSumSign(env));
  if (ca === Cls.Zero) return roundExtFrom(env, bb);
  if (cb === Cls.Zero) return roundExtFrom(env, a);
  const ua = unpack(a), ub = unpack(bb);
  // Align to the smaller exponent; an operand far below the other only contributes a sticky bit.
  let ma = ua.m, ea = ua.e, mb = ub.m, eb = ub.e;
  const GAP = 160;
  if (ea - eb > GAP) {
    mb = 1n;
    eb = ea - GAP;
  } else if (eb - ea > GAP) {
    ma = 1n;
    ea = eb - GAP;
  }
  const e = Math.min(ea, eb);
  const va = (a.sign ? -1n : 1n) * (ma << BigInt(ea - e));
  const vb = (bb.sign ? -1n : 1n) * (mb << BigInt(eb - e));
  const s = va + vb;
  if (s === 0n) return zero(zeroSumSign(env));
  return roundExt(env, s < 0n ? 1 : 0, s < 0n ? -s : s, e, false);
}

/** A finite operand passed through rounding to the current precision (x + 0 rounds x to PC, SDM vol. 1 §8.1.5.2). */
export function roundExtFrom(env: FpEnv, a: F80): F80 {
  if (a.sig === 0n) return zero(a.sign);
  const u = unpack(a);
  return roundExt(env, a.sign, u.m, u.e, false);
}

export function mul(env: FpEnv, a: F80, b: F80): F80 {
  const early = checkOperands(env, a, b);
  if (early) return early;
  const ca = classify(a), cb = classify(b);
  const sign = a.sign ^ b.sign;
  if (ca === Cls.Infinity || cb === Cls.Infinity) {
    if (ca === Cls.Zero || cb === Cls.Zero) return invalid(env);
    return infinity(sign);
  }
  if (ca === Cls.Zero || cb === Cls.Zero) return zero(sign);
  const ua = unpack(a), ub = unpack(b);
  return roundExt(env, sign, ua.m * ub.m, ua.e + ub.e, false);
}

export function div(env: FpEnv, a: F80, b: F80): F80 {
  const early = checkOperands(env, a, b, false);
  if (early) return early;
  const ca = classify(a), cb = classify(b);
  const sign = a.sign ^ b.sign;
  // A zero divisor is found before a denormal dividend counts (the host x87 raises only #Z for denormal / 0).
  if (cb === Cls.Zero) {
    if (ca === Cls.Zero) return invalid(env);
    if (ca !== Cls.Infinity) {
      env.flags |= ZE;
      return infinity(sign);
    }
  }
  const late = checkDenormals(env, ca, cb);
  if (late) return late;
  if (ca === Cls.Infinity) return cb === Cls.Infinity ? invalid(env) : infinity(sign);
  if (cb === Cls.Infinity) return zero(sign);
  if (cb === Cls.Zero) {
    if (ca === Cls.Zero) return invalid(env);
    env.flags |= ZE;
    return infinity(sign);
  }
  if (ca === Cls.Zero) return zero(sign);
  const ua = unpack(a), ub = unpack(b);
  const n = ua.m << 130n;
  const q = n / ub.m;
  const rem = n - q * ub.m;
  return roundExt(env, sign, q, ua.e - ub.e - 130, rem !== 0n);
}

export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(env: FpEnv, a: F80): F80 {
  const early = checkOperands(env, a, null, false);
  if (early) return early;
  const ca = classify(a);
  if (ca === Cls.Zero) return a;
  // a negative operand is invalid before a denormal one counts
  if (a.sign) return invalid(env);
  const late = checkDenormals(env, ca, Cls.Zero);
  if (late) return late;
  if (ca === Cls.Infinity) return a;
  const u = unpack(a);
  let m = u.m, e = u.e;
  if ((e & 1) !== 0) {
    m <<= 1n;
    e -= 1;
  }
  const n = m << 140n;
  const r = isqrt(n);
  return roundExt(env, 0, r, (e - 140) / 2, r * r !== n);
}

/** Compare result: 0 a > b, 1 a < b, 2 equal, 3 unordered. */
export const GT = 0, LT = 1, EQ = 2, UN = 3;

/**
 * Compares two values (FCOM/FUCOM/FCOMI/FTST/FICOM). Any NaN or unsupported operand is unordered; `quiet` (FUCOM)
 * raises IE only for SNaNs and unsupported encodings, the ordered forms for every NaN (SDM vol. 2 FCOM/FUCOM).
 */
export function compare(env: FpEnv, a: F80, b: F80, quiet: boolean): number {
  const ca = classify(a), cb = classify(b);
  if (ca === Cls.Unsupported || cb === Cls.Unsupported) {
    env.flags |= IE;
    return UN;
  }
  if (isNaNClass(ca) || isNaNClass(cb)) {
    if (!quiet || ca === Cls.SNaN || cb === Cls.SNaN) env.flags |= IE;
    return UN;
  }
  if (ca === Cls.Denormal || cb === Cls.Denormal || env.sourceDenormal) env.flags |= DE;
  const c = cmpValues(a, ca, b, cb);
  return c < 0 ? LT : c > 0 ? GT : EQ;
}

/** Orders two non-NaN values: −1, 0, 1. */
export function cmpValues(a: F80, ca: Cls, b: F80, cb: Cls): number {
  if (ca === Cls.Zero && cb === Cls.Zero) return 0;
  const key = (x: F80, c: Cls): [number, bigint, number] => {
    if (c === Cls.Zero) return [0, 0n, 0];
    if (c === Cls.Infinity) return [x.sign ? -1 : 1, 0n, Infinity];
    const u = unpack(x);
    return [x.sign ? -1 : 1, u.m, u.e];
  };
  const [sa, ma, ea] = key(a, ca);
  const [sb, mb, eb] = key(b, cb);
  if (sa !== sb) return sa < sb ? -1 : 1;
  // same sign, both nonzero
  let mag: number;
  if (ea === Infinity || eb === Infinity) mag = ea === eb ? 0 : ea === Infinity ? 1 : -1;
  else {
    const e = Math.min(ea, eb);
    const va = ma << BigInt(Math.min(ea - e, 200));
    const vb = mb << BigInt(Math.min(eb - e, 200));
    mag = va === vb ? 0 : va > vb ? 1 : -1;
  }
  return sa < 0 ? -mag : mag;
}

/**
 * Rounds to an integral value by RC (FRNDINT, and the first step of FIST/FBSTP). Returns the integer as a signed
 * BigInt magnitude with sign, and whether it was inexact and rounded up in magnitude.
 */
export function roundToInteger(rc: number, a: F80): { sign: number; n: bigint; inexact: boolean; up: boolean } {
  if (a.sig === 0n) return { sign: a.sign, n: 0n, inexact: false, up: false };
  const u = unpack(a);
  if (u.e >= 0) return { sign: a.sign, n: u.m << BigInt(u.e), inexact: false, up: false };
  const sh = -u.e;
  if (sh > 200) {
    // far below one: the integer part is 0 and the rest is nonzero but below a half
    const up = (rc === RC_DOWN && a.sign === 1) || (rc === RC_UP && a.sign === 0);
    return { sign: a.sign, n: up ? 1n : 0n, inexact: true, up };
  }
  const s = BigInt(sh);
  let n = u.m >> s;
  const rest = u.m & ((1n << s) - 1n);
  if (rest === 0n) return { sign: a.sign, n, inexact: false, up: false };
  const half = 1n << (s - 1n);
  let up: boolean;
  switch (rc) {
    case RC_NEAREST:
      up = rest > half || (rest === half && (n & 1n) === 1n);
      break;
    case RC_DOWN:
      up = a.sign === 1;
      break;
    case RC_UP:
      up = a.sign === 0;
      break;
    default:
      up = false;
  }
  if (up) n += 1n;
  return { sign: a.sign, n, inexact: true, up };
}

/** An exact integer as an extended value (FILD, FRNDINT's result): exact for |n| < 2^64. */
export function fromInteger(sign: number, n: bigint): F80 {
  if (n === 0n) return zero(sign);
  const bl = bitLength(n);
  return f80(sign, BIAS + bl - 1, (n << BigInt(64 - bl)) & SIG_MASK);
}
