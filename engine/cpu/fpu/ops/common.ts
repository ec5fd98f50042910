// Helpers the x87 instruction groups share: operand fetch from memory by format, condition codes, and the
// write-back of a result to a stack register.

import type { Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import { DE, DOUBLE, SINGLE, type F80, type FpEnv } from '../float80';
import { fromIntBits, fromReal } from '../convert';
import { readBits } from '../memory';
import { SW_C0, SW_C1, SW_C2, SW_C3, SW_CC, type FpuState } from '../state';
import { blocked, finish } from '../unit';

/** Memory operand formats of the arithmetic groups (D8 m32real, DC m64real, DA m32int, DE m16int). */
export const M32R = 0, M64R = 1, M32I = 2, M16I = 3, M64I = 4;
const BYTES = [4, 8, 4, 2, 8];

export function memOperandBytes(kind: number): number {
  return BYTES[kind];
}

/** Reads a memory source operand and widens it to extended (SNaNs kept for the NaN rules; denormals raise #D). */
export function readSource(cpu: Cpu, i: Instr, e: FpEnv, kind: number): F80 {
  const bits = readBits(cpu, i.seg, cpu.ea(i), BYTES[kind]);
  switch (kind) {
    case M32R:
    case M64R: {
      // The operation, not the load, decides whether the denormal counts (an invalid operand or a NaN beats it).
      const before = e.flags;
      const v = fromReal(e, bits, kind === M32R ? SINGLE : DOUBLE, false);
      e.sourceDenormal = (e.flags & ~before & DE) !== 0;
      e.flags = before;
      return v;
    }
    case M32I:
      return fromIntBits(bits, 32);
    case M16I:
      return fromIntBits(bits, 16);
    default:
      return fromIntBits(bits, 64);
  }
}

/** Compare outcome (float80 GT/LT/EQ/UN) → C3, C2, C0 (SDM vol. 2 FCOM Table 3-21); C1 cleared. */
const CC_OF = [0, SW_C0, SW_C3, SW_C3 | SW_C2 | SW_C0];
export function setCompareCodes(f: FpuState, outcome: number): void {
  f.sw = (f.sw & ~SW_CC) | CC_OF[outcome];
}

export function setCodes(f: FpuState, c3: boolean, c2: boolean, c1: boolean, c0: boolean): void {
  f.sw = (f.sw & ~SW_CC) | (c3 ? SW_C3 : 0) | (c2 ? SW_C2 : 0) | (c1 ? SW_C1 : 0) | (c0 ? SW_C0 : 0);
}

/** Stores a result in ST(dst) unless an unmasked pre-computation exception forbids it, pops `pops` times, and
 *  ends the instruction. */
export function writeBack(cpu: Cpu, f: FpuState, e: FpEnv, dst: number, v: F80, pops = 0, setC1 = true): void {
  if (!blocked(e)) {
    f.setSt(dst, v);
    for (let k = 0; k < pops; k++) f.pop();
  }
  finish(cpu, f, e, setC1);
}
