// The x87 opcode table (SDM vol. 2 App. A.4, Tables ): one record per encoding of the D8–DF escapes,
// memory forms by (escape, ModRM reg) and register forms by (escape, ModRM reg, rm). The main table sends all eight
// escapes to one handler (`fpuEscape`); it looks the record up here, and the disassembler reads the same records.

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import type { FpuState } from './state';
import { arithMem, arithReg, fabs, fchs, fprem, frndint, fscale, fsqrt, fxtract } from './ops/arith';
import { fcmov, fcompp, fcomReg, ftst, fxam } from './ops/compare';
import { fldcw, fldenv, fnclex, fninit, fnop, fnsave, fnstcw, fnstenv, fnstsw, frstor } from './ops/control';
import { M16I, M32I, M32R, M64I, M64R } from './ops/common';
import { ffree, fincstp, fldConst, fldMem, fldReg, fstMem, fstReg, fxch, M80R, MBCD } from './ops/load-store';
import { f2xm1, fpatan, fyl2x, trig } from './ops/transcendental';

export type FpuHandler = (cpu: Cpu, i: Instr, f: FpuState, arg: number) => void;

export interface FpuRow {
  /** 0–7 for D8–DF. */
  readonly esc: number;
  readonly reg: number;
  /** Register forms: the rm this row is for, or -1 for every ST(i). Memory forms: -1. */
  readonly rm: number;
  readonly memory: boolean;
  readonly mnemonic: string;
  /** Operand text for the disassembler: 'm32fp', 'st0,st(i)', '' … */
  readonly operands: string;
  readonly exec: FpuHandler;
  readonly arg: number;
  /** Non-waiting control instruction: no pending-exception check, pointers unchanged (SDM vol. 1 §8.1.8, §8.3.11). */
  readonly control: boolean;
  /** P6 addition (FCMOVcc, FCOMI…): #UD on earlier models. */
  readonly p6: boolean;
}

const rows: FpuRow[] = [];
interface Opt {
  control?: boolean;
  p6?: boolean;
}
function mem(esc: number, reg: number, mnemonic: string, operands: string, exec: FpuHandler, arg = 0, o: Opt = {}): void {
  rows.push({ esc, reg, rm: -1, memory: true, mnemonic, operands, exec, arg, control: o.control ?? false, p6: false });
}
function reg(esc: number, r: number, rm: number, mnemonic: string, operands: string, exec: FpuHandler, arg = 0, o: Opt = {}): void {
  rows.push({ esc, reg: r, rm, memory: false, mnemonic, operands, exec, arg, control: o.control ?? false, p6: o.p6 ?? false });
}
const CONTROL = { control: true };
const P6 = { p6: true };

// Arithmetic groups: reg field = add, mul, com, comp, sub, subr, div, divr
const ARITH = ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'];
for (let k = 0; k < 8; k++) {
  mem(0, k, 'f' + ARITH[k], 'm32fp', arithMem, M32R);
  mem(4, k, 'f' + ARITH[k], 'm64fp', arithMem, M64R);
  mem(2, k, 'fi' + ARITH[k], 'm32int', arithMem, M32I);
  mem(6, k, 'fi' + ARITH[k], 'm16int', arithMem, M16I);
  if (k === 2 || k === 3) {
    reg(0, k, -1, 'f' + ARITH[k], 'st(i)', fcomReg, k === 3 ? 2 : 0);
    // DC D0/D8 and DE D0 are aliases of FCOM/FCOMP (SDM App. A Table A-10 notes them as reserved; the P6 decodes them)
    reg(4, k, -1, 'f' + ARITH[k], 'st(i)', fcomReg, k === 3 ? 2 : 0);
    continue;
  }
  reg(0, k, -1, 'f' + ARITH[k], 'st0,st(i)', arithReg, 0);
  // DC/DE name the reversed operation for reg 4–7 (DC E0+i is FSUBR ST(i),ST0)
  const rev = k >= 4 ? ARITH[k ^ 1] : ARITH[k];
  reg(4, k, -1, 'f' + rev, 'st(i),st0', arithReg, 1);
  reg(6, k, -1, 'f' + rev + 'p', 'st(i),st0', arithReg, 2);
}
reg(6, 2, -1, 'fcomp', 'st(i)', fcomReg, 2);
reg(6, 3, 1, 'fcompp', '', fcompp, 0);

// D9
mem(1, 0, 'fld', 'm32fp', fldMem, M32R);
mem(1, 2, 'fst', 'm32fp', fstMem, M32R);
mem(1, 3, 'fstp', 'm32fp', fstMem, M32R | 16);
mem(1, 4, 'fldenv', 'm14/28byte', fldenv, 0, CONTROL);
mem(1, 5, 'fldcw', 'm2byte', fldcw, 0, CONTROL);
mem(1, 6, 'fnstenv', 'm14/28byte', fnstenv, 0, CONTROL);
mem(1, 7, 'fnstcw', 'm2byte', fnstcw, 0, CONTROL);
reg(1, 0, -1, 'fld', 'st(i)', fldReg);
reg(1, 1, -1, 'fxch', 'st(i)', fxch);
reg(1, 2, 0, 'fnop', '', fnop);
reg(1, 3, -1, 'fstp1', 'st(i)', fstReg, 1); // D9 D8+i: alias of FSTP ST(i)
reg(1, 4, 0, 'fchs', '', fchs);
reg(1, 4, 1, 'fabs', '', fabs);
reg(1, 4, 4, 'ftst', '', ftst);
reg(1, 4, 5, 'fxam', '', fxam);
['fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz'].forEach((n, k) => reg(1, 5, k, n, '', fldConst, k));
reg(1, 6, 0, 'f2xm1', '', f2xm1);
reg(1, 6, 1, 'fyl2x', '', fyl2x, 0);
reg(1, 6, 2, 'fptan', '', trig, 2);
reg(1, 6, 3, 'fpatan', '', fpatan);
reg(1, 6, 4, 'fxtract', '', fxtract);
reg(1, 6, 5, 'fprem1', '', fprem, 1);
reg(1, 6, 6, 'fdecstp', '', fincstp, -1);
reg(1, 6, 7, 'fincstp', '', fincstp, 1);
reg(1, 7, 0, 'fprem', '', fprem, 0);
reg(1, 7, 1, 'fyl2xp1', '', fyl2x, 1);
reg(1, 7, 2, 'fsqrt', '', fsqrt);
reg(1, 7, 3, 'fsincos', '', trig, 3);
reg(1, 7, 4, 'frndint', '', frndint);
reg(1, 7, 5, 'fscale', '', fscale);
reg(1, 7, 6, 'fsin', '', trig, 0);
reg(1, 7, 7, 'fcos', '', trig, 1);

// DA: FCMOVB/E/BE/U, FUCOMPP
['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu'].forEach((n, k) => reg(2, k, -1, n, 'st0,st(i)', fcmov, k, P6));
reg(2, 5, 1, 'fucompp', '', fcompp, 1);

// DB
mem(3, 0, 'fild', 'm32int', fldMem, M32I);
mem(3, 2, 'fist', 'm32int', fstMem, M32I);
mem(3, 3, 'fistp', 'm32int', fstMem, M32I | 16);
mem(3, 5, 'fld', 'm80fp', fldMem, M80R);
mem(3, 7, 'fstp', 'm80fp', fstMem, M80R | 16);
['fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'].forEach((n, k) => reg(3, k, -1, n, 'st0,st(i)', fcmov, k + 4, P6));
reg(3, 4, 0, 'fneni', '', fnop, 0, CONTROL); // 8087 only; a no-op on the 387 and later
reg(3, 4, 1, 'fndisi', '', fnop, 0, CONTROL);
reg(3, 4, 2, 'fnclex', '', fnclex, 0, CONTROL);
reg(3, 4, 3, 'fninit', '', fninit, 0, CONTROL);
reg(3, 4, 4, 'fnsetpm', '', fnop, 0, CONTROL); // 287 only
reg(3, 5, -1, 'fucomi', 'st0,st(i)', fcomReg, 1 | 8, P6);
reg(3, 6, -1, 'fcomi', 'st0,st(i)', fcomReg, 8, P6);

// DC memory forms are above; DD
mem(5, 0, 'fld', 'm64fp', fldMem, M64R);
mem(5, 2, 'fst', 'm64fp', fstMem, M64R);
mem(5, 3, 'fstp', 'm64fp', fstMem, M64R | 16);
mem(5, 4, 'frstor', 'm94/108byte', frstor, 0, CONTROL);
mem(5, 6, 'fnsave', 'm94/108byte', fnsave, 0, CONTROL);
mem(5, 7, 'fnstsw', 'm2byte', fnstsw, 0, CONTROL);
reg(5, 0, -1, 'ffree', 'st(i)', ffree, 0);
reg(5, 1, -1, 'fxch4', 'st(i)', fxch); // alias of FXCH
reg(5, 2, -1, 'fst', 'st(i)', fstReg, 0);
reg(5, 3, -1, 'fstp', 'st(i)', fstReg, 1);
reg(5, 4, -1, 'fucom', 'st(i)', fcomReg, 1);
reg(5, 5, -1, 'fucomp', 'st(i)', fcomReg, 1 | 2);

// DF
mem(7, 0, 'fild', 'm16int', fldMem, M16I);
mem(7, 2, 'fist', 'm16int', fstMem, M16I);
mem(7, 3, 'fistp', 'm16int', fstMem, M16I | 16);
mem(7, 4, 'fbld', 'm80bcd', fldMem, MBCD);
mem(7, 5, 'fild', 'm64int', fldMem, M64I);
mem(7, 6, 'fbstp', 'm80bcd', fstMem, MBCD | 16);
mem(7, 7, 'fistp', 'm64int', fstMem, M64I | 16);
reg(7, 0, -1, 'ffreep', 'st(i)', ffree, 1);
reg(7, 1, -1, 'fxch7', 'st(i)', fxch);
reg(7, 2, -1, 'fstp8', 'st(i)', fstReg, 1);
reg(7, 3, -1, 'fstp9', 'st(i)', fstReg, 1);
reg(7, 4, 0, 'fnstsw', 'ax', fnstsw, 0, CONTROL);
reg(7, 5, -1, 'fucomip', 'st0,st(i)', fcomReg, 1 | 2 | 8, P6);
reg(7, 6, -1, 'fcomip', 'st0,st(i)', fcomReg, 2 | 8, P6);

export const FPU_TABLE: readonly FpuRow[] = rows;

const memoryRows: (FpuRow | undefined)[] = new Array(64);
const registerRows: (FpuRow | undefined)[] = new Array(512);
for (const row of rows) {
  if (row.memory) {
    if (memoryRows[row.esc * 8 + row.reg]) throw new Error(`fpu table: duplicate ${row.mnemonic}`);
    memoryRows[row.esc * 8 + row.reg] = row;
    continue;
  }
  for (let rm = 0; rm < 8; rm++) {
    if (row.rm >= 0 && row.rm !== rm) continue;
    const k = row.esc * 64 + row.reg * 8 + rm;
    if (registerRows[k]) throw new Error(`fpu table: duplicate ${row.mnemonic}`);
    registerRows[k] = row;
  }
}

/** The row for escape `esc` (0–7) and its ModRM byte, or undefined for a reserved encoding. */
export function fpuRow(esc: number, modrm: number): FpuRow | undefined {
  return modrm >= 0xc0 ? registerRows[esc * 64 + (modrm & 0x3f)] : memoryRows[esc * 8 + ((modrm >> 3) & 7)];
}
