// Shifts and rotates (SDM vol. 2 RCL/RCR/ROL/ROR, SAL/SAR/SHL/SHR, SHLD, SHRD).
//
// The 386 masks every count to 5 bits (SDM SAL/SAR/SHL/SHR "IA-32 Architecture Compatibility"). A masked count of 0
// changes nothing, flags included. RCL/RCR on 8- and 16-bit operands rotate through CF over 9 or 17 bits, so their
// count is taken mod 9 or 17 after the mask; ROL/ROR rotate mod 8 or 16 but still set CF from the result.
//
// Flags are computed eagerly into scratch variables and applied after the store, so a faulting store leaves EFLAGS
// alone. Undefined flags follow one rule per instruction for every count (the SDM defines OF only for count 1):
//   ROL/RCL: OF = MSB(result) XOR CF; ROR/RCR: OF = the top two result bits XORed; SHL: OF = MSB(result) XOR CF;
//   SHR: OF = the top two result bits XORed (= the original MSB for count 1); SAR: OF = 0;
//   AF: SHL/SAL copy result bit 4 (the carry out of bit 3 of the doubling), SHR/SAR set it.
// These are what the SingleStepTests 80286 captures show with their undefined-flag masks removed (all 1,000
// shift tests agree); no 386 capture of these cases was available, and the 286 and 386 share these rules as far
// as any published comparison goes.

import { Cpu, ECX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { SH_RCL, SH_RCR, SH_ROL, SH_ROR, SH_SAR, SH_SHR } from '../decode/table';
import { AF, CF, OF, PF, SF, ZF } from '../flags';
import { truncate } from './alu';

const ROTATE_FLAGS = CF | OF;
const SHIFT_FLAGS = CF | OF | SF | ZF | AF | PF;

/** Result and flags of the last shiftCompute / doubleShiftCompute (applied after the store). */
let shFlags = 0;
let shMask = 0;

function msbOf(v: number, size: number): number {
  return (v >>> (size * 8 - 1)) & 1;
}

/** OF for right rotates and SHR: the two most significant result bits XORed. */
function topTwoXor(res: number, size: number): number {
  const bits = size * 8;
  return ((res >>> (bits - 1)) ^ (res >>> (bits - 2))) & 1;
}

/** Shift or rotate `v` (unsigned, `size` bytes) by a count already masked to 1…31. Sets shFlags/shMask. */
export function shiftCompute(kind: number, v: number, count: number, size: number, cfIn: number): number {
  const bits = size * 8;
  let res: number;
  let cf: number;
  switch (kind) {
    case SH_ROL: {
      const c = count & (bits - 1);
      res = c === 0 ? v : truncate((v << c) | (v >>> (bits - c)), size);
      cf = res & 1;
      shFlags = (cf !== 0 ? CF : 0) | ((msbOf(res, size) ^ cf) !== 0 ? OF : 0);
      shMask = ROTATE_FLAGS;
      return res;
    }
    case SH_ROR: {
      const c = count & (bits - 1);
      res = c === 0 ? v : truncate((v >>> c) | (v << (bits - c)), size);
      cf = msbOf(res, size);
      shFlags = (cf !== 0 ? CF : 0) | (topTwoXor(res, size) !== 0 ? OF : 0);
      shMask = ROTATE_FLAGS;
      return res;
    }
    case SH_RCL: {
      const c = size === 4 ? count : count % (bits + 1);
      if (c === 0) {
        res = v;
        cf = cfIn;
      } else if (size === 4) {
        res = ((v << c) | (cfIn << (c - 1)) | (c === 1 ? 0 : v >>> (33 - c))) >>> 0;
        cf = (v >>> (32 - c)) & 1;
      } else {
        // Rotate the (bits+1)-bit value CF:v; it fits a 32-bit int.
        const x = v | (cfIn << bits);
        const w = bits + 1;
        const r = ((x << c) | (x >>> (w - c))) & ((1 << w) - 1);
        res = r & ((1 << bits) - 1);
        cf = r >>> bits;
      }
      shFlags = (cf !== 0 ? CF : 0) | ((msbOf(res, size) ^ cf) !== 0 ? OF : 0);
      shMask = ROTATE_FLAGS;
      return res;
    }
    case SH_RCR: {
      const c = size === 4 ? count : count % (bits + 1);
      if (c === 0) {
        res = v;
        cf = cfIn;
      } else if (size === 4) {
        res = ((v >>> c) | (cfIn << (32 - c)) | (c === 1 ? 0 : v << (33 - c))) >>> 0;
        cf = (v >>> (c - 1)) & 1;
      } else {
        const x = v | (cfIn << bits);
        const w = bits + 1;
        const r = ((x >>> c) | (x << (w - c))) & ((1 << w) - 1);
        res = r & ((1 << bits) - 1);
        cf = r >>> bits;
      }
      shFlags = (cf !== 0 ? CF : 0) | (topTwoXor(res, size) !== 0 ? OF : 0);
      shMask = ROTATE_FLAGS;
      return res;
    }
    case SH_SHR:
      if (count <= bits) {
        cf = (v >>> (count - 1)) & 1;
        res = v >>> count;
      } else {
        cf = 0;
        res = 0;
      }
      shFlags = (cf !== 0 ? CF : 0) | (topTwoXor(res, size) !== 0 ? OF : 0) | AF | Cpu.szp(res, size);
      shMask = SHIFT_FLAGS;
      return res;
    case SH_SAR: {
      const s = size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
      if (count >= bits) {
        res = truncate(s >> 31, size);
        cf = s < 0 ? 1 : 0;
      } else {
        res = truncate(s >> count, size);
        cf = (s >> (count - 1)) & 1;
      }
      shFlags = (cf !== 0 ? CF : 0) | AF | Cpu.szp(res, size);
      shMask = SHIFT_FLAGS;
      return res;
    }
    default: // SH_SHL, SH_SAL
      if (count <= bits) {
        cf = (v >>> (bits - count)) & 1;
        res = truncate(v << count, size);
      } else {
        cf = 0;
        res = 0;
      }
      shFlags = (cf !== 0 ? CF : 0) | ((msbOf(res, size) ^ cf) !== 0 ? OF : 0) | (res & AF) | Cpu.szp(res, size);
      shMask = SHIFT_FLAGS;
      return res;
  }
}

/** Shift/rotate the r/m operand by a raw count (masked to 5 bits here). */
function shiftRm(cpu: Cpu, i: Instr, rawCount: number): void {
  const count = rawCount & 0x1f;
  const size = i.size;
  if (i.rm >= 0) {
    if (count === 0) return;
    const v = cpu.getReg(size, i.rm);
    const res = shiftCompute(i.arg, v, count, size, cpu.getCF() ? 1 : 0);
    cpu.setReg(size, i.rm, res);
  } else {
    const off = cpu.ea(i);
    const v = cpu.readMem(i.seg, off, size) >>> 0;
    if (count === 0) return;
    const res = shiftCompute(i.arg, v, count, size, cpu.getCF() ? 1 : 0);
    cpu.writeMem(i.seg, off, size, res);
  }
  cpu.setFlagBits(shMask, shFlags);
}

/**
 * SHLD/SHRD: shift `d` by `count` (1…31), filling from `s`. 16-bit counts above 16 are undefined (SDM SHLD/SHRD);
 * Ringside then shifts the 48-bit pattern d:s:d (SHLD) or d:s:d read from the other end (SHRD), which is what the
 * barrel shifter of later Intel chips produces; no 386 capture of these cases was available to check against.
 * Flags: CF = last bit out, OF = MSB changed (defined for count 1, kept for all), SZP from the result, AF = 0.
 */
export function doubleShiftCompute(left: boolean, d: number, s: number, count: number, size: number): number {
  let res: number;
  let cf: number;
  if (size === 4) {
    if (left) {
      res = ((d << count) | (s >>> (32 - count))) >>> 0;
      cf = (d >>> (32 - count)) & 1;
    } else {
      res = ((d >>> count) | (s << (32 - count))) >>> 0;
      cf = (d >>> (count - 1)) & 1;
    }
  } else if (left) {
    if (count <= 16) {
      res = ((d << count) | (s >>> (16 - count))) & 0xffff;
      cf = (d >>> (16 - count)) & 1;
    } else {
      res = ((s << (count - 16)) | (d >>> (32 - count))) & 0xffff;
      cf = (s >>> (32 - count)) & 1;
    }
  } else if (count <= 16) {
    res = ((d >>> count) | (s << (16 - count))) & 0xffff;
    cf = (d >>> (count - 1)) & 1;
  } else {
    res = ((s >>> (count - 16)) | (d << (32 - count))) & 0xffff;
    cf = (s >>> (count - 17)) & 1;
  }
  shFlags = (cf !== 0 ? CF : 0) | ((msbOf(res, size) ^ msbOf(d, size)) !== 0 ? OF : 0) | Cpu.szp(res, size);
  shMask = SHIFT_FLAGS;
  return res;
}

function doubleShift(cpu: Cpu, i: Instr, left: boolean, rawCount: number): void {
  const count = rawCount & 0x1f;
  const size = i.size;
  const s = cpu.getReg(size, i.reg);
  if (i.rm >= 0) {
    if (count === 0) return;
    const res = doubleShiftCompute(left, cpu.getReg(size, i.rm), s, count, size);
    cpu.setReg(size, i.rm, res);
  } else {
    const off = cpu.ea(i);
    const d = cpu.readMem(i.seg, off, size) >>> 0;
    if (count === 0) return;
    const res = doubleShiftCompute(left, d, s, count, size);
    cpu.writeMem(i.seg, off, size, res);
  }
  cpu.setFlagBits(shMask, shFlags);
}

/** SHLD/SHRD take the count from Ib (0F A4 / 0F AC) or CL (0F A5 / 0F AD). */
function doubleShiftCount(cpu: Cpu, i: Instr): number {
  return (i.opcode & 1) === 0 ? i.imm : cpu.regs8[ECX << 2];
}

export const handlers: Record<string, Handler> = {
  shiftI(cpu, i) {
    shiftRm(cpu, i, i.imm);
  },
  shift1(cpu, i) {
    shiftRm(cpu, i, 1);
  },
  shiftCL(cpu, i) {
    shiftRm(cpu, i, cpu.regs8[ECX << 2]);
  },
  shld(cpu, i) {
    doubleShift(cpu, i, true, doubleShiftCount(cpu, i));
  },
  shrd(cpu, i) {
    doubleShift(cpu, i, false, doubleShiftCount(cpu, i));
  },
};
