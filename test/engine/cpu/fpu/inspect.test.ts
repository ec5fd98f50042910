// The x87 state as the debugger's views read it (engine/cpu/fpu/inspect.ts).
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../../engine/machine/machine';
import { f80 } from '../../../../engine/cpu/fpu/float80';
import { inspectFpu, describeControlWord, describeStatusWord, describeOpcode } from '../../../../engine/cpu/fpu/inspect';

describe('inspectFpu', () => {
  it('maps ST(i) to physical registers through TOP and gives each a tag, its text and a JS number', () => {
    const m = new Machine({ memoryMB: 1 });
    const f = m.cpu.fpu;
    f.init();
    f.push(f80(0, 0x3fff, 1n << 63n)); // 1 → R7
    f.push(f80(1, 0x7fff, 1n << 63n)); // -inf → R6
    f.push(f80(0, 0x3fff, 0x4000000000000000n)); // unnormal 0.5 → R5
    f.push(f80(0, 0x7fff, 0xc000000000000000n)); // nan → R4
    const s = inspectFpu(m.cpu);
    expect(s.top).toBe(4);
    expect(s.stack.map((r) => [r.physical, r.tag, r.decimal])).toEqual([
      [4, 'special', 'nan'], [5, 'special', 'unnormal 0.5'], [6, 'special', '-inf'], [7, 'valid', '1'],
      [0, 'empty', '0'], [1, 'empty', '0'], [2, 'empty', '0'], [3, 'empty', '0'],
    ]);
    expect(s.stack.map((r) => r.approx).slice(0, 4)).toEqual([NaN, 0.5, -Infinity, 1]);
    expect(s.tw).toBe(0x2aff);
  });

  it('decodes the words and the opcode register', () => {
    expect(describeControlWord(0x0b7c)).toBe('PC=64 RC=up masked: ZM OM UM PM');
    expect(describeStatusWord(0xc7a1)).toBe('TOP=0 C3 C2 C1 C0 IE PE ES B');
    expect(describeOpcode(0x1e9)).toBe('D9 E9');
  });
});
