// Comparisons (SDM vol. 2 FCOM/FCOMP/FCOMPP, FUCOM*, FICOM*, FTST, FXAM, and the P6's FCOMI/FCOMIP/FUCOMI/FUCOMIP
// and FCMOVcc).

import type { Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import { CF, PF, ZF, OF, SF as EF_SF, AF } from '../../flags';
import { blocked, finish, opEnv, stackUnderflow } from '../unit';
import { Cls, classify, compare, GT, INDEFINITE, LT, EQ, UN, ZERO, type F80, type FpEnv } from '../float80';
import { SW_C1, type FpuState } from '../state';
import { setCodes, setCompareCodes } from './common';

/**
 * Compares ST0 with `src` into C3/C2/C0 (or, `toEflags`, into ZF/PF/CF with OF, SF, AF cleared) and pops `pops`
 * times. An empty ST0 is a stack underflow: the result is unordered when IE is masked.
 */
export function compareOp(cpu: Cpu, f: FpuState, e: FpEnv, src: F80 | null, quiet: boolean, pops: number, toEflags: boolean): void {
  let outcome = UN;
  if (f.isEmpty(0) || src === null) {
    e.sourceDenormal = false;
    stackUnderflow(e);
  }
  else outcome = compare(e, f.st(0), src, quiet);
  // The condition codes are written even when an unmasked exception stops the pop (as the host x87 does).
  if (toEflags) {
    const bits = outcome === GT ? 0 : outcome === LT ? CF : outcome === EQ ? ZF : ZF | PF | CF;
    cpu.setFlagBits(ZF | PF | CF | OF | EF_SF | AF, bits);
  } else setCompareCodes(f, outcome);
  if (!blocked(e)) for (let k = 0; k < pops; k++) f.pop();
  finish(cpu, f, e, false);
  if (!toEflags || !blocked(e)) f.sw &= ~SW_C1;
}

/** FCOM/FCOMP/FUCOM/FUCOMP ST(i) (arg bit 0: quiet, bits 1–2: pops; bit 3: to EFLAGS). */
export function fcomReg(cpu: Cpu, i: Instr, f: FpuState, arg: number): void {
  const e = opEnv(f);
  const src = f.isEmpty(i.rm) ? null : f.st(i.rm);
  compareOp(cpu, f, e, src, (arg & 1) !== 0, (arg >> 1) & 3, (arg & 8) !== 0);
}

/** FCOMPP/FUCOMPP: with ST1. */
export function fcompp(cpu: Cpu, _i: Instr, f: FpuState, quiet: number): void {
  const e = opEnv(f);
  compareOp(cpu, f, e, f.isEmpty(1) ? null : f.st(1), quiet !== 0, 2, false);
}

export function ftst(cpu: Cpu, _i: Instr, f: FpuState): void {
  const e = opEnv(f);
  compareOp(cpu, f, e, ZERO, false, 0, false);
}

/** FXAM: the class of ST0 into C3, C2, C0 and its sign into C1 (SDM vol. 2 FXAM Table 3-45). */
export function fxam(_cpu: Cpu, _i: Instr, f: FpuState): void {
  const x = f.st(0);
  const sign = x.sign === 1;
  if (f.isEmpty(0)) return setCodes(f, true, false, sign, true);
  switch (classify(x)) {
    case Cls.Unsupported:
      return setCodes(f, false, false, sign, false);
    case Cls.QNaN:
    case Cls.SNaN:
      return setCodes(f, false, false, sign, true);
    case Cls.Normal:
      return setCodes(f, false, true, sign, false);
    case Cls.Infinity:
      return setCodes(f, false, true, sign, true);
    case Cls.Zero:
      return setCodes(f, true, false, sign, false);
    default:
      return setCodes(f, true, true, sign, false);
  }
}

/** FCMOVcc (P6): ST0 ← ST(i) when the EFLAGS condition holds (arg: 0 B, 1 E, 2 BE, 3 U; +4 negated). */
export function fcmov(cpu: Cpu, i: Instr, f: FpuState, arg: number): void {
  const e = opEnv(f);
  if (f.isEmpty(0) || f.isEmpty(i.rm)) {
    stackUnderflow(e);
    if (!blocked(e)) f.setSt(0, INDEFINITE);
    return finish(cpu, f, e);
  }
  const cf = cpu.getCF(), zf = cpu.getZF(), pf = cpu.getPF();
  const base = [cf, zf, cf || zf, pf][arg & 3];
  if (base !== (arg >= 4)) f.setSt(0, f.st(i.rm));
  finish(cpu, f, e);
}
