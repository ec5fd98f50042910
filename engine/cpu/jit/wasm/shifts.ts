// Shifts and rotates in WebAssembly blocks: ROL, ROR, SHL/SAL, SHR, SAR by a constant, by 1 and by CL, and 32-bit
// SHLD/SHRD, as the interpreter's shift.ts computes them (undefined flags included, as that module's head describes them).

import type { Instr } from '../../decode/instr';
import { SH_ROL, SH_ROR, SH_SAL, SH_SAR, SH_SHL, SH_SHR } from '../../decode/table';
import { pushSzp } from './flags';
import { GOES_ON, OP, type WasmGen } from './gen';
import { address, writeBack } from './operands';

const ECX = 1;

export const SHIFTS = new Set([SH_ROL, SH_ROR, SH_SHL, SH_SAL, SH_SHR, SH_SAR]);

/**
 * The start of a shift of the r/m operand by the constant `count` (masked) or CL (null): a memory operand is
 * checked (for a write unless the count is 0; read in any case, as the interpreter reads it before it looks at
 * the count). Returns null when the constant count is 0 (nothing more to do), -1 for another constant, or the
 * local holding the count of CL, under an `if` on it that countEpilogue closes; the flags in `mask` a count of 0
 * keeps are then read from the flags local (the pending record folded first).
 */
function countPrologue(g: WasmGen, i: Instr, size: number, count: number | null, mask: number): number | null {
  const f = g.f;
  if (i.rm < 0) address(g, i, size, count !== 0);
  if (count === 0) return null;
  if (count !== null) return -1;
  g.pushReg(1, ECX);
  f.i32(0x1f).op(OP.i32And);
  const c = g.toLocal();
  g.fold();
  g.readsLocal(mask);
  f.get(c);
  g.open(OP.if);
  return c;
}

function countEpilogue(g: WasmGen, count: number | null): number {
  if (count === null) g.close();
  return GOES_ON;
}

/**
 * SHLD/SHRD of a 32-bit r/m by Ib or CL (shift.ts doubleShift): `d` shifted, the bits coming in from the register
 * operand; CF the last bit out, OF whether the sign changed, SZP from the result, AF clear (all six set, for every
 * count: doubleShiftCompute).
 */
export function doubleShift(g: WasmGen, i: Instr, left: boolean): number {
  const f = g.f;
  const count = (i.opcode & 1) === 0 ? i.imm & 0x1f : null;
  const c = countPrologue(g, i, 4, count, 0x8d5);
  if (c === null) return GOES_ON;
  const pushCount = (): void => void (count === null ? f.get(c) : f.i32(count));
  const pushRest = (): void => {
    f.i32(32);
    pushCount();
    f.op(OP.i32Sub);
  };
  if (i.rm < 0) g.load(4);
  else g.pushReg(4, i.rm);
  const d = g.toLocal();
  const s = g.g[i.reg];
  const [toward, from] = left ? [OP.i32Shl, OP.i32ShrU] : [OP.i32ShrU, OP.i32Shl];
  f.get(d);
  pushCount();
  f.op(toward).get(s);
  pushRest();
  f.op(from).op(OP.i32Or);
  const r = g.toLocal();
  f.get(d);
  if (left) pushRest();
  else {
    pushCount();
    f.i32(-1).op(OP.i32Add);
  }
  f.op(OP.i32ShrU).i32(1).op(OP.i32And);
  const cf = g.toLocal();
  writeBack(g, i, r);
  g.setFlagBits(0x8d5, () => {
    f.get(cf);
    f.get(r).get(d).op(OP.i32Xor).i32(31).op(OP.i32ShrU).i32(11).op(OP.i32Shl).op(OP.i32Or);
    pushSzp(f, r, 4);
    f.op(OP.i32Or);
  });
  return countEpilogue(g, count);
}

/**
 * ROL/ROR/SHL/SAL/SHR/SAR of r/m by the constant `count` or, when `count` is null, by CL (shift.ts shiftRm, as the
 * JS blocks' shiftResult): a masked count of 0 changes nothing, flags included (a memory operand is still read);
 * else the result is stored, then the flags set eagerly — CF and OF for the rotates, all six for the shifts. By CL
 * the count is known at run time only: the code below runs under `if (count)`, and the flags a count of 0 keeps
 * are read from the flags local (so the pending record is folded first).
 */
export function shift(g: WasmGen, i: Instr, count: number | null): number {
  const f = g.f;
  const size = i.size;
  const bits = size * 8;
  const top = bits - 1;
  let mask = i.arg === SH_ROL || i.arg === SH_ROR ? 0x801 : 0x8d5;
  const c = countPrologue(g, i, size, count, mask);
  if (c === null) return GOES_ON;
  /** Pushes the count plus `delta`, or `bits` minus the count. */
  const pushCount = (delta: number): void => {
    if (count === null) {
      f.get(c);
      if (delta !== 0) f.i32(delta).op(OP.i32Add);
    } else f.i32(count + delta);
  };
  const pushBitsLessCount = (c2: number, constant: number | null): void => {
    if (constant === null) f.i32(bits).get(c2).op(OP.i32Sub);
    else f.i32(bits - constant);
  };
  if (i.rm < 0) g.load(size);
  else g.pushReg(size, i.rm);
  const v = g.toLocal();
  const wrap = (): void => g.truncate(size);
  let cf: number;
  let r: number;
  // Flag values beside CF: OF from the result's top bits, AF as the interpreter sets it, SZP.
  let rest: (r: number, cf: number) => void;
  const topBit = (x: number): void => void f.get(x).i32(top).op(OP.i32ShrU).i32(1).op(OP.i32And);
  const ofMsbXorCf = (x: number, c2: number): void => {
    topBit(x);
    f.get(c2).op(OP.i32Xor).i32(11).op(OP.i32Shl);
  };
  const ofTopTwo = (x: number): void => {
    f.get(x).i32(top).op(OP.i32ShrU).get(x).i32(top - 1).op(OP.i32ShrU).op(OP.i32Xor).i32(1).op(OP.i32And).i32(11).op(OP.i32Shl);
  };
  /** CF (the last bit out to the right) and the result of `src` shifted right by `op`, in new locals. */
  const shiftRight = (src: number, op: number): [number, number] => {
    f.get(src);
    pushCount(-1);
    f.op(op).i32(1).op(OP.i32And);
    const out = g.toLocal();
    f.get(src);
    pushCount(0);
    f.op(op);
    wrap();
    return [out, g.toLocal()];
  };
  switch (i.arg) {
    case SH_ROL:
    case SH_ROR: {
      // Rotates are mod the width (a rotate by 0 of it still sets CF and OF from the value). A rotate by 0 through
      // the formula below gives the value too: wasm takes shift counts mod 32, and 8/16-bit values shifted right
      // by their width are 0.
      let rc = -1;
      let constant: number | null = null;
      if (count === null) {
        f.get(c).i32(bits - 1).op(OP.i32And);
        rc = g.toLocal();
      } else constant = count & (bits - 1);
      const pushRc = (): void => void (constant === null ? f.get(rc) : f.i32(constant));
      if (i.arg === SH_ROL) {
        f.get(v);
        pushRc();
        f.op(OP.i32Shl).get(v);
        pushBitsLessCount(rc, constant);
        f.op(OP.i32ShrU).op(OP.i32Or);
      } else {
        f.get(v);
        pushRc();
        f.op(OP.i32ShrU).get(v);
        pushBitsLessCount(rc, constant);
        f.op(OP.i32Shl).op(OP.i32Or);
      }
      wrap();
      r = g.toLocal();
      if (i.arg === SH_ROL) f.get(r).i32(1).op(OP.i32And);
      else topBit(r);
      cf = g.toLocal();
      rest = i.arg === SH_ROL ? (x, c2) => ofMsbXorCf(x, c2) : (x) => ofTopTwo(x);
      break;
    }
    case SH_SHL:
    case SH_SAL:
      mask = 0x8d5;
      // CF: the last bit out, 0 once the count passes the width (8/16 bits: counts up to 31). By CL, bits minus a
      // count past the width is (mod 32, wasm's shift counts) at least 9 for 8 bits and 17 for 16: past the value, 0 too.
      if (count === null) {
        f.get(v);
        pushBitsLessCount(c, null);
        f.op(OP.i32ShrU).i32(1).op(OP.i32And);
      } else if (count <= bits) f.get(v).i32(bits - count).op(OP.i32ShrU).i32(1).op(OP.i32And);
      else f.i32(0);
      cf = g.toLocal();
      f.get(v);
      pushCount(0);
      f.op(OP.i32Shl);
      wrap();
      r = g.toLocal();
      rest = (x, c2) => {
        ofMsbXorCf(x, c2);
        f.get(x).i32(0x10).op(OP.i32And).op(OP.i32Or);
        pushSzp(f, x, size);
        f.op(OP.i32Or);
      };
      break;
    case SH_SHR:
      // (Past the width of an 8/16-bit value both shifts give 0, as the interpreter's CF and result.)
      [cf, r] = shiftRight(v, OP.i32ShrU);
      rest = (x) => {
        ofTopTwo(x);
        f.i32(0x10).op(OP.i32Or);
        pushSzp(f, x, size);
        f.op(OP.i32Or);
      };
      break;
    default: {
      // SAR: the sign-extended value shifted (past the width of an 8/16-bit value: all sign bits, CF the sign).
      f.get(v);
      if (size < 4) f.i32(32 - bits).op(OP.i32Shl).i32(32 - bits).op(OP.i32ShrS);
      [cf, r] = shiftRight(g.toLocal(), OP.i32ShrS);
      rest = (x) => {
        f.i32(0x10);
        pushSzp(f, x, size);
        f.op(OP.i32Or);
      };
    }
  }
  writeBack(g, i, r);
  g.setFlagBits(mask, () => {
    f.get(cf);
    rest(r, cf);
    f.op(OP.i32Or);
  });
  return countEpilogue(g, count);
}
