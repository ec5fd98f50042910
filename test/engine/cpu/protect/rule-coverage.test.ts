// One test per rule id not covered by the mechanism-specific files: each sets up the one condition and asserts the
// vector, error code and rule id.
import { describe, expect, it } from 'vitest';
import { CS, DS, ESP, SS, TR, CR0_CD, CR0_NW } from '../../../../engine/cpu/cpu';
import { VEC_GP, VEC_NP, VEC_SS, VEC_TS, VEC_UD } from '../../../../engine/cpu/faults';
import { IOPL, VM } from '../../../../engine/cpu/flags';
import { encodeGate, TYPE_CALL_GATE32, TYPE_TASK_GATE, TYPE_TSS32_AVAIL, TYPE_TSS32_BUSY } from '../../../../engine/cpu/protect/descriptor';
import { farCall } from '../../../../engine/cpu/protect/far-call';
import { farJump } from '../../../../engine/cpu/protect/far-jmp';
import { farReturn } from '../../../../engine/cpu/protect/far-ret';
import { interruptReturn } from '../../../../engine/cpu/protect/iret';
import { loadLdtr, loadTr } from '../../../../engine/cpu/protect/system-segment-load';
import { loadSegment } from '../../../../engine/cpu/protect/segment-load';
import { flat32, GDT_BASE, realMode, SEL_CODE16, SEL_CODE32, SEL_DATA32, type TestMachine } from '../harness';
import { expectFault, gdtEntry } from './fault-helpers';

function gdtWords(m: TestMachine, sel: number, words: [number, number]): void {
  m.mem.write32(GDT_BASE + (sel & ~7), words[0]);
  m.mem.write32(GDT_BASE + (sel & ~7) + 4, words[1]);
}

describe('real-mode and V86 transfer rules', () => {
  it('far CALL, RETF and IRET check the new IP against the CS limit', () => {
    const m = realMode([]);
    expectFault(() => farCall(m.cpu, 0x100, 0x10000, true), VEC_GP, 0, 'far-call.real.eip-limit');
    m.cpu.push(4, 0x100);
    m.cpu.push(4, 0x12345);
    expectFault(() => farReturn(m.cpu, true, 0), VEC_GP, 0, 'far-ret.real.eip-limit');
    m.cpu.regs[ESP] = 0x8000;
    m.cpu.push(4, 0x2);
    m.cpu.push(4, 0x100);
    m.cpu.push(4, 0x12345);
    expectFault(() => interruptReturn(m.cpu, true), VEC_GP, 0, 'iret.real.eip-limit');
  });
  it('IRET in V86 mode with IOPL < 3 → #GP(0); INT n too', () => {
    const m = flat32([0xcd, 0x21]);
    m.cpu.setEflags(VM | 0x2);
    expectFault(() => interruptReturn(m.cpu, false), VEC_GP, 0, 'iret.v86.iopl');
    const seen: string[] = [];
    m.cpu.events.on('cpu-exception', (e) => seen.push(`${e.vector}:${e.errorCode}:${e.ruleId}`));
    m.cpu.loadSegmentCache(CS, 0x1000, 0x10000, 0xffff, 0xf3, true, 'loader');
    m.cpu.eip = 0;
    m.cpu.step();
    expect(seen[0]).toBe('13:0:int.v86.iopl');
  });
  it('IRETD to V86 mode: EIP beyond 0xFFFF → #GP(0)', () => {
    const m = flat32([]);
    for (const v of [0, 0, 0, 0, 0x1000, 0xfffe, VM | IOPL | 0x2, 0x800, 0x10000]) m.cpu.push(4, v);
    expectFault(() => interruptReturn(m.cpu, true), VEC_GP, 0, 'iret.to-v86.eip-limit');
  });
});

describe('return-CS and outer-stack rules of IRET', () => {
  const cases: [string, (m: TestMachine) => number[], number, (m: TestMachine) => number][] = [
    ['iret.null', () => [0x2, 0, 0x1000], VEC_GP, () => 0],
    ['iret.table-limit', () => [0x2, 0x80, 0x1000], VEC_GP, () => 0x80],
    ['iret.type', () => [0x2, SEL_DATA32, 0x1000], VEC_GP, () => SEL_DATA32],
    ['iret.nonconforming.dpl', (m) => [0x2, gdtEntry(m, 9, 0, 0xffff, 0xb, { dpl: 2 }), 0x1000], VEC_GP, () => 9 * 8],
    ['iret.conforming.dpl', (m) => [0x2, gdtEntry(m, 9, 0, 0xffff, 0xf, { dpl: 2 }), 0x1000], VEC_GP, () => 9 * 8],
    ['iret.not-present', (m) => [0x2, gdtEntry(m, 9, 0, 0xffff, 0xb, { present: false }), 0x1000], VEC_NP, () => 9 * 8],
    ['iret.eip-limit', () => [0x2, SEL_CODE16, 0x10000], VEC_GP, () => 0],
    ['iret.outer.ss-null', (m) => [0, 0x7000, 0x2, gdtEntry(m, 9, 0, 0xfffff, 0xb, { dpl: 3, g: true }) | 3, 0x1000], VEC_GP, () => 0],
    ['iret.outer.ss-table-limit', (m) => [0x83, 0x7000, 0x2, gdtEntry(m, 9, 0, 0xfffff, 0xb, { dpl: 3, g: true }) | 3, 0x1000], VEC_GP, () => 0x80],
    ['iret.outer.ss-rpl', (m) => [SEL_DATA32, 0x7000, 0x2, gdtEntry(m, 9, 0, 0xfffff, 0xb, { dpl: 3, g: true }) | 3, 0x1000], VEC_GP, () => SEL_DATA32],
    ['iret.outer.ss-type', (m) => [gdtEntry(m, 10, 0, 0xfffff, 0x1, { dpl: 3 }) | 3, 0x7000, 0x2, gdtEntry(m, 9, 0, 0xfffff, 0xb, { dpl: 3, g: true }) | 3, 0x1000], VEC_GP, () => 10 * 8],
    ['iret.outer.ss-dpl', (m) => [SEL_DATA32 | 3, 0x7000, 0x2, gdtEntry(m, 9, 0, 0xfffff, 0xb, { dpl: 3, g: true }) | 3, 0x1000], VEC_GP, () => SEL_DATA32],
    ['iret.outer.ss-not-present', (m) => [gdtEntry(m, 10, 0, 0xfffff, 0x3, { dpl: 3, present: false }) | 3, 0x7000, 0x2, gdtEntry(m, 9, 0, 0xfffff, 0xb, { dpl: 3, g: true }) | 3, 0x1000], VEC_SS, () => 10 * 8],
    ['iret.outer.eip-limit', (m) => [gdtEntry(m, 10, 0, 0xfffff, 0x3, { dpl: 3 }) | 3, 0x7000, 0x2, gdtEntry(m, 9, 0, 0xffff, 0xb, { dpl: 3 }) | 3, 0x10000], VEC_GP, () => 0],
  ];
  for (const [id, frame, vector, code] of cases) {
    it(id, () => {
      const m = flat32([]);
      for (const v of frame(m)) m.cpu.push(4, v);
      expectFault(() => interruptReturn(m.cpu, true), vector, code(m), id);
    });
  }
  it('far-ret.outer.eip-limit', () => {
    const m = flat32([]);
    const data3 = gdtEntry(m, 10, 0, 0xfffff, 0x3, { dpl: 3 }) | 3;
    const code3 = gdtEntry(m, 9, 0, 0xffff, 0xb, { dpl: 3 }) | 3;
    for (const v of [data3, 0x7000, code3, 0x10000]) m.cpu.push(4, v);
    expectFault(() => farReturn(m.cpu, true, 0), VEC_GP, 0, 'far-ret.outer.eip-limit');
  });
});

describe('call gate rules not covered elsewhere', () => {
  it('far-jmp.gate.* and far-call.gate.cs-dpl / cs-not-present', () => {
    const m = flat32([]);
    const GATE = 8 * 8;
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x1000, { dpl: 0 }));
    m.cpu.cpl = 1;
    expectFault(() => farJump(m.cpu, GATE | 1, 0, true), VEC_GP, GATE, 'far-jmp.gate.dpl');
    m.cpu.cpl = 0;
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x1000, { present: false }));
    expectFault(() => farJump(m.cpu, GATE, 0, true), VEC_NP, GATE, 'far-jmp.gate.not-present');
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, 0, 0x1000));
    expectFault(() => farJump(m.cpu, GATE, 0, true), VEC_GP, 0, 'far-jmp.gate.cs-null');
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, 0x80, 0x1000));
    expectFault(() => farJump(m.cpu, GATE, 0, true), VEC_GP, 0x80, 'far-jmp.gate.cs-table-limit');
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_DATA32, 0x1000));
    expectFault(() => farJump(m.cpu, GATE, 0, true), VEC_GP, SEL_DATA32, 'far-jmp.gate.cs-type');
    const np = gdtEntry(m, 9, 0, 0xffff, 0xb, { present: false });
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, np, 0x1000));
    expectFault(() => farJump(m.cpu, GATE, 0, true), VEC_NP, np, 'far-jmp.gate.cs-not-present');
    expectFault(() => farCall(m.cpu, GATE, 0, true), VEC_NP, np, 'far-call.gate.cs-not-present');
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, SEL_CODE16, 0x10000));
    expectFault(() => farJump(m.cpu, GATE, 0, true), VEC_GP, 0, 'far-jmp.gate.eip-limit');
    const c3 = gdtEntry(m, 10, 0, 0xffff, 0xb, { dpl: 3 });
    gdtWords(m, GATE, encodeGate(TYPE_CALL_GATE32, c3, 0x1000));
    expectFault(() => farCall(m.cpu, GATE, 0, true), VEC_GP, c3, 'far-call.gate.cs-dpl');
  });
  it('inner-stack.ss-table-limit', () => {
    const m = flat32([]);
    gdtEntry(m, 7, 0x7000, 0x67, TYPE_TSS32_BUSY, { system: true });
    m.cpu.loadSegmentCache(TR, 7 * 8, 0x7000, 0x67, 0x8b, true, 'loader');
    m.mem.write16(0x7008, 0x80);
    gdtEntry(m, 5, 0, 0xfffff, 0xb, { dpl: 3, g: true });
    gdtWords(m, 8 * 8, encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x1000, { dpl: 3 }));
    m.cpu.cpl = 3;
    m.cpu.loadSegmentCache(SS, 0x33, 0, 0xffffffff, 0x40f3, true, 'loader');
    expectFault(() => farCall(m.cpu, 8 * 8 + 3, 0, true), VEC_TS, 0x80, 'inner-stack.ss-table-limit');
  });
});

describe('LTR and model rules', () => {
  it('ltr.ti, ltr.table-limit, ltr.not-present; lldt happy path with an LDT selector', () => {
    const m = flat32([]);
    expectFault(() => loadTr(m.cpu, 0x0c), VEC_GP, 0x0c, 'ltr.ti');
    expectFault(() => loadTr(m.cpu, 0x80), VEC_GP, 0x80, 'ltr.table-limit');
    const np = gdtEntry(m, 7, 0x7000, 0x67, TYPE_TSS32_AVAIL, { system: true, present: false });
    expectFault(() => loadTr(m.cpu, np), VEC_NP, np, 'ltr.not-present');
    const ldt = gdtEntry(m, 8, 0x6000, 0x17, 0x2, { system: true });
    loadLdtr(m.cpu, ldt);
    gdtEntry(m, 0, 0, 0, 0); // keep entry 0 null
    m.mem.load(0x6008, Uint8Array.from([0xff, 0xff, 0, 0, 0x02, 0x93, 0xcf, 0x00]));
    loadSegment(m.cpu, DS, 0x0c, 'mov');
    expect(m.cpu.segBase[DS]).toBe(0x20000);
  });
  it('UD2, NW without CD, and 486 instructions on the 386 model', async () => {
    const m = flat32([0x0f, 0x0b]);
    const seen: string[] = [];
    m.cpu.events.on('cpu-exception', (e) => seen.push(e.ruleId));
    m.cpu.step();
    expect(seen[0]).toBe('ud2');
    const { writeCr0 } = await import('../../../../engine/cpu/ops/system');
    expectFault(() => writeCr0(m.cpu, (m.cpu.cr0 & ~CR0_CD) | CR0_NW), VEC_GP, 0, 'mov-cr.nw-without-cd');
    const { PhysicalMemory } = await import('../../../../engine/bus/memory');
    const { IoBus } = await import('../../../../engine/bus/io-bus');
    const { Cpu } = await import('../../../../engine/cpu/cpu');
    const cpu = new Cpu(new PhysicalMemory(1 << 20), new IoBus(), { model: '386' });
    cpu.mem.load(0xffff0, Uint8Array.from([0x0f, 0x31]));
    cpu.loadSegmentCache(CS, 0xf000, 0xf0000, 0xffff, cpu.segAr[CS], true, 'loader');
    const ids: string[] = [];
    cpu.events.on('cpu-exception', (e) => ids.push(`${e.vector}:${e.ruleId}`));
    cpu.step();
    expect(ids[0]).toBe(`${VEC_UD}:system.not-on-this-model`);
  });
});

describe('task switch rules not covered elsewhere', () => {
  const OLD = 7 * 8, NEW = 9 * 8, GATE = 10 * 8, TSS = 0x7100;
  function tasks(edit: (m: TestMachine) => void = () => {}): TestMachine {
    const m = flat32([]);
    gdtEntry(m, 7, 0x7000, 0x67, TYPE_TSS32_BUSY, { system: true });
    gdtEntry(m, 9, TSS, 0x67, TYPE_TSS32_AVAIL, { system: true });
    m.cpu.loadSegmentCache(TR, OLD, 0x7000, 0x67, 0x8b, true, 'loader');
    m.mem.write32(TSS + 0x20, 0x30000);
    m.mem.write32(TSS + 0x24, 0x2);
    m.mem.write32(TSS + 0x38, 0x50000);
    for (let s = 0; s < 6; s++) m.mem.write16(TSS + 0x48 + 4 * s, SEL_DATA32);
    m.mem.write16(TSS + 0x4c, SEL_CODE32);
    edit(m);
    return m;
  }
  const newTask: [string, (m: TestMachine) => void, number, number][] = [
    ['task.ldt', (m) => m.mem.write16(TSS + 0x60, SEL_DATA32), VEC_TS, SEL_DATA32],
    ['task.cs-null', (m) => m.mem.write16(TSS + 0x4c, 0), VEC_TS, 0],
    ['task.cs-invalid', (m) => m.mem.write16(TSS + 0x4c, SEL_DATA32), VEC_TS, SEL_DATA32],
    ['task.cs-dpl', (m) => m.mem.write16(TSS + 0x4c, SEL_CODE32 | 3), VEC_TS, SEL_CODE32],
    ['task.cs-not-present', (m) => m.mem.write16(TSS + 0x4c, gdtEntry(m, 11, 0, 0xffff, 0xb, { present: false })), VEC_NP, 11 * 8],
    ['task.ss-privilege', (m) => m.mem.write16(TSS + 0x50, SEL_DATA32 | 3), VEC_TS, SEL_DATA32],
    ['task.ss-not-present', (m) => m.mem.write16(TSS + 0x50, gdtEntry(m, 11, 0, 0xffff, 0x3, { present: false })), VEC_SS, 11 * 8],
    ['task.data-invalid', (m) => m.mem.write16(TSS + 0x54, gdtEntry(m, 11, 0, 0xffff, 0x8)), VEC_TS, 11 * 8],
    ['task.data-privilege', (m) => m.mem.write16(TSS + 0x54, SEL_DATA32 | 3), VEC_TS, SEL_DATA32],
    ['task.data-not-present', (m) => m.mem.write16(TSS + 0x54, gdtEntry(m, 11, 0, 0xffff, 0x3, { present: false })), VEC_NP, 11 * 8],
    ['task.eip-limit', (m) => { m.mem.write16(TSS + 0x4c, SEL_CODE16); m.mem.write32(TSS + 0x20, 0x10000); }, VEC_GP, 0],
  ];
  for (const [id, edit, vector, code] of newTask) {
    it(id, () => {
      const m = tasks(edit);
      expectFault(() => farJump(m.cpu, NEW, 0, true), vector, code, id);
      expect(m.cpu.segSel[TR]).toBe(NEW);
    });
  }
  it('task.gate.dpl, task.gate.not-present, task.iret-link, task.error-code-stack', async () => {
    const m = tasks();
    gdtWords(m, GATE, encodeGate(TYPE_TASK_GATE, NEW, 0, { dpl: 0 }));
    m.cpu.cpl = 3;
    expectFault(() => farJump(m.cpu, GATE | 3, 0, true), VEC_GP, GATE, 'task.gate.dpl');
    m.cpu.cpl = 0;
    gdtWords(m, GATE, encodeGate(TYPE_TASK_GATE, NEW, 0, { present: false }));
    expectFault(() => farJump(m.cpu, GATE, 0, true), VEC_NP, GATE, 'task.gate.not-present');
    m.cpu.setEflags(0x4002);
    m.mem.write16(0x7000, 0x0c);
    expectFault(() => interruptReturn(m.cpu, true), VEC_TS, 0x0c, 'task.iret-link');
    const f = tasks((t) => {
      t.mem.write16(TSS + 0x50, gdtEntry(t, 11, 0, 0xfff, 0x3));
      t.mem.write32(TSS + 0x38, 0x1002);
    });
    const { interruptTaskSwitch } = await import('../../../../engine/cpu/protect/task-switch');
    const { decodeDescriptor } = await import('../../../../engine/cpu/protect/descriptor');
    expectFault(() => interruptTaskSwitch(f.cpu, decodeDescriptor(...encodeGate(TYPE_TASK_GATE, NEW, 0)), 0), VEC_SS, 0, 'task.error-code-stack');
  });
});

describe('far CALL direct-target rules', () => {
  it('far-call.table-limit, conforming.dpl, nonconforming.rpl, nonconforming.dpl, not-present', () => {
    const m = flat32([]);
    expectFault(() => farCall(m.cpu, 0x80, 0, true), VEC_GP, 0x80, 'far-call.table-limit');
    expectFault(() => farCall(m.cpu, SEL_CODE32 | 2, 0, true), VEC_GP, SEL_CODE32, 'far-call.nonconforming.rpl');
    const c2 = gdtEntry(m, 9, 0, 0xffff, 0xb, { dpl: 2 });
    expectFault(() => farCall(m.cpu, c2, 0, true), VEC_GP, c2, 'far-call.nonconforming.dpl');
    const np = gdtEntry(m, 10, 0, 0xffff, 0xb, { present: false });
    expectFault(() => farCall(m.cpu, np, 0, true), VEC_NP, np, 'far-call.not-present');
    const conf2 = gdtEntry(m, 11, 0, 0xffff, 0xf, { dpl: 2 });
    m.cpu.cpl = 1;
    expectFault(() => farCall(m.cpu, conf2, 0, true), VEC_GP, conf2, 'far-call.conforming.dpl');
  });
});
