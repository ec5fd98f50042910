// Poll loops (jit/poll.ts): `IN AL, port; TEST/AND AL, imm8; Jcc back` as a block that leaves out the passes whose
// reads of port 61h the device says return the same bits. These programs poll PIT channel 2's OUT (GRUB's TSC
// calibration: mode 0, bit 5, TEST/JZ), the refresh toggle (bit 4, AND, both directions) and channel 2's one low
// tick per period in mode 2 (IN AL, DX; JNZ), the same waits counting their passes (memtest86+'s INC EBX before the
// IN; a DEC SI after it), and one polls a bit that never changes until the budget ends. Each
// runs translated and interpreted, in several slicings: the guest time each loop leaves at (a write to the debug
// console after it), the state at every slice's end (registers, EIP, EFLAGS, the instruction count) and the exit
// must be the same, and the poll loops must have their blocks.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';

const LOAD = 0x7c00;

/** Channel 2 in `mode` with `count`, gate on, speaker off (port 43h, 42h, 61h). */
function channel2(mode: number, count: number): number[] {
  return [
    0xe4, 0x61, // in al, 61h
    0x24, 0xfc, // and al, 0FCh: gate and speaker off
    0xe6, 0x61, // out 61h, al
    0xb0, 0xb0 | (mode << 1), // mov al, channel 2, low then high byte, mode
    0xe6, 0x43, // out 43h, al
    0xb0, count & 0xff, 0xe6, 0x42, // the count's low byte
    0xb0, count >> 8, 0xe6, 0x42, // and its high byte
    0xe4, 0x61, // in al, 61h
    0x0c, 0x01, // or al, 1: gate on
    0xe6, 0x61, // out 61h, al
  ];
}

const EXIT = [0x31, 0xc0, 0xe6, 0xf4]; // xor eax, eax; out 0F4h, al
/** out 0E9h, al: the debug console records the guest time each loop left at. */
const MARK = [0xe6, 0xe9];

/** The poll loops of the programs, by their offset in the program (each must have become a poll block). */
interface Program {
  code: number[];
  polls: number[];
}

function program(): Program {
  const code: number[] = [];
  const polls: number[] = [];
  // GRUB's wait: mode 0, OUT rises at the terminal count.
  code.push(...channel2(0, 0x1234));
  polls.push(code.length);
  code.push(0xe4, 0x61, 0xa8, 0x20, 0x74, 0xfa, ...MARK); // in al, 61h; test al, 20h; jz $-4
  // Refresh toggles, five times each way: AND with JZ and with JNZ.
  code.push(0xb9, 5, 0, 0, 0); // mov ecx, 5
  const refresh = code.length;
  polls.push(code.length);
  code.push(0xe4, 0x61, 0x24, 0x10, 0x74, 0xfa, ...MARK); // in al, 61h; and al, 10h; jz $-4
  polls.push(code.length);
  code.push(0xe4, 0x61, 0x24, 0x10, 0x75, 0xfa, ...MARK); // in al, 61h; and al, 10h; jnz $-4
  code.push(0x49, 0x75, (refresh - (code.length + 3)) & 0xff); // dec ecx; jnz refresh
  // Mode 2: OUT low for one PIT tick (8 instructions) per period; IN AL, DX waits for it, three times.
  code.push(...channel2(2, 700));
  code.push(0x66, 0xba, 0x61, 0x00); // mov dx, 61h
  code.push(0xb9, 3, 0, 0, 0); // mov ecx, 3
  const low = code.length;
  polls.push(code.length);
  code.push(0xec, 0xa8, 0x20, 0x75, 0xfb, ...MARK); // in al, dx; test al, 20h; jnz $-3
  polls.push(code.length);
  code.push(0xec, 0xa8, 0x20, 0x74, 0xfb, ...MARK); // in al, dx; test al, 20h; jz $-3
  code.push(0x49, 0x75, (low - (code.length + 3)) & 0xff); // dec ecx; jnz low
  // memtest86+'s wait, counting its passes in EBX: mode 0 again, INC EBX before the IN.
  code.push(...channel2(0, 0x0456));
  code.push(0x31, 0xdb); // xor ebx, ebx
  polls.push(code.length);
  code.push(0x43, 0xe4, 0x61, 0xa8, 0x20, 0x74, 0xf9, ...MARK); // inc ebx; in al, 61h; test al, 20h; jz $-5
  // A count after the IN, down in SI (16 bits, through zero): mode 2's low tick, three times.
  code.push(...channel2(2, 300));
  code.push(0x31, 0xf6); // xor esi, esi
  code.push(0xb9, 3, 0, 0, 0); // mov ecx, 3
  const counted = code.length;
  polls.push(code.length);
  code.push(0xec, 0x66, 0x4e, 0xa8, 0x20, 0x75, 0xf9, ...MARK); // in al, dx; dec si; test al, 20h; jnz $-5
  polls.push(code.length);
  code.push(0xec, 0xa8, 0x20, 0x74, 0xfb); // in al, dx; test al, 20h; jz $-3
  code.push(0x49, 0x75, (counted - (code.length + 3)) & 0xff); // dec ecx; jnz counted
  code.push(...EXIT);
  return { code, polls };
}

interface Outcome {
  /** The guest time of each loop's exit (its MARK) and AL there. */
  marks: string[];
  states: number[][];
  instructions: number;
  exitCode: number | null;
  reads: number;
}

function run(code: number[], slice: number, jit: boolean, opts: { listen?: boolean; limit?: number } = {}): { outcome: Outcome; m: Machine } {
  const marks: string[] = [];
  const m: Machine = new Machine({ memoryMB: 4, onConsoleByte: (byte) => void marks.push(`${m.cpu.icount}:${byte.toString(16)}`) });
  m.load(Uint8Array.from(code), { mode: 'protected' });
  m.cpu.jit = jit;
  m.cpu.hotThreshold = 2;
  m.cpu.wasmHotThreshold = 2;
  let reads = 0;
  if (opts.listen === true) m.io.onPortIo = (port, _size, _value, write) => void (port === 0x61 && !write && reads++);
  const states: number[][] = [];
  let total = 0;
  const limit = opts.limit ?? 1e7;
  while (total < limit) {
    const r = m.runSlice(Math.min(slice, limit - total));
    total += r.instructions;
    states.push([total, ...m.cpu.regs, m.cpu.eip, m.cpu.getEflags()]);
    if (r.reason !== null) break;
  }
  return { outcome: { marks, states, instructions: total, exitCode: m.exitCode, reads }, m };
}

/** The blocks at the programs' poll loops. */
function pollSources(m: Machine, polls: number[]): string[] {
  return polls.map((off) => m.cpu.fetchInstr(LOAD + off).block?.source ?? 'none');
}

describe('poll loops', () => {
  it('leave out passes and end in the same state at the same count as the interpreter, in any slicing', () => {
    const { code, polls } = program();
    const reference = run(code, 1e7, false).outcome;
    expect(reference.exitCode).toBe(0);
    expect(reference.instructions).toBeGreaterThan(50_000);
    expect(reference.marks).toHaveLength(1 + 10 + 6 + 1 + 3);
    const { outcome, m } = run(code, 1e7, true);
    expect(outcome).toEqual(reference);
    expect(pollSources(m, polls).filter((s) => !s.startsWith("poll:"))).toEqual([]);
    for (const slice of [65_536, 1_000, 997, 7]) {
      const a = run(code, slice, true).outcome;
      const b = run(code, slice, false).outcome;
      expect({ slice, ...a }).toEqual({ slice, ...b });
      expect(a.instructions).toBe(reference.instructions);
    }
  });

  it('a bit that never changes: the loop runs to the budget, stopping where the interpreter stops', () => {
    const code = [...channel2(0, 0x100), 0xe4, 0x61, 0xa8, 0x01, 0x75, 0xfa, ...EXIT]; // test al, 1 (the gate): jnz
    for (const slice of [100_000, 4_099, 3, 1]) {
      const a = run(code, slice, true, { limit: 300_000 }).outcome;
      const b = run(code, slice, false, { limit: 300_000 }).outcome;
      expect({ slice, ...a }).toEqual({ slice, ...b });
    }
  });

  it('every read is made while a port listener observes them', () => {
    const { code } = program();
    const a = run(code, 1e7, true, { listen: true }).outcome;
    const b = run(code, 1e7, false, { listen: true }).outcome;
    expect(a).toEqual(b);
    expect(a.reads).toBeGreaterThan(15_000);
  });
});
