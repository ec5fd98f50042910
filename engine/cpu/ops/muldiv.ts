// Multiplication and division (SDM vol. 2 MUL, IMUL, DIV, IDIV).
//
// One-operand forms use the accumulator pair: AL→AX, AX→DX:AX, EAX→EDX:EAX. 32-bit products and dividends need 64
// bits, more than a double holds exactly, so they are computed in 16-bit limbs without allocation.
//
// Flags: MUL/IMUL define CF = OF (the high half is significant); SF, ZF, AF and PF are undefined. Ringside sets
// SF/ZF/PF from the high half of the double-width product and sets AF, for every form (the truncating IMULs
// included): every MUL and IMUL case of the 80286 captures shows exactly that, the high half being the shift-add
// multiplier's final accumulator. Reports on the 386 describe its IMUL latching SF/PF from partial sums in ways no
// published rule fully reproduces; no 386 capture of these flags was available. DIV/IDIV leave all six
// undefined. Intel chips do change them (pre-CPUID code tells Cyrix parts, which leave them alone, from Intel ones
// by dividing 5 by 2 with the flags cleared); the 80286 captures show AF = 1 after every DIV and IDIV and the
// others following internal division steps. Ringside sets AF and leaves the other five unchanged. #DE is raised
// before anything is written (fault semantics).

import { Cpu, EAX, EDX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, R_DE_DIVIDE, VEC_DE } from '../faults';
import { AF, CF, OF, PF, SF, ZF } from '../flags';
import { truncate } from './alu';

const MUL_FLAGS = CF | OF | SF | ZF | AF | PF;

// ---- 64-bit helpers (results in module scratch: no allocation on the hot path) ----

/** Low and high 32 bits (unsigned) of the last product or quotient/remainder of the helpers below. */
let lo32 = 0;
let hi32 = 0;

/** Unsigned 32 × 32 → 64 into hi32:lo32. */
export function mulU32(a: number, b: number): void {
  const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
  const ll = aL * bL; // < 2^32
  const mid = aH * bL + aL * bH; // < 2^33
  const hh = aH * bH; // < 2^32
  // low = ll + (mid mod 2^16) · 2^16; carries go to high.
  const low = ll + (mid % 0x10000) * 0x10000; // < 2^33
  lo32 = low >>> 0;
  hi32 = (hh + Math.floor(mid / 0x10000) + Math.floor(low / 0x100000000)) >>> 0;
}

/** Signed 32 × 32 → 64 into hi32:lo32 (two's complement). Operands are unsigned 32-bit patterns. */
export function mulS32(a: number, b: number): void {
  mulU32(a, b);
  // (a − 2^32·sa)(b − 2^32·sb) ≡ ab − 2^32(sa·b + sb·a)  (mod 2^64)
  let hi = hi32;
  if ((a | 0) < 0) hi -= b;
  if ((b | 0) < 0) hi -= a;
  hi32 = hi >>> 0;
}

/**
 * Unsigned (hi:lo) ÷ d for d ≠ 0 and hi < d (so the quotient fits 32 bits): quotient into lo32, remainder into hi32.
 * Long division in two 16-bit steps keeps every intermediate below 2^48.
 */
export function divU64(hi: number, lo: number, d: number): void {
  const n1 = hi * 0x10000 + (lo >>> 16);
  const r1 = n1 % d;
  const q1 = (n1 - r1) / d;
  const n0 = r1 * 0x10000 + (lo & 0xffff);
  const r0 = n0 % d;
  const q0 = (n0 - r0) / d;
  lo32 = (q1 * 0x10000 + q0) >>> 0;
  hi32 = r0 >>> 0;
}

// ---- flag helpers ----

/** CF = OF = `overflow`; SF ZF PF from the high half of the product; AF set (see the note at the top). */
function setMulFlags(cpu: Cpu, overflow: boolean, high: number, size: number): void {
  cpu.setFlagBits(MUL_FLAGS, (overflow ? CF | OF : 0) | AF | Cpu.szp(high, size));
}

/** Sign-extends an unsigned `size`-byte value to a JS integer. */
function signed(v: number, size: number): number {
  return size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
}

// ---- one-operand MUL / IMUL ----

function mulAcc(cpu: Cpu, i: Instr, isSigned: boolean): void {
  const size = i.size;
  const src = cpu.readRm(i, size) >>> 0;
  if (size === 1) {
    const al = cpu.regs8[0];
    const p = isSigned ? signed(al, 1) * signed(src, 1) : al * src;
    cpu.regs16[EAX << 1] = p;
    const overflow = isSigned ? p !== signed(p & 0xff, 1) : p > 0xff;
    setMulFlags(cpu, overflow, (p >> 8) & 0xff, 1);
  } else if (size === 2) {
    const ax = cpu.regs16[EAX << 1];
    const p = isSigned ? signed(ax, 2) * signed(src, 2) : ax * src;
    cpu.regs16[EAX << 1] = p;
    cpu.regs16[EDX << 1] = p >> 16;
    const overflow = isSigned ? p !== signed(p & 0xffff, 2) : p > 0xffff;
    setMulFlags(cpu, overflow, (p >> 16) & 0xffff, 2);
  } else {
    const a = cpu.regs[EAX] >>> 0;
    if (isSigned) mulS32(a, src);
    else mulU32(a, src);
    cpu.regs[EAX] = lo32;
    cpu.regs[EDX] = hi32;
    const overflow = isSigned ? hi32 !== ((lo32 | 0) < 0 ? 0xffffffff : 0) : hi32 !== 0;
    setMulFlags(cpu, overflow, hi32, 4);
  }
}

/** Products below this magnitude are exact in a double (integers up to 2^53 are representable). */
const EXACT_PRODUCT = 2 ** 53;

/**
 * The high half, as int32, of the signed 64-bit product of the 32-bit patterns `a` and `b` (signed or not). A
 * product below 2^53 in magnitude — all those of operands below 2^26, such as the 16-bit limb products of Linux's
 * multi-precision arithmetic (lib/mpi), which its boot runs a few hundred million times — is exact as one double
 * multiplication (rounding is monotonic, so a rounded product below 2^53 is an exact one), and its high half is a
 * division by 2^32; larger ones take the 16-bit limbs of mulS32.
 */
export function imulHigh32(a: number, b: number): number {
  const p = (a | 0) * (b | 0);
  if (p < EXACT_PRODUCT && p > -EXACT_PRODUCT) return Math.floor(p / 0x100000000) | 0;
  mulS32(a >>> 0, b >>> 0);
  return hi32 | 0;
}

/**
 * The high half, as int32, of the unsigned 64-bit product of the 32-bit patterns `a` and `b` (MUL r/m32): the signed
 * high half plus b when a's sign bit is set and a when b's is (a pattern with its sign bit set stands for itself
 * + 2^32 unsigned), modulo 2^32. Translated blocks call it (jit/ops.ts mulAcc32).
 */
export function mulHighU32(a: number, b: number): number {
  return (imulHigh32(a, b) + ((a >> 31) & b) + ((b >> 31) & a)) | 0;
}

/**
 * The 32-bit truncating IMUL (0F AF, 69, 6B with a 32-bit operand size): returns the low half of the signed product
 * a × b and sets the flags as every IMUL does (setMulFlags: CF = OF = the product did not fit 32 bits, SF ZF PF
 * from the high half, AF set). Translated blocks inline the same (jit/ops.ts imul).
 */
export function imul32(cpu: Cpu, a: number, b: number): number {
  const low = Math.imul(a, b);
  const high = imulHigh32(a, b);
  cpu.setFlagBits(MUL_FLAGS, (high !== low >> 31 ? CF | OF : 0) | AF | Cpu.szp(high, 4));
  return low;
}

/** IMUL with a truncated destination (0F AF, 69, 6B): dest ← low half of a × b, CF = OF = the product did not fit. */
function imulTruncated(cpu: Cpu, i: Instr, a: number, b: number): void {
  if (i.size === 4) {
    cpu.regs[i.reg] = imul32(cpu, a, b);
    return;
  }
  const p = signed(a, 2) * signed(b, 2);
  const low = p & 0xffff;
  cpu.setReg(2, i.reg, low);
  setMulFlags(cpu, p !== signed(low, 2), (p >> 16) & 0xffff, 2);
}

// ---- one-operand DIV / IDIV ----

function divAcc(cpu: Cpu, i: Instr): void {
  const size = i.size;
  const d = cpu.readRm(i, size) >>> 0;
  if (d === 0) fault(VEC_DE, -1, R_DE_DIVIDE, 'divisor is 0');
  if (size === 1) {
    const n = cpu.regs16[EAX << 1];
    const q = Math.floor(n / d);
    if (q > 0xff) fault(VEC_DE, -1, R_DE_DIVIDE, `quotient 0x${q.toString(16)} does not fit AL`);
    cpu.regs8[0] = q;
    cpu.regs8[1] = n - q * d;
  } else if (size === 2) {
    const n = (cpu.regs16[EDX << 1] * 0x10000 + cpu.regs16[EAX << 1]);
    const q = Math.floor(n / d);
    if (q > 0xffff) fault(VEC_DE, -1, R_DE_DIVIDE, `quotient 0x${q.toString(16)} does not fit AX`);
    cpu.regs16[EAX << 1] = q;
    cpu.regs16[EDX << 1] = n - q * d;
  } else {
    const hi = cpu.regs[EDX] >>> 0;
    if (hi >= d) fault(VEC_DE, -1, R_DE_DIVIDE, 'quotient does not fit EAX');
    divU64(hi, cpu.regs[EAX] >>> 0, d);
    cpu.regs[EAX] = lo32;
    cpu.regs[EDX] = hi32;
  }
  cpu.setFlagBits(AF, AF);
}

function idivAcc(cpu: Cpu, i: Instr): void {
  const size = i.size;
  const dRaw = cpu.readRm(i, size) >>> 0;
  if (dRaw === 0) fault(VEC_DE, -1, R_DE_DIVIDE, 'divisor is 0');
  const d = signed(dRaw, size);
  if (size === 1) {
    const n = signed(cpu.regs16[EAX << 1], 2);
    const q = Math.trunc(n / d);
    // The quotient must lie in −128 … 127 (the 286 and later accept −128; SDM IDIV).
    if (q > 0x7f || q < -0x80) fault(VEC_DE, -1, R_DE_DIVIDE, `quotient ${q} does not fit AL`);
    cpu.regs8[0] = q;
    cpu.regs8[1] = n - q * d;
  } else if (size === 2) {
    const n = ((cpu.regs16[EDX << 1] << 16) | cpu.regs16[EAX << 1]) | 0;
    const q = Math.trunc(n / d);
    if (q > 0x7fff || q < -0x8000) fault(VEC_DE, -1, R_DE_DIVIDE, `quotient ${q} does not fit AX`);
    cpu.regs16[EAX << 1] = q;
    cpu.regs16[EDX << 1] = n - q * d;
  } else {
    // Divide magnitudes, then apply signs: quotient negative when signs differ, remainder takes the dividend's sign.
    let hi = cpu.regs[EDX] >>> 0;
    let lo = cpu.regs[EAX] >>> 0;
    const negN = (hi | 0) < 0;
    if (negN) {
      // 64-bit two's-complement negation
      lo = (-lo) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    const negD = d < 0;
    const dm = negD ? -d : d; // ≤ 2^31
    if (hi >= dm) fault(VEC_DE, -1, R_DE_DIVIDE, 'quotient does not fit EAX');
    divU64(hi, lo, dm);
    const qm = lo32;
    const rm = hi32;
    const negQ = negN !== negD;
    if (negQ ? qm > 0x80000000 : qm > 0x7fffffff) fault(VEC_DE, -1, R_DE_DIVIDE, 'quotient does not fit EAX');
    cpu.regs[EAX] = negQ ? -qm : qm;
    cpu.regs[EDX] = negN ? -rm : rm;
  }
  cpu.setFlagBits(AF, AF);
}

export const handlers: Record<string, Handler> = {
  mulE(cpu, i) {
    mulAcc(cpu, i, false);
  },
  imulE(cpu, i) {
    mulAcc(cpu, i, true);
  },
  divE(cpu, i) {
    divAcc(cpu, i);
  },
  idivE(cpu, i) {
    idivAcc(cpu, i);
  },
  imulGE(cpu, i) {
    imulTruncated(cpu, i, cpu.getReg(i.size, i.reg), cpu.readRm(i, i.size) >>> 0);
  },
  imulGEI(cpu, i) {
    imulTruncated(cpu, i, cpu.readRm(i, i.size) >>> 0, truncate(i.imm, i.size));
  },
};
