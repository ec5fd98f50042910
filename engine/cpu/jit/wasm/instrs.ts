// The instruction forms WebAssembly blocks translate, each doing what its interpreter handler does (ops/alu.ts,
// move.ts, stack.ts, control.ts): the same operands, the same flag record, memory and registers written only after
// the access checks (a check that fails leaves before the instruction: wasm/gen.ts). `supported` says which forms
// and operands a block may hold; anything else ends the wasm block, and the wrapper interprets it.

import { ALU_ADC, ALU_CMP, ALU_SBB, SH_ROL, SH_ROR, SH_SAL, SH_SAR, SH_SHL, SH_SHR } from '../../decode/table';
import type { Instr } from '../../decode/instr';
import { CPUID_CMOV, CPUID_CX8, CPUID_TSC } from '../../model';
import { AF, ARITH, ARITH_NO_CF, CF, DF, ZF, LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_NEG, LOP_SUB, RF, VM } from '../../flags';
import { pushCondition, pushFlag, pushSzp, type WasmRecord } from './flags';
import { GOES_ON, LEFT, OP, P_LIMIT, type WasmGen } from './gen';
import { address, constLocal, pushEa, readRm, readRmForWrite, regLocal, writeBack, writeRm } from './operands';
import { doubleShift, shift, SHIFTS } from './shifts';
import { bitScan, bitTest, compareExchange, compareExchange8, exchangeAdd } from './bits';
import { clearInterruptFlag, readTimeStampCounter, setInterruptFlag } from './system';
import { stringOp, stringSupported } from './strings';

const EAX = 0, ECX = 1, EDX = 2, ESP = 4, EBP = 5, ESI = 6, EDI = 7, ES = 0, SS = 2, GS = 5;

export { GOES_ON, LEFT };

const LAZY_OP = [LOP_ADD, LOP_LOGIC, LOP_ADD, LOP_SUB, LOP_LOGIC, LOP_SUB, LOP_LOGIC, LOP_SUB];
const ALU_OPCODE = [OP.i32Add, OP.i32Or, 0, 0, OP.i32And, OP.i32Sub, OP.i32Xor, OP.i32Sub];

type Form = (g: WasmGen, i: Instr) => number;

function record(g: WasmGen, op: number, size: number, a: number, b: number, r: number, mask = ARITH, cin: number | null = null): void {
  g.pending = { op, size, mask, a, b, r, cin } satisfies WasmRecord;
}

/** The carry in of ADC/SBB (CF now) in a new local, or null for the other operations. */
function carryIn(g: WasmGen, op: number): number | null {
  if (op !== ALU_ADC && op !== ALU_SBB) return null;
  pushFlag(g.f, g.flags, g.pending, CF, g.readsLocal);
  return g.toLocal();
}

/** r = a OP b (OP cin), truncated to `size`, in a new local. */
function compute(g: WasmGen, op: number, size: number, a: number, b: number, cin: number | null = null): number {
  const code = op === ALU_ADC ? OP.i32Add : op === ALU_SBB ? OP.i32Sub : ALU_OPCODE[op];
  g.f.get(a).get(b).op(code);
  if (cin !== null) g.f.get(cin).op(code);
  g.truncate(size);
  return g.toLocal();
}

/** An ALU operation with an r/m destination; `b` is a local holding the source. */
function aluToRm(g: WasmGen, i: Instr, b: number): number {
  const size = i.size;
  const op = i.arg;
  const cin = carryIn(g, op);
  if (i.rm >= 0) {
    g.pushReg(size, i.rm);
    const a = g.toLocal();
    const r = compute(g, op, size, a, b, cin);
    if (op !== ALU_CMP) {
      g.f.get(r);
      g.popReg(size, i.rm);
    }
    record(g, LAZY_OP[op], size, a, b, r, ARITH, cin);
    return GOES_ON;
  }
  // One check for both accesses: a page a store may touch inline can be read inline too.
  address(g, i, size, op !== ALU_CMP);
  g.load(size);
  const a = g.toLocal();
  const r = compute(g, op, size, a, b, cin);
  if (op !== ALU_CMP) {
    g.f.get(g.ph).get(r);
    g.store(size);
  }
  record(g, LAZY_OP[op], size, a, b, r, ARITH, cin);
  return GOES_ON;
}

function aluToReg(g: WasmGen, op: number, size: number, reg: number, b: number): number {
  const cin = carryIn(g, op);
  const a = regLocal(g, size, reg);
  const r = compute(g, op, size, a, b, cin);
  if (op !== ALU_CMP) {
    g.f.get(r);
    g.popReg(size, reg);
  }
  record(g, LAZY_OP[op], size, a, b, r, ARITH, cin);
  return GOES_ON;
}

function test(g: WasmGen, size: number, a: number, b: number): number {
  g.f.get(a).get(b).op(OP.i32And);
  const r = g.toLocal();
  record(g, LOP_LOGIC, size, a, b, r);
  return GOES_ON;
}

/** INC/DEC: a pending CF is folded into the flags first, the new record leaves CF out (setLazyFlagsKeepCF). */
function incDec(g: WasmGen, i: Instr, inc: boolean, reg: number | null): number {
  const size = i.size;
  const p = g.pending;
  if (p !== null && (p.mask & CF) !== 0) {
    g.f.get(g.flags).i32(~CF).op(OP.i32And);
    pushFlag(g.f, g.flags, p, CF, g.readsLocal);
    g.f.op(OP.i32Or).set(g.flags);
    g.stale &= ~CF;
  }
  const one = constLocal(g, 4, 1);
  const n = reg ?? i.rm;
  let a: number;
  if (n >= 0) a = regLocal(g, size, n);
  else {
    address(g, i, size, true);
    g.load(size);
    a = g.toLocal();
  }
  const r = compute(g, inc ? 0 : 5, size, a, one);
  if (n >= 0) {
    g.f.get(r);
    g.popReg(size, n);
  } else {
    g.f.get(g.ph).get(r);
    g.store(size);
  }
  record(g, inc ? LOP_INC : LOP_DEC, size, a, one, r, ARITH_NO_CF);
  return GOES_ON;
}

/** CLD/STD (alu.ts cld, std): DF lies outside the lazy record, so a pending record stays pending (gen.ts ownFlags). */
function direction(g: WasmGen, set: boolean): number {
  const f = g.f;
  g.ownFlags();
  f.get(g.flags).i32(~DF).op(OP.i32And);
  if (set) f.i32(DF).op(OP.i32Or);
  f.set(g.flags);
  return GOES_ON;
}

/** CLC, STC, CMC: the flags eager, then CF. */
function carry(g: WasmGen, how: 'clear' | 'set' | 'complement'): number {
  g.fold();
  const f = g.f;
  f.get(g.flags);
  if (how === 'complement') {
    g.readsLocal(CF);
    f.i32(CF).op(OP.i32Xor);
  }
  else {
    f.i32(~CF).op(OP.i32And);
    if (how === 'set') f.i32(CF).op(OP.i32Or);
  }
  f.set(g.flags);
  g.stale &= ~CF;
  return GOES_ON;
}

function nearTarget(i: Instr, target: number): number {
  return i.os32 ? target >>> 0 : target & 0xffff;
}

function continuesAt(g: WasmGen, eip: number): boolean {
  const next = g.instrs[g.k + 1];
  return next !== undefined && next.eip === eip;
}

function fallThroughOrLeave(g: WasmGen, next: number): number {
  if (continuesAt(g, next)) return GOES_ON;
  g.exit(next, g.k + 1);
  return LEFT;
}

/** PUSH of the 4-byte value in local `v`: the store, then ESP (Cpu.push). */
function push(g: WasmGen, v: number): void {
  const f = g.f;
  f.get(g.g[ESP]).i32(4).op(OP.i32Sub);
  const sp = g.toLocal();
  f.get(sp);
  g.checkAccess(4, true);
  f.get(g.ph).get(v);
  g.store(4);
  f.get(sp).set(g.g[ESP]);
}

/** The dword at the top of the stack, into a new local (`v`), and ESP as it was (`sp`); ESP is not written. */
function peek(g: WasmGen): { sp: number; v: number } {
  const sp = regLocal(g, 4, ESP);
  g.f.get(sp);
  g.checkAccess(4, false);
  g.load(4);
  return { sp, v: g.toLocal() };
}

/**
 * EDX:EAX ← EAX × r/m32 (MUL, IMUL: muldiv.ts mulAcc) or r32 ← r32 × r/m32 (× imm) (IMUL: imul32), through a 64-bit
 * product; flags as setMulFlags: CF = OF = the high half is not the extension of the low, SF ZF PF from the high
 * half, AF set.
 */
function multiply(g: WasmGen, i: Instr, signed: boolean, a: number, b: number, dest: number | null): number {
  const f = g.f;
  const extend = signed ? OP.i64ExtendI32S : OP.i64ExtendI32U;
  f.get(a).op(extend).get(b).op(extend).op(OP.i64Mul);
  const wide = g.toLocal64();
  f.get(wide).op(OP.i32WrapI64);
  const r = g.toLocal();
  f.get(wide).i64(32).op(OP.i64ShrU).op(OP.i32WrapI64);
  const h = g.toLocal();
  if (dest === null) {
    f.get(r).set(g.g[EAX]);
    f.get(h).set(g.g[EDX]);
  } else f.get(r).set(g.g[dest]);
  g.setFlagBits(0x8d5, () => {
    f.get(h);
    if (signed) f.get(r).i32(31).op(OP.i32ShrS);
    else f.i32(0);
    f.op(OP.i32Ne).i32(0x801).op(OP.i32Mul).i32(0x10).op(OP.i32Or);
    pushSzp(f, h, 4);
    f.op(OP.i32Or);
  });
  return GOES_ON;
}

/**
 * DIV/IDIV r/m32 (muldiv.ts divAcc, idivAcc): EDX:EAX divided by the operand, quotient to EAX, remainder to EDX,
 * AF set and the other flags kept. A divisor of 0 or a quotient that does not fit 32 bits leaves for the
 * interpreter before anything is written, which raises #DE there (SDM 2A, DIV/IDIV: fault semantics). IDIV's
 * EDX:EAX = −2^63 by −1 overflows too (and would trap in wasm's i64 division): it leaves before dividing.
 */
function divide(g: WasmGen, i: Instr, signed: boolean): number {
  const f = g.f;
  const d = readRm(g, i, 4);
  const n = g.f.local64();
  f.get(g.g[EDX]).op(OP.i64ExtendI32U).i64(32).op(OP.i64Shl).get(g.g[EAX]).op(OP.i64ExtendI32U).op(OP.i64Or).set(n);
  f.get(d).op(OP.i32Eqz);
  if (signed) f.get(d).i32(-1).op(OP.i32Eq).get(g.g[EDX]).i32(0x80000000 | 0).op(OP.i32Eq).op(OP.i32And).get(g.g[EAX]).op(OP.i32Eqz).op(OP.i32And).op(OP.i32Or);
  else f.get(g.g[EDX]).get(d).op(OP.i32GeU).op(OP.i32Or);
  g.open(OP.if);
  g.interpretHere();
  g.close();
  const extend = signed ? OP.i64ExtendI32S : OP.i64ExtendI32U;
  f.get(n).get(d).op(extend).op(signed ? OP.i64DivS : OP.i64DivU);
  const q = g.toLocal64();
  if (signed) {
    // The quotient must be a 32-bit signed value.
    f.get(q).get(q).op(OP.i32WrapI64).op(OP.i64ExtendI32S).op(OP.i64Ne);
    g.open(OP.if);
    g.interpretHere();
    g.close();
  }
  f.get(n).get(d).op(extend).op(signed ? OP.i64RemS : OP.i64RemU).op(OP.i32WrapI64).set(g.g[EDX]);
  f.get(q).op(OP.i32WrapI64).set(g.g[EAX]);
  g.setFlagBits(AF, () => void f.i32(AF));
  return GOES_ON;
}

const FORMS: Record<string, Form> = {
  btEG: (g, i) => bitTest(g, i, true),
  btEI: (g, i) => bitTest(g, i, false),
  bsf: (g, i) => bitScan(g, i, true, readRm(g, i, i.size)),
  bsr: (g, i) => bitScan(g, i, false, readRm(g, i, i.size)),
  xadd: exchangeAdd,
  cmpxchg: compareExchange,
  cmpxchg8b: compareExchange8,
  rdtsc: readTimeStampCounter,
  cli: clearInterruptFlag,
  sti: setInterruptFlag,
  divE: (g, i) => divide(g, i, false),
  idivE: (g, i) => divide(g, i, true),
  shld: (g, i) => doubleShift(g, i, true),
  shrd: (g, i) => doubleShift(g, i, false),
  /** MOV AL/eAX, moffs and MOV moffs, AL/eAX (A0–A3): the offset is the displacement (move.ts movAO, movOA). */
  movAO: (g, i) => {
    g.f.get(readRm(g, i, i.size));
    g.popReg(i.size, EAX);
    return GOES_ON;
  },
  movOA: (g, i) => {
    writeRm(g, i, i.size, regLocal(g, i.size, EAX));
    return GOES_ON;
  },
  /** LEAVE with a 32-bit stack and operand size: the dword at SS:EBP read first, then ESP = EBP + 4, EBP = it. */
  leave: (g) => {
    const f = g.f;
    const sp = regLocal(g, 4, EBP);
    f.get(sp);
    g.checkAccess(4, false);
    g.load(4);
    const v = g.toLocal();
    f.get(sp).i32(4).op(OP.i32Add).set(g.g[ESP]);
    f.get(v).set(g.g[EBP]);
    return GOES_ON;
  },
  /**
   * CMOVcc (p6.ts cmov): the source is read whatever the condition (a memory operand can fault either way), the
   * destination written only when it holds (outside 64-bit mode a false condition writes nothing: SDM 2A CMOVcc).
   */
  cmov: (g, i) => {
    const f = g.f;
    const v = readRm(g, i, i.size);
    pushCondition(f, g.flags, g.pending, i.arg, g.readsLocal);
    g.open(OP.if);
    f.get(v);
    g.popReg(i.size, i.reg);
    g.close();
    return GOES_ON;
  },
  /** BSWAP r32 (bit.ts): the bytes reversed. */
  bswap: (g, i) => {
    const f = g.f;
    const r = g.g[i.reg];
    f.get(r).i32(24).op(OP.i32ShrU);
    f.get(r).i32(8).op(OP.i32ShrU).i32(0xff00).op(OP.i32And).op(OP.i32Or);
    f.get(r).i32(0xff00).op(OP.i32And).i32(8).op(OP.i32Shl).op(OP.i32Or);
    f.get(r).i32(24).op(OP.i32Shl).op(OP.i32Or).set(r);
    return GOES_ON;
  },
  /** CWD/CDQ: DX or EDX ← the sign of AX or EAX (alu.ts cwd). */
  cwd: (g, i) => {
    const f = g.f;
    if (i.size === 4) f.get(g.g[EAX]).i32(31).op(OP.i32ShrS).set(g.g[EDX]);
    else {
      f.get(g.g[EAX]).i32(16).op(OP.i32Shl).i32(31).op(OP.i32ShrS);
      g.popReg(2, EDX);
    }
    return GOES_ON;
  },
  /** CBW/CWDE: AX ← AL or EAX ← AX, sign-extended (alu.ts cbw). */
  cbw: (g, i) => {
    const f = g.f;
    const bits = i.size === 4 ? 16 : 24;
    f.get(g.g[EAX]).i32(bits).op(OP.i32Shl).i32(bits).op(OP.i32ShrS);
    g.popReg(i.size, EAX);
    return GOES_ON;
  },
  pushI: (g, i) => {
    push(g, constLocal(g, 4, i.imm));
    return GOES_ON;
  },
  /** PUSH r/m32: the operand is read (its address computed with ESP before the push) first (stack.ts pushE). */
  pushE: (g, i) => {
    push(g, readRm(g, i, 4));
    return GOES_ON;
  },
  /** XCHG r/m, r (move.ts xchgEG): with memory, the read, then the store, then the register. */
  xchgEG: (g, i) => {
    const r = regLocal(g, i.size, i.reg);
    const m = readRmForWrite(g, i);
    writeBack(g, i, r);
    g.f.get(m);
    g.popReg(i.size, i.reg);
    return GOES_ON;
  },
  setcc: (g, i) => {
    pushCondition(g.f, g.flags, g.pending, i.arg, g.readsLocal);
    writeRm(g, i, 1, g.toLocal());
    return GOES_ON;
  },
  movsx: (g, i) => {
    const src = (i.opcode & 1) !== 0 ? 2 : 1;
    const v = readRm(g, i, src);
    g.f.get(v).i32(32 - src * 8).op(OP.i32Shl).i32(32 - src * 8).op(OP.i32ShrS);
    g.popReg(i.size, i.reg);
    return GOES_ON;
  },
  mulE: (g, i) => {
    const b = readRm(g, i, 4);
    return multiply(g, i, false, regLocal(g, 4, EAX), b, null);
  },
  imulE: (g, i) => {
    const b = readRm(g, i, 4);
    return multiply(g, i, true, regLocal(g, 4, EAX), b, null);
  },
  imulGE: (g, i) => {
    const b = readRm(g, i, 4);
    return multiply(g, i, true, regLocal(g, 4, i.reg), b, i.reg);
  },
  imulGEI: (g, i) => {
    const a = readRm(g, i, 4);
    return multiply(g, i, true, a, constLocal(g, 4, i.imm), i.reg);
  },
  /** LOOP/LOOPE/LOOPNE with ECX (control.ts loop): the count is written, then the branch taken or not. */
  loop: (g, i) => {
    const f = g.f;
    const bi = g.cur;
    f.get(g.g[ECX]).i32(1).op(OP.i32Sub).set(g.g[ECX]);
    f.get(g.g[ECX]).i32(0).op(OP.i32Ne);
    if (i.arg !== 2) {
      pushFlag(f, g.flags, g.pending, ZF, g.readsLocal);
      if (i.arg === 0) f.op(OP.i32Eqz);
      f.op(OP.i32And);
    }
    g.open(OP.if);
    g.branchTo(nearTarget(i, bi.next + i.imm));
    g.close();
    return fallThroughOrLeave(g, bi.next);
  },
  shiftI: (g, i) => shift(g, i, i.imm & 0x1f),
  shift1: (g, i) => shift(g, i, 1),
  shiftCL: (g, i) => shift(g, i, null),
  movs: (g, i) => stringOp(g, i, 'movs'),
  cmps: (g, i) => stringOp(g, i, 'cmps'),
  stos: (g, i) => stringOp(g, i, 'stos'),
  lods: (g, i) => stringOp(g, i, 'lods'),
  scas: (g, i) => stringOp(g, i, 'scas'),
  notE: (g, i) => {
    const a = readRmForWrite(g, i);
    g.f.get(a).i32(-1).op(OP.i32Xor);
    g.truncate(i.size);
    writeBack(g, i, g.toLocal());
    return GOES_ON;
  },
  negE: (g, i) => {
    const a = readRmForWrite(g, i);
    const zero = constLocal(g, 4, 0);
    g.f.i32(0).get(a).op(OP.i32Sub);
    g.truncate(i.size);
    const r = g.toLocal();
    writeBack(g, i, r);
    record(g, LOP_NEG, i.size, zero, a, r);
    return GOES_ON;
  },
  /** PUSHFD: EFLAGS with VM and RF clear (SDM 2B, PUSHF); never V86 here (32-bit code), so no #GP. */
  pushf: (g) => {
    g.fold();
    g.readsLocal(ARITH);
    g.f.get(g.flags).i32(~(VM | RF)).op(OP.i32And);
    push(g, g.toLocal());
    return GOES_ON;
  },
  /**
   * POPFD of an image that differs from EFLAGS in arithmetic flags only, with RF clear (GRUB's PUSHF … POPF around
   * code that must keep CF): popfResult would give the image itself, and nothing needs the run loop. Any other image
   * (IF, TF, IOPL, RF …) goes to the interpreter's POPF.
   */
  popf: (g) => {
    const f = g.f;
    const { sp, v } = peek(g);
    f.get(v).get(g.flags).op(OP.i32Xor).i32(~ARITH).op(OP.i32And).get(g.flags).i32(RF).op(OP.i32And).op(OP.i32Or);
    g.open(OP.if);
    g.interpretHere();
    g.close();
    f.get(sp).i32(4).op(OP.i32Add).set(g.g[ESP]);
    f.get(v).set(g.flags);
    g.pending = null;
    g.stale = 0;
    return GOES_ON;
  },

  movEG: (g, i) => {
    writeRm(g, i, i.size, regLocal(g, i.size, i.reg));
    return GOES_ON;
  },
  movGE: (g, i) => {
    g.f.get(readRm(g, i, i.size));
    g.popReg(i.size, i.reg);
    return GOES_ON;
  },
  movEI: (g, i) => {
    writeRm(g, i, i.size, constLocal(g, i.size, i.imm));
    return GOES_ON;
  },
  movZI: (g, i) => {
    g.pushConst(i.size, i.imm);
    g.popReg(i.size, i.reg);
    return GOES_ON;
  },
  movzx: (g, i) => {
    g.f.get(readRm(g, i, (i.opcode & 1) !== 0 ? 2 : 1));
    g.popReg(i.size, i.reg);
    return GOES_ON;
  },
  lea: (g, i) => {
    pushEa(g, i);
    g.popReg(i.size, i.reg);
    return GOES_ON;
  },
  nop: () => GOES_ON,
  aluEG: (g, i) => aluToRm(g, i, regLocal(g, i.size, i.reg)),
  aluEI: (g, i) => aluToRm(g, i, constLocal(g, i.size, i.imm)),
  aluGE: (g, i) => aluToReg(g, i.arg, i.size, i.reg, readRm(g, i, i.size)),
  aluAI: (g, i) => aluToReg(g, i.arg, i.size, EAX, constLocal(g, i.size, i.imm)),
  testEG: (g, i) => {
    const a = readRm(g, i, i.size);
    return test(g, i.size, a, regLocal(g, i.size, i.reg));
  },
  testEI: (g, i) => test(g, i.size, readRm(g, i, i.size), constLocal(g, i.size, i.imm)),
  testAI: (g, i) => test(g, i.size, regLocal(g, i.size, EAX), constLocal(g, i.size, i.imm)),
  incZ: (g, i) => incDec(g, i, true, i.reg),
  decZ: (g, i) => incDec(g, i, false, i.reg),
  incE: (g, i) => incDec(g, i, true, null),
  decE: (g, i) => incDec(g, i, false, null),
  /** XCHG r, eAX (91–97; move.ts xchgZA): Linux's lukewarm code has them where an interpreter call cost a return to JS. */
  xchgZA: (g, i) => {
    const a = regLocal(g, i.size, EAX);
    g.pushReg(i.size, i.reg);
    g.popReg(i.size, EAX);
    g.f.get(a);
    g.popReg(i.size, i.reg);
    return GOES_ON;
  },
  cld: (g) => direction(g, false),
  std: (g) => direction(g, true),
  clc: (g) => carry(g, 'clear'),
  stc: (g) => carry(g, 'set'),
  cmc: (g) => carry(g, 'complement'),
  pushZ: (g, i) => {
    push(g, regLocal(g, 4, i.reg));
    return GOES_ON;
  },
  popZ: (g, i) => {
    const { sp, v } = peek(g);
    g.f.get(sp).i32(4).op(OP.i32Add).set(g.g[ESP]);
    g.f.get(v).set(g.g[i.reg]);
    return GOES_ON;
  },
  jcc: (g, i) => {
    const bi = g.cur;
    const target = nearTarget(i, bi.next + i.imm);
    pushCondition(g.f, g.flags, g.pending, i.arg, g.readsLocal);
    if (target !== g.instrs[0].eip && target !== bi.next && continuesAt(g, target)) {
      // The trace went on at the target: falling through is the side exit.
      g.f.op(OP.i32Eqz);
      g.open(OP.if);
      g.exit(bi.next, g.k + 1);
      g.close();
      return GOES_ON;
    }
    g.open(OP.if);
    g.branchTo(target);
    g.close();
    return fallThroughOrLeave(g, bi.next);
  },
  jmpRel: (g, i) => {
    const target = nearTarget(i, g.cur.next + i.imm);
    if (continuesAt(g, target)) return GOES_ON;
    g.branchTo(target);
    return LEFT;
  },
  callRel: (g, i) => {
    const bi = g.cur;
    const target = nearTarget(i, bi.next + i.imm);
    push(g, constLocal(g, 4, bi.next));
    if (continuesAt(g, target)) return GOES_ON;
    g.exit(target, g.k + 1);
    return LEFT;
  },
  retNear: (g, i) => {
    const f = g.f;
    const { sp, v: t } = peek(g);
    // A return address past the CS limit raises #GP(0) before anything changes (SDM 2A, RET): the interpreter's.
    f.get(t).get(P_LIMIT).op(OP.i32GtU);
    g.open(OP.if);
    g.interpretHere();
    g.close();
    f.get(sp).i32(4 + i.imm).op(OP.i32Add).set(g.g[ESP]);
    const predicted = g.instrs[g.k + 1];
    if (predicted !== undefined) {
      f.get(t).i32(predicted.eip | 0).op(OP.i32Ne);
      g.open(OP.if);
      g.exitWith(() => f.get(t), g.k + 1);
      g.close();
      return GOES_ON;
    }
    g.exitWith(() => f.get(t), g.k + 1);
    return LEFT;
  },
};

/** Stack forms: a 32-bit operand size, and SS flat (the stack's linear address is ESP itself). */
function stackOk(i: Instr, flat: number): boolean {
  return i.size === 4 && i.os32 && (flat & (1 << SS)) !== 0;
}

/** What a wasm block needs of the Cpu model: BSWAP is a 486 instruction, CMOVcc a P6 one announced by CPUID. */
export interface FormModel {
  readonly i486: boolean;
  readonly features: number;
}

/**
 * Whether a wasm block may hold `i` (its handler is the table's: the caller checks) with flat segments `flat`, on
 * a CPU of `model`. Memory operands need a 32-bit address size; through a segment that is not flat they add its
 * base at run time (wasm/operands.ts).
 */
export function supported(i: Instr, flat: number, model: FormModel): boolean {
  const name = i.row!.handler;
  if (FORMS[name] === undefined || (i.rm < 0 && !i.as32) || i.seg > GS) return false;
  switch (name) {
    case 'shiftI':
    case 'shift1':
    case 'shiftCL':
      return SHIFTS.has(i.arg);
    case 'movs':
    case 'cmps':
    case 'stos':
    case 'lods':
    case 'scas':
      return stringSupported(i, name, flat);
    case 'lea':
      return i.size !== 1;
    case 'divE':
    case 'idivE':
    case 'shld':
    case 'shrd':
    case 'mulE':
    case 'imulE':
    case 'imulGE':
    case 'imulGEI':
      return i.size === 4;
    case 'loop':
      return i.as32;
    case 'cmov':
      return (model.features & CPUID_CMOV) !== 0;
    case 'bswap':
      return model.i486 && i.os32;
    case 'xadd':
    case 'cmpxchg':
      return model.i486;
    // The models without them raise #UD (CPUID.01H:EDX.TSC, .CX8), as does CMPXCHG8B with a register operand.
    case 'rdtsc':
      return (model.features & CPUID_TSC) !== 0;
    case 'cmpxchg8b':
      return (model.features & CPUID_CX8) !== 0 && i.rm < 0;
    case 'pushf':
    case 'popf':
    case 'pushI':
    case 'pushE':
    case 'pushZ':
    case 'popZ':
    case 'callRel':
    case 'retNear':
    case 'leave':
      return stackOk(i, flat);
    default:
      return true;
  }
}

export function emitForm(g: WasmGen, i: Instr): number {
  return FORMS[i.row!.handler](g, i);
}
