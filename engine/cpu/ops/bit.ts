// Bit instructions and the 486/Pentium atomic exchanges (SDM vol. 2 BT, BTS, BTR, BTC, BSF, BSR, BSWAP, XADD,
// CMPXCHG, CMPXCHG8B).
//
// BT* with a register bit offset and a memory operand address memory beyond the operand: the offset is signed and
// selects the word or dword at EA + (offset SAR 4)·2 or EA + (offset SAR 5)·4 (SDM BT, "bit base" addressing); the
// immediate form takes the offset modulo the operand width. Undefined flags (OF SF AF PF for BT*, all but ZF for
// BSF/BSR) keep their values (no capture of what a 386 leaves there was available). BSWAP, XADD and CMPXCHG
// (486) raise #UD on the 386 model; CMPXCHG8B (Pentium) on models without CPUID.CX8 (model.ts).

import type { Cpu } from '../cpu';
import { EAX, EBX, ECX, EDX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { BT_COMPLEMENT, BT_RESET, BT_SET, BT_TEST } from '../decode/table';
import { fault, rule, VEC_UD } from '../faults';
import { CF, LOP_ADD, LOP_SUB, ZF } from '../flags';
import { truncate } from './alu';
import { CPUID_CX8 } from '../model';

const R_UD_486_ONLY = rule(
  'bit.486-instruction-on-386',
  'BSWAP, XADD, CMPXCHG and CMPXCHG8B do not exist on the 80386 (invalid opcode there)',
  'SDM 2 BSWAP/XADD/CMPXCHG — IA-32 Architecture Compatibility',
);

const R_UD_NO_CX8 = rule('bit.cmpxchg8b-without-cx8', 'CMPXCHG8B on a processor without it (CPUID.01H:EDX.CX8 = 0: the 80386 and the Intel486)', 'SDM 2 CMPXCHG8B — IA-32 Architecture Compatibility');

function require486(cpu: Cpu): void {
  if (!cpu.model.i486) fault(VEC_UD, -1, R_UD_486_ONLY);
}

/** Applies the BT operation `op` to bit `bit` of `v`; returns the new value (v for BT). */
function bitOp(op: number, v: number, bit: number, size: number): number {
  const m = 1 << bit;
  switch (op) {
    case BT_SET: return truncate(v | m, size);
    case BT_RESET: return truncate(v & ~m, size);
    case BT_COMPLEMENT: return truncate(v ^ m, size);
    default: return v;
  }
}

function bitTest(cpu: Cpu, i: Instr, offset: number, registerOffset: boolean): void {
  const size = i.size;
  const bits = size * 8;
  const bit = offset & (bits - 1);
  const op = i.arg;
  if (i.rm >= 0) {
    const v = cpu.getReg(size, i.rm);
    if (op !== BT_TEST) cpu.setReg(size, i.rm, bitOp(op, v, bit, size));
    cpu.setFlagBits(CF, (v >>> bit) & 1);
    return;
  }
  let off = cpu.ea(i);
  if (registerOffset) {
    // Signed offset: whole words/dwords below or above the operand (SDM BT, Figure "Bit Offset for BIT[RAX, 21]").
    const signedOffset = size === 4 ? offset | 0 : (offset << 16) >> 16;
    const displacement = size === 4 ? (signedOffset >> 5) * 4 : (signedOffset >> 4) * 2;
    off = i.as32 ? (off + displacement) >>> 0 : (off + displacement) & 0xffff;
  }
  const v = cpu.readMem(i.seg, off, size) >>> 0;
  if (op !== BT_TEST) cpu.writeMem(i.seg, off, size, bitOp(op, v, bit, size));
  cpu.setFlagBits(CF, (v >>> bit) & 1);
}

/** BSF/BSR: a zero source sets ZF and leaves the destination unchanged (the 386/486 behaviour). */
function bitScan(cpu: Cpu, i: Instr, forward: boolean): void {
  const v = cpu.readRm(i, i.size) >>> 0;
  if (v === 0) {
    cpu.setFlagBits(ZF, ZF);
    return;
  }
  const index = forward ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
  cpu.setReg(i.size, i.reg, index);
  cpu.setFlagBits(ZF, 0);
}

export const handlers: Record<string, Handler> = {
  btEG(cpu, i) {
    bitTest(cpu, i, cpu.getReg(i.size, i.reg), true);
  },
  btEI(cpu, i) {
    bitTest(cpu, i, i.imm, false);
  },
  bsf(cpu, i) {
    bitScan(cpu, i, true);
  },
  bsr(cpu, i) {
    bitScan(cpu, i, false);
  },

  // BSWAP r32 reverses the bytes. With a 16-bit operand size the result is undefined (SDM BSWAP); the 486 and later
  // Intel chips clear the low word and keep the high word, which is what Ringside does.
  bswap(cpu, i) {
    require486(cpu);
    const n = i.reg;
    if (!i.os32) {
      cpu.regs16[n << 1] = 0;
      return;
    }
    const v = cpu.regs[n];
    cpu.regs[n] = ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
  },

  // XADD: TEMP ← SRC + DEST; SRC ← DEST; DEST ← TEMP; flags as ADD.
  xadd(cpu, i) {
    require486(cpu);
    const size = i.size;
    const src = cpu.getReg(size, i.reg);
    let dest: number;
    let sum: number;
    if (i.rm >= 0) {
      dest = cpu.getReg(size, i.rm);
      sum = truncate(dest + src, size);
      cpu.setReg(size, i.reg, dest);
      cpu.setReg(size, i.rm, sum);
    } else {
      const off = cpu.ea(i);
      dest = cpu.readMem(i.seg, off, size) >>> 0;
      sum = truncate(dest + src, size);
      cpu.writeMem(i.seg, off, size, sum);
      cpu.setReg(size, i.reg, dest);
    }
    cpu.setLazyFlags(LOP_ADD, dest, src, sum, size, 0);
  },

  // CMPXCHG (486): compare the accumulator with DEST; equal → DEST ← SRC, else accumulator ← DEST. The destination
  // is written in both cases (SDM CMPXCHG: "the destination operand is written back if the comparison fails").
  cmpxchg(cpu, i) {
    require486(cpu);
    const size = i.size;
    const acc = cpu.getReg(size, EAX);
    const src = cpu.getReg(size, i.reg);
    let dest: number;
    let equal: boolean;
    if (i.rm >= 0) {
      dest = cpu.getReg(size, i.rm);
      equal = dest === acc;
      if (equal) cpu.setReg(size, i.rm, src);
      else cpu.setReg(size, EAX, dest);
    } else {
      const off = cpu.ea(i);
      dest = cpu.readMem(i.seg, off, size) >>> 0;
      equal = dest === acc;
      cpu.writeMem(i.seg, off, size, equal ? src : dest);
      if (!equal) cpu.setReg(size, EAX, dest);
    }
    cpu.setLazyFlags(LOP_SUB, acc, dest, truncate(acc - dest, size), size, 0);
  },

  // CMPXCHG8B m64: EDX:EAX = m64 → ZF = 1, m64 ← ECX:EBX; else ZF = 0, EDX:EAX ← m64 (written back unchanged).
  cmpxchg8b(cpu, i) {
    if ((cpu.model.features & CPUID_CX8) === 0) fault(VEC_UD, -1, R_UD_NO_CX8, cpu.model.name);
    const off = cpu.ea(i);
    const offHigh = i.as32 ? (off + 4) >>> 0 : (off + 4) & 0xffff;
    cpu.checkWrite(i.seg, off, 8);
    const lo = cpu.readMem(i.seg, off, 4) >>> 0;
    const hi = cpu.readMem(i.seg, offHigh, 4) >>> 0;
    const equal = lo === cpu.regs[EAX] >>> 0 && hi === cpu.regs[EDX] >>> 0;
    if (equal) {
      cpu.writeMem(i.seg, off, 4, cpu.regs[EBX]);
      cpu.writeMem(i.seg, offHigh, 4, cpu.regs[ECX]);
      cpu.setFlagBits(ZF, ZF);
    } else {
      cpu.writeMem(i.seg, off, 4, lo);
      cpu.writeMem(i.seg, offHigh, 4, hi);
      cpu.regs[EAX] = lo;
      cpu.regs[EDX] = hi;
      cpu.setFlagBits(ZF, 0);
    }
  },
};
