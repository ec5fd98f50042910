// Guest time seen by a device from inside a translated block (issue 16: Linux's boot halted at an instruction count
// that depended on how the run was sliced). A block retires its instructions into `icount` only when it returns, so
// a memory-mapped device read in its middle must still see the instructions retired before it, as the
// interpreter's does. guests/apic-count-loop.asm reads the local APIC timer's current count 3000 times in a loop
// and prints a hash of the values; whether the loop runs translated depends on where slices end (a slice's first
// instruction is no block head), so every slicing and the interpreter must print the same bytes at the same count.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';

const image = new Uint8Array(readFileSync(join(__dirname, 'guests', 'apic-count-loop.bin')));

interface Outcome {
  bytes: { at: number; byte: number }[];
  instructions: number;
  exitCode: number | null;
  /** The registers, EIP and EFLAGS at the end. */
  state: number[];
}

function run(slice: number, jit: boolean): Outcome {
  const bytes: { at: number; byte: number }[] = [];
  const m: Machine = new Machine({ memoryMB: 4, onConsoleByte: (byte) => void bytes.push({ at: m.cpu.icount, byte }) });
  m.load(image, { mode: 'protected' });
  m.cpu.jit = jit;
  m.cpu.hotThreshold = 2;
  let total = 0;
  for (let k = 0; k < 1_000_000; k++) {
    const r = m.runSlice(slice);
    total += r.instructions;
    if (r.reason !== null) break;
  }
  return { bytes, instructions: total, exitCode: m.exitCode, state: [...m.cpu.regs, m.cpu.eip, m.cpu.getEflags()] };
}

describe('device time inside translated blocks', () => {
  it('a memory-mapped timer read in a hot loop sees the same time translated, interpreted and in any slicing', () => {
    const reference = run(1, false);
    expect(reference.exitCode).toBe(0);
    expect(reference.bytes).toHaveLength(4);
    for (const slice of [1_000_000, 65_536, 1_000, 997, 7]) {
      expect({ slice, ...run(slice, true) }).toEqual({ slice, ...reference });
      expect({ slice, ...run(slice, false) }).toEqual({ slice, ...reference });
    }
  });
});
