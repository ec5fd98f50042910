// Decimal adjust instructions (SDM vol. 2 DAA, DAS, AAA, AAS, AAM, AAD).
//
// The SDM's pseudocode is followed literally (AAA/AAS adjust all of AX by 106h, as the 386 does). Undefined flags:
// DAA/DAS OF = signed overflow of the adjustment applied to AL (matches the 80286 captures); AAA/AAS report SF ZF
// PF OF of the AL ± 6 step; AAM clears OF/AF/CF; AAD reports CF and AF of the 8-bit addition AL + AH × imm8 it
// performs and OF = CF. All of these match the 80286 captures with their masks removed; no 386 capture of these
// undefined flags was available.

import { Cpu } from '../cpu';
import type { Handler } from '../decode/instr';
import { fault, rule, VEC_DE } from '../faults';
import { AF, CF, OF, PF, SF, ZF } from '../flags';

const R_AAM_ZERO = rule('aam.divide-by-zero', 'AAM with an immediate divisor of 0', 'SDM 2 AAM');

const ALL = CF | PF | AF | ZF | SF | OF;

/** OF of AL going from `before` to `after` through an addition (positive → negative) or a subtraction. */
function adjustOverflow(before: number, after: number, subtract: boolean): number {
  const overflow = subtract ? before & ~after & 0x80 : ~before & after & 0x80;
  return overflow !== 0 ? OF : 0;
}

/**
 * AAA / AAS: when AL's low digit is above 9 or AF is set, AX ± 106h (AL ± 6 with the carry or borrow into AH, and
 * AH ± 1), AF = CF = 1; else AF = CF = 0; then AL's high digit is cleared. The undefined SF ZF PF OF are those of
 * the 8-bit AL ± 6 step (AL itself when no adjustment is made), as the 80286 captures show.
 */
function asciiAdjust(cpu: Cpu, subtract: boolean): void {
  let ax = cpu.regs16[0];
  const al = ax & 0xff;
  let step = al;
  let f = 0;
  if ((al & 0x0f) > 9 || cpu.getAF()) {
    step = (subtract ? al - 6 : al + 6) & 0xff;
    ax = (subtract ? ax - 0x106 : ax + 0x106) & 0xffff;
    f = AF | CF | adjustOverflow(al, step, subtract);
  }
  cpu.regs16[0] = ax & 0xff0f;
  cpu.setFlagBits(ALL, f | Cpu.szp(step, 1));
}

export const handlers: Record<string, Handler> = {
  daa(cpu) {
    const oldAl = cpu.regs8[0];
    const oldCf = cpu.getCF();
    let al = oldAl;
    let f = 0;
    if ((al & 0x0f) > 9 || cpu.getAF()) {
      const sum = al + 6;
      al = sum & 0xff;
      f |= AF;
      if (oldCf || sum > 0xff) f |= CF;
    }
    if (oldAl > 0x99 || oldCf) {
      al = (al + 0x60) & 0xff;
      f |= CF;
    } else {
      f &= ~CF;
    }
    cpu.regs8[0] = al;
    cpu.setFlagBits(ALL, f | Cpu.szp(al, 1) | adjustOverflow(oldAl, al, false));
  },

  das(cpu) {
    const oldAl = cpu.regs8[0];
    const oldCf = cpu.getCF();
    let al = oldAl;
    let f = 0;
    if ((al & 0x0f) > 9 || cpu.getAF()) {
      const diff = al - 6;
      al = diff & 0xff;
      f |= AF;
      if (oldCf || diff < 0) f |= CF;
    }
    if (oldAl > 0x99 || oldCf) {
      al = (al - 0x60) & 0xff;
      f |= CF;
    }
    cpu.regs8[0] = al;
    cpu.setFlagBits(ALL, f | Cpu.szp(al, 1) | adjustOverflow(oldAl, al, true));
  },

  aaa(cpu) {
    asciiAdjust(cpu, false);
  },

  aas(cpu) {
    asciiAdjust(cpu, true);
  },

  aam(cpu, i) {
    const base = i.imm & 0xff;
    if (base === 0) fault(VEC_DE, -1, R_AAM_ZERO);
    const al = cpu.regs8[0];
    const q = Math.floor(al / base);
    const r = al - q * base;
    cpu.regs8[1] = q;
    cpu.regs8[0] = r;
    cpu.setFlagBits(ALL, Cpu.szp(r, 1));
  },

  // AAD: AL ← (AL + AH × imm8) AND FFh, AH ← 0. CF and AF (undefined) are those of the 8-bit addition, and OF
  // (undefined) equals that CF: all 60 AAD cases of the 80286 captures show OF = CF.
  aad(cpu, i) {
    const al = cpu.regs8[0];
    const product = (cpu.regs8[1] * (i.imm & 0xff)) & 0xff;
    const sum = al + product;
    const res = sum & 0xff;
    cpu.regs16[0] = res;
    const carry = sum > 0xff ? CF | OF : 0;
    cpu.setFlagBits(ALL, carry | ((al ^ product ^ res) & AF) | Cpu.szp(res, 1));
  },
};
