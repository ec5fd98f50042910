import { describe, expect, it } from 'vitest';
import { CR0_TS, CS, DS, EAX, EBX, ESP, SS, TR } from '../../../../engine/cpu/cpu';
import { VEC_GP, VEC_NP, VEC_TS } from '../../../../engine/cpu/faults';
import { NT } from '../../../../engine/cpu/flags';
import { deliverInterrupt, SOURCE_EXCEPTION } from '../../../../engine/cpu/interrupt';
import { encodeGate, TYPE_TASK_GATE, TYPE_TSS16_AVAIL, TYPE_TSS32_AVAIL, TYPE_TSS32_BUSY } from '../../../../engine/cpu/protect/descriptor';
import { farCall } from '../../../../engine/cpu/protect/far-call';
import { farJump } from '../../../../engine/cpu/protect/far-jmp';
import { interruptReturn } from '../../../../engine/cpu/protect/iret';
import { flat32, GDT_BASE, SEL_CODE32, SEL_DATA32, type TestMachine } from '../harness';
import { accessByte, expectFault, gdtEntry } from './fault-helpers';

const OLD_TSS = 0x7000, NEW_TSS = 0x7100;
const OLD_SEL = 7 * 8, NEW_SEL = 9 * 8, GATE_SEL = 10 * 8;
const IDT_BASE = 0x800;

/** Current task in TSS 7 (busy, TR loaded); an available 32-bit TSS 9 whose task starts at 0x30000. */
function twoTasks(): TestMachine {
  const m = flat32([]);
  gdtEntry(m, 7, OLD_TSS, 0x67, TYPE_TSS32_BUSY, { system: true });
  gdtEntry(m, 9, NEW_TSS, 0x67, TYPE_TSS32_AVAIL, { system: true });
  m.cpu.loadSegmentCache(TR, OLD_SEL, OLD_TSS, 0x67, 0x8b, true, 'loader');
  const t = NEW_TSS;
  m.mem.write32(t + 0x20, 0x30000); // EIP
  m.mem.write32(t + 0x24, 0x2); // EFLAGS
  for (let n = 0; n < 8; n++) m.mem.write32(t + 0x28 + 4 * n, 0x1000 * (n + 1));
  m.mem.write32(t + 0x38, 0x50000); // ESP
  for (let s = 0; s < 6; s++) m.mem.write16(t + 0x48 + 4 * s, SEL_DATA32);
  m.mem.write16(t + 0x4c, SEL_CODE32);
  m.mem.write16(t + 0x60, 0);
  m.cpu.eip = 0x10007;
  m.cpu.regs[EAX] = 0xaaaa;
  return m;
}

describe('task switches', () => {
  it('CALL to a TSS: saves the old task, links back, sets NT, busy bits, TR and CR0.TS', () => {
    const m = twoTasks();
    farCall(m.cpu, NEW_SEL, 0, true);
    expect([m.cpu.segSel[TR], m.cpu.eip, m.cpu.regs[EBX], m.cpu.regs[ESP], m.cpu.segSel[CS]]).toEqual([NEW_SEL, 0x30000, 0x4000, 0x50000, SEL_CODE32]);
    expect(m.cpu.getEflags() & NT).toBe(NT);
    expect(m.cpu.cr0 & CR0_TS).toBe(CR0_TS);
    expect(m.mem.peek(NEW_TSS, 2)).toBe(OLD_SEL);
    expect([accessByte(m, 7), accessByte(m, 9)]).toEqual([0x8b, 0x8b]);
    expect([m.mem.peek(OLD_TSS + 0x20, 4), m.mem.peek(OLD_TSS + 0x28, 4), m.mem.peek(OLD_TSS + 0x4c, 2)]).toEqual([0x10007, 0xaaaa, SEL_CODE32]);
  });
  it('IRET with NT returns to the linked task and frees the nested one', () => {
    const m = twoTasks();
    farCall(m.cpu, NEW_SEL, 0, true);
    m.cpu.regs[EAX] = 0x5555;
    interruptReturn(m.cpu, true);
    expect([m.cpu.segSel[TR], m.cpu.eip, m.cpu.regs[EAX]]).toEqual([OLD_SEL, 0x10007, 0xaaaa]);
    expect([accessByte(m, 7), accessByte(m, 9)]).toEqual([0x8b, 0x89]);
    expect(m.cpu.getEflags() & NT).toBe(0);
    // The nested task's state was saved with NT = 0.
    expect(m.mem.peek(NEW_TSS + 0x24, 4) & NT).toBe(0);
    expect(m.mem.peek(NEW_TSS + 0x28, 4)).toBe(0x5555);
  });
  it('JMP to a TSS clears the old busy bit and does not nest', () => {
    const m = twoTasks();
    farJump(m.cpu, NEW_SEL, 0, true);
    expect([accessByte(m, 7), accessByte(m, 9)]).toEqual([0x89, 0x8b]);
    expect(m.cpu.getEflags() & NT).toBe(0);
  });
  it('JMP through a task gate', () => {
    const m = twoTasks();
    const [lo, hi] = encodeGate(TYPE_TASK_GATE, NEW_SEL, 0);
    m.mem.write32(GDT_BASE + GATE_SEL, lo);
    m.mem.write32(GDT_BASE + GATE_SEL + 4, hi);
    farJump(m.cpu, GATE_SEL, 0, true);
    expect([m.cpu.segSel[TR], m.cpu.eip]).toEqual([NEW_SEL, 0x30000]);
  });
  it('an exception through a task gate pushes its error code on the new task\'s stack', () => {
    const m = twoTasks();
    const [lo, hi] = encodeGate(TYPE_TASK_GATE, NEW_SEL, 0);
    m.mem.write32(IDT_BASE + 13 * 8, lo);
    m.mem.write32(IDT_BASE + 13 * 8 + 4, hi);
    m.cpu.idtrBase = IDT_BASE;
    m.cpu.idtrLimit = 0x7ff;
    deliverInterrupt(m.cpu, 13, 0x18, SOURCE_EXCEPTION);
    expect([m.cpu.segSel[TR], m.cpu.eip, m.cpu.regs[ESP], m.mem.peek(0x50000 - 4, 4)]).toEqual([NEW_SEL, 0x30000, 0x50000 - 4, 0x18]);
    expect(m.mem.peek(NEW_TSS, 2)).toBe(OLD_SEL);
  });
  it('a 16-bit TSS loads words (upper register halves read as ones, FS/GS NULL)', () => {
    const m = twoTasks();
    gdtEntry(m, 11, 0x7200, 0x2b, TYPE_TSS16_AVAIL, { system: true });
    m.mem.write16(0x7200 + 0x0e, 0x4000);
    m.mem.write16(0x7200 + 0x10, 0x2);
    m.mem.write16(0x7200 + 0x12, 0x1234);
    for (const o of [0x22, 0x26, 0x28]) m.mem.write16(0x7200 + o, SEL_DATA32);
    m.mem.write16(0x7200 + 0x24, SEL_CODE32);
    farJump(m.cpu, 11 * 8, 0, true);
    expect([m.cpu.eip, m.cpu.regs[EAX] >>> 0, m.cpu.segSel[DS], m.cpu.segValid[4]]).toEqual([0x4000, 0xffff1234, SEL_DATA32, 0]);
  });
  it('checks: busy, DPL, not present, limit, gate selector into the LDT', () => {
    const m = twoTasks();
    expectFault(() => farJump(m.cpu, OLD_SEL, 0, true), VEC_GP, OLD_SEL, 'task.tss-type');
    gdtEntry(m, 12, NEW_TSS, 0x67, TYPE_TSS32_AVAIL, { system: true, present: false });
    expectFault(() => farJump(m.cpu, 12 * 8, 0, true), VEC_NP, 12 * 8, 'task.tss-not-present');
    gdtEntry(m, 13, NEW_TSS, 0x60, TYPE_TSS32_AVAIL, { system: true });
    expectFault(() => farJump(m.cpu, 13 * 8, 0, true), VEC_TS, 13 * 8, 'task.tss-limit');
    m.cpu.cpl = 3;
    expectFault(() => farJump(m.cpu, NEW_SEL | 3, 0, true), VEC_GP, NEW_SEL, 'task.tss-dpl');
    m.cpu.cpl = 0;
    const [lo, hi] = encodeGate(TYPE_TASK_GATE, NEW_SEL | 4, 0);
    m.mem.write32(GDT_BASE + GATE_SEL, lo);
    m.mem.write32(GDT_BASE + GATE_SEL + 4, hi);
    expectFault(() => farJump(m.cpu, GATE_SEL, 0, true), VEC_GP, NEW_SEL | 4, 'task.tss-selector');
    expect([m.cpu.segSel[TR], accessByte(m, 9)]).toEqual([OLD_SEL, 0x89]);
  });
  it('a bad segment in the new TSS faults in the new task\'s context', () => {
    const m = twoTasks();
    m.mem.write16(NEW_TSS + 0x50, SEL_CODE32); // SS = a code segment
    expectFault(() => farJump(m.cpu, NEW_SEL, 0, true), VEC_TS, SEL_CODE32, 'task.ss-invalid');
    expect([m.cpu.segSel[TR], m.cpu.eip, m.cpu.instrStart, m.cpu.segSel[SS], m.cpu.segValid[SS]]).toEqual([NEW_SEL, 0x30000, 0x30000, SEL_CODE32, 0]);
  });
  it('IRET with NT and a link that is not a busy TSS → #TS(link)', () => {
    const m = twoTasks();
    m.cpu.setEflags(NT | 0x2);
    m.mem.write16(OLD_TSS, NEW_SEL);
    expectFault(() => interruptReturn(m.cpu, true), VEC_TS, NEW_SEL, 'task.tss-type');
  });
});

describe('task switches and debug registers', () => {
  it('clear the local breakpoint enables L0–L3 and keep the global ones; a TSS with T set raises #DB after the switch', () => {
    const m = twoTasks();
    m.cpu.dr[7] = 0x400 | 0xff;
    m.mem.write16(NEW_TSS + 0x64, 1);
    farJump(m.cpu, NEW_SEL, 0, true);
    expect(m.cpu.dr[7] & 0xff).toBe(0xaa);
    expect(m.cpu.pendingDebugTraps & 0x8000).toBe(0x8000);
  });
});
