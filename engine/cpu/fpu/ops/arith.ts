// Arithmetic instructions (SDM vol. 2 FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR and their integer and popping forms, FSQRT,
// FABS, FCHS, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1).

import type { Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import {
  add,
  bitLength,
  checkOperands,
  classify,
  Cls,
  DE,
  div,
  f80,
  fromInteger,
  INDEFINITE,
  infinity,
  invalid,
  mul,
  PE,
  RC_NEAREST,
  RC_ZERO,
  roundExt,
  roundToInteger,
  sqrt,
  unpack,
  zero,
  ZE,
  BIAS,
  type F80,
  type FpEnv,
} from '../float80';
import type { FpuState } from '../state';
import { blocked, finish, opEnv, stackOverflow, stackUnderflow } from '../unit';
import { readSource, setCodes, setCompareCodes, writeBack } from './common';
import { compareOp } from './compare';

/** x op y for the ModRM reg field's operation: 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr (2, 3 are compares). */
export function binary(e: FpEnv, k: number, x: F80, y: F80): F80 {
  switch (k) {
    case 0:
      return add(e, x, y);
    case 1:
      return mul(e, x, y);
    case 4:
      return add(e, x, y, true);
    case 5:
      return add(e, y, x, true);
    case 6:
      return div(e, x, y);
    default:
      return div(e, y, x);
  }
}

/** D8/DC/DA/DE with a memory operand: ST0 ← ST0 op m (FCOM/FCOMP for reg 2 and 3). `kind`: the memory format. */
export function arithMem(cpu: Cpu, i: Instr, f: FpuState, kind: number): void {
  const e = opEnv(f);
  const src = readSource(cpu, i, e, kind);
  if (i.reg === 2 || i.reg === 3) return compareOp(cpu, f, e, src, false, i.reg === 3 ? 1 : 0, false);
  if (f.isEmpty(0)) {
    e.sourceDenormal = false;
    stackUnderflow(e);
    return writeBack(cpu, f, e, 0, INDEFINITE);
  }
  writeBack(cpu, f, e, 0, binary(e, i.reg, f.st(0), src));
}

/**
 * Register forms. `form` 0 (D8): ST0 ← ST0 op ST(i). 1 (DC) and 2 (DE, then pop): ST(i) ← ST(i) op ST0, where the
 * SDM's encodings swap the plain and reversed subtract/divide (DC E0+i is FSUBR ST(i),ST0: ST(i) ← ST0 − ST(i)).
 */
export function arithReg(cpu: Cpu, i: Instr, f: FpuState, form: number): void {
  const e = opEnv(f);
  const k = i.reg;
  const r = i.rm;
  const dst = form === 0 ? 0 : r;
  const pops = form === 2 ? 1 : 0;
  if (f.isEmpty(0) || f.isEmpty(r)) {
    stackUnderflow(e);
    return writeBack(cpu, f, e, dst, INDEFINITE, pops);
  }
  if (form === 0) return writeBack(cpu, f, e, 0, binary(e, k, f.st(0), f.st(r)));
  // DC/DE: ST(i) ← ST0 op ST(i) for the reg field's operation, so reg 4 (DC E0+i, FSUBR ST(i),ST0) is ST0 − ST(i)
  writeBack(cpu, f, e, dst, binary(e, k, f.st(0), f.st(r)), pops);
}

/** One-operand arithmetic on ST0 with the usual underflow handling. */
function unary(cpu: Cpu, f: FpuState, e: FpEnv, fn: (x: F80) => F80): void {
  if (f.isEmpty(0)) {
    stackUnderflow(e);
    return writeBack(cpu, f, e, 0, INDEFINITE);
  }
  writeBack(cpu, f, e, 0, fn(f.st(0)));
}

export function fsqrt(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f);
  unary(cpu, f, e, (x) => sqrt(e, x));
}

/** FCHS/FABS change only the sign bit, whatever the operand (no exceptions besides stack underflow). */
export function fchs(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f);
  unary(cpu, f, e, (x) => f80(x.sign ^ 1, x.exp, x.sig));
}

export function fabs(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f);
  unary(cpu, f, e, (x) => f80(0, x.exp, x.sig));
}

/** FRNDINT: rounds ST0 to an integral value by RC; precision control does not apply. */
export function frndint(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f, false);
  unary(cpu, f, e, (x) => {
    const early = checkOperands(e, x, null);
    if (early) return early;
    const c = classify(x);
    if (c === Cls.Zero || c === Cls.Infinity) return x;
    const r = roundToInteger(e.rc, x);
    if (r.inexact) {
      e.flags |= PE;
      e.roundedUp = r.up;
    }
    return fromInteger(x.sign, r.n);
  });
}

/** FSCALE: ST0 × 2^trunc(ST1) (SDM vol. 2 FSCALE, Table 3-47 for the special operands). */
export function fscale(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f, false); // PC governs only add/sub/mul/div/sqrt (SDM vol. 1 §8.1.5.2)
  if (f.isEmpty(0) || f.isEmpty(1)) {
    stackUnderflow(e);
    return writeBack(cpu, f, e, 0, INDEFINITE);
  }
  const x = f.st(0), s = f.st(1);
  writeBack(cpu, f, e, 0, scale(e, x, s));
}

function scale(e: FpEnv, x: F80, s: F80): F80 {
  const early = checkOperands(e, x, s);
  if (early) return early;
  const cx = classify(x), cs = classify(s);
  if (cs === Cls.Infinity) {
    if (s.sign === 0) {
      if (cx === Cls.Zero) return invalid(e);
      return infinity(x.sign);
    }
    if (cx === Cls.Infinity) return invalid(e);
    return zero(x.sign);
  }
  if (cx === Cls.Zero || cx === Cls.Infinity) return x;
  const t = roundToInteger(RC_ZERO, s);
  const n = t.n > 1n << 20n ? 1 << 20 : Number(t.n);
  const u = unpack(x);
  return roundExt(e, x.sign, u.m, u.e + (s.sign ? -n : n), false);
}

/** FXTRACT: ST0 → exponent (in ST1) and significand (in ST0), SDM vol. 2 FXTRACT. */
export function fxtract(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f, false);
  if (f.isEmpty(0)) {
    stackUnderflow(e);
    if (!blocked(e)) {
      f.setSt(0, INDEFINITE);
      if (f.isEmpty(7)) f.push(INDEFINITE);
    }
    return finish(cpu, f, e);
  }
  if (!f.isEmpty(7)) {
    stackOverflow(e);
    if (!blocked(e)) {
      f.setSt(0, INDEFINITE);
      f.push(INDEFINITE);
    }
    return finish(cpu, f, e);
  }
  const x = f.st(0);
  let expPart: F80, sigPart: F80;
  const early = checkOperands(e, x, null);
  const c = classify(x);
  if (early) {
    expPart = sigPart = early;
  } else if (c === Cls.Zero) {
    e.flags |= ZE;
    expPart = infinity(1);
    sigPart = x;
  } else if (c === Cls.Infinity) {
    expPart = infinity(0);
    sigPart = x;
  } else {
    const u = unpack(x);
    const bl = bitLength(u.m);
    const trueExp = u.e + bl - 1;
    expPart = trueExp === 0 ? zero(0) : fromInteger(trueExp < 0 ? 1 : 0, BigInt(Math.abs(trueExp)));
    sigPart = f80(x.sign, BIAS, u.m << BigInt(64 - bl));
  }
  if (!blocked(e)) {
    f.setSt(0, expPart);
    f.push(sigPart);
  }
  finish(cpu, f, e);
}

/**
 * FPREM/FPREM1 (SDM vol. 2): the exact partial remainder ST0 − Q × ST1, Q truncated (FPREM) or rounded to nearest
 * (FPREM1). With an exponent difference of 64 or more only a partial reduction is done and C2 is set; otherwise
 * C2 = 0 and C0, C3, C1 receive quotient bits 2, 1, 0.
 */
export function fprem(cpu: Cpu, _i: Instr, f: FpuState, ieee: number): void {
  const e = opEnv(f, false);
  if (f.isEmpty(0) || f.isEmpty(1)) {
    stackUnderflow(e);
    return writeBack(cpu, f, e, 0, INDEFINITE);
  }
  const x = f.st(0), y = f.st(1);
  const early = checkOperands(e, x, y);
  if (early) return writeBack(cpu, f, e, 0, early);
  const cx = classify(x), cy = classify(y);
  if (cx === Cls.Infinity || cy === Cls.Zero) return writeBack(cpu, f, e, 0, invalid(e));
  if (cx === Cls.Zero || cy === Cls.Infinity) {
    setCodes(f, false, false, false, false);
    return writeBack(cpu, f, e, 0, x);
  }
  const ux = unpack(x), uy = unpack(y);
  const lx = ux.e + bitLength(ux.m), ly = uy.e + bitLength(uy.m);
  const d = lx - ly;
  if (d >= 64) {
    // Partial reduction: divide by ST1 × 2^(d − N), keeping the truncated quotient (N between 32 and 63).
    const n = 32 + ((d - 32) & 31);
    const shift = d - n;
    const ey = uy.e + shift;
    const base = Math.min(ux.e, ey);
    const a = ux.m << BigInt(ux.e - base), b = uy.m << BigInt(ey - base);
    const q = a / b;
    const r = a - q * b;
    f.sw |= 0x400;
    const res = r === 0n ? zero(x.sign) : roundExt(e, x.sign, r, base, false);
    return writeBack(cpu, f, e, 0, res, 0, false);
  }
  const base = Math.min(ux.e, uy.e);
  const a = ux.m << BigInt(ux.e - base), b = uy.m << BigInt(uy.e - base);
  let q = a / b;
  let r = a - q * b;
  let sign = x.sign;
  if (ieee) {
    const twice = r * 2n;
    if (twice > b || (twice === b && (q & 1n) === 1n)) {
      q += 1n;
      r = b - r;
      sign ^= 1;
    }
  }
  // C0 = Q2, C3 = Q1, C1 = Q0 (SDM vol. 2 FPREM)
  setCodes(f, (q & 2n) === 2n, false, (q & 1n) === 1n, (q & 4n) === 4n);
  const res = r === 0n ? zero(x.sign) : roundExt(e, sign, r, base, false);
  writeBack(cpu, f, e, 0, res, 0, false);
}

export { RC_NEAREST, DE };
