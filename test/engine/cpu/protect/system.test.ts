import { describe, expect, it } from 'vitest';
import { CR0_EM, CR0_MP, CR0_PE, CR0_PG, CR0_TS, DS, EAX, EBX, ECX, EDX, LDTR, TR, type Cpu } from '../../../../engine/cpu/cpu';
import { VEC_GP, VEC_NM, VEC_UD } from '../../../../engine/cpu/faults';
import { ZF } from '../../../../engine/cpu/flags';
import { CPUID_VENDOR, cpuModel, DEFAULT_CPU_MODEL } from '../../../../engine/cpu/model';
import { TYPE_LDT, TYPE_TSS32_AVAIL, TYPE_CALL_GATE32, TYPE_INT_GATE32, encodeGate } from '../../../../engine/cpu/protect/descriptor';
import { flat32, GDT_BASE, realMode, SEL_CODE32, SEL_DATA32, type TestMachine } from '../harness';
import { accessByte, gdtEntry } from './fault-helpers';

interface Seen {
  vector: number;
  errorCode: number;
  rule: string;
}

/** Places `bytes` at CS:EIP and executes one instruction; returns the first exception it raised, if any. */
function stepBytes(m: TestMachine, bytes: number[]): Seen | null {
  m.mem.load(m.cpu.segBase[1] + m.cpu.eip, Uint8Array.from(bytes));
  let first: Seen | null = null;
  const off = m.cpu.events.on('cpu-exception', (e) => {
    if (first === null) first = { vector: e.vector, errorCode: e.errorCode, rule: e.ruleId };
  });
  m.cpu.step();
  off();
  return first;
}

function zf(cpu: Cpu): boolean {
  return (cpu.getEflags() & ZF) !== 0;
}

describe('descriptor-table registers', () => {
  it('LGDT/SGDT and LIDT/SIDT round trip with a 32-bit operand size', () => {
    const m = flat32([]);
    m.mem.write16(0x3000, 0x1234);
    m.mem.write32(0x3002, 0x12345678);
    expect(stepBytes(m, [0x0f, 0x01, 0x1d, 0x00, 0x30, 0x00, 0x00])).toBeNull(); // lidt [0x3000]
    expect([m.cpu.idtrBase, m.cpu.idtrLimit]).toEqual([0x12345678, 0x1234]);
    expect(stepBytes(m, [0x0f, 0x01, 0x0d, 0x10, 0x30, 0x00, 0x00])).toBeNull(); // sidt [0x3010]
    expect([m.mem.peek(0x3010, 2), m.mem.peek(0x3012, 4)]).toEqual([0x1234, 0x12345678]);
    expect(stepBytes(m, [0x0f, 0x01, 0x05, 0x20, 0x30, 0x00, 0x00])).toBeNull(); // sgdt [0x3020]
    expect([m.mem.peek(0x3020, 2), m.mem.peek(0x3022, 4)]).toEqual([16 * 8 - 1, GDT_BASE]);
    m.mem.write16(0x3030, 0x00ff);
    m.mem.write32(0x3032, 0x00100000);
    expect(stepBytes(m, [0x0f, 0x01, 0x15, 0x30, 0x30, 0x00, 0x00])).toBeNull(); // lgdt [0x3030]
    expect([m.cpu.gdtrBase, m.cpu.gdtrLimit]).toEqual([0x100000, 0xff]);
  });
  it('16-bit operand size: LGDT loads 24 bits of base; SGDT stores 24 bits and a zero top byte (386+)', () => {
    const m = flat32([]);
    m.mem.write16(0x3000, 0x0017);
    m.mem.write32(0x3002, 0xab345678);
    stepBytes(m, [0x66, 0x0f, 0x01, 0x15, 0x00, 0x30, 0x00, 0x00]); // o16 lgdt [0x3000]
    expect(m.cpu.gdtrBase).toBe(0x345678);
    m.mem.write32(0x3012, 0xffffffff);
    m.cpu.gdtrBase = 0x12345678;
    stepBytes(m, [0x66, 0x0f, 0x01, 0x05, 0x10, 0x30, 0x00, 0x00]); // o16 sgdt [0x3010]
    expect(m.mem.peek(0x3012, 4)).toBe(0x00345678);
  });
  it('LGDT/LIDT need CPL 0; SGDT does not', () => {
    const m = flat32([]);
    m.cpu.cpl = 3;
    expect(stepBytes(m, [0x0f, 0x01, 0x15, 0x00, 0x30, 0x00, 0x00])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'privilege.cpl-not-0' });
    m.cpu.cpl = 3;
    m.cpu.eip = 0x10000;
    m.cpu.shutdown = m.cpu.halted = false;
    expect(stepBytes(m, [0x0f, 0x01, 0x05, 0x10, 0x30, 0x00, 0x00])).toBeNull();
  });
  it('LLDT loads LDTR from the GDT; NULL makes it unusable; SLDT stores the selector', () => {
    const m = flat32([]);
    const ldt = gdtEntry(m, 5, 0x6000, 0x3f, TYPE_LDT, { system: true });
    m.cpu.regs[EAX] = ldt;
    expect(stepBytes(m, [0x0f, 0x00, 0xd0])).toBeNull(); // lldt ax
    expect([m.cpu.segSel[LDTR], m.cpu.segBase[LDTR], m.cpu.segLimit[LDTR], m.cpu.segValid[LDTR]]).toEqual([ldt, 0x6000, 0x3f, 1]);
    m.cpu.regs[EBX] = 0xffffffff;
    expect(stepBytes(m, [0x0f, 0x00, 0xc3])).toBeNull(); // sldt ebx (zero-extended)
    expect(m.cpu.regs[EBX]).toBe(ldt);
    m.cpu.regs[EAX] = 0;
    stepBytes(m, [0x0f, 0x00, 0xd0]);
    expect(m.cpu.segValid[LDTR]).toBe(0);
  });
  it('LLDT checks', () => {
    const np = 6 * 8;
    for (const [sel, vec, err, rule] of [
      [0x2c, VEC_GP, 0x2c, 'lldt.ti'],
      [0x80, VEC_GP, 0x80, 'lldt.table-limit'],
      [SEL_DATA32, VEC_GP, SEL_DATA32, 'lldt.type'],
      [np, 11, np, 'lldt.not-present'],
    ] as const) {
      const f = flat32([]);
      gdtEntry(f, 6, 0x6000, 0x3f, TYPE_LDT, { system: true, present: false });
      f.cpu.regs[EAX] = sel;
      expect(stepBytes(f, [0x0f, 0x00, 0xd0])).toEqual({ vector: vec, errorCode: err, rule });
    }
  });
  it('LTR marks the TSS busy in memory; STR stores TR; LTR of a busy TSS → #GP(selector)', () => {
    const m = flat32([]);
    const tss = gdtEntry(m, 7, 0x7000, 0x67, TYPE_TSS32_AVAIL, { system: true });
    m.cpu.regs[EAX] = tss;
    expect(stepBytes(m, [0x0f, 0x00, 0xd8])).toBeNull(); // ltr ax
    expect(accessByte(m, 7)).toBe(0x8b);
    expect([m.cpu.segSel[TR], m.cpu.segBase[TR], m.cpu.segAr[TR] & 0xff]).toEqual([tss, 0x7000, 0x8b]);
    m.cpu.regs[ECX] = 0;
    stepBytes(m, [0x0f, 0x00, 0xc9]); // str cx
    expect(m.cpu.regs[ECX]).toBe(tss);
    expect(stepBytes(m, [0x0f, 0x00, 0xd8])).toEqual({ vector: VEC_GP, errorCode: tss, rule: 'ltr.type' });
    const f = flat32([]);
    f.cpu.regs[EAX] = 0;
    expect(stepBytes(f, [0x0f, 0x00, 0xd8])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'ltr.null' });
  });
  it('LLDT, SLDT, LTR, STR, LAR, LSL, VERR, VERW, ARPL raise #UD in real mode', () => {
    for (const bytes of [[0x0f, 0x00, 0xd0], [0x0f, 0x00, 0xc0], [0x0f, 0x00, 0xd8], [0x0f, 0x00, 0xc8], [0x0f, 0x02, 0xc3], [0x0f, 0x03, 0xc3], [0x0f, 0x00, 0xe3], [0x0f, 0x00, 0xeb], [0x63, 0xcb]]) {
      const m = realMode([]);
      expect(stepBytes(m, bytes)).toEqual({ vector: VEC_UD, errorCode: -1, rule: 'system.not-in-real-or-v86' });
    }
  });
});

describe('selector queries', () => {
  function query(m: TestMachine, bytes: number[], sel: number): { zf: boolean; eax: number } {
    m.cpu.regs[EBX] = sel;
    m.cpu.regs[EAX] = 0x5a5a5a5a;
    expect(stepBytes(m, bytes)).toBeNull();
    return { zf: zf(m.cpu), eax: m.cpu.regs[EAX] >>> 0 };
  }
  const LAR = [0x0f, 0x02, 0xc3], LAR16 = [0x66, 0x0f, 0x02, 0xc3], LSL = [0x0f, 0x03, 0xc3], VERR = [0x0f, 0x00, 0xe3], VERW = [0x0f, 0x00, 0xeb];

  it('LAR returns the access rights (00FxFF00H of the high dword) and sets ZF', () => {
    const m = flat32([]);
    expect(query(m, LAR, SEL_DATA32)).toEqual({ zf: true, eax: 0x00cf9300 });
    expect(query(m, LAR16, SEL_CODE32)).toEqual({ zf: true, eax: 0x5a5a9b00 });
    const gate = 5 * 8;
    const [lo, hi] = encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x1000, { dpl: 0 });
    m.mem.write32(GDT_BASE + gate, lo);
    m.mem.write32(GDT_BASE + gate + 4, hi);
    expect(query(m, LAR, gate).zf).toBe(true);
  });
  it('LAR fails (ZF = 0, destination unchanged) for NULL, beyond the limit, interrupt gates, and DPL < max(CPL, RPL)', () => {
    const m = flat32([]);
    const [lo, hi] = encodeGate(TYPE_INT_GATE32, SEL_CODE32, 0x1000);
    m.mem.write32(GDT_BASE + 40, lo);
    m.mem.write32(GDT_BASE + 40 + 4, hi);
    for (const sel of [0, 0x80, 40, SEL_DATA32 | 3]) expect(query(m, LAR, sel)).toEqual({ zf: false, eax: 0x5a5a5a5a });
    const conforming = gdtEntry(m, 6, 0, 0xffff, 0xf, { dpl: 0 });
    expect(query(m, LAR, conforming | 3).zf).toBe(true);
  });
  it('LSL returns the scaled limit; LDT and TSS qualify, gates do not', () => {
    const m = flat32([]);
    expect(query(m, LSL, SEL_DATA32)).toEqual({ zf: true, eax: 0xffffffff });
    const ldt = gdtEntry(m, 6, 0x6000, 0x3f, TYPE_LDT, { system: true });
    expect(query(m, LSL, ldt)).toEqual({ zf: true, eax: 0x3f });
    const [lo, hi] = encodeGate(TYPE_CALL_GATE32, SEL_CODE32, 0x1000);
    m.mem.write32(GDT_BASE + 56, lo);
    m.mem.write32(GDT_BASE + 60, hi);
    expect(query(m, LSL, 56).zf).toBe(false);
  });
  it('VERR/VERW', () => {
    const m = flat32([]);
    const execOnly = gdtEntry(m, 6, 0, 0xffff, 0x8);
    const readOnly = gdtEntry(m, 7, 0, 0xffff, 0x1);
    expect([query(m, VERR, SEL_DATA32).zf, query(m, VERW, SEL_DATA32).zf]).toEqual([true, true]);
    expect([query(m, VERR, SEL_CODE32).zf, query(m, VERW, SEL_CODE32).zf]).toEqual([true, false]);
    expect([query(m, VERR, execOnly).zf, query(m, VERW, readOnly).zf, query(m, VERR, readOnly).zf]).toEqual([false, false, true]);
    expect([query(m, VERR, 0).zf, query(m, VERW, 0x80).zf, query(m, VERW, SEL_DATA32 | 3).zf]).toEqual([false, false, false]);
  });
  it('ARPL raises the destination RPL to the source RPL', () => {
    const m = flat32([]);
    m.cpu.regs[EBX] = 0x1230;
    m.cpu.regs[ECX] = 0x0002;
    stepBytes(m, [0x63, 0xcb]); // arpl bx, cx
    expect([m.cpu.regs[EBX], zf(m.cpu)]).toEqual([0x1232, true]);
    m.cpu.regs[ECX] = 0x0001;
    stepBytes(m, [0x63, 0xcb]);
    expect([m.cpu.regs[EBX], zf(m.cpu)]).toEqual([0x1232, false]);
  });
});

describe('control registers', () => {
  it('SMSW: 16 bits to memory, all of CR0 to a 32-bit register', () => {
    const m = flat32([]);
    m.cpu.cr0 = (m.cpu.cr0 | CR0_PG | 0x10) >>> 0;
    stepBytes(m, [0x0f, 0x01, 0xe0]); // smsw eax
    expect(m.cpu.regs[EAX] >>> 0).toBe(m.cpu.cr0 >>> 0);
    stepBytes(m, [0x0f, 0x01, 0x25, 0x00, 0x30, 0x00, 0x00]); // smsw [0x3000]
    expect(m.mem.peek(0x3000, 4)).toBe(m.cpu.cr0 & 0xffff);
  });
  it('LMSW sets MP/EM/TS and PE but cannot clear PE', () => {
    const m = flat32([]);
    m.cpu.regs[EAX] = CR0_MP | CR0_TS;
    stepBytes(m, [0x0f, 0x01, 0xf0]); // lmsw ax
    expect(m.cpu.cr0 & 0xf).toBe(CR0_PE | CR0_MP | CR0_TS);
    const r = realMode([]);
    r.cpu.regs[EAX] = CR0_PE;
    const modes: string[] = [];
    r.cpu.events.on('mode-change', (e) => modes.push(e.to));
    stepBytes(r, [0x0f, 0x01, 0xf0]);
    expect([r.cpu.mode, modes]).toEqual(['protected', ['protected']]);
  });
  it('MOV CR0 with PG and no PE → #GP(0); reserved CR4 bits → #GP(0); CR4.PSE and TSD are accepted', () => {
    const m = realMode([]);
    m.cpu.regs[EAX] = CR0_PG;
    expect(stepBytes(m, [0x0f, 0x22, 0xc0])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'mov-cr.pg-without-pe' });
    const f = flat32([]);
    f.cpu.regs[EAX] = 0x1; // VME: not implemented
    expect(stepBytes(f, [0x0f, 0x22, 0xe0])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'mov-cr.cr4-reserved' });
    f.cpu.eip = 0x10000;
    f.cpu.shutdown = f.cpu.halted = false;
    f.cpu.regs[EAX] = 0x14;
    expect(stepBytes(f, [0x0f, 0x22, 0xe0])).toBeNull();
    expect(f.cpu.cr4).toBe(0x14);
    f.cpu.regs[EAX] = 0;
    expect(stepBytes(f, [0x0f, 0x20, 0x0c0 ^ 0x08])).toEqual({ vector: VEC_UD, errorCode: -1, rule: 'mov-cr.reserved-register' }); // mov eax, cr1
  });
  it('privileged instructions at CPL 3 → #GP(0)', () => {
    for (const bytes of [[0x0f, 0x20, 0xc0], [0x0f, 0x22, 0xc0], [0x0f, 0x06], [0x0f, 0x01, 0xf0], [0x0f, 0x08], [0x0f, 0x09], [0x0f, 0x21, 0xc0], [0x0f, 0x32], [0x0f, 0x00, 0xd0]]) {
      const m = flat32([]);
      m.cpu.cpl = 3;
      expect(stepBytes(m, bytes)).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'privilege.cpl-not-0' });
    }
  });
  it('CLTS clears CR0.TS', () => {
    const m = flat32([]);
    m.cpu.cr0 |= CR0_TS;
    stepBytes(m, [0x0f, 0x06]);
    expect(m.cpu.cr0 & CR0_TS).toBe(0);
  });
});

describe('CPUID, TSC and MSRs', () => {
  it('CPUID reports the vendor string, the default model family and its features (every model: cpu-models.test.ts)', () => {
    const m = flat32([]);
    m.cpu.regs[EAX] = 0;
    stepBytes(m, [0x0f, 0xa2]);
    const bytes = [EBX, EDX, ECX].flatMap((r) => [0, 8, 16, 24].map((s) => (m.cpu.regs[r] >>> s) & 0xff));
    expect([m.cpu.regs[EAX], String.fromCharCode(...bytes)]).toEqual([2, CPUID_VENDOR]);
    m.cpu.regs[EAX] = 1;
    stepBytes(m, [0x0f, 0xa2]);
    expect((m.cpu.regs[EAX] >> 8) & 0xf).toBe(6);
    expect(m.cpu.regs[EDX]).toBe(cpuModel(DEFAULT_CPU_MODEL).features);
    expect(m.cpu.regs[EDX] & ((1 << 4) | (1 << 5) | (1 << 8))).toBe((1 << 4) | (1 << 5) | (1 << 8));
  });
  it('RDTSC counts guest instructions; WRMSR 10H sets the counter; RDMSR reads it', () => {
    const m = flat32([0x90, 0x90, 0x90, 0x0f, 0x31, 0xf4]); // nop ×3, rdtsc, hlt
    m.cpu.run(10);
    expect([m.cpu.regs[EAX], m.cpu.regs[EDX]]).toEqual([3, 0]);
    const f = flat32([0x0f, 0x30, 0x0f, 0x32, 0xf4]); // wrmsr, rdmsr
    f.cpu.regs[ECX] = 0x10;
    f.cpu.regs[EDX] = 1;
    f.cpu.regs[EAX] = 0xfffffff0 | 0;
    f.cpu.run(10);
    expect([f.cpu.regs[EAX] >>> 0, f.cpu.regs[EDX]]).toEqual([0xfffffff0, 1]);
  });
  it('CR4.TSD makes RDTSC privileged; unknown MSRs → #GP(0)', () => {
    const m = flat32([]);
    m.cpu.cr4 = 0x4;
    m.cpu.cpl = 3;
    expect(stepBytes(m, [0x0f, 0x31])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'rdtsc.tsd' });
    const f = flat32([]);
    f.cpu.regs[ECX] = 0x1b;
    expect(stepBytes(f, [0x0f, 0x32])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'msr.unimplemented' });
  });
  it('the 386 model has no CPUID or RDTSC (#UD)', async () => {
    const { PhysicalMemory } = await import('../../../../engine/bus/memory');
    const { IoBus } = await import('../../../../engine/bus/io-bus');
    const { Cpu } = await import('../../../../engine/cpu/cpu');
    const cpu = new Cpu(new PhysicalMemory(1 << 20), new IoBus(), { model: '386' });
    const m = { cpu, mem: cpu.mem, io: cpu.io, out: [] } as TestMachine;
    cpu.loadSegmentCache(1, 0, 0, 0xffff, cpu.segAr[1], true, 'loader');
    cpu.eip = 0x1000;
    expect(stepBytes(m, [0x0f, 0xa2])?.vector).toBe(VEC_UD);
  });
});

describe('no FPU', () => {
  it('ESC does nothing after the address calculation when EM = TS = 0', () => {
    const m = flat32([]);
    m.cpu.fpuPresent = false; // the 486SX
    m.cpu.cr0 &= ~(CR0_EM | CR0_TS);
    expect(stepBytes(m, [0xdd, 0x05, 0xf0, 0xff, 0xff, 0xff])).toBeNull(); // fld qword [0xfffffff0]
    expect(m.cpu.eip).toBe(0x10006);
  });
  it('ESC with CR0.EM or CR0.TS → #NM', () => {
    for (const bit of [CR0_EM, CR0_TS]) {
      const m = flat32([]);
      m.cpu.cr0 |= bit;
      expect(stepBytes(m, [0xd8, 0xc0])).toEqual({ vector: VEC_NM, errorCode: -1, rule: 'fpu.not-available' });
    }
  });
  it('WAIT → #NM only with MP and TS both set', () => {
    const m = flat32([]);
    m.cpu.cr0 |= CR0_TS;
    expect(stepBytes(m, [0x9b])).toBeNull();
    m.cpu.cr0 |= CR0_MP;
    expect(stepBytes(m, [0x9b])).toEqual({ vector: VEC_NM, errorCode: -1, rule: 'fpu.wait' });
  });
});

describe('TLB and debug-register upkeep', () => {
  function paged(): TestMachine {
    const m = flat32([]);
    const pd = 0x100000, pt = 0x101000;
    m.mem.write32(pd, pt | 0x7);
    for (let p = 0; p < 1024; p++) m.mem.write32(pt + p * 4, (p << 12) | 0x7);
    m.cpu.cr3 = pd;
    m.cpu.cr0 |= CR0_PG;
    m.cpu.modeChanged();
    return m;
  }
  it('INVLPG drops the stale translation of its page; MOV CR3 drops them all', () => {
    const m = paged();
    m.mem.write32(0x5000, 0x11111111);
    m.mem.write32(0x6000, 0x22222222);
    expect(m.cpu.readMem(DS, 0x5000, 4)).toBe(0x11111111);
    m.mem.write32(0x101000 + 5 * 4, 0x6000 | 0x7); // remap page 5 to frame 6 behind the TLB's back
    expect(m.cpu.readMem(DS, 0x5000, 4)).toBe(0x11111111);
    m.cpu.regs[EBX] = 0x5000;
    expect(stepBytes(m, [0x0f, 0x01, 0x3b])).toBeNull(); // invlpg [ebx]
    expect(m.cpu.readMem(DS, 0x5000, 4)).toBe(0x22222222);
    m.mem.write32(0x101000 + 5 * 4, 0x5000 | 0x7);
    m.cpu.regs[EAX] = 0x100000;
    expect(stepBytes(m, [0x0f, 0x22, 0xd8])).toBeNull(); // mov cr3, eax
    expect(m.cpu.readMem(DS, 0x5000, 4)).toBe(0x11111111);
  });
  it('MOV DRn with DR7.GD = 1 raises #DB (general detect) and clears GD', () => {
    const m = flat32([]);
    m.cpu.dr[7] = 0x2400;
    expect(stepBytes(m, [0x0f, 0x21, 0xc0])).toEqual({ vector: 1, errorCode: -1, rule: 'debug.general-detect' });
    expect(m.cpu.dr[7] & 0x2000).toBe(0);
    expect(m.cpu.dr[6] & 0x2000).toBe(0x2000);
  });
});
