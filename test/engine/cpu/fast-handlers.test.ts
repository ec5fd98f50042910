// The decode-time specialised handlers (ops/fast.ts) against the table's handlers: the same random programs as the
// JIT lockstep test (jit-program.ts), both CPUs interpreting, one with specialisation and one without, compared
// after every slice. Plus a check that specialisation really happens for the forms it covers.

import { describe, expect, it } from 'vitest';
import { generateProgram, LAYOUT16, LAYOUT32 } from './jit-program';
import { lockstep, machineFor } from './jit-lockstep-harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { flat32 } from './harness';
import { HANDLERS } from '../../../engine/cpu/ops';

describe.skipIf(!HAS_NASM)('specialised handlers against the table handlers', () => {
  for (const bits of [32, 16] as const) {
    it(`${bits}-bit random loops: same state and memory after every slice`, () => {
      const L = bits === 32 ? LAYOUT32 : LAYOUT16;
      for (let seed = 201; seed <= 216; seed++) {
        const source = generateProgram(seed * 31337 + bits, bits);
        const code = assemble(source.replace(/^bits \d+\norg 0x[0-9a-f]+\n/, ''), bits, L.org);
        const ref = machineFor(code, bits, seed);
        const fast = machineFor(code, bits, seed);
        ref.cpu.jit = fast.cpu.jit = false;
        ref.cpu.fastHandlers = false;
        fast.cpu.fastHandlers = true;
        try {
          lockstep(ref.cpu, fast.cpu, seed, [
            [L.data, L.data + 0x1000],
            [L.stackTop - 0x1000, L.stackTop + 0x100],
          ]);
        } catch (e) {
          throw new Error(`seed ${seed}, ${bits}-bit program:\n${source}\n\n${(e as Error).message}`);
        }
      }
    });
  }

  it.each([
    ['add eax, ecx', 'aluEG'],
    ['sub esi, [ebx + 4]', 'aluGE'],
    ['xor [ebx], edx', 'aluEG'],
    ['cmp eax, 5', 'aluEI'],
    ['and eax, 0x12345678', 'aluAI'],
    ['dec ecx', 'decZ'],
    ['jnz $', 'jcc'],
    ['rol eax, 3', 'shiftI'],
    ['lea edi, [esi + edx * 2 + 8]', 'lea'],
  ])('%s decodes to a specialised handler', (asm, row) => {
    const m = flat32(assemble(asm, 32, 0x10000), 0x10000);
    const i = m.cpu.fetchInstr(0x10000);
    expect(i.row!.handler).toBe(row);
    expect(i.exec).not.toBe(HANDLERS[row]);
    m.cpu.flushDecodeCache();
    m.cpu.fastHandlers = false;
    expect(m.cpu.fetchInstr(0x10000).exec).toBe(HANDLERS[row]);
  });
});

describe('specialised shifts by an immediate, every kind and count (C1 /n ib, including counts nasm encodes as D1)', () => {
  const values = [0, 1, 0x7f, 0x80000000, 0xc0000001, 0x12345678, 0xffffffff, 0x40000000];
  for (const kind of [0, 4, 5, 6, 7]) {
    it(`C1 /${kind} on EAX for counts 0–33 from several values`, () => {
      for (const value of values) {
        for (let count = 0; count < 34; count++) {
          const code = [0xc1, 0xc0 | (kind << 3), count, 0xf4];
          const run = (fast: boolean): number[] => {
            const m = flat32(code, 0x10000);
            m.cpu.jit = false;
            m.cpu.fastHandlers = fast;
            m.cpu.regs[0] = value;
            m.cpu.setEflags(0x8d5 & (value ^ count)); // arbitrary flags in, so "unchanged" is visible
            m.cpu.run(2);
            return [m.cpu.regs[0] >>> 0, m.cpu.getEflags()];
          };
          expect(run(true), `kind ${kind} value 0x${value.toString(16)} count ${count}`).toEqual(run(false));
        }
      }
    });
  }
});
