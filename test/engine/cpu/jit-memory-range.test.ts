// The inline memory test of translated blocks (jit/emitter.ts rangeTest): with a power-of-two memory size one AND
// tests alignment and bounds together; other sizes keep the two compares. Either way an access the block does
// inline must be an aligned one inside RAM, and every other one (unaligned, at or past the end, a 32-bit address
// that is negative as an int32) must take the out-of-line path, where the Cpu's accessors read open bus or drop
// the store as the interpreter does.

import { describe, expect, it } from 'vitest';
import { buildBlock } from '../../../engine/cpu/jit/compile';
import { flat32 } from './harness';
import { assemble, HAS_NASM } from './move-fixtures';

const ORG = 0x1000;

/** Loads and stores of every size through EBX and ESI, each a few bytes around the address in the register. */
const SOURCE = `
  mov eax, [ebx]
  mov cx, [ebx + 2]
  mov dl, [ebx + 3]
  mov [esi], eax
  mov [esi + 2], cx
  mov [esi + 3], dl
  add eax, [ebx + 1]
  movzx edi, word [ebx + 1]
  inc dword [esi + 1]
  xor ebp, [ebx - 4]
`;
const COUNT = 10;
/** SOURCE's accesses: register (3 EBX, 6 ESI), displacement, size, and how many calls each makes out of line. */
const ACCESSES: [number, number, number, number][] = [
  [3, 0, 4, 1], [3, 2, 2, 1], [3, 3, 1, 1], [6, 0, 4, 1], [6, 2, 2, 1], [6, 3, 1, 1],
  [3, 1, 4, 1], [3, 1, 2, 1], [6, 1, 4, 2], [3, -4, 4, 1],
];

/** The out-of-line calls SOURCE must make: one per access that is unaligned or does not lie wholly inside RAM. */
function expectedSlowCalls(regs: number[], memSize: number): number {
  let calls = 0;
  for (const [reg, disp, size, n] of ACCESSES) {
    const a = (regs[reg] + disp) >>> 0;
    if (a % size !== 0 || a + size > memSize) calls += n;
  }
  return calls;
}

describe.skipIf(!HAS_NASM)('inline memory accesses near the end of RAM', () => {
  for (const size of [1 << 20, (1 << 20) + 0x3000]) {
    const pow2 = (size & (size - 1)) === 0;
    it(`${pow2 ? 'power-of-two' : 'other'} memory size 0x${size.toString(16)}: the same as the interpreter, inline only inside RAM`, () => {
      const code = assemble(`${SOURCE}\nhlt`, 32, ORG);
      const addresses = [size - 8, size - 4, size - 3, size - 2, size - 1, size, size + 4, 0x7ffffffc, 0x80000000, 0xfffffff0, 0x2000];
      const source = buildBlock(flat32(code, ORG, size).cpu, flat32(code, ORG, size).cpu.fetchInstr(ORG), ORG).source;
      expect(source.includes('(ph & (AM | 3)) === 0')).toBe(pow2);
      for (const b of addresses) {
        for (const s of [b, 0x3000]) {
          const regs = [0x11223344, 0x55667788, 0x99aabbcc, b, 0x90000, 0x0f0f0f0f, s, 0x7f7f7f7f];
          const run = (translated: boolean): unknown => {
            const m = flat32(code, ORG, size);
            m.cpu.regs.set(regs);
            for (let k = 0; k < 16; k++) m.mem.write32(size - 64 + 4 * k, 0x01020304 * (k + 1));
            m.mem.write32(0x2000, 0xdeadbeef);
            let slow = 0;
            const cpu = m.cpu as unknown as Record<string, (...args: number[]) => number>;
            for (const name of ['read8', 'read16', 'read32', 'write8', 'write16', 'write32']) {
              const own = cpu[name].bind(m.cpu);
              cpu[name] = (...args: number[]) => {
                slow++;
                return own(...args);
              };
            }
            if (translated) {
              const blk = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
              expect(blk.run(m.cpu, COUNT)).toBe(COUNT);
            } else {
              m.cpu.jit = false;
              m.cpu.run(COUNT);
            }
            const tail = Array.from(m.mem.u8.subarray(size - 64, size));
            return { regs: Array.from(m.cpu.regs, (r) => r >>> 0), flags: m.cpu.getEflags(), tail, low: m.mem.read32(0x3000), slow: translated ? slow : -1 };
          };
          const jit = run(true) as { slow: number };
          const ref = run(false) as { slow: number };
          expect({ ...jit, slow: 0 }, `ebx 0x${b.toString(16)} esi 0x${s.toString(16)}`).toEqual({ ...ref, slow: 0 });
          // Inline exactly where the access is aligned and inside RAM (a test too strict would be slow, one too
          // loose would read past the typed array).
          expect(jit.slow, `ebx 0x${b.toString(16)} esi 0x${s.toString(16)}`).toBe(expectedSlowCalls(regs, size));
        }
      }
    });
  }
});
