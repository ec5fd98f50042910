// Specialised interpreter handlers for the hottest 32-bit forms, chosen at decode time (performance.md,
// "monomorphic code"). Each does exactly what the generic handler in alu.ts, move.ts, control.ts or shift.ts does
// for that form, without the size and operation dispatch. They are built once, at module load, from small source
// templates: every (operation, form) pair becomes its own function, so the engine optimises each one for the single
// shape it sees. The interpreter stays the reference: the lockstep tests run programs with and without them.

import type { Handler, Instr } from '../decode/instr';
import { ALU_ADC, ALU_ADD, ALU_AND, ALU_CMP, ALU_OR, ALU_SBB, ALU_SUB, ALU_XOR, SH_ROL, SH_ROR, SH_SAR, SH_SHL, SH_SAL, SH_SHR } from '../decode/table';
import { LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_SUB, PARITY } from '../flags';
import { ESP, SS, type Cpu } from '../cpu';
import { handlers as stackHandlers } from './stack';
import { handlers as controlHandlers, nearTarget } from './control';
import { imul32 } from './muldiv';
import { CPUID_CMOV } from '../model';

const LAZY_OP: Record<number, number> = {
  [ALU_ADD]: LOP_ADD,
  [ALU_OR]: LOP_LOGIC,
  [ALU_AND]: LOP_LOGIC,
  [ALU_SUB]: LOP_SUB,
  [ALU_XOR]: LOP_LOGIC,
  [ALU_CMP]: LOP_SUB,
};
const OPERATOR: Record<number, string> = { [ALU_ADD]: '+', [ALU_OR]: '|', [ALU_AND]: '&', [ALU_SUB]: '-', [ALU_XOR]: '^', [ALU_CMP]: '-' };

/**
 * Compiles one handler from its body (`cpu`, `i` and `generic` — the handler it stands for — in scope). Strict mode,
 * like the bundled modules: V8's call path for a sloppy function checks its receiver on every call (measured: a few
 * percent of the interpreter's time).
 */
function build(body: string, generic: Handler): Handler {
  return new Function('generic', `'use strict'; return function fast(cpu, i) {\n${body}\n};`)(generic) as Handler;
}

/** ALU operation `op` on 32-bit operands: the source text computing `r` from `a` and `b`, and the flag record. */
function aluTail(op: number, store: string): string {
  if (op === ALU_ADC || op === ALU_SBB) {
    // The carry (borrow) in is CF before the instruction; the record keeps it (alu.ts aluResult).
    const sign = op === ALU_ADC ? '+' : '-';
    return `const c = cpu.getCF() ? 1 : 0; const r = (a ${sign} b ${sign} c) >>> 0;\n${store}\ncpu.setLazyFlags(${op === ALU_ADC ? LOP_ADD : LOP_SUB}, a, b, r, 4, c);`;
  }
  return (
    `const r = (a ${OPERATOR[op]} b) >>> 0;\n` +
    (op === ALU_CMP ? '' : `${store}\n`) +
    `cpu.setLazyFlags(${LAZY_OP[op]}, a, b, r, 4, 0);`
  );
}

/** Cache of built handlers by key, so each (operation, form) is compiled once for the whole process. */
const built = new Map<string, Handler>();
const fastSet = new WeakSet<Handler>();

function cached(key: string, make: () => Handler): Handler {
  let h = built.get(key);
  if (h === undefined) {
    h = make();
    built.set(key, h);
    fastSet.add(h);
  }
  return h;
}

/** Whether `h` is one of the specialised handlers (block translation treats them as the table's own). */
export function isFastHandler(h: Handler): boolean {
  return fastSet.has(h);
}

/**
 * Source computing the offset of `i`'s memory operand (what Cpu.ea returns) with `R` = cpu.regs in scope, and a key
 * naming its form. A 32-bit address gets one expression per form (base, base + index, index, displacement only), so
 * a handler carries no tests of absent parts; a 16-bit address keeps Cpu.ea.
 */
function eaForm(i: Instr): { key: string; src: string; seg: number } {
  const seg = i.seg;
  if (!i.as32) return { key: `a16-s${seg}`, src: 'cpu.ea(i)', seg };
  const scaled = '(R[i.index] << i.scale)';
  if (i.base >= 0 && i.index >= 0) return { key: `bi-s${seg}`, src: `(R[i.base] + ${scaled} + i.disp) >>> 0`, seg };
  if (i.base >= 0) return { key: `b-s${seg}`, src: '(R[i.base] + i.disp) >>> 0', seg };
  if (i.index >= 0) return { key: `i-s${seg}`, src: `(${scaled} + i.disp) >>> 0`, seg };
  return { key: `d-s${seg}`, src: 'i.disp >>> 0', seg };
}

function aluFast(i: Instr, generic: Handler): Handler | undefined {
  const op = i.arg;
  if (i.size === 1) return alu8Fast(i, generic);
  if (i.size !== 4) return undefined;
  const name = i.row!.handler;
  if (name === 'aluEG' && i.rm >= 0) {
    return cached(`aluEG-rr-${op}`, () => build(`const R = cpu.regs; const a = R[i.rm] >>> 0, b = R[i.reg] >>> 0;\n${aluTail(op, 'R[i.rm] = r;')}`, generic));
  }
  if (name === 'aluGE' && i.rm >= 0) {
    return cached(`aluGE-rr-${op}`, () => build(`const R = cpu.regs; const a = R[i.reg] >>> 0, b = R[i.rm] >>> 0;\n${aluTail(op, 'R[i.reg] = r;')}`, generic));
  }
  const ea = eaForm(i);
  if (name === 'aluGE') {
    return cached(`aluGE-rm-${op}-${ea.key}`, () => build(`const R = cpu.regs; const b = cpu.read32(${ea.seg}, ${ea.src}) >>> 0; const a = R[i.reg] >>> 0;\n${aluTail(op, 'R[i.reg] = r;')}`, generic));
  }
  if (name === 'aluEG') {
    // Read, compute, store, then the flags: a faulting store leaves EFLAGS alone (alu.ts).
    return cached(`aluEG-mr-${op}-${ea.key}`, () => build(`const R = cpu.regs; const off = ${ea.src}; const a = cpu.read32(${ea.seg}, off) >>> 0; const b = R[i.reg] >>> 0;\n${aluTail(op, `cpu.write32(${ea.seg}, off, r);`)}`, generic));
  }
  if (name === 'aluEI' && i.rm < 0) {
    return cached(`aluEI-mi-${op}-${ea.key}`, () => build(`const R = cpu.regs; const off = ${ea.src}; const a = cpu.read32(${ea.seg}, off) >>> 0; const b = i.imm >>> 0;\n${aluTail(op, `cpu.write32(${ea.seg}, off, r);`)}`, generic));
  }
  if ((name === 'aluEI' && i.rm >= 0) || name === 'aluAI') {
    const dest = name === 'aluAI' ? '0' : 'i.rm';
    return cached(`${name}-ri-${op}`, () => build(`const R = cpu.regs; const a = R[${dest}] >>> 0, b = i.imm >>> 0;\n${aluTail(op, `R[${dest}] = r;`)}`, generic));
  }
  return undefined;
}

/** Source of the byte register `n` (AL, CL, DL, BL, AH, CH, DH, BH) in cpu.regs8, computed at run time from `n`. */
function reg8(n: string): string {
  return `cpu.regs8[${n} < 4 ? ${n} << 2 : ((${n} - 4) << 2) + 1]`;
}

/**
 * ALU AL, imm8 (04, 0C, … 3C) and ALU r8, imm8 (80 /n, 82 /n with a register): alu.ts aluToReg/aluToRm, size 1. ADC
 * and SBB keep the table's handler.
 */
function alu8Fast(i: Instr, generic: Handler): Handler | undefined {
  const op = i.arg;
  const name = i.row!.handler;
  if (op === ALU_ADC || op === ALU_SBB) return undefined;
  if (name !== 'aluAI' && !(name === 'aluEI' && i.rm >= 0)) return undefined;
  const dest = name === 'aluAI' ? 'cpu.regs8[0]' : reg8('i.rm');
  const store = op === ALU_CMP ? '' : `${dest} = r;`;
  return cached(`${name}-r8-${op}`, () =>
    build(`const a = ${dest}, b = i.imm & 0xff; const r = (a ${OPERATOR[op]} b) & 0xff; ${store}\ncpu.setLazyFlags(${LAZY_OP[op]}, a, b, r, 1, 0);`, generic),
  );
}

/** TEST r/m, r (84, 85), TEST r/m, imm (F6 /0, F7 /0) and TEST AL/EAX, imm (A8, A9), 8- and 32-bit (alu.ts testFlags). */
function testFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4 && i.size !== 1) return undefined;
  const name = i.row!.handler;
  const byte = i.size === 1;
  const ea = name === 'testAI' || i.rm >= 0 ? null : eaForm(i);
  const a =
    name === 'testAI' ? (byte ? 'cpu.regs8[0]' : 'R[0] >>> 0')
    : ea === null ? (byte ? reg8('i.rm') : 'R[i.rm] >>> 0')
    : byte ? `cpu.read8(${ea.seg}, ${ea.src})` : `cpu.read32(${ea.seg}, ${ea.src}) >>> 0`;
  const b = name === 'testEG' ? (byte ? reg8('i.reg') : 'R[i.reg] >>> 0') : byte ? 'i.imm & 0xff' : 'i.imm >>> 0';
  const result = byte ? 'a & b' : '(a & b) >>> 0';
  return cached(`${name}-${i.size}-${ea === null ? 'r' : ea.key}`, () =>
    build(`const R = cpu.regs; const a = ${a}, b = ${b}; cpu.setLazyFlags(${LOP_LOGIC}, a, b, ${result}, ${i.size}, 0);`, generic),
  );
}

/** MOV r/m32, imm32 and MOV r/m8, imm8 to memory (C7 /0, C6 /0; move.ts movEI). */
function movEIFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.rm >= 0 || (i.size !== 4 && i.size !== 1)) return undefined;
  const ea = eaForm(i);
  return cached(`movEI-${i.size}-${ea.key}`, () => build(`const R = cpu.regs; cpu.write${i.size * 8}(${ea.seg}, ${ea.src}, i.imm);`, generic));
}

/** INC/DEC m32 (FF /0, FF /1; alu.ts incDecRm): read, store, then the flags (CF kept). */
function incDecMemFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.rm >= 0 || i.size !== 4) return undefined;
  const inc = i.row!.handler === 'incE';
  const ea = eaForm(i);
  return cached(`incdec-m-${inc}-${ea.key}`, () =>
    build(
      `const R = cpu.regs; const off = ${ea.src}; const a = cpu.read32(${ea.seg}, off) >>> 0; const r = (a ${inc ? '+' : '-'} 1) >>> 0; cpu.write32(${ea.seg}, off, r);\ncpu.setLazyFlagsKeepCF(${inc ? LOP_INC : LOP_DEC}, a, 1, r, 4);`,
      generic,
    ),
  );
}

/** MOV EAX, moffs32 and MOV moffs32, EAX (A1, A3; move.ts movAO, movOA). */
function moffsFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4) return undefined;
  const load = i.row!.handler === 'movAO';
  const ea = eaForm(i);
  return cached(`moffs-${load}-${ea.key}`, () =>
    build(load ? `const R = cpu.regs; R[0] = cpu.read32(${ea.seg}, ${ea.src});` : `const R = cpu.regs; cpu.write32(${ea.seg}, ${ea.src}, R[0]);`, generic),
  );
}

function incDecFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4) return undefined;
  const inc = i.row!.handler === 'incZ';
  return cached(`incdec-${inc}`, () =>
    build(`const R = cpu.regs; const a = R[i.reg] >>> 0; const r = (a ${inc ? '+' : '-'} 1) >>> 0; R[i.reg] = r;\ncpu.setLazyFlagsKeepCF(${inc ? LOP_INC : LOP_DEC}, a, 1, r, 4);`, generic),
  );
}

/** Jcc with a 32-bit operand size, one handler per condition; a target past the CS limit takes the generic path. */
function jccFast(i: Instr, generic: Handler): Handler | undefined {
  if (!i.os32) return undefined;
  return cached(`jcc-${i.arg}`, () =>
    build(`if (cpu.condition(${i.arg})) { const t = (cpu.eip + i.imm) >>> 0; if (t > cpu.segLimit[1]) { generic(cpu, i); return; } cpu.eip = t; i.bias++; } else i.bias--;`, generic),
  );
}

/**
 * Source setting the flags in `mask` to `values` (Cpu.setFlagBits) without computing the pending lazy flags outside
 * `mask`: those stay lazy, since the record still describes them (ROL after an ADD keeps SF, ZF, AF and PF pending
 * instead of computing all six).
 */
function eagerFlags(mask: number, values: string): string {
  return `cpu.flags = (cpu.flags & ${~mask}) | ${values}; cpu.lazyMask &= ${~mask};`;
}

/** ROL/ROR/SHL/SHR/SAR of a 32-bit register by an immediate (shift.ts shiftCompute, size 4). */
function shiftFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4 || i.rm < 0 || i.row!.handler !== 'shiftI') return undefined;
  const head = 'const c = i.imm & 31; if (c === 0) return; const R = cpu.regs; const v = R[i.rm] >>> 0;';
  const szp = '(r === 0 ? 0x40 : 0) | ((r >>> 24) & 0x80) | (PARITY[r & 0xff] << 2)';
  let body: string;
  switch (i.arg) {
    case SH_ROL:
      body = `${head} const r = ((v << c) | (v >>> (32 - c))) >>> 0; const cf = r & 1; R[i.rm] = r; ${eagerFlags(0x801, '(cf | ((((r >>> 31) ^ cf) & 1) << 11))')}`;
      break;
    case SH_ROR:
      body = `${head} const r = ((v >>> c) | (v << (32 - c))) >>> 0; R[i.rm] = r; ${eagerFlags(0x801, '((r >>> 31) | ((((r >>> 31) ^ (r >>> 30)) & 1) << 11))')}`;
      break;
    case SH_SHL:
    case SH_SAL:
      body = `${head} const cf = (v >>> (32 - c)) & 1; const r = (v << c) >>> 0; R[i.rm] = r; ${eagerFlags(0x8d5, `(cf | ((((r >>> 31) ^ cf) & 1) << 11) | (r & 0x10) | ${szp})`)}`;
      break;
    case SH_SHR:
      body = `${head} const cf = (v >>> (c - 1)) & 1; const r = v >>> c; R[i.rm] = r; ${eagerFlags(0x8d5, `(cf | ((((r >>> 31) ^ (r >>> 30)) & 1) << 11) | 0x10 | ${szp})`)}`;
      break;
    case SH_SAR:
      body = `${head} const cf = ((v | 0) >> (c - 1)) & 1; const r = ((v | 0) >> c) >>> 0; R[i.rm] = r; ${eagerFlags(0x8d5, `(cf | 0x10 | ${szp})`)}`;
      break;
    default:
      return undefined;
  }
  return cached(`shift-${i.arg}`, () => new Function('PARITY', `'use strict'; return function fast(cpu, i) {\n${body}\n};`)(PARITY) as Handler);
}

function leaFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4 || !i.as32) return undefined;
  const ea = eaForm(i);
  return cached(`lea32-${ea.key}`, () => build(`const R = cpu.regs; R[i.reg] = ${ea.src};`, generic));
}

/** MOV r/m32, r32 (89) and MOV r32, r/m32 (8B) in their register and memory forms (move.ts movEG, movGE). */
function movFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4) return undefined;
  const toRm = i.row!.handler === 'movEG';
  if (i.rm >= 0) return cached(`mov-rr-${toRm}`, () => build(toRm ? 'const R = cpu.regs; R[i.rm] = R[i.reg];' : 'const R = cpu.regs; R[i.reg] = R[i.rm];', generic));
  const ea = eaForm(i);
  return cached(`mov-${toRm ? 'mr' : 'rm'}-${ea.key}`, () =>
    build(toRm ? `const R = cpu.regs; cpu.write32(${ea.seg}, ${ea.src}, R[i.reg]);` : `const R = cpu.regs; R[i.reg] = cpu.read32(${ea.seg}, ${ea.src});`, generic),
  );
}

/**
 * IMUL r32, r/m32 (0F AF) and IMUL r32, r/m32, imm (69, 6B) through muldiv.ts imul32: the operand is read (and
 * may fault) before anything changes, as in the table's handlers.
 */
function imulFast(i: Instr): Handler | undefined {
  if (i.size !== 4) return undefined;
  const three = i.row!.handler === 'imulGEI';
  const ea = i.rm >= 0 ? null : eaForm(i);
  const src = ea === null ? 'R[i.rm]' : `cpu.read32(${ea.seg}, ${ea.src})`;
  return cached(`imul-${three}-${ea === null ? 'r' : ea.key}`, () =>
    new Function(
      'imul32',
      `'use strict'; return function fast(cpu, i) { const R = cpu.regs; R[i.reg] = imul32(cpu, ${three ? `${src}, i.imm` : `R[i.reg], ${src}`}); };`,
    )(imul32) as Handler,
  );
}

/**
 * CMOVcc r32, r/m32 (p6.ts cmov), one handler per condition: the source is read whatever the condition; a model
 * without CMOV takes the table's handler, which raises #UD.
 */
function cmovFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4) return undefined;
  const ea = i.rm >= 0 ? null : eaForm(i);
  const src = ea === null ? 'R[i.rm]' : `cpu.read32(${ea.seg}, ${ea.src})`;
  return cached(`cmov-${i.arg}-${ea === null ? 'r' : ea.key}`, () =>
    build(
      `if ((cpu.model.features & ${CPUID_CMOV}) === 0) { generic(cpu, i); return; } const R = cpu.regs; const v = ${src}; if (cpu.condition(${i.arg})) R[i.reg] = v;`,
      generic,
    ),
  );
}

/** SETcc r/m8 (alu.ts setcc), one handler per condition. */
function setccFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.rm >= 0) {
    const byte = i.rm < 4 ? i.rm << 2 : ((i.rm - 4) << 2) + 1;
    return cached(`setcc-${i.arg}-r${i.rm}`, () => build(`cpu.regs8[${byte}] = cpu.condition(${i.arg}) ? 1 : 0;`, generic));
  }
  const ea = eaForm(i);
  return cached(`setcc-${i.arg}-${ea.key}`, () => build(`const R = cpu.regs; cpu.write8(${ea.seg}, ${ea.src}, cpu.condition(${i.arg}) ? 1 : 0);`, generic));
}

/** MOVZX r32, r/m8 or r/m16 (0F B6, 0F B7; move.ts movzx). */
function movzxFast(i: Instr, generic: Handler): Handler | undefined {
  if (i.size !== 4) return undefined;
  const word = i.opcode === 0x1b7;
  if (i.rm >= 0) {
    const src = word ? `cpu.regs16[${i.rm << 1}]` : `cpu.regs8[${i.rm < 4 ? i.rm << 2 : ((i.rm - 4) << 2) + 1}]`;
    return cached(`movzx-${word}-r${i.rm}`, () => build(`cpu.regs[i.reg] = ${src};`, generic));
  }
  const ea = eaForm(i);
  return cached(`movzx-${word}-${ea.key}`, () => build(`const R = cpu.regs; R[i.reg] = cpu.read${word ? 16 : 8}(${ea.seg}, ${ea.src});`, generic));
}

// Stack and near transfers with a 32-bit operand size (stack.ts pushZ/popZ, control.ts callRel/retNear/jmpRel): the
// stack width is SS.B, which can change under a cached instruction (an SS load does not drop decoded code), so it is
// tested at run time and a 16-bit stack takes the table's handler. A target beyond the CS limit goes through
// nearTarget, which raises the #GP(0) before anything changes, as the table's handlers do.

/** PUSH r32 (50+r): the register is read before ESP moves (PUSH ESP pushes the old value). */
function pushReg32(cpu: Cpu, i: Instr): void {
  if (cpu.stack32 !== true) return stackHandlers.pushZ(cpu, i);
  const R = cpu.regs;
  const sp = (R[ESP] - 4) >>> 0;
  cpu.write32(SS, sp, R[i.reg]);
  R[ESP] = sp;
}

/** POP r32 (58+r): ESP moves first, then the register receives the value (POP ESP keeps the popped value). */
function popReg32(cpu: Cpu, i: Instr): void {
  if (cpu.stack32 !== true) return stackHandlers.popZ(cpu, i);
  const R = cpu.regs;
  const sp = R[ESP] >>> 0;
  const v = cpu.read32(SS, sp);
  R[ESP] = sp + 4;
  R[i.reg] = v;
}

/** CALL rel32 (E8): target checked, return address pushed, then EIP. */
function callRel32(cpu: Cpu, i: Instr): void {
  if (cpu.stack32 !== true) return controlHandlers.callRel(cpu, i);
  const target = nearTarget(cpu, i, cpu.eip + i.imm);
  const R = cpu.regs;
  const sp = (R[ESP] - 4) >>> 0;
  cpu.write32(SS, sp, cpu.eip);
  R[ESP] = sp;
  cpu.eip = target;
}

/** RET / RET imm16 (C3, C2) with a 32-bit operand size: the target is checked before ESP moves. */
function retNear32(cpu: Cpu, i: Instr): void {
  if (cpu.stack32 !== true) return controlHandlers.retNear(cpu, i);
  const R = cpu.regs;
  const sp = R[ESP] >>> 0;
  const target = nearTarget(cpu, i, cpu.read32(SS, sp));
  R[ESP] = sp + 4 + i.imm;
  cpu.eip = target;
}

/** JMP rel8/rel32 (EB, E9) with a 32-bit operand size. */
function jmpRel32(cpu: Cpu, i: Instr): void {
  cpu.eip = nearTarget(cpu, i, cpu.eip + i.imm);
}

for (const h of [pushReg32, popReg32, callRel32, retNear32, jmpRel32]) fastSet.add(h);

/** The 32-bit stack and near-transfer forms above, for a row whose operand size is 32 bits. */
function stackFast(i: Instr): Handler | undefined {
  if (!i.os32) return undefined;
  switch (i.row!.handler) {
    case 'pushZ':
      return pushReg32;
    case 'popZ':
      return popReg32;
    case 'callRel':
      return callRel32;
    case 'retNear':
      return retNear32;
    case 'jmpRel':
      return jmpRel32;
    default:
      return undefined;
  }
}

/**
 * The specialised handler for a freshly decoded instruction, or undefined to keep the table's handler. Called by
 * the decoder (decoder.ts) when the CPU asks for specialisation.
 */
export function fastHandler(i: Instr): Handler | undefined {
  const generic = i.exec;
  switch (i.row!.handler) {
    case 'aluEG':
    case 'aluGE':
    case 'aluEI':
    case 'aluAI':
      return aluFast(i, generic);
    case 'incZ':
    case 'decZ':
      return incDecFast(i, generic);
    case 'incE':
    case 'decE':
      return incDecMemFast(i, generic);
    case 'testEG':
    case 'testEI':
    case 'testAI':
      return testFast(i, generic);
    case 'movEI':
      return movEIFast(i, generic);
    case 'movAO':
    case 'movOA':
      return moffsFast(i, generic);
    case 'jcc':
      return jccFast(i, generic);
    case 'shiftI':
      return shiftFast(i, generic);
    case 'lea':
      return leaFast(i, generic);
    case 'movEG':
    case 'movGE':
      return movFast(i, generic);
    case 'imulGE':
    case 'imulGEI':
      return imulFast(i);
    case 'cmov':
      return cmovFast(i, generic);
    case 'setcc':
      return setccFast(i, generic);
    case 'movzx':
      return movzxFast(i, generic);
    case 'movZI':
      return i.size === 4 ? cached('movZI-32', () => build('cpu.regs[i.reg] = i.imm;', generic)) : undefined;
    case 'pushZ':
    case 'popZ':
    case 'callRel':
    case 'retNear':
    case 'jmpRel':
      return stackFast(i);
    default:
      return undefined;
  }
}
