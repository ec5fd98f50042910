// Where an 80286 captured test cannot match a 386, and why (the list in ../shared/conformance/README.md). The conform
// runner reports such a test as skipped with the reason, instead of loosening a comparison or bending the CPU:
// Ringside's CPU is a 386/486 and the 386 is right for it. Each case is recognised from the test itself — its
// bytes, its initial registers and RAM, and the exception the 286 recorded — never from index lists.

import { MooTest } from './moo-types';
import { analyzeInstruction, effectiveAddress16, InstructionForm, SREG_SS } from './instruction-form';
import { memoryOperandSize, poppedFlagsImage, stackWordOffsets } from './memory-accesses16';

/** Longest instruction the 286 accepts (it faults beyond); the 386 allows 15 (SDM vol. 2 §2.3.11). */
const MAX_LENGTH_286 = 10;
const VECTOR_DE = 0;
const VECTOR_UD = 6;
const VECTOR_GP = 13;
/** SF, ZF and PF: the flags AAM defines. */
const FLAGS_SZP = 0x80 | 0x40 | 0x04;
/** FLAGS bits 12–14 (IOPL, NT): forced to 0 by a 286 in real mode, loaded by POPF/IRET on a 386. */
const FLAGS_IOPL_NT = 0x7000;
const OFFSET_MASK_16 = 0xffff;

/** The reason the 386 must differ from this 286 test, or null when it should match. */
export function differenceFrom286(test: MooTest): string | null {
  const form = analyzeInstruction(test.bytes);
  const op = form.opcode;
  const reg = (name: string): number => test.initial.regs?.values.get(name) ?? 0;

  if (op >= 0xd8 && op <= 0xdf) {
    return 'ESC (D8–DF) with no coprocessor: the 286 computes the address and does nothing else; a 386 without ' +
      'an FPU follows CR0.EM/MP instead';
  }
  // The file's BYTS chunk holds the instruction followed by the terminating HLT.
  const length = test.bytes.length - 1;
  if (length > MAX_LENGTH_286) {
    return `instruction longer than ${MAX_LENGTH_286} bytes: the 286 faults, a 386 accepts up to 15`;
  }
  if (form.lock && !lockableOn386(form) && test.exception?.vector !== VECTOR_UD) {
    return 'LOCK on an instruction that does not accept it: #UD on a 386 (SDM LOCK), ignored by the 286';
  }
  if (form.lock && op === 0xcd && test.bytes[form.afterOpcode] === VECTOR_UD) {
    return 'LOCK INT 6: the 286 ignores LOCK and executes INT 6 (return address after the instruction); a 386 ' +
      'raises #UD, vector 6 too, with the return address at the instruction';
  }
  if ((op === 0xc6 || op === 0xc7) && form.modrm && form.modrm.reg !== 0 && test.exception?.vector !== VECTOR_UD) {
    return `${op.toString(16).toUpperCase()} with reg ${form.modrm.reg}: #UD on a 386 (SDM App. A, group 11 has only ` +
      'MOV /0); the 286 ignores the reg field and decodes a MOV (here with its 10-byte limit)';
  }
  const frameCs = pushedReturnCs(test);
  if (frameCs !== null && frameCs === reg('ss') && frameCs !== reg('cs')) {
    return `the 286's interrupt frame in this capture holds SS (0x${frameCs.toString(16)}) in the return-CS slot; ` +
      'a 386 pushes CS';
  }
  if ((op === 0x8c || op === 0x8e) && form.modrm && (form.modrm.reg === 4 || form.modrm.reg === 5)) {
    return `${op.toString(16).toUpperCase()} with reg ${form.modrm.reg} moves ${form.modrm.reg === 4 ? 'FS' : 'GS'} ` +
      'on a 386; the 286 has no such register and raises #UD';
  }
  const popped = poppedFlagsImage(test, form);
  if (popped !== null && (popped & FLAGS_IOPL_NT) !== 0) {
    return `${op === 0x9d ? 'POPF' : 'IRET'} pops a FLAGS image with IOPL or NT set: the 286 forces bits 12–15 to 0 ` +
      'in real mode, a 386 loads IOPL and NT';
  }
  if (test.exception?.vector === VECTOR_GP && crossesStackLimit(test, form, reg)) {
    return 'a word access at SS:FFFF: #GP (13) on the 286, #SS (12) on a 386';
  }
  if (test.exception?.vector === VECTOR_GP && stringIndexAtSegmentEnd(form, reg)) {
    return 'word string instruction at offset FFFF: the 286 has already advanced SI/DI (and CX) when it raises ' +
      '#GP, a 386 faults before changing them (the instruction restarts)';
  }
  const wrap = test.exception?.vector === VECTOR_GP ? repeatedStringReachesSegmentEnd(form, reg) : null;
  if (wrap !== null) {
    return `REP word string instruction whose ${wrap.index.toUpperCase()} reaches offset FFFF after ${wrap.iterations} ` +
      'iterations: the 286 has advanced SI/DI and CX further when it raises #GP; a 386 stops at the faulting ' +
      `iteration with them unchanged${wrap.stack ? ' (and raises #SS, not #GP, for a word at SS:FFFF)' : ''}`;
  }
  if (op === 0x8f && test.exception?.vector === VECTOR_GP && popDestinationAtSegmentEnd(test, form, reg)) {
    return 'POP r/m16 to a word at offset FFFF: the 286 raises #GP after it has popped (SP + 2); a 386 restarts ' +
      'the instruction with SP unchanged';
  }
  if (op === 0xd4 && test.bytes[form.afterOpcode] === 0 && test.exception?.vector === VECTOR_DE && szpChanged(test)) {
    return 'AAM 0: the 286 updates SF, ZF and PF before raising #DE; a 386 raises #DE as a fault, flags unchanged';
  }
  if (op === 0xf6 && form.modrm?.reg === 7 && test.exception === null && idiv8Overflows(test, form, reg)) {
    return 'IDIV r/m8 whose quotient lies outside −128…127: the 286 completes without #DE (AL = 80H here); a 386 ' +
      'raises #DE (SDM IDIV)';
  }
  return null;
}

/** The return CS an exception or INT pushed, read from the final RAM beside the FLAGS image, or null. */
function pushedReturnCs(test: MooTest): number | null {
  const at = test.exception?.flagAddress;
  if (at === undefined) return null;
  const lo = test.final.ram.find((r) => r.address === at - 2)?.value;
  const hi = test.final.ram.find((r) => r.address === at - 1)?.value;
  return lo === undefined || hi === undefined ? null : lo | (hi << 8);
}

/** The final FLAGS (registers a test leaves unchanged are absent from FINA) differ from the initial in SF ZF PF. */
function szpChanged(test: MooTest): boolean {
  const initial = test.initial.regs?.values.get('flags') ?? 0;
  const final = test.final.regs?.values.get('flags') ?? initial;
  return ((initial ^ final) & FLAGS_SZP) !== 0;
}

/** A byte of the test's initial RAM (physical address), 0 when the test does not give it. */
function initialByte(test: MooTest, address: number): number {
  return test.initial.ram.find((r) => r.address === address)?.value ?? 0;
}

const SREG_NAMES = ['es', 'cs', 'ss', 'ds'];
const WORD_REGS = ['ax', 'cx', 'dx', 'bx'];

/** IDIV r/m8 with the test's initial state: true when the quotient does not fit a signed byte (SDM IDIV: #DE). */
function idiv8Overflows(test: MooTest, form: InstructionForm, reg: (name: string) => number): boolean {
  const m = form.modrm!;
  let divisor: number;
  if (m.mod === 3) {
    // AL CL DL BL are the low bytes of AX CX DX BX; AH CH DH BH (rm 4–7) their high bytes.
    const word = reg(WORD_REGS[m.rm & 3]);
    divisor = m.rm < 4 ? word & 0xff : word >> 8;
  } else {
    const ea = effectiveAddress16(form, test.bytes, reg)!;
    divisor = initialByte(test, ((reg(SREG_NAMES[ea.segment] ?? 'ds') << 4) + ea.offset) >>> 0);
  }
  const d = (divisor << 24) >> 24;
  if (d === 0) return false;
  const q = Math.trunc(((reg('ax') << 16) >> 16) / d);
  return q < -128 || q > 127;
}

/** POP r/m16 whose memory destination is a word at offset FFFF (it runs past the segment). */
function popDestinationAtSegmentEnd(test: MooTest, form: InstructionForm, reg: (name: string) => number): boolean {
  const ea = effectiveAddress16(form, test.bytes, reg);
  return ea !== null && ea.offset === OFFSET_MASK_16;
}

const PREFIX_REP = 0xf3;
const PREFIX_REPNE = 0xf2;
const WORD = 2;
const FLAGS_DF = 0x400;

/**
 * A REP-prefixed word string instruction whose SI or DI operand reaches offset FFFF (the word runs past the
 * segment) within CX iterations: the index register, the iterations before it, and whether that access is
 * through SS (a source with an SS override).
 */
function repeatedStringReachesSegmentEnd(form: InstructionForm, reg: (name: string) => number): { index: string; iterations: number; stack: boolean } | null {
  const indexes = WORD_STRING_INDEXES[form.opcode];
  if (indexes === undefined || !form.prefixes.some((p) => p === PREFIX_REP || p === PREFIX_REPNE)) return null;
  const step = (reg('flags') & FLAGS_DF) !== 0 ? -WORD : WORD;
  const count = reg('cx');
  for (let k = 0; k < count; k++) {
    for (const r of indexes) {
      if (((reg(r) + k * step) & OFFSET_MASK_16) === OFFSET_MASK_16) {
        return { index: r, iterations: k, stack: r === 'si' && form.segmentOverride === SREG_SS };
      }
    }
  }
  return null;
}

/** SDM LOCK: the instructions that accept the prefix, and only with a memory destination. */
function lockableOn386(form: InstructionForm): boolean {
  const m = form.modrm;
  if (!m || m.mod === 3) return false;
  const op = form.opcode;
  if (op < 0x40) return (op & 7) <= 1 && (op & 0x38) !== 0x38; // ADD OR ADC SBB AND SUB XOR r/m,r (not CMP)
  if (op >= 0x80 && op <= 0x83) return m.reg !== 7; // group 1, except CMP
  if (op === 0x86 || op === 0x87) return true; // XCHG
  if (op === 0xf6 || op === 0xf7) return m.reg === 2 || m.reg === 3; // NOT, NEG
  if (op === 0xfe || op === 0xff) return m.reg <= 1; // INC, DEC
  if ([0x0fab, 0x0fb3, 0x0fbb, 0x0fb0, 0x0fb1, 0x0fc0, 0x0fc1].includes(op)) return true; // BTS BTR BTC CMPXCHG XADD
  if (op === 0x0fba) return m.reg >= 5; // BTS/BTR/BTC imm
  if (op === 0x0fc7) return m.reg === 1; // CMPXCHG8B
  return false;
}

/** True when the instruction touches SS with a word (or wider) access that runs past offset 0xFFFF. */
function crossesStackLimit(test: MooTest, form: InstructionForm, reg: (name: string) => number): boolean {
  const ea = effectiveAddress16(form, test.bytes, reg);
  const size = memoryOperandSize(form);
  if (ea && ea.segment === SREG_SS && size >= 2 && ea.offset + size - 1 > OFFSET_MASK_16) return true;
  return stackWordOffsets(form, reg('sp'), reg('bp')).some((o) => (o & OFFSET_MASK_16) === OFFSET_MASK_16);
}

/** Word string instructions and the index registers they address (SI: source, DI: destination). */
const WORD_STRING_INDEXES: Record<number, ('si' | 'di')[]> = {
  0xa5: ['si', 'di'], 0xa7: ['si', 'di'], 0xab: ['di'], 0xad: ['si'], 0xaf: ['di'], 0x6d: ['di'], 0x6f: ['si'],
};

/** True for a word string instruction whose SI or DI operand starts at offset 0xFFFF (the word runs past it). */
function stringIndexAtSegmentEnd(form: InstructionForm, reg: (name: string) => number): boolean {
  const indexes = WORD_STRING_INDEXES[form.opcode];
  return indexes !== undefined && indexes.some((r) => reg(r) === OFFSET_MASK_16);
}
