// x87 state outside the instructions: machine snapshots keep and restore it, lockstep's visible state shows it.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../../../engine/machine/machine';
import { visibleState, firstDifference } from '../../../../engine/monitor/lockstep';

// real mode at 0:7C00: fninit; fldpi; fld1; faddp; (hlt)
const PROGRAM = [0xdb, 0xe3, 0xd9, 0xeb, 0xd9, 0xe8, 0xde, 0xc1, 0xf4];

function machine(): Machine {
  const m = new Machine({ memoryMB: 1 });
  m.load(Uint8Array.from(PROGRAM), { format: 'bin' });
  return m;
}

describe('x87 state in snapshots and lockstep', () => {
  it('a snapshot taken mid-program restores the FPU registers, words and TOP exactly', () => {
    const m = machine();
    m.run(3); // fninit, fldpi, fld1
    const snap = m.snapshot();
    const before = visibleState(m, null).fpu;
    m.run(1); // faddp changes ST0 and TOP
    expect(visibleState(m, null).fpu).not.toEqual(before);
    m.restore(snap);
    expect(visibleState(m, null).fpu).toEqual(before);
    expect(m.cpu.fpu.st(0).exp).toBe(0x3fff);
    expect(m.cpu.fpu.st(1).sig).toBe(0xc90fdaa22168c235n); // π rounded to nearest
  });

  it('lockstep reports an FPU register difference by name', () => {
    const a = machine(), b = machine();
    a.run(2);
    b.run(2);
    expect(firstDifference(visibleState(a, null), visibleState(b, null))).toBeNull();
    b.cpu.fpu.sig[b.cpu.fpu.phys(0)] ^= 1n;
    expect(firstDifference(visibleState(a, null), visibleState(b, null))).toBe('FPU ST0');
  });
});
