import { describe, expect, it } from 'vitest';
import { CS, DS, ES, ESP, SS } from '../../../../engine/cpu/cpu';
import { VEC_GP, VEC_NP, VEC_SS } from '../../../../engine/cpu/faults';
import { IF, IOPL, NT, CF, ZF } from '../../../../engine/cpu/flags';
import { farJump } from '../../../../engine/cpu/protect/far-jmp';
import { farCall } from '../../../../engine/cpu/protect/far-call';
import { farReturn } from '../../../../engine/cpu/protect/far-ret';
import { interruptReturn } from '../../../../engine/cpu/protect/iret';
import { loadSegment } from '../../../../engine/cpu/protect/segment-load';
import { flat32, realMode, SEL_CODE16, SEL_CODE32, SEL_DATA32, type TestMachine } from '../harness';
import { accessByte, expectFault, gdtEntry } from './fault-helpers';

const CODE = 0xb, CODE_NOT_ACCESSED = 0xa, CODE_CONFORMING = 0xf, DATA = 0x3;

/** Pushes dwords (first argument ends up highest on the stack). */
function pushAll(m: TestMachine, size: number, ...values: number[]): void {
  for (const v of values) m.cpu.push(size, v);
}

/** A CPL 3 machine: CS = entry 5 (DPL 3 code), SS = DS = entry 6 (DPL 3 data). */
function ring3(m: TestMachine): { code3: number; data3: number } {
  const code3 = gdtEntry(m, 5, 0, 0xfffff, CODE, { dpl: 3, g: true }) | 3;
  const data3 = gdtEntry(m, 6, 0, 0xfffff, DATA, { dpl: 3, g: true }) | 3;
  m.cpu.cpl = 3;
  loadSegment(m.cpu, SS, data3, 'mov');
  loadSegment(m.cpu, DS, data3, 'mov');
  m.cpu.loadSegmentCache(CS, code3, 0, 0xffffffff, m.cpu.segAr[CS] | 0x60, true, 'loader');
  return { code3, data3 };
}

describe('far JMP', () => {
  it('real mode: CS = selector × 16, limit kept, new IP checked against it', () => {
    const m = realMode([0xea, 0x34, 0x12, 0x00, 0x20]); // jmp 0x2000:0x1234
    m.cpu.run(1);
    expect([m.cpu.segSel[CS], m.cpu.segBase[CS], m.cpu.eip]).toEqual([0x2000, 0x20000, 0x1234]);
    expectFault(() => farJump(m.cpu, 0x1000, 0x12345, true), VEC_GP, 0, 'far-jmp.real.eip-limit');
  });
  it('protected mode: loads a non-conforming code segment at CPL, sets its accessed bit', () => {
    const m = flat32([]);
    const sel = gdtEntry(m, 7, 0x2000, 0xffff, CODE_NOT_ACCESSED, { db: false });
    farJump(m.cpu, sel, 0x12345678, false);
    expect([m.cpu.segSel[CS], m.cpu.segBase[CS], m.cpu.eip, m.cpu.code32]).toEqual([sel, 0x2000, 0x5678, false]);
    expect(accessByte(m, 7) & 1).toBe(1);
  });
  it('conforming code: DPL ≤ CPL allowed, CPL kept, CS.RPL = CPL', () => {
    const m = flat32([]);
    ring3(m);
    const sel = gdtEntry(m, 7, 0, 0xfffff, CODE_CONFORMING, { dpl: 0, g: true });
    farJump(m.cpu, sel, 0x1000, true);
    expect([m.cpu.segSel[CS], m.cpu.cpl, m.cpu.eip]).toEqual([sel | 3, 3, 0x1000]);
  });
  it('each check raises its own rule', () => {
    const m = flat32([]);
    expectFault(() => farJump(m.cpu, 0, 0, true), VEC_GP, 0, 'far-jmp.null');
    expectFault(() => farJump(m.cpu, 0x80, 0, true), VEC_GP, 0x80, 'far-jmp.table-limit');
    expectFault(() => farJump(m.cpu, SEL_DATA32, 0, true), VEC_GP, SEL_DATA32, 'far-jmp.type');
    const ldt = gdtEntry(m, 8, 0x3000, 0xff, 0x2, { system: true });
    expectFault(() => farJump(m.cpu, ldt, 0, true), VEC_GP, ldt, 'far-jmp.type');
    const c3 = gdtEntry(m, 9, 0, 0xffff, CODE, { dpl: 3 });
    expectFault(() => farJump(m.cpu, c3, 0, true), VEC_GP, c3, 'far-jmp.nonconforming.dpl');
    expectFault(() => farJump(m.cpu, SEL_CODE32 | 1, 0, true), VEC_GP, SEL_CODE32, 'far-jmp.nonconforming.rpl');
    const np = gdtEntry(m, 10, 0, 0xffff, CODE, { present: false });
    expectFault(() => farJump(m.cpu, np, 0, true), VEC_NP, np, 'far-jmp.not-present');
    expectFault(() => farJump(m.cpu, SEL_CODE16, 0x10000, true), VEC_GP, 0, 'far-jmp.eip-limit');
    ring3(m);
    const conf2 = gdtEntry(m, 11, 0, 0xffff, CODE_CONFORMING, { dpl: 2 });
    m.cpu.cpl = 1;
    expectFault(() => farJump(m.cpu, conf2, 0, true), VEC_GP, conf2, 'far-jmp.conforming.dpl');
  });
  it('a fault leaves CS:EIP unchanged', () => {
    const m = flat32([]);
    const eip = m.cpu.eip;
    expectFault(() => farJump(m.cpu, SEL_CODE16, 0x10000, true), VEC_GP, 0, 'far-jmp.eip-limit');
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.segBase[CS]]).toEqual([SEL_CODE32, eip, 0]);
  });
});

describe('far CALL and far RET at the same privilege', () => {
  it('real mode: CALL pushes CS:IP, RETF n returns and releases n bytes', () => {
    // call 0x0200:0x0010 ; (at 0x2010) retf 4
    const m = realMode([0x9a, 0x10, 0x00, 0x00, 0x02, 0xf4]);
    m.mem.load(0x2010, Uint8Array.from([0xca, 0x04, 0x00]));
    m.cpu.run(1);
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.regs[ESP]]).toEqual([0x200, 0x10, 0x7ffc]);
    expect([m.mem.peek(0x7ffc, 2), m.mem.peek(0x7ffe, 2)]).toEqual([0x1005, 0]);
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.regs[ESP]]).toEqual([0, 0x1006, 0x8004]);
  });
  it('protected mode, 32-bit: pushes CS zero-extended and EIP, then RETF returns', () => {
    const m = flat32([]);
    const target = gdtEntry(m, 7, 0, 0xfffff, CODE, { g: true });
    m.cpu.eip = 0x10005;
    farCall(m.cpu, target, 0x20000, true);
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.regs[ESP]]).toEqual([target, 0x20000, 0x90000 - 8]);
    expect([m.mem.peek(0x90000 - 8, 4), m.mem.peek(0x90000 - 4, 4)]).toEqual([0x10005, SEL_CODE32]);
    farReturn(m.cpu, true, 0);
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.regs[ESP]]).toEqual([SEL_CODE32, 0x10005, 0x90000]);
  });
  it('protected mode, 16-bit operand size: 2-byte slots, offset truncated', () => {
    const m = flat32([]);
    m.cpu.eip = 0x10005;
    farCall(m.cpu, SEL_CODE16, 0x12345, false);
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.regs[ESP]]).toEqual([SEL_CODE16, 0x2345, 0x90000 - 4]);
    expect(m.mem.peek(0x90000 - 4, 4)).toBe((SEL_CODE32 << 16) | 0x0005);
  });
  it('CALL: no room for the return address → #SS(0) with nothing pushed', () => {
    const m = flat32([]);
    const small = gdtEntry(m, 7, 0, 0x0fff, DATA);
    loadSegment(m.cpu, SS, small, 'mov');
    m.cpu.regs[ESP] = 0x1006;
    expectFault(() => farCall(m.cpu, SEL_CODE32, 0, true), VEC_SS, 0, 'access.stack-limit');
    expect(m.cpu.regs[ESP]).toBe(0x1006);
    expect(m.cpu.segSel[CS]).toBe(SEL_CODE32);
  });
  it('CALL rules mirror JMP rules', () => {
    const m = flat32([]);
    expectFault(() => farCall(m.cpu, 0, 0, true), VEC_GP, 0, 'far-call.null');
    expectFault(() => farCall(m.cpu, SEL_DATA32, 0, true), VEC_GP, SEL_DATA32, 'far-call.type');
    expectFault(() => farCall(m.cpu, SEL_CODE16, 0x10000, true), VEC_GP, 0, 'far-call.eip-limit');
  });
  it('RET checks the return CS in the SDM order', () => {
    const m = flat32([]);
    const cases: [number, number, number, string][] = [];
    const c3 = gdtEntry(m, 9, 0, 0xffff, CODE, { dpl: 3 });
    const conf3 = gdtEntry(m, 10, 0, 0xffff, CODE_CONFORMING, { dpl: 3 });
    const np = gdtEntry(m, 11, 0, 0xffff, CODE, { present: false });
    cases.push([0, VEC_GP, 0, 'far-ret.null']);
    cases.push([0x80, VEC_GP, 0x80, 'far-ret.table-limit']);
    cases.push([SEL_DATA32, VEC_GP, SEL_DATA32, 'far-ret.type']);
    cases.push([c3, VEC_GP, c3, 'far-ret.nonconforming.dpl']);
    cases.push([conf3, VEC_GP, conf3, 'far-ret.conforming.dpl']);
    cases.push([np, VEC_NP, np, 'far-ret.not-present']);
    for (const [sel, vec, err, id] of cases) {
      m.cpu.regs[ESP] = 0x90000;
      pushAll(m, 4, sel, 0x1000);
      expectFault(() => farReturn(m.cpu, true, 0), vec, err, id);
    }
    ring3(m);
    m.cpu.regs[ESP] = 0x90000;
    pushAll(m, 4, SEL_CODE32, 0x1000);
    expectFault(() => farReturn(m.cpu, true, 0), VEC_GP, SEL_CODE32, 'far-ret.rpl-lt-cpl');
    expect(m.cpu.regs[ESP]).toBe(0x90000 - 8);
  });
  it('RET: EIP beyond the limit → #GP(0)', () => {
    const m = flat32([]);
    pushAll(m, 4, SEL_CODE16, 0x10000);
    expectFault(() => farReturn(m.cpu, true, 0), VEC_GP, 0, 'far-ret.eip-limit');
  });
});

describe('far RET and IRET to an outer privilege level', () => {
  it('RETF 8 from CPL 0 to CPL 3 switches stacks, releases parameters on both, nulls DS', () => {
    const m = flat32([]);
    const code3 = gdtEntry(m, 5, 0, 0xfffff, CODE, { dpl: 3, g: true }) | 3;
    const data3 = gdtEntry(m, 6, 0, 0xfffff, DATA, { dpl: 3, g: true }) | 3;
    // outer SS, outer ESP, 8 bytes of parameters, CS, EIP
    pushAll(m, 4, data3, 0x70000, 0x11, 0x22, code3, 0x4000);
    farReturn(m.cpu, true, 8);
    expect([m.cpu.cpl, m.cpu.segSel[CS], m.cpu.eip, m.cpu.segSel[SS], m.cpu.regs[ESP]]).toEqual([3, code3, 0x4000, data3, 0x70008]);
    expect([m.cpu.segSel[DS], m.cpu.segValid[DS], m.cpu.segSel[ES], m.cpu.segValid[ES]]).toEqual([0, 0, 0, 0]);
  });
  it('outer return SS checks', () => {
    const m = flat32([]);
    const code3 = gdtEntry(m, 5, 0, 0xfffff, CODE, { dpl: 3, g: true }) | 3;
    const data3 = gdtEntry(m, 6, 0, 0xfffff, DATA, { dpl: 3, g: true }) | 3;
    const ro3 = gdtEntry(m, 7, 0, 0xfffff, 0x1, { dpl: 3, g: true }) | 3;
    const np3 = gdtEntry(m, 8, 0, 0xfffff, DATA, { dpl: 3, present: false }) | 3;
    const cases: [number, number, number, string][] = [
      [0, VEC_GP, 0, 'far-ret.outer.ss-null'],
      [0x83, VEC_GP, 0x80, 'far-ret.outer.ss-table-limit'],
      [SEL_DATA32, VEC_GP, SEL_DATA32, 'far-ret.outer.ss-rpl'],
      [ro3, VEC_GP, ro3 & ~3, 'far-ret.outer.ss-type'],
      [(SEL_DATA32 | 3), VEC_GP, SEL_DATA32, 'far-ret.outer.ss-dpl'],
      [np3, VEC_SS, np3 & ~3, 'far-ret.outer.ss-not-present'],
    ];
    for (const [ss, vec, err, id] of cases) {
      m.cpu.regs[ESP] = 0x90000;
      pushAll(m, 4, ss, 0x70000, code3, 0x4000);
      expectFault(() => farReturn(m.cpu, true, 0), vec, err, id);
      expect(m.cpu.cpl).toBe(0);
    }
    m.cpu.regs[ESP] = 0x90000;
    pushAll(m, 4, data3, 0x70000, code3, 0x4000);
    farReturn(m.cpu, true, 0);
    expect(m.cpu.cpl).toBe(3);
  });
  it('IRETD to CPL 3 loads EFLAGS by the old CPL and switches stacks', () => {
    const m = flat32([]);
    const code3 = gdtEntry(m, 5, 0, 0xfffff, CODE, { dpl: 3, g: true }) | 3;
    const data3 = gdtEntry(m, 6, 0, 0xfffff, DATA, { dpl: 3, g: true }) | 3;
    pushAll(m, 4, data3, 0x70000, IF | IOPL | CF | 0x2, code3, 0x4000);
    interruptReturn(m.cpu, true);
    expect([m.cpu.cpl, m.cpu.segSel[CS], m.cpu.eip, m.cpu.segSel[SS], m.cpu.regs[ESP]]).toEqual([3, code3, 0x4000, data3, 0x70000]);
    expect(m.cpu.getEflags() & (IF | IOPL | CF)).toBe(IF | IOPL | CF);
  });
});

describe('IRET at the same privilege and in real mode', () => {
  it('real mode 16-bit: IP, CS, FLAGS popped', () => {
    const m = realMode([0xcf]);
    pushAll(m, 2, ZF | CF | 0x2, 0x0300, 0x0020);
    m.cpu.run(1);
    expect([m.cpu.segSel[CS], m.cpu.segBase[CS], m.cpu.eip, m.cpu.regs[ESP]]).toEqual([0x300, 0x3000, 0x20, 0x8000]);
    expect(m.cpu.getEflags() & 0xffff).toBe(ZF | CF | 0x2);
  });
  it('real mode 32-bit: EFLAGS ← (popped AND 257FD5H) OR (EFLAGS AND 1A0000H)', () => {
    const m = realMode([0x66, 0xcf]);
    pushAll(m, 4, 0xffffffff, 0x0300, 0x0020);
    m.cpu.run(1);
    expect(m.cpu.getEflags() >>> 0).toBe(0x257fd7 & ~0x8028);
  });
  it('protected mode at CPL 3: IF and IOPL keep their values when CPL > IOPL', () => {
    const m = flat32([]);
    const { code3 } = ring3(m);
    m.cpu.setEflags(0x2);
    pushAll(m, 4, IF | IOPL | NT | CF | 0x2, code3, 0x5000);
    interruptReturn(m.cpu, true);
    expect(m.cpu.eip).toBe(0x5000);
    expect(m.cpu.getEflags() & (IF | IOPL | NT | CF)).toBe(NT | CF);
  });
  it('IRET checks: RPL < CPL → #GP(selector)', () => {
    const m = flat32([]);
    ring3(m);
    pushAll(m, 4, 0x2, SEL_CODE32, 0x5000);
    expectFault(() => interruptReturn(m.cpu, true), VEC_GP, SEL_CODE32, 'iret.rpl-lt-cpl');
  });
  it('IRET: too little stack → #SS(0)', () => {
    const m = flat32([]);
    const small = gdtEntry(m, 7, 0, 0x0fff, DATA);
    loadSegment(m.cpu, SS, small, 'mov');
    m.cpu.regs[ESP] = 0xff8;
    expectFault(() => interruptReturn(m.cpu, true), VEC_SS, 0, 'access.stack-limit');
  });
});

describe('far transfers and the run loop', () => {
  it('a far return to the fall-through offset in another segment runs the new segment every time', () => {
    // 0000:1000 retf, first to 0100:1001 (linear 0x2001: inc bx ; jmp 0000:1000), then to 0200:1001 (0x3001: hlt)
    const m = realMode([0xcb]);
    m.mem.load(0x2001, Uint8Array.from([0x43, 0xea, 0x00, 0x10, 0x00, 0x00]));
    m.mem.write8(0x3001, 0xf4);
    pushAll(m, 2, 0x0200, 0x1001, 0x0100, 0x1001);
    m.cpu.run(20);
    expect(m.cpu.halted).toBe(true);
    expect([m.cpu.regs[3] & 0xffff, m.cpu.segSel[CS], m.cpu.eip]).toEqual([1, 0x200, 0x1002]);
  });
});
