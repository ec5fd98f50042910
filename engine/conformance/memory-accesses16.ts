// The memory a 16-bit instruction touches, as far as the conform runner needs to know it to recognise where an
// older chip and a 386 differ at the 64 KiB segment limit: the size of the ModR/M memory operand and the offsets of
// the implicit stack words (SDM vol. 2, each instruction's Operation section).

import { InstructionForm } from './instruction-form';
import { MooTest } from './moo-types';

const OFFSET_MASK_16 = 0xffff;

/** Bytes a 16-bit ModR/M memory operand covers (0 when the instruction only computes the address). */
export function memoryOperandSize(form: InstructionForm): number {
  const op = form.opcode;
  const reg = form.modrm?.reg ?? 0;
  if (op === 0x8d) return 0; // LEA
  if (op === 0x62 || op === 0xc4 || op === 0xc5) return 4; // BOUND, LES, LDS: two words
  if (op === 0xff && (reg === 3 || reg === 5)) return 4; // far CALL/JMP through memory
  if (op === 0x8c || op === 0x8e || op === 0x8f || op === 0x69 || op === 0x6b) return 2;
  if (op < 0x40 || (op >= 0x80 && op <= 0x8b) || op === 0xc0 || op === 0xc1 || op === 0xc6 || op === 0xc7 ||
      (op >= 0xd0 && op <= 0xd3) || op === 0xf6 || op === 0xf7 || op === 0xfe || op === 0xff) {
    if (op >= 0x80 && op <= 0x83) return op === 0x81 || op === 0x83 ? 2 : 1;
    return (op & 1) === 1 ? 2 : 1;
  }
  return 0;
}

/** Word offsets of the implicit stack accesses, relative to SP (LEAVE: to BP). */
export function stackWordOffsets(form: InstructionForm, sp: number, bp: number): number[] {
  const op = form.opcode;
  const reg = form.modrm?.reg ?? -1;
  const push = (n: number) => Array.from({ length: n }, (_, k) => sp - 2 * (k + 1));
  const pop = (n: number, from = sp) => Array.from({ length: n }, (_, k) => from + 2 * k);
  if ([0x06, 0x0e, 0x16, 0x1e, 0x68, 0x6a, 0x9c, 0xe8].includes(op) || (op >= 0x50 && op <= 0x57)) return push(1);
  if ([0x07, 0x17, 0x1f, 0x9d, 0xc2, 0xc3].includes(op) || (op >= 0x58 && op <= 0x5f) || (op === 0x8f && reg === 0)) {
    return pop(1);
  }
  if (op === 0x60) return push(8);
  if (op === 0x61) return pop(8);
  if (op === 0x9a || (op === 0xff && reg === 3)) return push(2);
  if (op === 0xff && (reg === 2 || reg === 6)) return push(1);
  if (op === 0xca || op === 0xcb) return pop(2);
  if (op === 0xcf) return pop(3);
  if (op === 0xcc || op === 0xcd || op === 0xce) return push(3);
  if (op === 0xc9) return pop(1, bp);
  return [];
}


/** The FLAGS word POPF (at SS:SP) or IRET (at SS:SP+4) would pop, read from the test's initial RAM. */
export function poppedFlagsImage(test: MooTest, form: InstructionForm): number | null {
  if (form.opcode !== 0x9d && form.opcode !== 0xcf) return null;
  const regs = test.initial.regs!.values;
  const ss = regs.get('ss') ?? 0;
  const sp = ((regs.get('sp') ?? 0) + (form.opcode === 0xcf ? 4 : 0)) & OFFSET_MASK_16;
  const lo = ramByte(test, ss * 16 + sp);
  const hi = ramByte(test, ss * 16 + ((sp + 1) & OFFSET_MASK_16));
  return lo === null || hi === null ? null : lo | (hi << 8);
}

function ramByte(test: MooTest, address: number): number | null {
  for (const e of test.initial.ram) if (e.address === address) return e.value;
  return null;
}

