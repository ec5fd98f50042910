// Where an 8088/8086-class captured test cannot match a 386, and why. Facts from the SingleStepTests/8088 README
// and the SDM's IA-32 compatibility notes (vol. 3 ch. 22, "Architecture compatibility"); each case is recognised
// from the test's own bytes, registers and RAM.

import { MooTest } from './moo-types';
import { analyzeInstruction, effectiveAddress16 } from './instruction-form';
import { memoryOperandSize, poppedFlagsImage, stackWordOffsets } from './memory-accesses16';

const OFFSET_MASK_16 = 0xffff;
const FLAGS_IOPL_NT = 0x7000;
const VECTOR_DE = 0;
/** Count-masking starts with the 80186 (SDM vol. 3 §22.28: shift and rotate counts are masked to 5 bits). */
const SHIFT_COUNT_MASK = 0x1f;
/** String instructions with word operands (MOVSW CMPSW STOSW LODSW SCASW). */
const WORD_STRING_OPS = new Set([0xa5, 0xa7, 0xab, 0xad, 0xaf]);
/** MOV AX, [moffs16] and MOV [moffs16], AX. */
const MOFFS_WORD_OPS = new Set([0xa1, 0xa3]);
/** IVT entry 0 (divide error) lives at physical 0–3. */
const IVT_DIVIDE = 0;

export function differenceFrom8088(test: MooTest): string | null {
  const form = analyzeInstruction(test.bytes);
  const op = form.opcode;
  const m = form.modrm;
  const reg = (name: string): number => test.initial.regs?.values.get(name) ?? 0;

  if (op >= 0xd8 && op <= 0xdf) return 'ESC (D8–DF) without a coprocessor: no 386 equivalent of the 8088 behaviour';
  if (op >= 0x0f00) return '0F is POP CS on the 8088, the two-byte opcode escape on a 386';
  if (op >= 0x60 && op <= 0x6f) return `${hex(op)} aliases a conditional jump on the 8088; a 386 defines it differently`;
  if (op === 0xc0 || op === 0xc1 || op === 0xc8 || op === 0xc9) return `${hex(op)} aliases a RET form on the 8088`;
  if (op === 0xf1) return 'F1 aliases LOCK on the 8088; a 386 raises INT 1 (ICEBP)';
  if (op === 0x54) return 'PUSH SP pushes the decremented SP on the 8088, the original SP on a 386';
  if (m && (op === 0x8c || op === 0x8e) && m.reg >= 4) return `${hex(op)} reg ${m.reg}: the 8088 ignores bit 2 of reg`;
  if (m && (op === 0x8f || op === 0xc6 || op === 0xc7) && m.reg !== 0) return `${hex(op)} reg ${m.reg}: undefined on the 8088, #UD on a 386`;
  if (m && op === 0xfe && m.reg >= 2) return `FE reg ${m.reg}: undefined on the 8088, #UD on a 386`;
  if (m && op === 0xff && m.reg === 7) return 'FF reg 7 aliases PUSH on the 8088, #UD on a 386';
  if (m && op >= 0xd0 && op <= 0xd3 && m.reg === 6) return `${hex(op)} reg 6 is SETMO on the 8088, SAL on a 386`;
  if ((op === 0xd2 || op === 0xd3) && (reg('cx') & 0xff) > SHIFT_COUNT_MASK) {
    return 'shift count in CL above 31: the 8088 uses all of it, a 386 masks it to 5 bits';
  }
  if (m && (op === 0xf6 || op === 0xf7) && m.reg === 7 && form.prefixes.some((p) => p === 0xf2 || p === 0xf3)) {
    return 'REP before IDIV negates the quotient on the 8088';
  }
  if (test.exception?.vector === VECTOR_DE || enteredDivideHandler(test, form)) {
    return 'divide error: the 8088 pushes the address of the next instruction, a 386 that of the faulting one';
  }
  const popped = poppedFlagsImage(test, form);
  if (popped !== null && (popped & FLAGS_IOPL_NT) !== 0) {
    return 'POPF/IRET with FLAGS bits 12–14 set: fixed on the 8088, IOPL and NT on a 386';
  }
  if (wordAccessAtSegmentEnd(test, form, reg)) {
    return 'a word access at offset FFFF wraps inside the segment on the 8088; a 386 raises #GP or #SS';
  }
  return null;
}

function hex(op: number): string {
  return op.toString(16).toUpperCase().padStart(2, '0');
}

function wordAccessAtSegmentEnd(test: MooTest, form: ReturnType<typeof analyzeInstruction>, reg: (n: string) => number): boolean {
  const ea = effectiveAddress16(form, test.bytes, reg);
  const size = memoryOperandSize(form);
  if (ea && size >= 2 && ea.offset + size - 1 > OFFSET_MASK_16) return true;
  if (WORD_STRING_OPS.has(form.opcode) && (reg('si') === OFFSET_MASK_16 || reg('di') === OFFSET_MASK_16)) return true;
  if (MOFFS_WORD_OPS.has(form.opcode)) {
    const at = form.afterOpcode;
    if (((test.bytes[at] ?? 0) | ((test.bytes[at + 1] ?? 0) << 8)) === OFFSET_MASK_16) return true;
  }
  return stackWordOffsets(form, reg('sp'), reg('bp')).some((o) => (o & OFFSET_MASK_16) === OFFSET_MASK_16);
}

/**
 * The 8088 files carry no EXCP chunk, so a divide error shows as DIV / IDIV / AAM ending at the handler that IVT
 * entry 0 (in the test's RAM) names.
 */
function enteredDivideHandler(test: MooTest, form: ReturnType<typeof analyzeInstruction>): boolean {
  const divides = form.opcode === 0xd4 || ((form.opcode === 0xf6 || form.opcode === 0xf7) && (form.modrm?.reg ?? 0) >= 6);
  if (!divides) return false;
  const byte = (a: number) => test.initial.ram.find((e) => e.address === a)?.value;
  const [ip0, ip1, cs0, cs1] = [0, 1, 2, 3].map((i) => byte(IVT_DIVIDE + i));
  if (ip0 === undefined || ip1 === undefined || cs0 === undefined || cs1 === undefined) return false;
  const final = test.final.regs?.values;
  return final?.get('ip') === (ip0 | (ip1 << 8)) && (final.get('cs') ?? test.initial.regs!.values.get('cs')) === (cs0 | (cs1 << 8));
}
