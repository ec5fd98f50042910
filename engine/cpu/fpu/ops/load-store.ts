// Data transfer (SDM vol. 2 FLD, FST/FSTP, FILD, FIST/FISTP, FBLD, FBSTP, FXCH, FFREE, FINCSTP, FDECSTP, and the
// constant loads FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ).

import type { Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import { blocked, finish, opEnv, stackOverflow, stackUnderflow } from '../unit';
import { DOUBLE, f80, IE, INDEFINITE, roundExt, SINGLE, ZERO, type F80, type FpEnv } from '../float80';
import { fromBcd, fromIntBits, fromReal, toBcd, toIntBits, toReal } from '../convert';
import { readBits, readBytes, writeBits, writeBytes } from '../memory';
import { SW_C1, type FpuState } from '../state';
import { LN2, LOG10_2, LOG2_10, LOG2E, ONE, P, PI } from '../fixed';
import { M16I, M32I, M32R, M64I, M64R } from './common';

/** Pushes a value, or on stack overflow (ST7 not empty) the indefinite when IE is masked (SDM vol. 1 §8.5.1.1). */
export function pushValue(cpu: Cpu, f: FpuState, e: FpEnv, v: F80): void {
  if (!f.isEmpty(7)) {
    // stack overflow takes precedence over what the source operand raised
    e.flags = 0;
    stackOverflow(e);
    if (!e.unmasked(IE)) f.push(INDEFINITE);
  } else if (!(e.unmasked(IE) && (e.flags & IE) !== 0)) {
    // a load completes despite an unmasked #D (only an unmasked #IA for an SNaN source stops it)
    f.push(v);
  }
  finish(cpu, f, e);
}

/** Memory formats of FLD/FILD: arg. */
export const M80R = 5, MBCD = 6;

export function fldMem(cpu: Cpu, i: Instr, f: FpuState, kind: number): void {
  const e = opEnv(f);
  const seg = i.seg, off = cpu.ea(i);
  let v: F80;
  switch (kind) {
    case M32R:
      v = fromReal(e, readBits(cpu, seg, off, 4), SINGLE);
      break;
    case M64R:
      v = fromReal(e, readBits(cpu, seg, off, 8), DOUBLE);
      break;
    case M80R: {
      const b = readBits(cpu, seg, off, 10);
      v = f80(Number(b >> 79n), Number((b >> 64n) & 0x7fffn), b & 0xffffffffffffffffn);
      break;
    }
    case MBCD:
      v = fromBcd(readBytes(cpu, seg, off, 10));
      break;
    default:
      v = fromIntBits(readBits(cpu, seg, off, kind === M16I ? 2 : kind === M32I ? 4 : 8), kind === M16I ? 16 : kind === M32I ? 32 : 64);
  }
  pushValue(cpu, f, e, v);
}

/** FLD ST(i). */
export function fldReg(cpu: Cpu, i: Instr, f: FpuState): void {
  const e = opEnv(f);
  if (f.isEmpty(i.rm)) {
    stackUnderflow(e);
    return pushValue(cpu, f, e, INDEFINITE);
  }
  pushValue(cpu, f, e, f.st(i.rm));
}

/** FST/FSTP to memory (arg: format | pop << 4). Unmasked exceptions leave memory and the stack unchanged. */
export function fstMem(cpu: Cpu, i: Instr, f: FpuState, arg: number): void {
  const e = opEnv(f, false);
  const kind = arg & 15;
  const pop = arg >> 4;
  const seg = i.seg, off = cpu.ea(i);
  const empty = f.isEmpty(0);
  if (empty) stackUnderflow(e);
  const x = empty ? INDEFINITE : f.st(0);
  let bits: bigint | null = null;
  let bytes: Uint8Array | null = null;
  let size = 0;
  switch (kind) {
    case M32R:
      bits = empty ? 0xffc00000n : toReal(e, x, SINGLE);
      size = 4;
      break;
    case M64R:
      bits = empty ? 0xfff8000000000000n : toReal(e, x, DOUBLE);
      size = 8;
      break;
    case M80R:
      bits = (BigInt((x.sign << 15) | x.exp) << 64n) | x.sig;
      size = 10;
      break;
    case MBCD:
      bytes = empty ? toBcd(e, f80(0, 0x7fff, 0n)) : toBcd(e, x);
      break;
    default: {
      const width = kind === M16I ? 16 : kind === M32I ? 32 : 64;
      bits = empty ? 1n << BigInt(width - 1) : toIntBits(e, x, width);
      size = width / 8;
    }
  }
  const unmaskedStore = (e.flags & ~e.masks & 0x3f) !== 0;
  if (empty && unmaskedStore) return finish(cpu, f, e);
  if (bytes !== null) writeBytes(cpu, seg, off, bytes);
  else if (bits !== null) writeBits(cpu, seg, off, size, bits);
  else return finish(cpu, f, e);
  if (pop) f.pop();
  finish(cpu, f, e);
}

/** FST/FSTP ST(i) (arg: pop). */
export function fstReg(cpu: Cpu, i: Instr, f: FpuState, pop: number): void {
  const e = opEnv(f);
  if (f.isEmpty(0)) {
    stackUnderflow(e);
    if (!blocked(e)) {
      f.setSt(i.rm, INDEFINITE);
      if (pop) f.pop();
    }
    return finish(cpu, f, e);
  }
  f.setSt(i.rm, f.st(0));
  if (pop) f.pop();
  finish(cpu, f, e);
}

/** FXCH ST(i): an empty register takes part as the indefinite when IE is masked (SDM vol. 2 FXCH). */
export function fxch(cpu: Cpu, i: Instr, f: FpuState): void {
  const e = opEnv(f);
  if (f.isEmpty(0) || f.isEmpty(i.rm)) {
    stackUnderflow(e);
    if (blocked(e)) return finish(cpu, f, e);
    if (f.isEmpty(0)) f.setSt(0, INDEFINITE);
    if (f.isEmpty(i.rm)) f.setSt(i.rm, INDEFINITE);
  }
  const a = f.st(0);
  f.setSt(0, f.st(i.rm));
  f.setSt(i.rm, a);
  finish(cpu, f, e);
}

/** FFREE ST(i) (arg 1: FFREEP, which also pops). */
export function ffree(_cpu: Cpu, i: Instr, f: FpuState, pop: number): void {
  f.empty[f.phys(i.rm)] = 1;
  if (pop) f.pop();
}

export function fincstp(_cpu: Cpu, _i: Instr, f: FpuState, delta: number): void {
  f.top = (f.top + delta) & 7;
  f.sw &= ~SW_C1;
}

const CONSTANTS: readonly bigint[] = [ONE, LOG2_10, LOG2E, PI, LOG10_2, LN2, 0n];

/** FLD1 … FLDZ: the constant rounded to 64 bits by RC (precision control does not apply). */
export function fldConst(cpu: Cpu, _i: Instr, f: FpuState, k: number): void {
  const e = opEnv(f, false);
  const c = CONSTANTS[k];
  const v = c === 0n ? ZERO : c === ONE ? f80(0, 16383, 1n << 63n) : roundExt(e, 0, c, -P, false);
  // the constants load without a precision exception and leave C1 clear
  e.flags = 0;
  e.roundedUp = false;
  pushValue(cpu, f, e, v);
}
