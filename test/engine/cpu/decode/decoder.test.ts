import { describe, expect, it } from 'vitest';
import '../../../../engine/cpu/cpu'; // binds the handler registry to the table
import { decode } from '../../../../engine/cpu/decode/decoder';
import { Instr } from '../../../../engine/cpu/decode/instr';
import { CpuFault, VEC_GP, VEC_UD } from '../../../../engine/cpu/faults';

function dec(bytes: number[], d32 = false): Instr {
  return decode((off) => (off < bytes.length ? bytes[off] : 0x90), 0, d32, new Instr());
}

function faultOf(fn: () => unknown): CpuFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof CpuFault) return e;
    throw e;
  }
  throw new Error('no fault');
}

describe('decoder', () => {
  it('decodes 16-bit ModRM forms with BP defaulting to SS', () => {
    const i = dec([0x8b, 0x46, 0xfe]); // mov ax, [bp-2]
    expect([i.len, i.size, i.reg, i.base, i.index, i.disp, i.seg]).toEqual([3, 2, 0, 5, -1, -2, 2]);
    const j = dec([0x8b, 0x00]); // mov ax, [bx+si]
    expect([j.base, j.index, j.seg]).toEqual([3, 6, 3]);
    const k = dec([0x8b, 0x06, 0x34, 0x12]); // mov ax, [0x1234]
    expect([k.len, k.base, k.index, k.disp]).toEqual([4, -1, -1, 0x1234]);
  });

  it('decodes 32-bit SIB forms, including no-base disp32 and ESP/EBP defaulting to SS', () => {
    const i = dec([0x8b, 0x44, 0x8d, 0x10], true); // mov eax, [ebp+ecx*4+0x10]
    expect([i.len, i.size, i.base, i.index, i.scale, i.disp, i.seg]).toEqual([4, 4, 5, 1, 2, 0x10, 2]);
    const j = dec([0x8b, 0x04, 0xcd, 0x78, 0x56, 0x34, 0x12], true); // mov eax, [ecx*8+0x12345678]
    expect([j.len, j.base, j.index, j.scale, j.disp >>> 0, j.seg]).toEqual([7, -1, 1, 3, 0x12345678, 3]);
    const k = dec([0x8b, 0x04, 0x24], true); // mov eax, [esp]
    expect([k.base, k.index, k.seg]).toEqual([4, -1, 2]);
  });

  it('applies operand-size, address-size and segment-override prefixes (last override wins)', () => {
    const i = dec([0x66, 0x67, 0x26, 0x64, 0x8b, 0x45, 0x04]); // fs: mov eax, [ebp+4] in 16-bit code
    expect([i.os32, i.as32, i.size, i.base, i.seg, i.segOverride, i.len]).toEqual([true, true, 4, 5, 4, 4, 7]);
  });

  it('reads immediates by form: Iv by operand size, Ibs sign-extended, Ap offset and selector', () => {
    expect(dec([0x66, 0xb8, 1, 2, 3, 4]).imm >>> 0).toBe(0x04030201);
    expect(dec([0x83, 0xc0, 0xff]).imm).toBe(-1);
    const far = dec([0xea, 0x34, 0x12, 0x00, 0xf0]);
    expect([far.imm, far.imm2, far.len]).toEqual([0x1234, 0xf000, 5]);
    const moffs = dec([0xa1, 0x78, 0x56, 0x34, 0x12], true);
    expect([moffs.disp >>> 0, moffs.len]).toEqual([0x12345678, 5]);
  });

  it('raises #GP(0) for an instruction longer than 15 bytes', () => {
    const f = faultOf(() => dec([...new Array(15).fill(0x66), 0x90]));
    expect([f.vector, f.errorCode, f.rule.id]).toEqual([VEC_GP, 0, 'decode.length']);
    expect(dec([...new Array(14).fill(0x66), 0x90]).len).toBe(15);
  });

  it('raises #UD for LOCK on an instruction or operand that cannot be locked', () => {
    expect(faultOf(() => dec([0xf0, 0x89, 0xc0])).vector).toBe(VEC_UD); // lock mov eax, eax
    expect(faultOf(() => dec([0xf0, 0x01, 0xc0])).rule.id).toBe('decode.lock'); // lock add ax, ax (register)
    expect(dec([0xf0, 0x01, 0x07]).lock).toBe(true); // lock add [bx], ax
  });

  it('raises #UD for a register where memory is required (LEA, LDS)', () => {
    expect(faultOf(() => dec([0x8d, 0xc0])).rule.id).toBe('decode.memory-operand-required');
    expect(faultOf(() => dec([0xc5, 0xc0])).vector).toBe(VEC_UD);
  });

  it('raises #UD for undefined opcodes and group slots', () => {
    expect(faultOf(() => dec([0x0f, 0xff])).rule.id).toBe('decode.undefined-opcode');
    expect(faultOf(() => dec([0xfe, 0x38])).vector).toBe(VEC_UD); // FE /7
    expect(faultOf(() => dec([0x0f, 0x01, 0x28])).vector).toBe(VEC_UD); // 0F 01 /5
  });
});
