import { describe, expect, it } from 'vitest';
import { CS, DS, ESP, SS } from '../../../../engine/cpu/cpu';
import { VEC_GP, VEC_NP, VEC_SS } from '../../../../engine/cpu/faults';
import { IF, TF } from '../../../../engine/cpu/flags';
import { deliverInterrupt, SOURCE_EXCEPTION, SOURCE_EXTERNAL, SOURCE_SOFTWARE } from '../../../../engine/cpu/interrupt';
import {
  encodeGate,
  TYPE_CALL_GATE32,
  TYPE_INT_GATE16,
  TYPE_INT_GATE32,
  TYPE_TRAP_GATE32,
} from '../../../../engine/cpu/protect/descriptor';
import { loadSegment } from '../../../../engine/cpu/protect/segment-load';
import { flat32, SEL_CODE16, SEL_CODE32, SEL_DATA32, type TestMachine } from '../harness';
import { expectFault, gdtEntry } from './fault-helpers';

const IDT_BASE = 0x800;
const HANDLER = 0x20000;

function setGate(m: TestMachine, vector: number, type: number, selector: number, offset: number, opts: { dpl?: number; present?: boolean } = {}): void {
  const [lo, hi] = encodeGate(type, selector, offset, opts);
  m.mem.write32(IDT_BASE + vector * 8, lo);
  m.mem.write32(IDT_BASE + vector * 8 + 4, hi);
}

function withIdt(code: number[]): TestMachine {
  const m = flat32(code);
  m.cpu.idtrBase = IDT_BASE;
  m.cpu.idtrLimit = 256 * 8 - 1;
  m.mem.write8(HANDLER, 0xf4); // hlt
  return m;
}

function stackDwords(m: TestMachine, n: number): number[] {
  const sp = m.cpu.regs[ESP] >>> 0;
  return Array.from({ length: n }, (_, k) => m.mem.peek(sp + 4 * k, 4));
}

describe('protected-mode INT n through IDT gates (same privilege)', () => {
  it('interrupt gate: EFLAGS, CS, EIP pushed; IF and TF cleared', () => {
    const m = withIdt([0xfb, 0xcd, 0x40]); // sti; int 0x40
    setGate(m, 0x40, TYPE_INT_GATE32, SEL_CODE32, HANDLER);
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.eip).toBe(HANDLER + 1);
    const [eip, cs, eflags] = stackDwords(m, 3);
    expect([eip, cs]).toEqual([0x10003, SEL_CODE32]);
    expect(eflags & IF).toBe(IF);
    expect(m.cpu.getEflags() & (IF | TF)).toBe(0);
  });
  it('trap gate: IF unchanged', () => {
    const m = withIdt([0xfb, 0xcd, 0x41]);
    setGate(m, 0x41, TYPE_TRAP_GATE32, SEL_CODE32, HANDLER);
    m.cpu.run(10);
    expect(m.cpu.eip).toBe(HANDLER + 1);
    expect(m.cpu.getEflags() & IF).toBe(IF);
  });
  it('16-bit gate: 2-byte slots and a 16-bit offset', () => {
    const m = withIdt([0xcd, 0x42]);
    setGate(m, 0x42, TYPE_INT_GATE16, SEL_CODE16, 0x3000);
    m.mem.write8(0x3000, 0xf4);
    m.cpu.run(10);
    expect([m.cpu.segSel[CS], m.cpu.eip, m.cpu.regs[ESP]]).toEqual([SEL_CODE16, 0x3001, 0x90000 - 6]);
    expect(m.mem.peek(0x90000 - 6, 4)).toBe((SEL_CODE32 << 16) | 0x0002);
  });
  it('an exception with an error code: #GP(selector) from MOV DS, return address = the faulting instruction', () => {
    const m = withIdt([0x66, 0xb8, 0x80, 0x00, 0x8e, 0xd8]); // mov ax,0x80 ; mov ds,ax (beyond the GDT)
    setGate(m, 13, TYPE_INT_GATE32, SEL_CODE32, HANDLER);
    const seen: string[] = [];
    m.cpu.events.on('cpu-exception', (e) => seen.push(`${e.vector}:${e.errorCode}:${e.ruleId}`));
    m.cpu.run(10);
    expect(seen).toEqual(['13:128:segment-load.data.table-limit']);
    expect(stackDwords(m, 3)).toEqual([0x80, 0x10004, SEL_CODE32]);
  });
  it('software INT: gate DPL < CPL → #GP(vector × 8 + 2), no EXT', () => {
    const m = withIdt([]);
    const code3 = gdtEntry(m, 7, 0, 0xfffff, 0xb, { dpl: 3, g: true });
    setGate(m, 0x40, TYPE_INT_GATE32, code3, HANDLER, { dpl: 0 });
    m.cpu.cpl = 1;
    expectFault(() => deliverInterrupt(m.cpu, 0x40, -1, SOURCE_SOFTWARE), VEC_GP, 0x40 * 8 + 2, 'interrupt.software.dpl');
    // Exceptions and external interrupts ignore the gate DPL; this one fails later, on code DPL 3 > CPL 1 (+ EXT).
    expectFault(() => deliverInterrupt(m.cpu, 0x40, -1, SOURCE_EXTERNAL), VEC_GP, code3 | 1, 'interrupt.cs-dpl');
  });
  it('IDT limit: #GP(idt) for INT n, #GP(idt + EXT) for an exception', () => {
    const m = withIdt([]);
    m.cpu.idtrLimit = 0x40 * 8 + 6;
    expectFault(() => deliverInterrupt(m.cpu, 0x40, -1, SOURCE_SOFTWARE), VEC_GP, 0x202, 'interrupt.idt-limit');
    expectFault(() => deliverInterrupt(m.cpu, 0x40, -1, SOURCE_EXCEPTION), VEC_GP, 0x203, 'interrupt.idt-limit');
  });
  it('gate and code-segment checks', () => {
    const m = withIdt([]);
    setGate(m, 0x50, TYPE_CALL_GATE32, SEL_CODE32, HANDLER);
    expectFault(() => deliverInterrupt(m.cpu, 0x50, -1, SOURCE_SOFTWARE), VEC_GP, 0x50 * 8 + 2, 'interrupt.gate-type');
    setGate(m, 0x51, TYPE_INT_GATE32, SEL_CODE32, HANDLER, { present: false });
    expectFault(() => deliverInterrupt(m.cpu, 0x51, -1, SOURCE_EXTERNAL), VEC_NP, 0x51 * 8 + 3, 'interrupt.gate-not-present');
    setGate(m, 0x52, TYPE_INT_GATE32, 0, HANDLER);
    expectFault(() => deliverInterrupt(m.cpu, 0x52, -1, SOURCE_SOFTWARE), VEC_GP, 0, 'interrupt.cs-null');
    setGate(m, 0x53, TYPE_INT_GATE32, 0x80, HANDLER);
    expectFault(() => deliverInterrupt(m.cpu, 0x53, -1, SOURCE_EXCEPTION), VEC_GP, 0x81, 'interrupt.cs-table-limit');
    setGate(m, 0x54, TYPE_INT_GATE32, SEL_DATA32, HANDLER);
    expectFault(() => deliverInterrupt(m.cpu, 0x54, -1, SOURCE_SOFTWARE), VEC_GP, SEL_DATA32, 'interrupt.cs-type');
    const np = gdtEntry(m, 7, 0, 0xfffff, 0xb, { g: true, present: false });
    setGate(m, 0x55, TYPE_INT_GATE32, np, HANDLER);
    expectFault(() => deliverInterrupt(m.cpu, 0x55, -1, SOURCE_SOFTWARE), VEC_NP, np, 'interrupt.cs-not-present');
    setGate(m, 0x56, TYPE_INT_GATE32, SEL_CODE16, 0x10000 + 0xffff);
    expectFault(() => deliverInterrupt(m.cpu, 0x56, -1, SOURCE_SOFTWARE), VEC_GP, 0, 'interrupt.eip-limit');
  });
  it('no room for the frame → #SS(EXT), nothing pushed', () => {
    const m = withIdt([]);
    setGate(m, 13, TYPE_INT_GATE32, SEL_CODE32, HANDLER);
    const small = gdtEntry(m, 7, 0, 0x0fff, 0x3);
    loadSegment(m.cpu, SS, small, 'mov');
    m.cpu.regs[ESP] = 0x100c;
    expectFault(() => deliverInterrupt(m.cpu, 13, 0, SOURCE_EXCEPTION), VEC_SS, 1, 'access.stack-limit');
    expect(m.cpu.regs[ESP]).toBe(0x100c);
  });
  it('double fault: #GP whose gate is not present raises #NP, delivered as #DF(0)', () => {
    const m = withIdt([0x66, 0xb8, 0x80, 0x00, 0x8e, 0xd8]);
    setGate(m, 13, TYPE_INT_GATE32, SEL_CODE32, HANDLER, { present: false });
    setGate(m, 8, TYPE_INT_GATE32, SEL_CODE32, HANDLER + 0x10);
    m.mem.write8(HANDLER + 0x10, 0xf4);
    m.cpu.run(10);
    expect(m.cpu.eip).toBe(HANDLER + 0x11);
    expect(stackDwords(m, 2)).toEqual([0, 0x10004]);
  });
  it('triple fault: an IDT too small for #UD, #GP and #DF shuts the CPU down', () => {
    const m = withIdt([0x0f, 0x0b]); // ud2
    m.cpu.idtrLimit = 0;
    const triple: string[] = [];
    m.cpu.events.on('triple-fault', (e) => triple.push(e.detail));
    m.cpu.run(10);
    expect(m.cpu.shutdown).toBe(true);
    expect(triple.length).toBe(1);
    void DS;
  });
});
