// Transcendental instructions (SDM vol. 2 F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS; precision
// control does not apply to them, SDM vol. 1 §8.1.5.2): computed in
// 200-bit fixed point (fixed.ts) and rounded once, so results are the correctly rounded values of the exact
// functions; the README states how far the host x87 is from them.

import type { Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import {
  bitLength,
  checkDenormals,
  checkOperands,
  PE,
  UE,
  classify,
  Cls,
  f80,
  infinity,
  INDEFINITE,
  invalid,
  mul,
  roundExt,
  unpack,
  zero,
  ZE,
  type F80,
  type FpEnv,
} from '../float80';
import { atanF, divF, expF, LN2, LOG2E, lnF, mulF, ONE, P, PI, sinCosF } from '../fixed';
import { SW_C2, type FpuState } from '../state';
import { blocked, finish, opEnv, stackOverflow, stackUnderflow } from '../unit';
import { writeBack } from './common';

const PB = BigInt(P);
/** Below this exponent an argument is too small for the fixed-point form; first-order terms are used instead. */
const TINY_EXP = -120;

function toFixed(x: F80): bigint {
  if (x.sig === 0n) return 0n;
  const u = unpack(x);
  const s = u.e + P;
  const v = s >= 0 ? u.m << BigInt(s) : u.m >> BigInt(-s);
  return x.sign ? -v : v;
}

function fromFixed(e: FpEnv, v: bigint): F80 {
  if (v === 0n) return zero(0);
  return roundExt(e, v < 0n ? 1 : 0, v < 0n ? -v : v, -P, true);
}

/** The binary exponent of a finite nonzero value (x = 1.f × 2^exponent). */
function exponentOf(x: F80): number {
  const u = unpack(x);
  return u.e + bitLength(u.m) - 1;
}

const fixedF80 = (v: bigint): F80 => {
  const bl = bitLength(v);
  return f80(0, 16383 + bl - 1 - P, (v << BigInt(64 + 8)) >> BigInt(bl + 8) & ((1n << 64n) - 1n));
};

export function f2xm1(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f, false);
  if (f.isEmpty(0)) {
    stackUnderflow(e);
    return writeBack(cpu, f, e, 0, INDEFINITE);
  }
  const x = f.st(0);
  const early = checkOperands(e, x, null);
  if (early) return writeBack(cpu, f, e, 0, early);
  const c = classify(x);
  let r: F80;
  if (c === Cls.Zero) r = x;
  else if (c === Cls.Infinity) r = x.sign ? f80(1, 16383, 1n << 63n) : x;
  else if (exponentOf(x) < TINY_EXP) r = mul(e, x, fixedF80(LN2));
  else if (exponentOf(x) >= 0 && !(x.exp === 16383 && x.sig === 1n << 63n)) {
    // |x| > 1: outside F2XM1's domain; the host x87 returns x, inexact
    r = x;
    e.flags |= PE;
  }
  else if (exponentOf(x) > 15) r = x.sign ? fromFixed(e, 1n - ONE) : roundExt(e, 0, 1n, 1 << 17, false); // beyond the defined range: −1 or overflow
  else r = fromFixed(e, expF(mulF(toFixed(x), LN2)) - ONE);
  writeBack(cpu, f, e, 0, r);
}

/** FYL2X (arg 0) and FYL2XP1 (arg 1): ST1 ← ST1 × log2(ST0 [+ 1]), then pop. */
export function fyl2x(cpu: Cpu, _i: Instr, f: FpuState, plusOne: number): void {
  const e = opEnv(f, false);
  if (f.isEmpty(0) || f.isEmpty(1)) {
    stackUnderflow(e);
    return writeBack(cpu, f, e, 1, INDEFINITE, 1);
  }
  const x = f.st(0), y = f.st(1);
  writeBack(cpu, f, e, 1, plusOne ? ylog2xp1(e, x, y) : ylog2x(e, x, y), 1);
}

function ylog2x(e: FpEnv, x: F80, y: F80): F80 {
  const early = checkOperands(e, x, y, false);
  if (early) return early;
  const cx = classify(x), cy = classify(y);
  // a negative x is invalid before a denormal operand counts
  if (x.sign && cx !== Cls.Zero) return invalid(e);
  const late = checkDenormals(e, cx, cy);
  if (late) return late;
  if (cx === Cls.Zero) {
    if (cy === Cls.Zero) return invalid(e);
    if (cy !== Cls.Infinity) e.flags |= ZE;
    return infinity(y.sign ^ 1);
  }
  if (cx === Cls.Infinity) return cy === Cls.Zero ? invalid(e) : infinity(y.sign);
  const isOne = x.exp === 16383 && x.sig === 1n << 63n;
  if (cy === Cls.Infinity) return isOne ? invalid(e) : infinity(y.sign ^ (exponentOf(x) < 0 ? 1 : 0));
  if (cy === Cls.Zero) return zero(y.sign ^ (exponentOf(x) < 0 ? 1 : 0));
  const u = unpack(x);
  const bl = bitLength(u.m);
  if (u.m === 1n << BigInt(bl - 1)) {
    // a power of two: log2 is the integer exponent and the product is an exact multiplication
    const k = u.e + bl - 1;
    if (k === 0) return zero(y.sign);
    const uy = unpack(y);
    return roundExt(e, y.sign ^ (k < 0 ? 1 : 0), uy.m * BigInt(Math.abs(k)), uy.e, false);
  }
  // log2(x) = k + log2(m) with m = x / 2^k in [1, 2): the fixed-point form holds m whatever x's exponent
  const k = u.e + bl - 1;
  const m = (u.m << BigInt(P + 1)) >> BigInt(bl);
  const l = BigInt(k) * ONE + divF(lnF(m), LN2);
  return scaledProduct(e, y, l);
}

/** y × l for a fixed-point l (inexact). */
function scaledProduct(e: FpEnv, y: F80, l: bigint): F80 {
  const uy = unpack(y);
  const neg = l < 0n;
  return roundExt(e, y.sign ^ (neg ? 1 : 0), uy.m * (neg ? -l : l), uy.e - P, true);
}

function ylog2xp1(e: FpEnv, x: F80, y: F80): F80 {
  const early = checkOperands(e, x, y);
  if (early) return early;
  const cx = classify(x), cy = classify(y);
  if (cx === Cls.Zero) return cy === Cls.Infinity ? invalid(e) : zero(x.sign ^ y.sign);
  if (cx === Cls.Infinity) return x.sign ? invalid(e) : cy === Cls.Zero ? invalid(e) : infinity(y.sign);
  if (cy === Cls.Infinity) return infinity(y.sign ^ x.sign);
  if (cy === Cls.Zero) return zero(x.sign ^ y.sign);
  if (exponentOf(x) < TINY_EXP) return mul(e, y, mul(e, x, fixedF80(LOG2E)));
  const arg = ONE + toFixed(x);
  if (arg <= 0n) {
    // x ≤ −1, outside FYL2XP1's domain: the host x87 returns x, inexact
    e.flags |= PE;
    return x;
  }
  return scaledProduct(e, y, divF(lnF(arg), LN2));
}

/** FPATAN: ST1 ← atan(ST1 / ST0) in the quadrant of (ST0, ST1), then pop. */
export function fpatan(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f, false);
  if (f.isEmpty(0) || f.isEmpty(1)) {
    stackUnderflow(e);
    return writeBack(cpu, f, e, 1, INDEFINITE, 1);
  }
  const x = f.st(0), y = f.st(1);
  writeBack(cpu, f, e, 1, atan2(e, y, x), 1);
}

function atan2(e: FpEnv, y: F80, x: F80): F80 {
  const early = checkOperands(e, x, y);
  if (early) return early;
  const cx = classify(x), cy = classify(y);
  const signed = (v: bigint): F80 => fromFixed(e, y.sign ? -v : v);
  if (cy === Cls.Zero) return x.sign ? signed(PI) : zero(y.sign);
  if (cx === Cls.Zero) return signed(PI / 2n);
  if (cy === Cls.Infinity) {
    if (cx === Cls.Infinity) return signed(x.sign ? (3n * PI) / 4n : PI / 4n);
    return signed(PI / 2n);
  }
  if (cx === Cls.Infinity) return x.sign ? signed(PI) : zero(y.sign);
  const uy = unpack(y), ux = unpack(x);
  const shift = uy.e - ux.e;
  if (shift < TINY_EXP && !x.sign) {
    // atan(y/x) = y/x to far below an ulp
    return roundExt(e, y.sign, (uy.m << 130n) / ux.m, shift - 130, true);
  }
  if (shift < TINY_EXP || shift > -TINY_EXP) return signed(shift > 0 ? PI / 2n : PI);
  const ratio = P + shift >= 0 ? (uy.m << BigInt(P + shift)) / ux.m : (uy.m >> BigInt(-(P + shift))) / ux.m;
  let a = atanF(ratio);
  if (x.sign) a = PI - a;
  return signed(a);
}

/** The x87 reduces trigonometric arguments with a 66-bit approximation of π (SDM vol. 1 §8.3.10), so large
 *  arguments agree with the chip only when reduced by the same constant. */
const PI_X87 = (PI >> BigInt(P - 64)) << BigInt(P - 64);

/** Reduces x modulo π/2: (quadrant, remainder) in fixed point. */
function reduce(x: F80): [number, bigint] {
  const v = toFixed(x);
  const half = PI_X87 / 2n;
  let k = v / half;
  let r = v - k * half;
  if (r > half / 2n) {
    r -= half;
    k += 1n;
  } else if (r < -half / 2n) {
    r += half;
    k -= 1n;
  }
  return [Number(((k % 4n) + 4n) % 4n), r];
}

/** FSIN (0), FCOS (1), FPTAN (2), FSINCOS (3). Operands of magnitude 2^63 or more set C2 and change nothing. */
export function trig(cpu: Cpu, _i: Instr, f: FpuState, which: number): void {
  const e = opEnv(f, false);
  const pushes = which >= 2;
  if (f.isEmpty(0)) {
    stackUnderflow(e);
    if (!blocked(e)) {
      f.setSt(0, INDEFINITE);
      if (pushes) f.push(INDEFINITE);
    }
    f.sw &= ~SW_C2;
    return finish(cpu, f, e);
  }
  if (pushes && !f.isEmpty(7)) {
    stackOverflow(e);
    if (!blocked(e)) {
      f.setSt(0, INDEFINITE);
      f.push(INDEFINITE);
    }
    return finish(cpu, f, e);
  }
  const x = f.st(0);
  const early = checkOperands(e, x, null);
  const c = classify(x);
  let first: F80, second: F80 | null = null;
  f.sw &= ~SW_C2;
  if (early) {
    first = early;
    second = pushes ? early : null;
  } else if (c === Cls.Infinity) {
    first = invalid(e);
    second = pushes ? INDEFINITE : null;
  } else if (c !== Cls.Zero && exponentOf(x) >= 63) {
    f.sw |= SW_C2;
    return finish(cpu, f, e);
  } else if (c === Cls.Zero || exponentOf(x) < TINY_EXP) {
    // sin x = x − x³/6 and tan x = x + x³/3: just below and just above x in magnitude; cos x just below 1
    const one = f80(0, 16383, 1n << 63n);
    const near = (delta: bigint): F80 => {
      if (c === Cls.Zero) return x;
      const u = unpack(x);
      if (delta > 0n) {
        // tan: the host keeps x itself (inexact; underflow for a denormal x)
        const r = roundExt(e, x.sign, u.m, u.e, false);
        e.flags |= PE | (c === Cls.Denormal ? UE : 0);
        return r;
      }
      const r = roundExt(e, x.sign, (u.m << 200n) - 1n, u.e - 200, true);
      if (r.exp !== 0 && !e.unmasked(UE)) e.flags &= ~UE; // masked: rounding to a normal number is no underflow on the host
      return r;
    };
    const cos = c === Cls.Zero ? one : fromFixed(e, ONE - 1n);
    if (which === 0) first = near(-1n);
    else if (which === 1) first = cos;
    else if (which === 2) [first, second] = [near(1n), one];
    else [first, second] = [cos, near(-1n)];
  } else {
    const [q, r] = reduce(x);
    const [s0, c0] = sinCosF(r);
    const sin = [s0, c0, -s0, -c0][q];
    const cos = [c0, -s0, -c0, s0][q];
    if (which === 0) first = fromFixed(e, sin);
    else if (which === 1) first = fromFixed(e, cos);
    else if (which === 2) {
      first = fromFixed(e, divF(sin, cos));
      second = f80(0, 16383, 1n << 63n);
    } else {
      first = fromFixed(e, cos);
      second = fromFixed(e, sin);
    }
  }
  if (!blocked(e)) {
    if (second) {
      // FPTAN: ST0 ← tan, push 1.0; FSINCOS: ST0 ← sin, push cos
      f.setSt(0, which === 3 ? (second as F80) : first);
      f.push(which === 3 ? first : second);
    } else f.setSt(0, first);
  }
  finish(cpu, f, e);
}
