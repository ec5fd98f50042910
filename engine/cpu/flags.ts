// EFLAGS (SDM vol. 1 §3.4.3) and lazy evaluation of the arithmetic flags.
//
// Most flag results are never read, so arithmetic instructions only record their operation, operands and result;
// CF, PF, AF, ZF, SF and OF are computed from that record when something reads them (Jcc, PUSHF, interrupts, the
// debugger). `Cpu.lazyMask` says which of the six are pending; the rest live in `Cpu.flags`.

export const CF = 0x0001;
export const FIXED1 = 0x0002; // bit 1 always reads 1
export const PF = 0x0004;
export const AF = 0x0010;
export const ZF = 0x0040;
export const SF = 0x0080;
export const TF = 0x0100;
export const IF = 0x0200;
export const DF = 0x0400;
export const OF = 0x0800;
export const IOPL = 0x3000;
export const IOPL_SHIFT = 12;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const VIF = 0x80000;
export const VIP = 0x100000;
export const ID = 0x200000;

/**
 * Bits that read 0 whatever is written (SDM 1 §3.4.3, Figure 3-8: bits 3, 5, 15 and 22–31 are reserved; bit 1, also
 * reserved, reads 1: FIXED1). Every write of a whole EFLAGS image — task switch, IRET, POPF, the debugger — drops them.
 */
export const RESERVED0 = 0xffc08028 | 0;
/** Bits the 386 does not have (AC and ID came with the 486; SDM 1 §3.4.3): reserved there, read as 0. */
export const NOT_ON_386 = AC | ID;

export const ARITH = CF | PF | AF | ZF | SF | OF;
export const ARITH_NO_CF = PF | AF | ZF | SF | OF;

/** Lazy operations. */
export const LOP_ADD = 1; // also ADC: lazyCin holds the carry in
export const LOP_SUB = 2; // also SBB and CMP: lazyCin holds the borrow in
export const LOP_LOGIC = 3; // AND OR XOR TEST: CF = OF = 0, AF = 0
export const LOP_INC = 4; // CF untouched (not in lazyMask)
export const LOP_DEC = 5;
export const LOP_NEG = 6; // 0 - b

/** 1 where a byte has an even number of set bits (PF). */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) === 0 ? 1 : 0;
}

export function sizeMask(size: number): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

export function signBit(size: number): number {
  return size === 4 ? 0x80000000 : size === 2 ? 0x8000 : 0x80;
}

/** Computes all six arithmetic flags for a recorded operation (operands and result are unsigned, masked to size). */
export function computeLazyFlags(op: number, a: number, b: number, res: number, cin: number, size: number): number {
  const s = signBit(size);
  let f = 0;
  if (res === 0) f |= ZF;
  if ((res & s) !== 0) f |= SF;
  if (PARITY[res & 0xff]) f |= PF;
  switch (op) {
    case LOP_ADD:
    case LOP_INC:
      if (a + b + cin > sizeMask(size)) f |= CF;
      if ((((a ^ res) & (b ^ res)) & s) !== 0) f |= OF;
      if (((a ^ b ^ res) & 0x10) !== 0) f |= AF;
      break;
    case LOP_SUB:
    case LOP_DEC:
    case LOP_NEG:
      if (a < b + cin) f |= CF;
      if ((((a ^ b) & (a ^ res)) & s) !== 0) f |= OF;
      if (((a ^ b ^ res) & 0x10) !== 0) f |= AF;
      break;
    case LOP_LOGIC:
      break;
  }
  return f;
}
