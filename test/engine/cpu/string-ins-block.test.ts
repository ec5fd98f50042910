// REP INS into plain RAM takes a block path (ops/string.ts insBlock): one port read per element still, but the
// stores and register updates once. These tests run the same REP INS through the block and through the
// per-element path (A20 off keeps real mode on that path: ops/string.ts blockAllowed) and compare what the device
// saw (every read, with the guest time it was made at), memory, registers, EIP and the instruction count —
// including a device that raises its interrupt in the middle, a budget that ends in the middle, and a destination
// that is the instruction's own code.

import { describe, expect, it } from 'vitest';
import { ES } from '../../../engine/cpu/cpu';
import { DF, IF } from '../../../engine/cpu/flags';
import { realMode, type TestMachine } from './harness';

const EAX = 0, ECX = 1, EDI = 7;
const PORT = 0x1f0;
const CODE = 0x1000;
const HANDLER = 0x3000;

interface Case {
  size: 1 | 2 | 4;
  down?: boolean;
  di: number;
  count: number;
  /** The device raises INTR after this many reads (IF set; the handler at HANDLER halts). */
  irqAfter?: number;
  budget?: number;
  esBase?: number;
  /** The device also reads runs of elements itself (PortDevice.portInBlock), in "sectors" of this many elements. */
  sector?: number;
}

interface Outcome {
  reads: string[];
  regs: number[];
  eip: number;
  icount: number;
  halted: boolean;
  ram: Uint8Array;
}

/** REP INS{B,W,D} at CODE (then HLT), against a device that answers each read with the next value of a sequence. */
function run(c: Case, perElement: boolean, code?: number[]): Outcome {
  const op = c.size === 1 ? [0xf3, 0x6c] : c.size === 2 ? [0xf3, 0x6d] : [0xf3, 0x66, 0x6d];
  const m: TestMachine = realMode(code ?? [...op, 0xf4], CODE);
  const esBase = c.esBase ?? 0x20000;
  m.cpu.setSegmentReal(ES, esBase >> 4);
  // Interrupt 0x20 leads to a HLT; the PIC's acknowledge is the vector.
  m.mem.load(0x20 * 4, Uint8Array.from([HANDLER & 0xff, HANDLER >> 8, 0, 0]));
  m.mem.load(HANDLER, Uint8Array.from([0xf4]));
  m.cpu.acknowledgeInterrupt = () => {
    m.cpu.setIntrLine(false);
    return 0x20;
  };
  const reads: string[] = [];
  const sector = c.sector;
  let n = 0;
  const value = (size: number): number => {
    n++;
    if (c.irqAfter !== undefined && n === c.irqAfter) m.cpu.setIntrLine(true);
    if (c.sector !== undefined && n % c.sector === 0) m.cpu.setIntrLine(true);
    const v = Math.imul(n, 0x9e3779b1) >>> 0;
    return size === 4 ? v : size === 2 ? v & 0xffff : v & 0xff;
  };
  m.io.register(PORT, 1, {
    wide: true,
    portIn: (_p, size) => {
      reads.push(`${size}@${m.cpu.icount}`);
      return value(size);
    },
    portOut: () => undefined,
    // A run ends at the element that raised the interrupt (a sector's end, or irqAfter), as the interface asks.
    portInBlock:
      sector === undefined
        ? undefined
        : (_p, size, count, into, at, step) => {
            let k = 0;
            while (k < count) {
              reads.push(`${size}@block`);
              const before = n;
              const v = value(size);
              for (let j = 0; j < size; j++) into[at + k * step + j] = v >>> (8 * j);
              k++;
              if ((c.irqAfter !== undefined && before + 1 === c.irqAfter) || (before + 1) % sector === 0) break;
            }
            return k;
          },
  });
  m.cpu.regs[0x2] = PORT; // EDX
  m.cpu.regs[EDI] = c.di;
  m.cpu.regs[ECX] = c.count;
  m.cpu.regs[EAX] = 0x5a5a5a5a;
  m.cpu.setEflags(0x2 | (c.irqAfter !== undefined ? IF : 0) | (c.down ? DF : 0));
  if (perElement) m.cpu.a20Enabled = false;
  m.cpu.run(c.budget ?? 100_000);
  return {
    reads,
    regs: Array.from(m.cpu.regs),
    eip: m.cpu.eip,
    icount: m.cpu.icount,
    halted: m.cpu.halted,
    ram: m.mem.readBytes(0, 0x40000),
  };
}

function same(c: Case, code?: number[]): Outcome {
  const block = run(c, false, code);
  const element = run(c, true, code);
  // A device's own runs are not timed (their values may not depend on it): compare the sizes only.
  const untimed = (r: string[]): string[] => (c.sector === undefined ? r : r.map((x) => x.split('@')[0]));
  expect(untimed(block.reads), 'reads').toEqual(untimed(element.reads));
  expect(block.regs, 'registers').toEqual(element.regs);
  expect([block.eip, block.icount, block.halted], 'eip, icount, halted').toEqual([element.eip, element.icount, element.halted]);
  expect(block.ram.findIndex((b, k) => b !== element.ram[k]), 'first differing byte').toBe(-1);
  return block;
}

describe('REP INS block path', () => {
  it('equals the per-element path for every size and direction, each read at its own guest time', () => {
    for (const size of [1, 2, 4] as const) {
      for (const down of [false, true]) {
        for (const [di, count] of [
          [0x100, 1],
          [0x100, 2],
          [0x200, 256],
          [0xfff0, 3],
          [0x7ffe, 37],
        ]) {
          const o = same({ size, down, di, count });
          expect(o.reads.length).toBe(count);
          // One instruction of guest time per element: the device sees consecutive counts.
          const times = o.reads.map((r) => Number(r.split('@')[1]));
          expect(times).toEqual(times.map((_, k) => times[0] + k));
        }
      }
    }
  });

  it('stops after the element whose read raised an interrupt, and the handler runs before the next read', () => {
    for (const size of [1, 2, 4] as const) {
      for (const irqAfter of [1, 2, 100, 255]) {
        const o = same({ size, di: 0x400, count: 256, irqAfter });
        expect(o.reads.length).toBe(irqAfter);
        expect(o.halted).toBe(true);
        expect(o.regs[ECX]).toBe(256 - irqAfter);
      }
    }
  });

  it('a budget that ends in the middle leaves EIP on the instruction with the elements done counted', () => {
    for (const budget of [1, 2, 3, 50, 200]) {
      const o = same({ size: 2, di: 0x400, count: 256, budget });
      expect(o.reads.length).toBe(budget);
      expect(o.icount).toBe(budget);
      expect(o.eip).toBe(CODE);
    }
  });

  it('a device that reads runs itself: the same data, registers and count, stopping where its interrupt is taken', () => {
    for (const size of [1, 2, 4] as const) {
      for (const down of [false, true]) {
        for (const irqAfter of [undefined, 3, 40]) {
          const o = same({ size, down, di: 0x800, count: 64, sector: 16, irqAfter });
          expect(o.reads.filter((r) => r.endsWith('@block')).length, 'elements read in runs').toBe(o.reads.length);
        }
      }
    }
    // With IF clear the sector interrupts are not taken: all 64 elements in one execution, four runs.
    const all = same({ size: 2, di: 0x800, count: 64, sector: 16 });
    expect([all.reads.length, all.regs[ECX], all.halted]).toEqual([64, 0, true]);
  });

  it('a destination over the code that runs next takes the stores as code stores', () => {
    // REP INSB at 0x1000 with ES:DI = 0:0x1002 overwrites the two NOPs after it with the device's bytes B1 62: MOV
    // CL, 0x62 runs next, then the HLT. The page holds decoded code, so the stores go element by element.
    const o = same({ size: 1, di: CODE + 2, count: 2, esBase: 0 }, [0xf3, 0x6c, 0x90, 0x90, 0xf4]);
    expect(o.halted).toBe(true);
    expect(o.regs[ECX] & 0xff).toBe(0x62);
  });
});
