import { describe, expect, it } from 'vitest';
import { CS, DS, ES, ESP, FS, GS, SS, TR } from '../../../../engine/cpu/cpu';
import { VEC_GP, VEC_NP, VEC_SS, VEC_TS } from '../../../../engine/cpu/faults';
import { IF, IOPL, VM } from '../../../../engine/cpu/flags';
import { deliverInterrupt, SOURCE_EXCEPTION, SOURCE_SOFTWARE } from '../../../../engine/cpu/interrupt';
import { encodeGate, TYPE_CALL_GATE16, TYPE_CALL_GATE32, TYPE_INT_GATE32, TYPE_TSS32_BUSY } from '../../../../engine/cpu/protect/descriptor';
import { farCall } from '../../../../engine/cpu/protect/far-call';
import { farJump } from '../../../../engine/cpu/protect/far-jmp';
import { farReturn } from '../../../../engine/cpu/protect/far-ret';
import { interruptReturn } from '../../../../engine/cpu/protect/iret';
import { loadSegment } from '../../../../engine/cpu/protect/segment-load';
import { flat32, GDT_BASE, SEL_CODE32, SEL_DATA32, type TestMachine } from '../harness';
import { expectFault, gdtEntry } from './fault-helpers';

const TSS_BASE = 0x7000;
const IDT_BASE = 0x800;
const CODE3 = 5 * 8 + 3, DATA3 = 6 * 8 + 3, TSS_SEL = 7 * 8, GATE = 8 * 8;

function writeGdtGate(m: TestMachine, sel: number, words: [number, number]): void {
  m.mem.write32(GDT_BASE + (sel & ~7), words[0]);
  m.mem.write32(GDT_BASE + (sel & ~7) + 4, words[1]);
}

/** Ring-3 code and data, a 32-bit TSS with SS0:ESP0 = 0x10:0x80000, running at CPL 3 on a stack at 0x60000. */
function ring3Machine(): TestMachine {
  const m = flat32([]);
  gdtEntry(m, 5, 0, 0xfffff, 0xb, { dpl: 3, g: true });
  gdtEntry(m, 6, 0, 0xfffff, 0x3, { dpl: 3, g: true });
  gdtEntry(m, 7, TSS_BASE, 0x67, TYPE_TSS32_BUSY, { system: true });
  m.mem.write32(TSS_BASE + 4, 0x80000);
  m.mem.write16(TSS_BASE + 8, SEL_DATA32);
  m.cpu.loadSegmentCache(TR, TSS_SEL, TSS_BASE, 0x67, 0x8b, true, 'loader');
  m.cpu.cpl = 3;
  m.cpu.loadSegmentCache(CS, CODE3, 0, 0xffffffff, m.cpu.segAr[CS] | 0x60, true, 'loader');
  for (const s of [SS, DS, ES, FS, GS]) loadSegment(m.cpu, s, DATA3, 'mov');
  m.cpu.regs[ESP] = 0x60000;
  m.cpu.eip = 0x11111;
  m.cpu.idtrBase = IDT_BASE;
  m.cpu.idtrLimit = 0x7ff;
  return m;
}

function dwordsAt(m: TestMachine, addr: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => m.mem.peek(addr + 4 * k, 4));
}

describe('call gates', () => {
  it('CALL from ring 3 to ring 0: stack from the TSS, parameters copied, RETF n returns', () => {
    const m = ring3Machine();
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x30000, { dpl: 3, paramCount: 2 }));
    m.cpu.push(4, 0xaaaa);
    m.cpu.push(4, 0xbbbb);
    farCall(m.cpu, GATE | 3, 0, true);
    expect([m.cpu.cpl, m.cpu.segSel[CS], m.cpu.eip, m.cpu.segSel[SS], m.cpu.regs[ESP]]).toEqual([0, SEL_CODE32, 0x30000, SEL_DATA32, 0x80000 - 24]);
    expect(dwordsAt(m, 0x80000 - 24, 6)).toEqual([0x11111, CODE3, 0xbbbb, 0xaaaa, 0x60000 - 8, DATA3]);
    farReturn(m.cpu, true, 8);
    expect([m.cpu.cpl, m.cpu.segSel[CS], m.cpu.eip, m.cpu.segSel[SS], m.cpu.regs[ESP]]).toEqual([3, CODE3, 0x11111, DATA3, 0x60000]);
  });
  it('a 16-bit gate pushes 2-byte slots and copies words', () => {
    const m = ring3Machine();
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE16, SEL_CODE32, 0x3000, { dpl: 3, paramCount: 1 }));
    m.cpu.push(2, 0x1234);
    farCall(m.cpu, GATE | 3, 0, true);
    expect(m.cpu.regs[ESP]).toBe(0x80000 - 10);
    expect([0, 2, 4, 6, 8].map((k) => m.mem.peek(0x80000 - 10 + k, 2))).toEqual([0x1111, CODE3, 0x1234, 0xfffe, DATA3]);
  });
  it('JMP through a call gate keeps the privilege level', () => {
    const m = flat32([]);
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x4000));
    farJump(m.cpu, GATE, 0, true);
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.cpl]).toEqual([SEL_CODE32, 0x4000, 0]);
    const r = ring3Machine();
    writeGdtGate(r, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x4000, { dpl: 3 }));
    expectFault(() => farJump(r.cpu, GATE | 3, 0, true), VEC_GP, SEL_CODE32, 'far-jmp.gate.cs-dpl');
  });
  it('gate checks', () => {
    const m = ring3Machine();
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x4000, { dpl: 0 }));
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_GP, GATE, 'far-call.gate.dpl');
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x4000, { dpl: 3, present: false }));
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_NP, GATE, 'far-call.gate.not-present');
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, 0, 0x4000, { dpl: 3 }));
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_GP, 0, 'far-call.gate.cs-null');
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, 0x80, 0x4000, { dpl: 3 }));
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_GP, 0x80, 'far-call.gate.cs-table-limit');
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_DATA32, 0x4000, { dpl: 3 }));
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_GP, SEL_DATA32, 'far-call.gate.cs-type');
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0xffffffff, { dpl: 3 }));
    gdtEntry(m, 9, 0, 0xffff, 0xb, { dpl: 0 });
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, 9 * 8, 0x10000, { dpl: 3 }));
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_GP, 0, 'far-call.gate.eip-limit');
    expect([m.cpu.cpl, m.cpu.segSel[SS], m.cpu.regs[ESP]]).toEqual([3, DATA3, 0x60000]);
  });
  it('TSS stack checks raise #TS / #SS', () => {
    const m = ring3Machine();
    writeGdtGate(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x4000, { dpl: 3 }));
    m.mem.write16(TSS_BASE + 8, 0);
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_TS, 0, 'inner-stack.ss-null');
    m.mem.write16(TSS_BASE + 8, DATA3);
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_TS, DATA3 & ~3, 'inner-stack.ss-rpl');
    m.mem.write16(TSS_BASE + 8, DATA3 & ~3);
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_TS, DATA3 & ~3, 'inner-stack.ss-dpl');
    m.mem.write16(TSS_BASE + 8, SEL_CODE32);
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_TS, SEL_CODE32, 'inner-stack.ss-type');
    const np = gdtEntry(m, 10, 0, 0xfffff, 0x3, { g: true, present: false });
    m.mem.write16(TSS_BASE + 8, np);
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_SS, np, 'inner-stack.ss-not-present');
    const small = gdtEntry(m, 11, 0, 0xfff, 0x3);
    m.mem.write16(TSS_BASE + 8, small);
    m.mem.write32(TSS_BASE + 4, 0x1008);
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_SS, small, 'inner-stack.room');
    m.cpu.loadSegmentCache(TR, TSS_SEL, TSS_BASE, 0x7, 0x8b, true, 'loader');
    expectFault(() => farCall(m.cpu, GATE | 3, 0, true), VEC_TS, TSS_SEL, 'inner-stack.tss-limit');
  });
});

describe('interrupts to an inner level and from V86 mode', () => {
  it('INT from ring 3 to a ring-0 handler pushes SS, ESP, EFLAGS, CS, EIP on the TSS stack; IRET returns', () => {
    const m = ring3Machine();
    const [lo, hi] = encodeGate(TYPE_INT_GATE32, SEL_CODE32, 0x30000, { dpl: 3 });
    m.mem.write32(IDT_BASE + 0x80 * 8, lo);
    m.mem.write32(IDT_BASE + 0x80 * 8 + 4, hi);
    m.cpu.setEflags(IF | 0x2);
    deliverInterrupt(m.cpu, 0x80, -1, SOURCE_SOFTWARE);
    expect([m.cpu.cpl, m.cpu.eip, m.cpu.regs[ESP]]).toEqual([0, 0x30000, 0x80000 - 20]);
    expect(dwordsAt(m, 0x80000 - 20, 5)).toEqual([0x11111, CODE3, IF | 0x2, 0x60000, DATA3]);
    expect(m.cpu.getEflags() & IF).toBe(0);
    interruptReturn(m.cpu, true);
    expect([m.cpu.cpl, m.cpu.eip, m.cpu.regs[ESP], m.cpu.segSel[SS]]).toEqual([3, 0x11111, 0x60000, DATA3]);
    expect(m.cpu.getEflags() & IF).toBe(IF);
  });
  it('an exception at ring 3 with an error code reaches ring 0 with EXT for a bad TSS stack', () => {
    const m = ring3Machine();
    const [lo, hi] = encodeGate(TYPE_INT_GATE32, SEL_CODE32, 0x30000);
    m.mem.write32(IDT_BASE + 13 * 8, lo);
    m.mem.write32(IDT_BASE + 13 * 8 + 4, hi);
    deliverInterrupt(m.cpu, 13, 0x28, SOURCE_EXCEPTION);
    expect(dwordsAt(m, 0x80000 - 24, 1)).toEqual([0x28]);
    const f = ring3Machine();
    f.mem.write32(IDT_BASE + 13 * 8, lo);
    f.mem.write32(IDT_BASE + 13 * 8 + 4, hi);
    f.mem.write16(TSS_BASE + 8, 0);
    expectFault(() => deliverInterrupt(f.cpu, 13, 0x28, SOURCE_EXCEPTION), VEC_TS, 1, 'inner-stack.ss-null');
  });
  it('IRETD to V86 mode, then an interrupt from V86 back to ring 0 saving the data segments', () => {
    const m = flat32([]);
    gdtEntry(m, 7, TSS_BASE, 0x67, TYPE_TSS32_BUSY, { system: true });
    m.mem.write32(TSS_BASE + 4, 0x80000);
    m.mem.write16(TSS_BASE + 8, SEL_DATA32);
    m.cpu.loadSegmentCache(TR, TSS_SEL, TSS_BASE, 0x67, 0x8b, true, 'loader');
    m.cpu.idtrBase = IDT_BASE;
    m.cpu.idtrLimit = 0x7ff;
    const [lo, hi] = encodeGate(TYPE_INT_GATE32, SEL_CODE32, 0x30000, { dpl: 3 });
    m.mem.write32(IDT_BASE + 13 * 8, lo);
    m.mem.write32(IDT_BASE + 13 * 8 + 4, hi);
    // GS FS DS ES SS ESP EFLAGS CS EIP
    for (const v of [0x5555, 0x4444, 0x3333, 0x2222, 0x1000, 0xfffe, VM | IF | 0x2, 0x0800, 0x0100]) m.cpu.push(4, v);
    interruptReturn(m.cpu, true);
    expect(m.cpu.mode).toBe('v86');
    expect([m.cpu.cpl, m.cpu.segSel[CS], m.cpu.segBase[CS], m.cpu.eip]).toEqual([3, 0x800, 0x8000, 0x100]);
    expect([m.cpu.segBase[SS], m.cpu.regs[ESP], m.cpu.segBase[ES], m.cpu.segBase[GS], m.cpu.segAr[DS]]).toEqual([0x10000, 0xfffe, 0x22220, 0x55550, 0xf3]);
    expect(m.cpu.getEflags() & IOPL).toBe(0);
    deliverInterrupt(m.cpu, 13, 0, SOURCE_EXCEPTION);
    expect(m.cpu.mode).toBe('protected');
    expect([m.cpu.cpl, m.cpu.eip, m.cpu.regs[ESP]]).toEqual([0, 0x30000, 0x80000 - 40]);
    expect(dwordsAt(m, 0x80000 - 40, 10)).toEqual([0, 0x100, 0x800, VM | IF | 0x2, 0xfffe, 0x1000, 0x2222, 0x3333, 0x4444, 0x5555]);
    expect([m.cpu.segValid[DS], m.cpu.segValid[ES], m.cpu.segValid[FS], m.cpu.segValid[GS], m.cpu.segSel[DS]]).toEqual([0, 0, 0, 0, 0]);
    // And back: IRETD pops the V86 frame (error code discarded first by the handler).
    m.cpu.regs[ESP] += 4;
    interruptReturn(m.cpu, true);
    expect([m.cpu.mode, m.cpu.segSel[DS], m.cpu.eip]).toEqual(['v86', 0x3333, 0x100]);
  });
  it('from V86 mode a handler must be at level 0', () => {
    const m = ring3Machine();
    const [lo, hi] = encodeGate(TYPE_INT_GATE32, 9 * 8, 0x3000, { dpl: 3 });
    gdtEntry(m, 9, 0, 0xfffff, 0xb, { dpl: 1, g: true });
    m.mem.write32(IDT_BASE + 13 * 8, lo);
    m.mem.write32(IDT_BASE + 13 * 8 + 4, hi);
    m.cpu.setEflags(VM | 0x2);
    expectFault(() => deliverInterrupt(m.cpu, 13, 0, SOURCE_EXCEPTION), VEC_GP, 9 * 8 + 1, 'interrupt.v86.cs-dpl');
  });
});

describe('16-bit TSS ring stacks', () => {
  it('an interrupt from ring 3 takes SS0:SP0 from a 16-bit TSS (SP0 at 2, SS0 at 4)', () => {
    const m = ring3Machine();
    gdtEntry(m, 7, 0x7400, 0x2b, 0x3, { system: true }); // busy 16-bit TSS
    m.cpu.loadSegmentCache(TR, TSS_SEL, 0x7400, 0x2b, 0x83, true, 'loader');
    m.mem.write16(0x7402, 0x7000);
    m.mem.write16(0x7404, SEL_DATA32);
    const [lo, hi] = encodeGate(TYPE_INT_GATE32, SEL_CODE32, 0x30000, { dpl: 3 });
    m.mem.write32(IDT_BASE + 0x80 * 8, lo);
    m.mem.write32(IDT_BASE + 0x80 * 8 + 4, hi);
    deliverInterrupt(m.cpu, 0x80, -1, SOURCE_SOFTWARE);
    expect([m.cpu.cpl, m.cpu.segSel[SS], m.cpu.regs[ESP]]).toEqual([0, SEL_DATA32, 0x7000 - 20]);
  });
});
