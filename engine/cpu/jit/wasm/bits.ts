// Bit instructions and the 486 and Pentium exchanges in WebAssembly blocks, as the interpreter's bit.ts does them:
// BT, BTS, BTR, BTC (register and immediate bit offsets), BSF, BSR, XADD, CMPXCHG, CMPXCHG8B. Undefined flags keep
// their values, as there (that module's head).

import type { Instr } from '../../decode/instr';
import { BT_COMPLEMENT, BT_RESET, BT_SET, BT_TEST } from '../../decode/table';
import { ARITH, CF, LOP_ADD, LOP_SUB, ZF } from '../../flags';
import { GOES_ON, OP, type WasmGen } from './gen';
import { address, pushEa, pushLinear, readRmForWrite, regLocal, writeBack } from './operands';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3;

/**
 * BT/BTS/BTR/BTC r/m, r or imm8 (bit.ts bitTest): the bit offset is taken modulo the width, except that a
 * register offset with a memory operand is signed and selects the word or dword at EA + (offset SAR 4)·2 or
 * EA + (offset SAR 5)·4 (SDM 2A, BT: "bit base" addressing). CF gets the bit as it was; the others are kept.
 */
export function bitTest(g: WasmGen, i: Instr, registerOffset: boolean): number {
  const f = g.f;
  const size = i.size;
  const bits = size * 8;
  const op = i.arg;
  const write = op !== BT_TEST;
  let offset: number;
  if (registerOffset) offset = regLocal(g, size, i.reg);
  else {
    f.i32(i.imm & (bits - 1));
    offset = g.toLocal();
  }
  if (i.rm >= 0) g.pushReg(size, i.rm);
  else {
    pushEa(g, i);
    if (registerOffset) {
      f.get(offset);
      if (size === 2) f.i32(16).op(OP.i32Shl).i32(16).op(OP.i32ShrS);
      f.i32(size === 4 ? 5 : 4).op(OP.i32ShrS).i32(size === 4 ? 2 : 1).op(OP.i32Shl).op(OP.i32Add);
    }
    pushLinear(g, i.seg, size, write);
    g.checkAccess(size, write);
    g.load(size);
  }
  const v = g.toLocal();
  f.get(offset).i32(bits - 1).op(OP.i32And);
  const bit = g.toLocal();
  if (write) {
    f.get(v).i32(1).get(bit).op(OP.i32Shl);
    if (op === BT_SET) f.op(OP.i32Or);
    else if (op === BT_RESET) f.i32(-1).op(OP.i32Xor).op(OP.i32And);
    else if (op === BT_COMPLEMENT) f.op(OP.i32Xor);
    g.truncate(size);
    const r = g.toLocal();
    writeBack(g, i, r);
  }
  g.setFlagBits(CF, () => void f.get(v).get(bit).op(OP.i32ShrU).i32(1).op(OP.i32And));
  return GOES_ON;
}

/**
 * BSF/BSR (bit.ts bitScan): a source of 0 sets ZF and leaves the destination alone (the 386/486 behaviour); else
 * the index of the lowest or highest set bit goes to the destination and ZF is cleared. The other flags are kept.
 */
export function bitScan(g: WasmGen, i: Instr, forward: boolean, v: number): number {
  const f = g.f;
  f.get(v);
  g.open(OP.if);
  if (forward) f.get(v).op(OP.i32Ctz);
  else f.i32(31).get(v).op(OP.i32Clz).op(OP.i32Sub);
  g.popReg(i.size, i.reg);
  g.close();
  g.setFlagBits(ZF, () => void f.get(v).op(OP.i32Eqz).i32(6).op(OP.i32Shl));
  return GOES_ON;
}

/**
 * XADD r/m, r (bit.ts xadd): the sum to the destination, its old value to the register — in that order for a
 * memory destination, register first for a register one (so XADD r, r leaves the sum) — and ADD's flags.
 */
export function exchangeAdd(g: WasmGen, i: Instr): number {
  const f = g.f;
  const size = i.size;
  const src = regLocal(g, size, i.reg);
  const dest = readRmForWrite(g, i);
  f.get(dest).get(src).op(OP.i32Add);
  g.truncate(size);
  const sum = g.toLocal();
  if (i.rm >= 0) {
    f.get(dest);
    g.popReg(size, i.reg);
    writeBack(g, i, sum);
  } else {
    writeBack(g, i, sum);
    f.get(dest);
    g.popReg(size, i.reg);
  }
  g.pending = { op: LOP_ADD, size, mask: ARITH, a: dest, b: src, r: sum, cin: null };
  return GOES_ON;
}

/**
 * CMPXCHG r/m, r (bit.ts cmpxchg): the accumulator compared with the destination; equal, the source goes to the
 * destination, else the destination to the accumulator. A memory destination is written in both cases (SDM 2A,
 * CMPXCHG). CMP's flags of accumulator − destination.
 */
export function compareExchange(g: WasmGen, i: Instr): number {
  const f = g.f;
  const size = i.size;
  const acc = regLocal(g, size, EAX);
  const src = regLocal(g, size, i.reg);
  const dest = readRmForWrite(g, i);
  f.get(dest).get(acc).op(OP.i32Eq);
  const equal = g.toLocal();
  if (i.rm >= 0) {
    f.get(equal);
    g.open(OP.if);
    f.get(src);
    g.popReg(size, i.rm);
    f.op(OP.else);
    f.get(dest);
    g.popReg(size, EAX);
    g.close();
  } else {
    f.get(src).get(dest).get(equal).op(OP.select);
    writeBack(g, i, g.toLocal());
    f.get(equal).op(OP.i32Eqz);
    g.open(OP.if);
    f.get(dest);
    g.popReg(size, EAX);
    g.close();
  }
  f.get(acc).get(dest).op(OP.i32Sub);
  g.truncate(size);
  g.pending = { op: LOP_SUB, size, mask: ARITH, a: acc, b: dest, r: g.toLocal(), cin: null };
  return GOES_ON;
}

/**
 * CMPXCHG8B m64 (bit.ts cmpxchg8b): EDX:EAX compared with the quadword; equal, ECX:EBX goes to memory and ZF is set,
 * else the quadword to EDX:EAX and ZF is cleared. The interpreter checks the 8 bytes for a write first (SDM 2A,
 * CMPXCHG8B: the destination is written back unchanged when unequal); here one check covers them all, so the
 * unchanged write back is no store at all (a page whose flags allow the store inline holds no code, watch or
 * device). The other flags are kept. The model's CPUID.CX8 and the memory operand are asked when the block is built
 * (instrs.ts supported).
 */
export function compareExchange8(g: WasmGen, i: Instr): number {
  const f = g.f;
  address(g, i, 8, true);
  g.load(4);
  const lo = g.toLocal();
  f.get(g.ph).mem(OP.i32Load, 4);
  const hi = g.toLocal();
  f.get(lo).get(g.g[EAX]).op(OP.i32Eq).get(hi).get(g.g[EDX]).op(OP.i32Eq).op(OP.i32And);
  const equal = g.toLocal();
  f.get(equal);
  g.open(OP.if);
  f.get(g.ph).get(g.g[EBX]);
  g.store(4);
  f.get(g.ph).get(g.g[ECX]).mem(OP.i32Store, 4);
  f.op(OP.else);
  f.get(lo).set(g.g[EAX]);
  f.get(hi).set(g.g[EDX]);
  g.close();
  g.setFlagBits(ZF, () => void f.get(equal).i32(6).op(OP.i32Shl));
  return GOES_ON;
}
