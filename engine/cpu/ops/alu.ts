// Integer arithmetic and logic (SDM vol. 1 §7.3.2, §7.3.3; vol. 2 ADD … XOR, INC, DEC, NEG, NOT, TEST, CBW/CWD,
// LAHF/SAHF, CLC/STC/CMC/CLD/STD, SETcc) and the undocumented SALC (D6).
//
// The arithmetic flags of the eight ALU operations, INC/DEC and NEG are lazy: a handler records operation, operands
// and result (Cpu.setLazyFlags) after its store succeeded, so a faulting store leaves EFLAGS untouched. Logic
// operations leave AF undefined; the 386 clears it, which is what LOP_LOGIC computes.

import type { Cpu } from '../cpu';
import { EAX, EDX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { ALU_ADC, ALU_ADD, ALU_AND, ALU_CMP, ALU_OR, ALU_SBB, ALU_SUB, ALU_XOR } from '../decode/table';
import { AF, CF, DF, LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_NEG, LOP_SUB, PF, SF, ZF } from '../flags';

/** Masks a value to an operand size (1, 2 or 4 bytes), unsigned. */
export function truncate(v: number, size: number): number {
  return size === 4 ? v >>> 0 : size === 2 ? v & 0xffff : v & 0xff;
}

/** Lazy-flag operation of each ALU operation, indexed by ALU_ADD … ALU_CMP. */
const LAZY_OP = Uint8Array.of(LOP_ADD, LOP_LOGIC, LOP_ADD, LOP_SUB, LOP_LOGIC, LOP_SUB, LOP_LOGIC, LOP_SUB);

/** Carry or borrow consumed by the last aluResult (ADC/SBB), for the flag record written after the store. */
let aluCarryIn = 0;

/** The result of ALU operation `op` on unsigned operands of `size` bytes; sets aluCarryIn. No state changes. */
function aluResult(cpu: Cpu, op: number, a: number, b: number, size: number): number {
  let res: number;
  aluCarryIn = 0;
  switch (op) {
    case ALU_ADD: res = a + b; break;
    case ALU_OR: res = a | b; break;
    case ALU_ADC: aluCarryIn = cpu.getCF() ? 1 : 0; res = a + b + aluCarryIn; break;
    case ALU_SBB: aluCarryIn = cpu.getCF() ? 1 : 0; res = a - b - aluCarryIn; break;
    case ALU_AND: res = a & b; break;
    case ALU_XOR: res = a ^ b; break;
    default: res = a - b; break; // ALU_SUB, ALU_CMP
  }
  return truncate(res, size);
}

/** Applies ALU operation `op` to the r/m destination with source `b`; CMP only sets flags. */
function aluToRm(cpu: Cpu, i: Instr, op: number, b: number): void {
  const size = i.size;
  let a: number;
  let res: number;
  if (i.rm >= 0) {
    a = cpu.getReg(size, i.rm);
    res = aluResult(cpu, op, a, b, size);
    if (op !== ALU_CMP) cpu.setReg(size, i.rm, res);
  } else {
    const off = cpu.ea(i);
    a = cpu.readMem(i.seg, off, size) >>> 0;
    res = aluResult(cpu, op, a, b, size);
    if (op !== ALU_CMP) cpu.writeMem(i.seg, off, size, res);
  }
  cpu.setLazyFlags(LAZY_OP[op], a, b, res, size, aluCarryIn);
}

/** Applies ALU operation `op` to general register `reg` with source `b`. */
function aluToReg(cpu: Cpu, op: number, size: number, reg: number, b: number): void {
  const a = cpu.getReg(size, reg);
  const res = aluResult(cpu, op, a, b, size);
  if (op !== ALU_CMP) cpu.setReg(size, reg, res);
  cpu.setLazyFlags(LAZY_OP[op], a, b, res, size, aluCarryIn);
}

/** TEST: AND for the flags only. */
function testFlags(cpu: Cpu, a: number, b: number, size: number): void {
  cpu.setLazyFlags(LOP_LOGIC, a, b, truncate(a & b, size), size, 0);
}

/** INC/DEC of the r/m operand (CF is preserved, SDM INC/DEC). */
function incDecRm(cpu: Cpu, i: Instr, lop: number): void {
  const size = i.size;
  let a: number;
  let res: number;
  if (i.rm >= 0) {
    a = cpu.getReg(size, i.rm);
    res = truncate(lop === LOP_INC ? a + 1 : a - 1, size);
    cpu.setReg(size, i.rm, res);
  } else {
    const off = cpu.ea(i);
    a = cpu.readMem(i.seg, off, size) >>> 0;
    res = truncate(lop === LOP_INC ? a + 1 : a - 1, size);
    cpu.writeMem(i.seg, off, size, res);
  }
  cpu.setLazyFlagsKeepCF(lop, a, 1, res, size);
}

function incDecReg(cpu: Cpu, i: Instr, lop: number): void {
  const a = cpu.getReg(i.size, i.reg);
  const res = truncate(lop === LOP_INC ? a + 1 : a - 1, i.size);
  cpu.setReg(i.size, i.reg, res);
  cpu.setLazyFlagsKeepCF(lop, a, 1, res, i.size);
}

/** NOT (no flags) and NEG (flags as 0 − operand; CF = operand ≠ 0, SDM NEG). */
function notNeg(cpu: Cpu, i: Instr, neg: boolean): void {
  const size = i.size;
  let a: number;
  let res: number;
  if (i.rm >= 0) {
    a = cpu.getReg(size, i.rm);
    res = truncate(neg ? -a : ~a, size);
    cpu.setReg(size, i.rm, res);
  } else {
    const off = cpu.ea(i);
    a = cpu.readMem(i.seg, off, size) >>> 0;
    res = truncate(neg ? -a : ~a, size);
    cpu.writeMem(i.seg, off, size, res);
  }
  if (neg) cpu.setLazyFlags(LOP_NEG, 0, a, res, size, 0);
}

const SAHF_FLAGS = SF | ZF | AF | PF | CF;

export const handlers: Record<string, Handler> = {
  aluEG(cpu, i) {
    aluToRm(cpu, i, i.arg, cpu.getReg(i.size, i.reg));
  },
  aluGE(cpu, i) {
    aluToReg(cpu, i.arg, i.size, i.reg, cpu.readRm(i, i.size) >>> 0);
  },
  aluAI(cpu, i) {
    aluToReg(cpu, i.arg, i.size, EAX, truncate(i.imm, i.size));
  },
  aluEI(cpu, i) {
    aluToRm(cpu, i, i.arg, truncate(i.imm, i.size));
  },

  testEG(cpu, i) {
    testFlags(cpu, cpu.readRm(i, i.size) >>> 0, cpu.getReg(i.size, i.reg), i.size);
  },
  testAI(cpu, i) {
    testFlags(cpu, cpu.getReg(i.size, EAX), truncate(i.imm, i.size), i.size);
  },
  testEI(cpu, i) {
    testFlags(cpu, cpu.readRm(i, i.size) >>> 0, truncate(i.imm, i.size), i.size);
  },

  incZ(cpu, i) {
    incDecReg(cpu, i, LOP_INC);
  },
  decZ(cpu, i) {
    incDecReg(cpu, i, LOP_DEC);
  },
  incE(cpu, i) {
    incDecRm(cpu, i, LOP_INC);
  },
  decE(cpu, i) {
    incDecRm(cpu, i, LOP_DEC);
  },
  notE(cpu, i) {
    notNeg(cpu, i, false);
  },
  negE(cpu, i) {
    notNeg(cpu, i, true);
  },

  cmc(cpu) {
    cpu.setFlagBits(CF, cpu.getCF() ? 0 : CF);
  },
  clc(cpu) {
    cpu.setFlagBits(CF, 0);
  },
  stc(cpu) {
    cpu.setFlagBits(CF, CF);
  },
  cld(cpu) {
    cpu.setFlagBits(DF, 0);
  },
  std(cpu) {
    cpu.setFlagBits(DF, DF);
  },

  // LAHF: AH ← SF:ZF:0:AF:0:PF:1:CF (SDM LAHF); bits 3 and 5 read 0, bit 1 reads 1.
  lahf(cpu) {
    cpu.setReg(1, 4, (cpu.getEflags() & SAHF_FLAGS) | 0x2);
  },
  // SAHF loads SF ZF AF PF CF from AH; the reserved bits keep their fixed values.
  sahf(cpu) {
    cpu.setFlagBits(SAHF_FLAGS, cpu.getReg(1, 4));
  },

  // CBW / CWDE by operand size (SDM CBW/CWDE/CDQE).
  cbw(cpu, i) {
    if (i.size === 4) cpu.regs[EAX] = (cpu.regs16[EAX << 1] << 16) >> 16;
    else cpu.regs16[EAX << 1] = (cpu.regs8[0] << 24) >> 24;
  },
  // CWD / CDQ: DX or EDX ← the sign of AX or EAX, replicated.
  cwd(cpu, i) {
    if (i.size === 4) cpu.regs[EDX] = cpu.regs[EAX] >> 31;
    else cpu.regs16[EDX << 1] = (cpu.regs16[EAX << 1] << 16) >> 31;
  },

  setcc(cpu, i) {
    cpu.writeRm(i, 1, cpu.condition(i.arg) ? 1 : 0);
  },
  // SALC (undocumented D6, present on every Intel x86): AL ← CF ? FFh : 00h, flags unchanged.
  salc(cpu) {
    cpu.regs8[0] = cpu.getCF() ? 0xff : 0;
  },
};
