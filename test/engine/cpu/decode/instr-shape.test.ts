// Every number field of a decoded instruction is an int32 (decode/instr.ts): one value outside that range — an
// unsigned 32-bit immediate, displacement or moffs, an EIP above 2^31 kept as a transfer target — makes V8 store
// that field of every Instr as a boxed double, one more load (and often a cache miss) per read in the interpreter.
// The values themselves keep their meaning: the handlers and translated blocks read the 32-bit pattern.

import { describe, expect, it } from 'vitest';
import { EAX, ECX, EDX } from '../../../../engine/cpu/cpu';
import { decode } from '../../../../engine/cpu/decode/decoder';
import { Instr } from '../../../../engine/cpu/decode/instr';
import { flat32 } from '../harness';
import { enablePaging, P, PAGE_TABLE_1, RW, setPde, US } from '../paging-fixtures';

function dec(bytes: number[]): Instr {
  return decode((off) => (off < bytes.length ? bytes[off] : 0x90), 0, true, new Instr());
}

/** The names of `i`'s number fields that are not int32 (−0 counts: V8 keeps it as a double). */
function notInt32(i: Instr): string[] {
  return Object.entries(i)
    .filter(([, v]) => typeof v === 'number' && (v !== (v | 0) || Object.is(v, -0)))
    .map(([k, v]) => `${k}=${v}`);
}

describe('decoded instructions hold int32 numbers only', () => {
  it('immediates, displacements, moffs and far pointers at and above 2^31', () => {
    const forms: [number[], string, number][] = [
      [[0xb8, 0xff, 0xff, 0xff, 0xff], 'imm', 0xffffffff], // mov eax, 0xFFFFFFFF
      [[0x05, 0x00, 0x00, 0x00, 0x80], 'imm', 0x80000000], // add eax, 0x80000000
      [[0x69, 0xc0, 0x01, 0x00, 0x00, 0x80], 'imm', 0x80000001], // imul eax, eax, 0x80000001
      [[0xa1, 0x00, 0x00, 0x00, 0xc0], 'disp', 0xc0000000], // mov eax, [0xC0000000]
      [[0x8b, 0x80, 0x00, 0x00, 0x00, 0x90], 'disp', 0x90000000], // mov eax, [eax + 0x90000000]
      [[0xea, 0x00, 0x00, 0x00, 0x80, 0x08, 0x00], 'imm', 0x80000000], // jmp far 0x8:0x80000000
      [[0xe9, 0xfb, 0xff, 0xff, 0xff], 'imm', 0xfffffffb], // jmp rel32 −5
    ];
    for (const [bytes, field, value] of forms) {
      const i = dec(bytes);
      expect(notInt32(i), bytes.join(' ')).toEqual([]);
      expect((i[field as 'imm' | 'disp'] as number) >>> 0, bytes.join(' ')).toBe(value);
    }
  });

  it('a loop running above 2^31 remembers its branch target as an int32, and large immediates compute as before', () => {
    // Linear 0x80000000 (page table 1) maps the code at physical 0x10000.
    const code = [
      0xb8, 0x00, 0x00, 0x00, 0x80, // mov eax, 0x80000000
      0xba, 0xff, 0xff, 0xff, 0xff, // mov edx, 0xFFFFFFFF
      0x05, 0x00, 0x00, 0x00, 0x80, // L: add eax, 0x80000000
      0x81, 0xf2, 0x01, 0x00, 0x00, 0x80, // xor edx, 0x80000001
      0x49, // dec ecx
      0x75, 0xf2, // jnz L
      0xf4, // hlt
    ];
    const m = flat32(code, 0x10000);
    enablePaging(m);
    setPde(m, 0x80000000, PAGE_TABLE_1 | P | RW | US);
    m.mem.i32[PAGE_TABLE_1 >>> 2] = 0x10000 | P | RW | US;
    m.cpu.jit = false;
    m.cpu.eip = 0x80000000;
    m.cpu.regs[ECX] = 5;
    m.cpu.run(1000);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0); // 0x80000000 + 5 × 0x80000000, modulo 2^32
    expect(m.cpu.regs[EDX] >>> 0).toBe(0x7ffffffe); // 0xFFFFFFFF ^ 0x80000001, an odd number of times
    const jnz = m.cpu.fetchInstr(0x80000016);
    expect(jnz.target).toBe(m.cpu.fetchInstr(0x8000000a));
    expect(jnz.targetEip).toBe(0x8000000a | 0);
    for (let eip = 0x80000000; eip < 0x80000000 + code.length; ) {
      const i = m.cpu.fetchInstr(eip);
      expect(notInt32(i), `at ${eip.toString(16)}`).toEqual([]);
      eip += i.len;
    }
  });
});
