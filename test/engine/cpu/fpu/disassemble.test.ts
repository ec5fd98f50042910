// The disassembler names x87 instructions from the x87 opcode table, in NASM syntax.

import { describe, expect, it } from 'vitest';
import { disassembleOne } from '../../../../engine/cpu/decode/disassemble';

function text(bytes: number[]): string {
  return disassembleOne((o) => (o < bytes.length ? bytes[o] : -1), 0, true).text;
}

describe('x87 disassembly', () => {
  it('names memory forms with their operand size', () => {
    expect(text([0xdd, 0x05, 0x00, 0x30, 0x00, 0x00])).toBe('fld qword [0x3000]');
    expect(text([0xdb, 0x2e])).toBe('fld tword [esi]');
    expect(text([0xde, 0x06])).toBe('fiadd word [esi]');
    expect(text([0xdf, 0x36])).toBe('fbstp tword [esi]');
    expect(text([0xd9, 0x3e])).toBe('fnstcw word [esi]');
    expect(text([0xdd, 0x36])).toBe('fnsave [esi]');
  });
  it('names register forms, the reversed DC/DE encodings and the P6 additions', () => {
    expect(text([0xd8, 0xe1])).toBe('fsub st0, st1');
    expect(text([0xdc, 0xe1])).toBe('fsubr st1, st0');
    expect(text([0xde, 0xf9])).toBe('fdivp st1, st0');
    expect(text([0xd9, 0xeb])).toBe('fldpi');
    expect(text([0xdf, 0xe0])).toBe('fnstsw ax');
    expect(text([0xda, 0xc9])).toBe('fcmove st0, st1');
    expect(text([0xdb, 0xf2])).toBe('fcomi st0, st2');
  });
  it('rejects a reserved encoding', () => {
    expect(disassembleOne((o) => [0xd9, 0xd1][o] ?? -1, 0, true).valid).toBe(false);
  });
});
