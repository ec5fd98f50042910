// Inline translations of the hot instruction forms. Each emitter writes source that does exactly what the
// interpreter's handler does (ops/alu.ts, move.ts, stack.ts, control.ts, shift.ts): the same checks in the same
// order, every store before the flag record, registers written only after the last check that can fault. An
// emitter returns false for a form it does not translate; the compiler then calls the interpreter's handler.

import { ALU_ADC, ALU_CMP, ALU_SBB, SH_ROL, SH_ROR, SH_SAR, SH_SHL, SH_SAL, SH_SHR } from '../decode/table';
import type { Instr } from '../decode/instr';
import { imulHigh32, mulHighU32 } from '../ops/muldiv';
import {
  ARITH,
  ARITH_NO_CF,
  Emitter,
  LOAD_REGS,
  LOP_ADD,
  LOP_DEC,
  LOP_INC,
  LOP_LOGIC,
  LOP_NEG,
  LOP_SUB,
  signedExpr,
  sizeMaskLiteral,
  STORE_REGS,
  truncateExpr,
} from './emitter';

const EAX = 0, EDX = 2, EBP = 5, SS = 2;

/** How an emitted instruction ends: it falls through, or it has already left the block on every path. */
export const FALLS_THROUGH = 1;
export const LEAVES = 2;
export const NOT_TRANSLATED = 0;
export type EmitResult = typeof FALLS_THROUGH | typeof LEAVES | typeof NOT_TRANSLATED;

export type OpEmitter = (g: Emitter, i: Instr) => EmitResult;

const LAZY_OP = [LOP_ADD, LOP_LOGIC, LOP_ADD, LOP_SUB, LOP_LOGIC, LOP_SUB, LOP_LOGIC, LOP_SUB];
const ALU_EXPR = ['+', '|', '+', '-', '&', '-', '^', '-'];

/** Emits res = a OP b (with carry for ADC/SBB) and returns the record fields. */
function aluCompute(g: Emitter, op: number, size: number, a: string, b: string): { r: string; cin: string } {
  const r = g.local('r');
  let cin = '0';
  if (op === ALU_ADC || op === ALU_SBB) {
    cin = g.local('c');
    g.emit(`${cin} = ${g.cf()} ? 1 : 0;`);
    g.emit(`${r} = ${truncateExpr(`${a} ${op === ALU_ADC ? '+' : '-'} ${b} ${op === ALU_ADC ? '+' : '-'} ${cin}`, size)};`);
  } else {
    g.emit(`${r} = ${truncateExpr(`${a} ${ALU_EXPR[op]} ${b}`, size)};`);
  }
  return { r, cin };
}

/** ALU operation with an r/m destination (aluEG, aluEI): `b` is an already masked source expression. */
function aluToRm(g: Emitter, i: Instr, op: number, bSource: string): EmitResult {
  const size = i.size;
  const a = g.local('a');
  const b = g.local('b');
  g.emit(`${b} = ${bSource};`);
  if (i.rm >= 0) {
    g.emit(`${a} = ${g.readReg(size, i.rm)};`);
    const { r, cin } = aluCompute(g, op, size, a, b);
    if (op !== ALU_CMP) g.writeReg(size, i.rm, r);
    g.setRecord({ op: LAZY_OP[op], size, a, b, r, cin, mask: ARITH });
    return FALLS_THROUGH;
  }
  const off = g.local('o');
  g.emit(`${off} = ${g.ea(i)};`);
  g.read(i.seg, off, size, a);
  const { r, cin } = aluCompute(g, op, size, a, b);
  if (op !== ALU_CMP) g.write(i.seg, off, size, r);
  g.setRecord({ op: LAZY_OP[op], size, a, b, r, cin, mask: ARITH });
  g.exitIfAsked();
  return FALLS_THROUGH;
}

/** Reads the r/m operand into a new local (unsigned). */
export function readRm(g: Emitter, i: Instr, size: number, stem: string): string {
  const v = g.local(stem);
  if (i.rm >= 0) {
    g.emit(`${v} = ${g.readReg(size, i.rm)};`);
  } else {
    const off = g.local('o');
    g.emit(`${off} = ${g.ea(i)};`);
    g.read(i.seg, off, size, v);
  }
  return v;
}

function usesMemory(i: Instr): boolean {
  return i.rm < 0;
}

export function afterMemory(g: Emitter, i: Instr): EmitResult {
  if (usesMemory(i)) g.exitIfAsked();
  return FALLS_THROUGH;
}

/** aluGE / aluAI: register destination. */
function aluRegDest(g: Emitter, op: number, size: number, reg: number, bLocal: string): void {
  const a = g.local('a');
  g.emit(`${a} = ${g.readReg(size, reg)};`);
  const { r, cin } = aluCompute(g, op, size, a, bLocal);
  if (op !== ALU_CMP) g.writeReg(size, reg, r);
  g.setRecord({ op: LAZY_OP[op], size, a, b: bLocal, r, cin, mask: ARITH });
}

function testRecord(g: Emitter, size: number, a: string, b: string): void {
  const r = g.local('r');
  g.emit(`${r} = ${truncateExpr(`${a} & ${b}`, size)};`);
  g.setRecord({ op: LOP_LOGIC, size, a, b, r, cin: '0', mask: ARITH });
}

function incDec(g: Emitter, i: Instr, inc: boolean, reg: number | null): EmitResult {
  const size = i.size;
  const a = g.local('a');
  const r = g.local('r');
  const lop = inc ? LOP_INC : LOP_DEC;
  const compute = (): void => g.emit(`${r} = ${truncateExpr(`${a} ${inc ? '+' : '-'} 1`, size)};`);
  if (reg !== null || i.rm >= 0) {
    const n = reg ?? i.rm;
    g.emit(`${a} = ${g.readReg(size, n)};`);
    compute();
    g.writeReg(size, n, r);
    g.setRecord({ op: lop, size, a, b: '1', r, cin: '0', mask: ARITH_NO_CF });
    return FALLS_THROUGH;
  }
  const off = g.local('o');
  g.emit(`${off} = ${g.ea(i)};`);
  g.read(i.seg, off, size, a);
  compute();
  g.write(i.seg, off, size, r);
  g.setRecord({ op: lop, size, a, b: '1', r, cin: '0', mask: ARITH_NO_CF });
  g.exitIfAsked();
  return FALLS_THROUGH;
}

function notNeg(g: Emitter, i: Instr, neg: boolean): EmitResult {
  const size = i.size;
  const a = g.local('a');
  const r = g.local('r');
  const compute = (): void => g.emit(`${r} = ${truncateExpr(neg ? `-${a}` : `~${a}`, size)};`);
  if (i.rm >= 0) {
    g.emit(`${a} = ${g.readReg(size, i.rm)};`);
    compute();
    g.writeReg(size, i.rm, r);
  } else {
    const off = g.local('o');
    g.emit(`${off} = ${g.ea(i)};`);
    g.read(i.seg, off, size, a);
    compute();
    g.write(i.seg, off, size, r);
  }
  if (neg) g.setRecord({ op: LOP_NEG, size, a: '0', b: a, r, cin: '0', mask: ARITH });
  return afterMemory(g, i);
}

function writeRm(g: Emitter, i: Instr, size: number, value: string): EmitResult {
  if (i.rm >= 0) {
    g.writeReg(size, i.rm, value);
    return FALLS_THROUGH;
  }
  const off = g.local('o');
  g.emit(`${off} = ${g.ea(i)};`);
  g.write(i.seg, off, size, value);
  g.exitIfAsked();
  return FALLS_THROUGH;
}

/** A constant operand of `size` bytes as generated code holds it (int32 for 4 bytes: emitter.ts, "Values"). */
function sizeValue(size: number, v: number): number {
  return size === 4 ? v | 0 : size === 2 ? v & 0xffff : v & 0xff;
}

/** Near branch target truncated by operand size (control.ts nearTarget); the CS limit is tested where used. */
function nearTarget(i: Instr, target: number): number {
  return i.os32 ? target >>> 0 : target & 0xffff;
}

/**
 * Leaves the block for a taken branch to the constant `target` (within the CS limit: the run loop checks every
 * constant target of the block at entry, CompiledBlock.lastByte). A branch back to the block's start repeats the
 * block while a whole pass fits the budget.
 */
function branchTo(g: Emitter, target: number, commit = ''): string {
  const k = g.k;
  const start = g.instrs[0].eip;
  let s = commit;
  if (target === start) {
    const len = g.instrs.length;
    g.backEdgePending = g.pending;
    // With a loop-carried record (second emission pass) the pending record stays in its locals for the next pass.
    const carry = g.loopCarried >= 0 && g.pending === g.loopCarried ? 'lp = 1;' : `${g.storeRecord(g.pending)} lp = 0;`;
    s += ` n += ${k + 1}; if (left - n >= ${len}) { ${carry} continue; }`;
    s += ` ${g.exitSource(String(target), 'n')}`;
  } else {
    s += ` ${g.exitSource(String(target), `n + ${k + 1}`)}`;
  }
  return s;
}

/** Whether the trace goes on at `eip` right after the current instruction. */
function continuesAt(g: Emitter, eip: number): boolean {
  const next = g.instrs[g.k + 1];
  return next !== undefined && next.eip === eip;
}

/** After a conditional branch's taken path: go on with the fall-through in the trace, or leave for it. */
function fallThroughOrLeave(g: Emitter, next: number): EmitResult {
  if (continuesAt(g, next)) return FALLS_THROUGH;
  g.emit(traceEndSource(g, next));
  return LEAVES;
}

/**
 * The end of a trace whose current (last) instruction goes on at `next` without a branch of its own: back to the
 * block's start when `next` is the start (the block repeats), else an exit. A trace that begins inside a loop (its
 * head is where an earlier block, cut at MAX_BLOCK_INSTRUCTIONS, left off: lib/mpi's multiply loops in Linux) runs
 * the loop's back branch in its middle and reaches its own start by falling through; leaving there instead sent
 * every pass back through the dispatcher. Only a fall-through that does not wrap EIP (or IP) around counts.
 */
export function traceEndSource(g: Emitter, next: number): string {
  const bi = g.cur;
  if (next === g.instrs[0].eip && bi.eip + bi.i.len === next) return branchTo(g, next);
  return g.exitSource(String(next), `n + ${g.k + 1}`);
}

/** Source that runs the interpreter's handler for the current instruction, with the pending flags stored first. */
export function interpreterCall(g: Emitter, i: Instr): string {
  const bi = g.cur;
  const store = g.storeRecord(g.pending);
  // The handler's memory accesses may reach a device: it sees the time the interpreter's would (Emitter.deviceTime).
  return `${store} ${STORE_REGS} c.instrStart = ${bi.eip}; c.eip = ${bi.next}; ${g.deviceTime()} H(${g.constant(i.exec)}, c, ${g.constant(i)}); c.jitRetired = 0; ${LOAD_REGS}`;
}

const EMITTERS: Record<string, OpEmitter> = {
  aluEG(g, i) {
    return aluToRm(g, i, i.arg, g.readReg(i.size, i.reg));
  },
  aluEI(g, i) {
    return aluToRm(g, i, i.arg, String(sizeValue(i.size, i.imm)));
  },
  aluGE(g, i) {
    const b = readRm(g, i, i.size, 'b');
    aluRegDest(g, i.arg, i.size, i.reg, b);
    return afterMemory(g, i);
  },
  aluAI(g, i) {
    const b = g.local('b');
    g.emit(`${b} = ${sizeValue(i.size, i.imm)};`);
    aluRegDest(g, i.arg, i.size, EAX, b);
    return FALLS_THROUGH;
  },
  testEG(g, i) {
    const a = readRm(g, i, i.size, 'a');
    const b = g.local('b');
    g.emit(`${b} = ${g.readReg(i.size, i.reg)};`);
    testRecord(g, i.size, a, b);
    return afterMemory(g, i);
  },
  testEI(g, i) {
    const a = readRm(g, i, i.size, 'a');
    testRecord(g, i.size, a, String(sizeValue(i.size, i.imm)));
    return afterMemory(g, i);
  },
  testAI(g, i) {
    const a = g.local('a');
    g.emit(`${a} = ${g.readReg(i.size, EAX)};`);
    testRecord(g, i.size, a, String(sizeValue(i.size, i.imm)));
    return FALLS_THROUGH;
  },
  incZ: (g, i) => incDec(g, i, true, i.reg),
  decZ: (g, i) => incDec(g, i, false, i.reg),
  incE: (g, i) => incDec(g, i, true, null),
  decE: (g, i) => incDec(g, i, false, null),
  notE: (g, i) => notNeg(g, i, false),
  negE: (g, i) => notNeg(g, i, true),

  movEG(g, i) {
    const v = g.local('v');
    g.emit(`${v} = ${g.readReg(i.size, i.reg)};`);
    return writeRm(g, i, i.size, v);
  },
  movGE(g, i) {
    const v = readRm(g, i, i.size, 'v');
    g.writeReg(i.size, i.reg, v);
    return afterMemory(g, i);
  },
  movEI(g, i) {
    return writeRm(g, i, i.size, String(sizeValue(i.size, i.imm)));
  },
  movZI(g, i) {
    g.writeReg(i.size, i.reg, String(sizeValue(i.size, i.imm)));
    return FALLS_THROUGH;
  },
  movAO(g, i) {
    const v = readRm(g, i, i.size, 'v');
    g.writeReg(i.size, EAX, v);
    return afterMemory(g, i);
  },
  movOA(g, i) {
    const v = g.local('v');
    g.emit(`${v} = ${g.readReg(i.size, EAX)};`);
    return writeRm(g, i, i.size, v);
  },
  lea(g, i) {
    g.writeReg(i.size, i.reg, g.ea(i));
    return FALLS_THROUGH;
  },
  movzx(g, i) {
    const v = readRm(g, i, (i.opcode & 1) !== 0 ? 2 : 1, 'v');
    g.writeReg(i.size, i.reg, v);
    return afterMemory(g, i);
  },
  movsx(g, i) {
    const src = (i.opcode & 1) !== 0 ? 2 : 1;
    const v = readRm(g, i, src, 'v');
    const ext = src === 1 ? `(${v} << 24 >> 24)` : `(${v} << 16 >> 16)`;
    g.writeReg(i.size, i.reg, i.size === 4 ? ext : `(${ext} & 0xffff)`);
    return afterMemory(g, i);
  },
  nop() {
    return FALLS_THROUGH;
  },
  cbw(g, i) {
    if (i.size === 4) g.writeReg(4, 0, `${g.reg32(0)} << 16 >> 16`);
    else g.writeReg(2, 0, `${g.reg32(0)} << 24 >> 24`);
    return FALLS_THROUGH;
  },
  cwd(g, i) {
    if (i.size === 4) g.writeReg(4, 2, `${g.reg32(0)} >> 31`);
    else g.writeReg(2, 2, `${g.reg32(0)} << 16 >> 31`);
    return FALLS_THROUGH;
  },

  pushZ(g, i) {
    const v = g.local('v');
    g.emit(`${v} = ${g.readReg(i.size, i.reg)};`);
    g.push(i.size, v);
    g.exitIfAsked();
    return FALLS_THROUGH;
  },
  pushI(g, i) {
    g.push(i.size, String(sizeValue(i.size, i.imm)));
    g.exitIfAsked();
    return FALLS_THROUGH;
  },
  pushE(g, i) {
    // The operand is read (its address computed with ESP before the push) first (stack.ts pushE).
    const v = readRm(g, i, i.size, 'v');
    g.push(i.size, v);
    g.exitIfAsked();
    return FALLS_THROUGH;
  },
  /** LEAVE: (E)SP ← (E)BP by the stack width, then (E)BP ← the popped value; nothing changes if the read faults. */
  leave(g, i) {
    const sp = g.local('s');
    const v = g.local('v');
    g.emit(`${sp} = ${g.readReg(g.stack32 ? 4 : 2, EBP)};`);
    g.read(SS, sp, i.size, v);
    g.writeSp(g.spPlus(sp, i.size));
    g.writeReg(i.size, EBP, v);
    g.exitIfAsked();
    return FALLS_THROUGH;
  },
  /** XCHG r/m, r (move.ts xchgEG): with memory, the read, then the store, then the register. */
  xchgEG(g, i) {
    const r = g.local('v');
    const m = g.local('m');
    g.emit(`${r} = ${g.readReg(i.size, i.reg)};`);
    if (i.rm >= 0) {
      g.emit(`${m} = ${g.readReg(i.size, i.rm)};`);
      g.writeReg(i.size, i.rm, r);
    } else {
      const off = g.local('o');
      g.emit(`${off} = ${g.ea(i)};`);
      g.read(i.seg, off, i.size, m);
      g.write(i.seg, off, i.size, r);
    }
    g.writeReg(i.size, i.reg, m);
    return afterMemory(g, i);
  },
  xchgZA(g, i) {
    const a = g.local('a');
    g.emit(`${a} = ${g.readReg(i.size, EAX)};`);
    g.writeReg(i.size, EAX, g.readReg(i.size, i.reg));
    g.writeReg(i.size, i.reg, a);
    return FALLS_THROUGH;
  },
  popZ(g, i) {
    const sp = g.local('s');
    const v = g.local('v');
    g.emit(`${sp} = ${g.readSp()};`);
    g.read(SS, sp, i.size, v);
    g.writeSp(g.spPlus(sp, i.size));
    g.writeReg(i.size, i.reg, v);
    g.exitIfAsked();
    return FALLS_THROUGH;
  },

  imulGE(g, i) {
    if (i.size !== 4) return NOT_TRANSLATED;
    const b = readRm(g, i, 4, 'b');
    return imul32(g, i, g.readReg(4, i.reg), b);
  },
  mulE: (g, i) => mulAcc32(g, i, false),
  imulE: (g, i) => mulAcc32(g, i, true),
  imulGEI(g, i) {
    if (i.size !== 4) return NOT_TRANSLATED;
    const a = readRm(g, i, 4, 'a');
    return imul32(g, i, a, String(i.imm | 0));
  },

  shiftI(g, i) {
    return shiftImmediate(g, i, i.imm & 0x1f);
  },
  shift1(g, i) {
    return shiftImmediate(g, i, 1);
  },
  shiftCL: shiftByCl,

  jcc(g, i) {
    const bi = g.cur;
    const target = nearTarget(i, bi.next + i.imm);
    if (target !== g.instrs[0].eip && target !== bi.next && continuesAt(g, target)) {
      // The trace went on at the target (the branch is usually taken): falling through is the side exit.
      g.emit(`if (!${g.condition(i.arg)}) { ${g.exitSource(String(bi.next), `n + ${g.k + 1}`)} }`);
      return FALLS_THROUGH;
    }
    g.emit(`if (${g.condition(i.arg)}) { ${branchTo(g, target)} }`);
    return fallThroughOrLeave(g, bi.next);
  },
  jmpRel(g, i) {
    const target = nearTarget(i, g.cur.next + i.imm);
    // A target the trace took in is in the block: its bytes are within the CS limit (checked at block entry).
    if (continuesAt(g, target)) return FALLS_THROUGH;
    g.emit(branchTo(g, target));
    return LEAVES;
  },
  loop(g, i) {
    const bi = g.cur;
    const count = g.local('n');
    const taken = g.local('t');
    g.emit(`${count} = ${truncateExpr(`${g.readReg(i.as32 ? 4 : 2, 1)} - 1`, i.as32 ? 4 : 2)};`);
    let cond = `${count} !== 0`;
    if (i.arg !== 2) cond += ` && ${g.zf()} === ${i.arg === 1}`;
    g.emit(`${taken} = ${cond};`);
    const commit = g.writeRegSource(i.as32 ? 4 : 2, 1, count);
    const target = nearTarget(i, bi.next + i.imm);
    g.emit(`if (${taken}) { ${branchTo(g, target, commit)} }`);
    g.emit(commit);
    return fallThroughOrLeave(g, bi.next);
  },
  jcxz(g, i) {
    const bi = g.cur;
    const target = nearTarget(i, bi.next + i.imm);
    g.emit(`if (${g.readReg(i.as32 ? 4 : 2, 1)} === 0) { ${branchTo(g, target)} }`);
    return fallThroughOrLeave(g, bi.next);
  },
  callRel(g, i) {
    const bi = g.cur;
    const target = nearTarget(i, bi.next + i.imm);
    g.push(i.size, String(sizeValue(i.size, bi.next)));
    if (continuesAt(g, target)) {
      g.emit(`if (x !== 0) { ${g.exitSource(String(target), `n + ${g.k + 1}`)} }`);
      return FALLS_THROUGH;
    }
    g.emit(g.exitSource(String(target), `n + ${g.k + 1}`));
    return LEAVES;
  },
  retNear(g, i) {
    const sp = g.local('s');
    const v = g.local('v');
    g.emit(`${sp} = ${g.readSp()};`);
    g.read(SS, sp, i.size, v);
    const t = g.local('t');
    g.emit(`${t} = ${i.os32 ? `${v} >>> 0` : `${v} & 0xffff`};`);
    // A return address past the CS limit raises #GP(0) before anything changes (SDM 2A, RET): the handler, called
    // here, raises it with ESP as it was. (Leaving the block before the RET instead retired nothing when the RET
    // was the block's first instruction, and the run loop ran the same block again without end.)
    g.emit(`if (${t} > LIM) { ${interpreterCall(g, i)} }`);
    g.writeSp(g.spPlus(sp, i.size + i.imm));
    const predicted = g.instrs[g.k + 1];
    if (predicted !== undefined) {
      // The trace went on at the return address of its own CALL; any other target (or a slow path) leaves.
      g.emit(`if (${t} !== ${predicted.eip} || x !== 0) { ${g.exitSource(t, `n + ${g.k + 1}`)} }`);
      return FALLS_THROUGH;
    }
    g.emit(g.exitSource(t, `n + ${g.k + 1}`));
    return LEAVES;
  },
};

/**
 * ROL/ROR/SHL/SAL/SHR/SAR of a register by a constant (shift.ts shiftCompute and shiftRm): the count is masked to
 * 5 bits, a masked count of 0 changes nothing; rotates of 8/16-bit operands rotate by count mod 8/16 but still set
 * CF and OF from the result; shifts past the operand width give 0 (SAR: the sign).
 */
/**
 * 32-bit truncating IMUL into i.reg (ops/muldiv.ts imul32): the low half by Math.imul, the high half (imulHigh32)
 * for CF = OF and SF ZF PF, AF set; the register is written after the operand read, the only access that can fault.
 */
function imul32(g: Emitter, i: Instr, a: string, b: string): EmitResult {
  const r = g.local('r');
  if (g.deadAfterThis(ARITH)) {
    // The high half is only for the flags, which later instructions redefine unseen (lib/mpi's IMULs: an ADD
    // follows each): the low half alone.
    g.emit(`${r} = Math.imul(${a}, ${b});`);
    g.writeReg(4, i.reg, r);
    return afterMemory(g, i);
  }
  const h = g.local('h');
  g.emit(`${r} = Math.imul(${a}, ${b}); ${h} = ${g.constant(imulHigh32)}(${a}, ${b});`);
  g.writeReg(4, i.reg, r);
  mulFlags(g, `${h} !== (${r} >> 31)`, h);
  return afterMemory(g, i);
}

/** MUL/IMUL flags (muldiv.ts setMulFlags): CF = OF = `overflow`, SF ZF PF from the high half `h` (int32), AF set. */
function mulFlags(g: Emitter, overflow: string, h: string): void {
  g.setFlagBits(0x8d5, `(${overflow} ? 0x801 : 0) | 0x10 | (${h} === 0 ? 64 : 0) | ((${h} >>> 31) << 7) | (PARITY[${h} & 0xff] << 2)`);
}

/**
 * One-operand MUL/IMUL r/m32 (muldiv.ts mulAcc): EDX:EAX ← EAX × source, unsigned or signed; the registers are
 * written after the source is read, the only access that can fault.
 */
function mulAcc32(g: Emitter, i: Instr, signed: boolean): EmitResult {
  if (i.size !== 4) return NOT_TRANSLATED;
  const b = readRm(g, i, 4, 'b');
  const a = g.local('a');
  const r = g.local('r');
  const h = g.local('h');
  g.emit(`${a} = ${g.reg32(EAX)}; ${r} = Math.imul(${a}, ${b}); ${h} = ${g.constant(signed ? imulHigh32 : mulHighU32)}(${a}, ${b});`);
  g.writeReg(4, EAX, r);
  g.writeReg(4, EDX, h);
  mulFlags(g, signed ? `${h} !== (${r} >> 31)` : `${h} !== 0`, h);
  return afterMemory(g, i);
}

/** The shifts and rotates translated inline, by a constant or by CL (RCL and RCR call the handler). */
const IMMEDIATE_SHIFTS = new Set([SH_ROL, SH_ROR, SH_SHL, SH_SAL, SH_SHR, SH_SAR]);

/** CF and OF: the flags a rotate defines. */
const CF_OF = 0x801;

/**
 * Emits `r` (the result) and `cf` (the last bit out) of shift kind `i.arg` of `v` by `count`, 1…31 — a constant, or
 * a local known to hold one — as shift.ts shiftCompute, and returns the flags it sets (mask, values) for after the
 * store. One expression serves every count: rotates of 8/16-bit operands rotate by count mod 8/16 (0 leaves `v`,
 * as `v >>> bits` is 0) but still set CF and OF; SHL and SHR past the operand width give 0 (the shifted-out bits
 * are masked off, CF from a shift by more than the width is 0); SAR shifts the sign-extended value, whose sign
 * fills the result and CF for any count up to 31.
 */
function shiftResult(g: Emitter, i: Instr, v: string, r: string, cf: string, count: number | string): { mask: number; values: string } {
  const size = i.size;
  const bits = size * 8;
  const top = bits - 1;
  const minus = (a: number, b: number | string): string => (typeof b === 'number' ? String(a - b) : `(${a} - ${b})`);
  const less1 = typeof count === 'number' ? String(count - 1) : `(${count} - 1)`;
  const szp = (x: string): string => `(${x} === 0 ? 64 : 0) | (((${x} >>> ${top}) & 1) << 7) | (PARITY[${x} & 0xff] << 2)`;
  const msbXorCf = `((((${r} >>> ${top}) ^ ${cf}) & 1) << 11)`;
  const topTwoXor = `((((${r} >>> ${top}) ^ (${r} >>> ${top - 1})) & 1) << 11)`;
  const wrap = size === 4 ? '| 0' : `& ${sizeMaskLiteral(size)}`;
  switch (i.arg) {
    case SH_ROL:
    case SH_ROR: {
      const c = typeof count === 'number' ? String(count & (bits - 1)) : size === 4 ? count : `(${count} & ${bits - 1})`;
      if (i.arg === SH_ROL) {
        g.emit(`${r} = ((${v} << ${c}) | (${v} >>> (${bits} - ${c}))) ${wrap}; ${cf} = ${r} & 1;`);
        return { mask: CF_OF, values: `${cf} | ${msbXorCf}` };
      }
      g.emit(`${r} = ((${v} >>> ${c}) | (${v} << (${bits} - ${c}))) ${wrap}; ${cf} = (${r} >>> ${top}) & 1;`);
      return { mask: CF_OF, values: `${cf} | ${topTwoXor}` };
    }
    case SH_SHL:
    case SH_SAL: {
      const out = `(${v} >>> ${minus(bits, count)}) & 1`;
      const fits = size === 4 || (typeof count === 'number' && count <= bits);
      const cfExpr = fits ? out : typeof count === 'number' ? '0' : `${count} <= ${bits} ? ${out} : 0`;
      g.emit(`${cf} = ${cfExpr}; ${r} = ${truncateExpr(`${v} << ${count}`, size)};`);
      return { mask: 0x8d5, values: `${cf} | ${msbXorCf} | (${r} & 0x10) | ${szp(r)}` };
    }
    case SH_SHR:
      g.emit(`${cf} = (${v} >>> ${less1}) & 1; ${r} = ${v} >>> ${count};`);
      return { mask: 0x8d5, values: `${cf} | ${topTwoXor} | 0x10 | ${szp(r)}` };
    default: {
      // SH_SAR
      const signed = signedExpr(v, size);
      g.emit(`${cf} = (${signed} >> ${less1}) & 1; ${r} = ${truncateExpr(`${signed} >> ${count}`, size)};`);
      return { mask: 0x8d5, values: `${cf} | 0x10 | ${szp(r)}` };
    }
  }
}

/** The r/m operand of a shift: its offset local (memory) and its value, read even when the count is 0. */
function shiftOperand(g: Emitter, i: Instr): { off: string; v: string } {
  const v = g.local('a');
  if (i.rm >= 0) return { off: '', v };
  // A memory operand is read even when the masked count is 0 (shift.ts shiftRm): the read may fault.
  const off = g.local('o');
  g.emit(`${off} = ${g.ea(i)};`);
  g.read(i.seg, off, i.size, v);
  return { off, v };
}

/**
 * The shift by a nonzero `count` of the operand shiftOperand gave (a register is read here): the result stored —
 * the register, or memory before the flags (a faulting store leaves them) — then the flags set.
 */
function shiftAndStore(g: Emitter, i: Instr, off: string, v: string, count: number | string): void {
  if (i.rm >= 0) g.emit(`${v} = ${g.readReg(i.size, i.rm)};`);
  const r = g.local('r');
  const cf = g.local('c');
  const { mask, values } = shiftResult(g, i, v, r, cf, count);
  if (i.rm >= 0) g.writeReg(i.size, i.rm, r);
  else g.write(i.seg, off, i.size, r);
  g.setFlagBits(mask, values);
}

/** ROL/ROR/SHL/SAL/SHR/SAR of r/m by a constant (shift.ts shiftRm): a masked count of 0 changes nothing. */
function shiftImmediate(g: Emitter, i: Instr, count: number): EmitResult {
  if (!IMMEDIATE_SHIFTS.has(i.arg)) return NOT_TRANSLATED;
  const { off, v } = shiftOperand(g, i);
  if (count !== 0) shiftAndStore(g, i, off, v, count);
  return afterMemory(g, i);
}

/**
 * The same by CL (masked to 5 bits at run time; GRUB's and the XZ decompressor's `SHL r32, CL` were their last
 * handler calls). A count of 0 leaves the flags as they were, any other sets them eagerly: the pending record is
 * folded with them in one branch and stored into the Cpu in the other, so after the instruction the Cpu holds the
 * flags on both paths.
 */
function shiftByCl(g: Emitter, i: Instr): EmitResult {
  if (!IMMEDIATE_SHIFTS.has(i.arg)) return NOT_TRANSLATED;
  const { off, v } = shiftOperand(g, i);
  const k = g.local('k');
  g.emit(`${k} = ${g.reg32(1)} & 31;`);
  const before = g.pending;
  g.emit(`if (${k} !== 0) {`);
  shiftAndStore(g, i, off, v, k);
  g.emit(`} else { ${g.storeRecord(before)} }`);
  g.flush(); // (nothing pending: only the emitter's own note that the Cpu's lazy mask may be set again)
  return afterMemory(g, i);
}

/**
 * The flags a register shift or rotate by a constant redefines (shiftImmediate): none for a masked count of 0
 * (nothing changes), CF and OF for ROL/ROR, all six for the shifts (AF too: Ringside sets it, as the interpreter
 * does); -1 for RCL/RCR, whose handler reads CF.
 */
function shiftFlagEffect(i: Instr): number {
  if (!IMMEDIATE_SHIFTS.has(i.arg)) return -1;
  const count = i.row!.handler === 'shift1' ? 1 : i.imm & 0x1f;
  if (count === 0) return 0;
  return i.arg === SH_ROL || i.arg === SH_ROR ? CF_OF : ARITH;
}


export function nativeEmitter(name: string): OpEmitter | undefined {
  return EMITTERS[name];
}

/**
 * Interpreter handlers a block may call in place (no mode, segment, interrupt-flag or I/O effects, and EIP left
 * at the next instruction unless the handler is a block end below).
 */
const CALLABLE = new Set([
  'aluEG', 'aluGE', 'aluAI', 'aluEI', 'testEG', 'testAI', 'testEI', 'incZ', 'decZ', 'incE', 'decE', 'notE', 'negE',
  'cmc', 'clc', 'stc', 'cld', 'std', 'lahf', 'sahf', 'cbw', 'cwd', 'setcc', 'salc',
  'mulE', 'imulE', 'divE', 'idivE', 'imulGE', 'imulGEI',
  'shiftI', 'shift1', 'shiftCL', 'shld', 'shrd',
  'daa', 'das', 'aaa', 'aas', 'aam', 'aad',
  'btEG', 'btEI', 'bsf', 'bsr', 'bswap', 'xadd', 'cmpxchg', 'cmpxchg8b', 'cmov', 'hintNop',
  'movEG', 'movGE', 'movEI', 'movZI', 'movAO', 'movOA', 'movzx', 'movsx', 'lea', 'xchgEG', 'xchgZA', 'nop', 'xlat',
  'movES',
  'pushZ', 'popZ', 'pushE', 'popE', 'pushI', 'pushSeg', 'pusha', 'popa', 'pushf', 'popf', 'enter', 'leave',
  'jcc', 'jmpRel', 'callRel', 'retNear', 'jmpE', 'callE', 'loop', 'jcxz', 'bound',
  'movs', 'cmps', 'stos', 'lods', 'scas',
]);

/** Handlers after which the block ends (they may move EIP themselves: branches, and REP string batches). */
const ENDS_BLOCK = new Set(['jcc', 'jmpRel', 'callRel', 'retNear', 'jmpE', 'callE', 'loop', 'jcxz', 'movs', 'cmps', 'stos', 'lods', 'scas']);

/** How a trace goes on after an instruction (compile.ts collectBlock). */
export const TRACE_NEXT = 0;
export const TRACE_JUMP = 1;
export const TRACE_CALL = 2;
export const TRACE_RETURN = 3;
export const TRACE_END = 4;
export const TRACE_BRANCH = 5;

const TRACE_STEPS: Record<string, number> = {
  jcc: TRACE_BRANCH,
  loop: TRACE_NEXT,
  jcxz: TRACE_NEXT,
  jmpRel: TRACE_JUMP,
  callRel: TRACE_CALL,
  retNear: TRACE_RETURN,
};

export function traceStep(i: Instr): number {
  const step = TRACE_STEPS[i.row!.handler];
  if (step !== undefined) return step;
  return endsBlock(i) ? TRACE_END : TRACE_NEXT;
}

/** The target of a relative JMP or CALL whose next instruction is at `next`. */
export function branchTarget(i: Instr, next: number): number {
  return nearTarget(i, next + i.imm);
}

/** Handlers whose inline code branches to a constant target (branchTo). */
const CONSTANT_BRANCHES = new Set(['jcc', 'jmpRel', 'callRel', 'loop', 'jcxz']);

/** The constant target of a relative branch whose next instruction is at `next`, or null for anything else. */
export function constantTarget(i: Instr, next: number): number | null {
  return CONSTANT_BRANCHES.has(i.row!.handler) ? branchTarget(i, next) : null;
}

/** String instructions: with a REP prefix each iteration is one instruction of guest time. */
const STRING_OPS = new Set(['movs', 'cmps', 'stos', 'lods', 'scas']);

/** Whether `i` is a string instruction (MOVS, CMPS, STOS, LODS, SCAS) with a REP prefix. */
export function isRepString(i: Instr): boolean {
  return i.row !== null && i.rep !== 0 && STRING_OPS.has(i.row.handler);
}

/**
 * Whether a block may hold `i`. A REP string instruction may not: its handler runs as many iterations as the run's
 * budget has left (ops/string.ts), which inside a block would not yet count the block's earlier instructions.
 */
export function translatable(i: Instr): boolean {
  return i.row !== null && CALLABLE.has(i.row.handler) && !isRepString(i);
}

/**
 * String instructions that, without REP, are translated inline (jit/string-ops.ts) and whose handler leaves EIP on
 * the next instruction: a block goes on after them.
 */
const SINGLE_STRING_OPS_GO_ON = new Set(['stos', 'lods']);

export function endsBlock(i: Instr): boolean {
  const name = i.row!.handler;
  return ENDS_BLOCK.has(name) && !(i.rep === 0 && SINGLE_STRING_OPS_GO_ON.has(name));
}

/**
 * The arithmetic flags an instruction redefines without observing flags, faulting or leaving the block; 0 when it
 * touches no flags and cannot fault; -1 when it may observe flags (emitter.ts, dead-flag analysis). Only
 * register-only forms that this module translates inline qualify.
 */
export function flagEffect(i: Instr): number {
  const registerOnly = i.rm >= 0;
  const carryFree = i.arg !== ALU_ADC && i.arg !== ALU_SBB;
  switch (i.row!.handler) {
    case 'aluEG':
    case 'aluGE':
    case 'aluEI':
      return registerOnly && carryFree ? ARITH : -1;
    case 'aluAI':
      return carryFree ? ARITH : -1;
    case 'testEG':
    case 'testEI':
    case 'negE':
      return registerOnly ? ARITH : -1;
    case 'testAI':
      return ARITH;
    case 'incZ':
    case 'decZ':
      return ARITH_NO_CF;
    case 'incE':
    case 'decE':
      return registerOnly ? ARITH_NO_CF : -1;
    case 'notE':
    case 'movEG':
    case 'movGE':
    case 'movEI':
    case 'movzx':
    case 'movsx':
      return registerOnly ? 0 : -1;
    case 'shiftI':
    case 'shift1':
      return registerOnly ? shiftFlagEffect(i) : -1;
    case 'imulGE':
    case 'imulGEI':
    case 'mulE':
    case 'imulE':
      // The 32-bit forms, translated inline, set all six (mulFlags); the others call the handler.
      return registerOnly && i.size === 4 ? ARITH : -1;
    case 'movZI':
    case 'lea':
    case 'nop':
    case 'cbw':
    case 'cwd':
      return 0;
    default:
      return -1;
  }
}
