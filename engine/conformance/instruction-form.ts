// A small static look at a test's instruction bytes: prefixes, opcode, ModR/M and (for 16-bit addressing) the
// effective address of the memory operand. The conform runner needs it to pick undefined-flag masks by opcode and
// reg field, and to recognise the places where the 286 and the 386 differ. It is not the engine's decoder: it
// only knows which opcodes carry a ModR/M byte.

/** Prefix bytes of the 386 (SDM vol. 2 §2.1.1): LOCK, REPNE, REP, segment overrides, operand and address size. */
const PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67]);

export const PREFIX_LOCK = 0xf0;
export const PREFIX_OPSIZE = 0x66;
export const PREFIX_ADDRSIZE = 0x67;

/** Segment override prefix → SDM sreg number (ES 0, CS 1, SS 2, DS 3, FS 4, GS 5). */
const SEGMENT_OF_PREFIX = new Map([[0x26, 0], [0x2e, 1], [0x36, 2], [0x3e, 3], [0x64, 4], [0x65, 5]]);
export const SREG_SS = 2;
export const SREG_DS = 3;

/** One-byte opcodes with a ModR/M byte (SDM vol. 2 appendix A, one-byte map). */
function oneByteHasModrm(op: number): boolean {
  if (op < 0x40) return (op & 7) < 4;
  return (op >= 0x62 && op <= 0x63) || op === 0x69 || op === 0x6b || (op >= 0x80 && op <= 0x8f) ||
    op === 0xc0 || op === 0xc1 || (op >= 0xc4 && op <= 0xc7) || (op >= 0xd0 && op <= 0xd3) ||
    (op >= 0xd8 && op <= 0xdf) || op === 0xf6 || op === 0xf7 || op === 0xfe || op === 0xff;
}

/** Two-byte (0F xx) opcodes with a ModR/M byte, 386/486 map. */
function twoByteHasModrm(op: number): boolean {
  return op <= 0x03 || (op >= 0x20 && op <= 0x26) || (op >= 0x90 && op <= 0x9f) ||
    [0xa3, 0xa4, 0xa5, 0xab, 0xac, 0xad, 0xaf].includes(op) || (op >= 0xb0 && op <= 0xbf) ||
    op === 0xc0 || op === 0xc1 || op === 0xc7;
}

export interface InstructionForm {
  /** Prefix bytes in order. */
  prefixes: number[];
  lock: boolean;
  /** SDM sreg number of the last segment override, or null. */
  segmentOverride: number | null;
  operandSizePrefix: boolean;
  addressSizePrefix: boolean;
  /** The opcode: one byte, or 0x0F00 | second byte for the two-byte map. */
  opcode: number;
  modrm: { mod: number; reg: number; rm: number } | null;
  /** Offset of the byte after the ModR/M byte (where SIB / displacement start), or after the opcode. */
  afterOpcode: number;
}

/** Splits instruction bytes into prefixes, opcode and ModR/M. Missing bytes read as 0 (a truncated test). */
export function analyzeInstruction(bytes: Uint8Array): InstructionForm {
  let i = 0;
  const prefixes: number[] = [];
  let segmentOverride: number | null = null;
  while (i < bytes.length && PREFIXES.has(bytes[i])) {
    const p = bytes[i++];
    prefixes.push(p);
    if (SEGMENT_OF_PREFIX.has(p)) segmentOverride = SEGMENT_OF_PREFIX.get(p)!;
  }
  let opcode = bytes[i++] ?? 0;
  let hasModrm: boolean;
  if (opcode === 0x0f) {
    opcode = 0x0f00 | (bytes[i++] ?? 0);
    hasModrm = twoByteHasModrm(opcode & 0xff);
  } else {
    hasModrm = oneByteHasModrm(opcode);
  }
  let modrm: InstructionForm['modrm'] = null;
  if (hasModrm) {
    const b = bytes[i++] ?? 0;
    modrm = { mod: b >> 6, reg: (b >> 3) & 7, rm: b & 7 };
  }
  return {
    prefixes, lock: prefixes.includes(PREFIX_LOCK), segmentOverride,
    operandSizePrefix: prefixes.includes(PREFIX_OPSIZE), addressSizePrefix: prefixes.includes(PREFIX_ADDRSIZE),
    opcode, modrm, afterOpcode: i,
  };
}

/** The 16-bit registers a 16-bit effective address reads, by name as the MOO `REGS` chunk spells them. */
export type Regs16 = (name: 'bx' | 'bp' | 'si' | 'di') => number;

/**
 * The memory operand of a 16-bit ModR/M form (SDM vol. 2 table 2-1): segment (SDM sreg number, overrides
 * applied; BP-based forms default to SS) and the 16-bit offset. Null for a register operand.
 */
export function effectiveAddress16(
  form: InstructionForm, bytes: Uint8Array, reg: Regs16,
): { segment: number; offset: number } | null {
  const m = form.modrm;
  if (!m || m.mod === 3) return null;
  let disp = 0;
  const at = form.afterOpcode;
  if (m.mod === 1) disp = ((bytes[at] ?? 0) << 24) >> 24;
  else if (m.mod === 2 || (m.mod === 0 && m.rm === 6)) disp = (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
  let base: number;
  let stackBased = false;
  switch (m.rm) {
    case 0: base = reg('bx') + reg('si'); break;
    case 1: base = reg('bx') + reg('di'); break;
    case 2: base = reg('bp') + reg('si'); stackBased = true; break;
    case 3: base = reg('bp') + reg('di'); stackBased = true; break;
    case 4: base = reg('si'); break;
    case 5: base = reg('di'); break;
    case 6: if (m.mod === 0) { base = 0; } else { base = reg('bp'); stackBased = true; } break;
    default: base = reg('bx'); break;
  }
  const segment = form.segmentOverride ?? (stackBased ? SREG_SS : SREG_DS);
  return { segment, offset: (base + disp) & 0xffff };
}
