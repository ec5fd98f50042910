// x87 presence and error reporting: #NM from CR0.EM/TS/MP, #MF at the next waiting instruction with CR0.NE = 1,
// FERR# → IRQ13 with CR0.NE = 0 and port F0h clearing it, the FNINIT/FNSTSW probe with and without an FPU, the
// P6-only encodings, and the last-instruction/operand pointers.

import { describe, expect, it } from 'vitest';
import { CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS } from '../../../../engine/cpu/cpu';
import { VEC_MF, VEC_NM, VEC_UD } from '../../../../engine/cpu/faults';
import { flat32, type TestMachine } from '../harness';
import { attachFpuError } from '../../../../engine/devices/fpu-error';

interface Seen {
  vector: number;
  rule: string;
}

function step(m: TestMachine, bytes: number[]): Seen | null {
  m.mem.load(m.cpu.eip, Uint8Array.from(bytes));
  let first: Seen | null = null;
  const off = m.cpu.events.on('cpu-exception', (e) => {
    if (first === null) first = { vector: e.vector, rule: e.ruleId };
  });
  m.cpu.step();
  off();
  return first;
}

const FNINIT = [0xdb, 0xe3];
const FLDZ = [0xd9, 0xee];
const FLD1 = [0xd9, 0xe8];
const FDIV_ST0_ST1 = [0xd8, 0xf1]; // 1 / 0
const FWAIT = [0x9b];
const FLDCW_3000 = [0xd9, 0x2d, 0x00, 0x30, 0x00, 0x00];
const FNSTSW_3010 = [0xdd, 0x3d, 0x10, 0x30, 0x00, 0x00];

/** Leaves an unmasked zero-divide pending (ZE unmasked through FLDCW). */
function pendingZeroDivide(m: TestMachine): void {
  m.mem.write16(0x3000, 0x037b); // ZE unmasked
  for (const b of [FNINIT, FLDCW_3000, FLDZ, FLD1, FDIV_ST0_ST1]) expect(step(m, b)).toBeNull();
  expect(m.cpu.fpu.status & 0x8084).toBe(0x8084); // B, ES, ZE
}

describe('x87 availability', () => {
  it('ESC raises #NM with CR0.EM or CR0.TS; WAIT only with MP and TS', () => {
    for (const bit of [CR0_EM, CR0_TS]) {
      const m = flat32([]);
      m.cpu.cr0 |= bit;
      expect(step(m, FLD1)).toEqual({ vector: VEC_NM, rule: 'fpu.not-available' });
    }
    const m = flat32([]);
    m.cpu.cr0 |= CR0_TS;
    expect(step(m, FWAIT)).toBeNull();
    m.cpu.cr0 |= CR0_MP;
    expect(step(m, FWAIT)).toEqual({ vector: VEC_NM, rule: 'fpu.wait' });
  });

  it('the FNINIT; FNSTSW probe reads 0 with an FPU and leaves memory alone without one', () => {
    for (const present of [true, false]) {
      const m = flat32([]);
      m.cpu.fpuPresent = present;
      m.mem.write16(0x3010, 0x5a5a);
      expect(step(m, FNINIT)).toBeNull();
      expect(step(m, FNSTSW_3010)).toBeNull();
      expect(m.mem.peek(0x3010, 2)).toBe(present ? 0 : 0x5a5a);
    }
  });

  it('FCMOVcc and FCOMI are #UD without the P6 additions', () => {
    // each fault is seen on its own machine (with no IDT, delivery ends in shutdown)
    for (const bytes of [[0xda, 0xc1], [0xdb, 0xf1]]) {
      const m = flat32([]);
      m.cpu.p6 = false;
      expect(step(m, bytes)?.vector).toBe(VEC_UD);
    }
    const m = flat32([]);
    expect(step(m, FNINIT)).toBeNull();
    expect(step(m, [0xdb, 0xf1])).toBeNull();
  });
});

describe('unmasked exceptions', () => {
  it('CR0.NE = 1: #MF at the next waiting instruction, not at FNSTSW or FNCLEX', () => {
    const pending = (): TestMachine => {
      const m = flat32([]);
      m.cpu.cr0 |= CR0_NE;
      pendingZeroDivide(m);
      return m;
    };
    let m = pending();
    expect(step(m, FNSTSW_3010)).toBeNull(); // non-waiting
    expect(m.mem.peek(0x3010, 2) & 0x84).toBe(0x84);
    expect(step(m, [0xdb, 0xe2])).toBeNull(); // FNCLEX
    expect(step(m, FWAIT)).toBeNull();
    expect(step(pending(), FWAIT)).toEqual({ vector: VEC_MF, rule: 'fpu.pending-error' });
    m = pending();
    const top = m.cpu.fpu.top;
    expect(step(m, FLD1)).toEqual({ vector: VEC_MF, rule: 'fpu.pending-error' });
    expect(m.cpu.fpu.top).toBe(top); // the faulting FLD1 pushed nothing
  });

  it('CR0.NE = 0: FERR# raises IRQ13 when the error happens; a write to port F0h drops it', () => {
    const m = flat32([]);
    const levels: boolean[] = [];
    attachFpuError(m.cpu, m.io, (level) => levels.push(level));
    m.cpu.cr0 &= ~CR0_NE;
    pendingZeroDivide(m);
    expect(levels).toEqual([true]);
    expect(step(m, FWAIT)).toBeNull(); // PC-style reporting: no #MF
    m.io.out(0xf0, 0, 1);
    expect(levels).toEqual([true, false]);
    expect(m.cpu.fpu.ferr).toBe(false);
  });

  it('a masked exception only sets its flag', () => {
    const m = flat32([]);
    m.cpu.cr0 |= CR0_NE;
    for (const b of [FNINIT, FLDZ, FLD1, FDIV_ST0_ST1, FWAIT]) expect(step(m, b)).toBeNull();
    expect(m.cpu.fpu.status & 0x80ff).toBe(0x04);
  });
});

describe('last instruction and operand pointers', () => {
  it('FLD m64 records FIP, FCS, the opcode and FDP/FDS; control instructions leave them', () => {
    const m = flat32([]);
    expect(step(m, FNINIT)).toBeNull();
    const at = m.cpu.eip;
    expect(step(m, [0xdd, 0x05, 0x20, 0x30, 0x00, 0x00])).toBeNull(); // fld qword [0x3020]
    const f = m.cpu.fpu;
    expect([f.fip, f.fcs, f.fop, f.fdp, f.fds]).toEqual([at, m.cpu.segSel[CS], 0x505, 0x3020, m.cpu.segSel[3]]);
    expect(step(m, FNSTSW_3010)).toBeNull();
    expect(f.fip).toBe(at);
  });
});
