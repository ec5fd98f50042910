// NASM text of an x87 instruction, from the x87 opcode table (table.ts).

import { fpuRow } from './table';

const MEMORY_SIZE: Record<string, string> = {
  m32fp: 'dword ',
  m64fp: 'qword ',
  m80fp: 'tword ',
  m16int: 'word ',
  m32int: 'dword ',
  m64int: 'qword ',
  m80bcd: 'tword ',
  m2byte: 'word ',
};

/** Mnemonic and operands of escape `esc` (0–7 for D8–DF) with the given ModRM fields; null when reserved. */
export function fpuText(esc: number, mod: number, reg: number, rm: number, memoryText: string): { mnemonic: string; operands: string; text: string } | null {
  const row = fpuRow(esc, (mod << 6) | (reg << 3) | rm);
  if (!row) return null;
  let operands: string;
  if (row.memory) operands = (MEMORY_SIZE[row.operands] ?? '') + memoryText;
  else operands = row.operands.replace('st(i)', `st${rm}`).replace(/,/g, ', ');
  return { mnemonic: row.mnemonic, operands, text: operands ? `${row.mnemonic} ${operands}` : row.mnemonic };
}
