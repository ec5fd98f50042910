// Cpu.restoreSegmentRegisters: the monitor's switch between the guest's view and the deprivileged CPU. It stores
// the eight registers at once and recomputes only what they decide (each access window whose register changed, all
// of them when PE or VM changed since the windows were last computed), and leaves the code epoch to its caller
// (engine/cpu/code-assumptions.ts: the monitor moves it after an entry that changed what the run loop assumes).
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { CR0_PE, DS, CS } from '../../../engine/cpu/cpu';
import { CpuFault } from '../../../engine/cpu/faults';
import { CodeAssumptions } from '../../../engine/cpu/code-assumptions';
import { GuestState } from '../../../engine/monitor/guest-state';
import { PROGRAM_BASE, programFromSlots } from '../../../engine/monitor/random-program';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };

function protectedMachine(): Machine {
  const m = new Machine({ memoryMB: 16 });
  m.load(programFromSlots([[0x90]]).image, LOAD);
  m.run(200); // the runtime's set-up: its GDT, flat DS with DPL 0, IDT, TSS
  expect(m.cpu.cr0 & CR0_PE).toBe(CR0_PE);
  return m;
}

function writesThroughDs(m: Machine): boolean {
  try {
    m.cpu.writeMem(DS, 0x40000, 1, 0x5a);
    return true;
  } catch (e) {
    if (e instanceof CpuFault) return false;
    throw e;
  }
}

describe('Cpu.restoreSegmentRegisters', () => {
  it('recomputes the access window of a register whose type changed (read-only DS: a write faults, then works again)', () => {
    const m = protectedMachine();
    const cpu = m.cpu;
    const s = new GuestState();
    s.captureFrom(cpu);
    expect(writesThroughDs(m)).toBe(true);
    const readOnly = new GuestState();
    readOnly.copyFrom(s);
    readOnly.ar[DS] = (readOnly.ar[DS] & ~0xf) | 0x1; // read-only data, accessed
    cpu.restoreSegmentRegisters(readOnly.sel, readOnly.base, readOnly.limit, readOnly.ar, readOnly.valid);
    expect(writesThroughDs(m)).toBe(false);
    cpu.restoreSegmentRegisters(s.sel, s.base, s.limit, s.ar, s.valid);
    expect(writesThroughDs(m)).toBe(true);
  });

  it('recomputes every window when PE changed since they were computed, even for registers it leaves as they are', () => {
    const m = protectedMachine();
    const cpu = m.cpu;
    const readOnly = new GuestState();
    readOnly.captureFrom(cpu);
    readOnly.ar[DS] = (readOnly.ar[DS] & ~0xf) | 0x1;
    cpu.restoreSegmentRegisters(readOnly.sel, readOnly.base, readOnly.limit, readOnly.ar, readOnly.valid);
    expect(writesThroughDs(m)).toBe(false);
    // Real mode checks only the limit (SDM 3A §20.1): the same cache is writable there.
    cpu.cr0 &= ~CR0_PE;
    cpu.modeChanged();
    expect(writesThroughDs(m)).toBe(true);
    // PE set again without a recomputation, then the same registers restored: DS's window is protected mode's again.
    cpu.cr0 |= CR0_PE;
    cpu.restoreSegmentRegisters(readOnly.sel, readOnly.base, readOnly.limit, readOnly.ar, readOnly.valid);
    expect(writesThroughDs(m)).toBe(false);
  });

  it('leaves the code epoch alone; CodeAssumptions moves it only when something the run loop assumes changed', () => {
    const m = protectedMachine();
    const cpu = m.cpu;
    const s = new GuestState();
    s.captureFrom(cpu);
    const assumptions = new CodeAssumptions();
    assumptions.capture(cpu);
    const epoch = cpu.codeEpoch;
    // What ring compression changes: the DPL of every cache and the RPL of CS. Nothing code-relevant beyond CS's
    // selector and rights, which it counts anyway; restored, nothing differs.
    const compressed = new GuestState();
    compressed.copyFrom(s);
    for (let r = 0; r < 6; r++) compressed.ar[r] |= 0x60;
    compressed.sel[CS] |= 3;
    cpu.restoreSegmentRegisters(compressed.sel, compressed.base, compressed.limit, compressed.ar, compressed.valid);
    expect(cpu.codeEpoch).toBe(epoch);
    cpu.restoreSegmentRegisters(s.sel, s.base, s.limit, s.ar, s.valid);
    expect(cpu.codeEpoch).toBe(epoch);
    expect(assumptions.settle(cpu)).toBe(false);
    expect(cpu.codeEpoch).toBe(epoch);
    // CS's base moved (the same EIP now names other bytes): the epoch moves.
    const moved = new GuestState();
    moved.copyFrom(s);
    moved.base[CS] = s.base[CS] + 0x1000;
    cpu.restoreSegmentRegisters(moved.sel, moved.base, moved.limit, moved.ar, moved.valid);
    expect(cpu.codeEpoch).toBe(epoch);
    expect(assumptions.settle(cpu)).toBe(true);
    expect(cpu.codeEpoch).not.toBe(epoch);
    // Each other assumption on its own.
    cpu.restoreSegmentRegisters(s.sel, s.base, s.limit, s.ar, s.valid);
    const edits: [string, () => void, () => void][] = [
      ['CPL', () => (cpu.cpl = 3), () => (cpu.cpl = s.cpl)],
      ['CR3', () => (cpu.cr3 = 0x30000), () => (cpu.cr3 = s.cr3)],
      ['A20', () => (cpu.a20Mask = ~0x100000), () => (cpu.a20Mask = 0xffffffff)],
      ['TLB', () => (cpu.tlb = Object.create(cpu.tlb)), () => (cpu.tlb = Object.getPrototypeOf(cpu.tlb))],
      ['16-bit stack', () => (cpu.stack32 = !cpu.stack32), () => (cpu.stack32 = !cpu.stack32)],
    ];
    for (const [what, change, undo] of edits) {
      assumptions.capture(cpu);
      const before = cpu.codeEpoch;
      change();
      expect(assumptions.settle(cpu), what).toBe(true);
      expect(cpu.codeEpoch, what).not.toBe(before);
      undo();
    }
  });
});
