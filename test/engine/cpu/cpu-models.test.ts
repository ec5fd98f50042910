// The CPU models (engine/cpu/model.ts): every model's CPUID, leaf by leaf, written out here as numbers (not read
// back from the model table); which instructions exist on which model (#UD where absent); EFLAGS.AC/ID toggling;
// CR4 bits; the MSRs each model has; the reset signature in EDX.

import { describe, expect, it } from 'vitest';
import { CR0_CD, CR0_ET, CR0_NW, EAX, EBX, ECX, EDX, type CpuModelName } from '../../../engine/cpu/cpu';
import { VEC_GP, VEC_UD } from '../../../engine/cpu/faults';
import { flat32, makeMachine } from './harness';
import { stepBytes } from './step-bytes';

const MODELS: CpuModelName[] = ['386', '486sx', '486dx', 'pentium', 'pentium-pro'];
const VENDOR = 'RingsideCPU!';

/** CPUID leaf 1 EDX bits, spelt out from SDM 2 Table 3-11. */
const FPU = 1, DE = 4, PSE = 8, TSC = 0x10, MSR = 0x20, CX8 = 0x100, APIC = 0x200, SEP = 0x800, PGE = 0x2000, CMOV = 0x8000;

interface Expected {
  maxLeaf: number;
  signature: number;
  edx: number;
  /** Leaf 2, when the model has it: [EAX, EBX, ECX, EDX]. */
  leaf2?: number[];
}

const EXPECTED: Record<Exclude<CpuModelName, '386'>, Expected> = {
  '486sx': { maxLeaf: 1, signature: 0x427, edx: 0 },
  '486dx': { maxLeaf: 1, signature: 0x415, edx: FPU },
  pentium: { maxLeaf: 1, signature: 0x52c, edx: FPU | DE | PSE | TSC | MSR | CX8 },
  'pentium-pro': { maxLeaf: 2, signature: 0x619, edx: FPU | DE | PSE | TSC | MSR | CX8 | SEP | PGE | CMOV, leaf2: [1, 0, 0, 0] },
};

function cpuid(model: CpuModelName, leaf: number, apic = false): number[] {
  const m = flat32([], 0x10000, 4 << 20, model);
  m.cpu.apicPresent = apic;
  m.cpu.regs[EAX] = leaf | 0;
  m.cpu.regs[ECX] = 0x5a5a5a5a;
  expect(stepBytes(m, [0x0f, 0xa2])).toBeNull();
  return [EAX, EBX, ECX, EDX].map((r) => m.cpu.regs[r] >>> 0);
}

function vendorOf(r: number[]): string {
  return [r[1], r[3], r[2]].map((v) => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24)).join('');
}

describe('CPUID on every model', () => {
  for (const [name, e] of Object.entries(EXPECTED) as [Exclude<CpuModelName, '386'>, Expected][]) {
    it(`${name}: leaf 0 (max ${e.maxLeaf}, vendor), leaf 1 (signature 0x${e.signature.toString(16)}, features 0x${e.edx.toString(16)}), leaves beyond the maximum`, () => {
      const leaf0 = cpuid(name, 0);
      expect(leaf0[0]).toBe(e.maxLeaf);
      expect(vendorOf(leaf0)).toBe(VENDOR);
      const leaf1 = cpuid(name, 1);
      expect(leaf1).toEqual([e.signature, 0, 0, e.edx]);
      if (e.leaf2) expect(cpuid(name, 2)).toEqual(e.leaf2);
      // Above the maximum: the highest basic leaf's data, for basic and extended ranges alike.
      const highest = e.maxLeaf === 2 ? e.leaf2! : leaf1;
      for (const leaf of [e.maxLeaf + 1, 3, 4, 0x7fffffff, 0x80000000, 0x80000001, 0x80000004, 0xffffffff]) {
        expect(cpuid(name, leaf), `leaf 0x${leaf.toString(16)}`).toEqual(highest);
      }
    });
  }

  it('only the FPU models report the FPU bit; CMOV, SEP and PGE only on pentium-pro', () => {
    expect(cpuid('486sx', 1)[3] & FPU).toBe(0);
    for (const m of ['486dx', 'pentium', 'pentium-pro'] as const) expect(cpuid(m, 1)[3] & FPU, m).toBe(FPU);
    for (const m of ['486sx', '486dx', 'pentium'] as const) expect(cpuid(m, 1)[3] & (CMOV | SEP | PGE), m).toBe(0);
  });

  it('the APIC bit appears when the platform has a local APIC, on the models that can have one', () => {
    expect(cpuid('pentium-pro', 1, true)[3]).toBe(EXPECTED['pentium-pro'].edx | APIC);
    expect(cpuid('pentium', 1, true)[3]).toBe(EXPECTED.pentium.edx | APIC);
    expect(cpuid('486dx', 1, true)[3]).toBe(EXPECTED['486dx'].edx);
    expect(cpuid('pentium-pro', 1, false)[3] & APIC).toBe(0);
  });

  it('the 386 model has no CPUID: #UD', () => {
    const m = flat32([], 0x10000, 4 << 20, '386');
    expect(stepBytes(m, [0x0f, 0xa2])).toEqual({ vector: VEC_UD, errorCode: -1, rule: 'system.not-on-this-model' });
  });

  it('reset: EDX holds the signature; CR0 = CD | NW | ET from the 486 on', () => {
    const sig: Record<CpuModelName, number> = { '386': 0x303, '486sx': 0x427, '486dx': 0x415, pentium: 0x52c, 'pentium-pro': 0x619 };
    for (const model of MODELS) {
      const m = makeMachine(1 << 20, model);
      expect(m.cpu.regs[EDX], model).toBe(sig[model]);
      expect(m.cpu.cr0 >>> 0, model).toBe(model === '386' ? 0 : (CR0_CD | CR0_NW | CR0_ET) >>> 0);
    }
  });

  it('the default model is pentium-pro, with the fpuPresent and p6 fields set from the model', () => {
    expect(makeMachine().cpu.model.name).toBe('pentium-pro');
    const flags = MODELS.map((model) => {
      const c = makeMachine(1 << 20, model).cpu;
      return [model, c.fpuPresent, c.p6];
    });
    expect(flags).toEqual([
      ['386', false, false],
      ['486sx', false, false],
      ['486dx', true, false],
      ['pentium', true, false],
      ['pentium-pro', true, true],
    ]);
  });
});

describe('EFLAGS.AC and EFLAGS.ID: which models can toggle them (the CPUID detection the SDM describes)', () => {
  // push imm32 (AC | ID | bit 1); popfd; pushfd; pop eax
  const CODE = [0x68, 0x02, 0x00, 0x24, 0x00, 0x9d, 0x9c, 0x58];
  for (const model of MODELS) {
    it(model, () => {
      const m = flat32(CODE, 0x10000, 4 << 20, model);
      m.cpu.regs[4] = 0x8000;
      for (let k = 0; k < 4; k++) m.cpu.step();
      const ac = 0x40000, id = 0x200000;
      const expected = model === '386' ? 0 : ac | id;
      expect(m.cpu.regs[EAX] & (ac | id)).toBe(expected);
    });
  }
});

/** Byte sequences, the models on which they exist, and the #UD rule elsewhere. */
const GROUPS: { name: string; bytes: number[]; on: CpuModelName[]; rule: string; setup?: (regs: Int32Array) => void }[] = [
  { name: 'bswap eax', bytes: [0x0f, 0xc8], on: ['486sx', '486dx', 'pentium', 'pentium-pro'], rule: 'bit.486-instruction-on-386' },
  { name: 'xadd eax, ecx', bytes: [0x0f, 0xc1, 0xc8], on: ['486sx', '486dx', 'pentium', 'pentium-pro'], rule: 'bit.486-instruction-on-386' },
  { name: 'cpuid', bytes: [0x0f, 0xa2], on: ['486sx', '486dx', 'pentium', 'pentium-pro'], rule: 'system.not-on-this-model' },
  { name: 'rdtsc', bytes: [0x0f, 0x31], on: ['pentium', 'pentium-pro'], rule: 'system.not-on-this-model' },
  { name: 'rdmsr (TSC)', bytes: [0x0f, 0x32], on: ['pentium', 'pentium-pro'], rule: 'system.not-on-this-model', setup: (r) => void (r[ECX] = 0x10) },
  { name: 'cmpxchg8b [0x3000]', bytes: [0x0f, 0xc7, 0x0d, 0x00, 0x30, 0x00, 0x00], on: ['pentium', 'pentium-pro'], rule: 'bit.cmpxchg8b-without-cx8' },
  { name: 'mov eax, cr4', bytes: [0x0f, 0x20, 0xe0], on: ['pentium', 'pentium-pro'], rule: 'mov-cr.reserved-register' },
  { name: 'cmove eax, ecx', bytes: [0x0f, 0x44, 0xc1], on: ['pentium-pro'], rule: 'p6.cmov-without-cmov' },
  { name: 'nop dword [eax]', bytes: [0x0f, 0x1f, 0x00], on: ['pentium-pro'], rule: 'p6.not-on-this-model' },
  { name: 'endbr32', bytes: [0xf3, 0x0f, 0x1e, 0xfb], on: ['pentium-pro'], rule: 'p6.not-on-this-model' },
  { name: 'rdpmc', bytes: [0x0f, 0x33], on: ['pentium-pro'], rule: 'p6.not-on-this-model', setup: (r) => void (r[ECX] = 0) },
  { name: 'sysenter', bytes: [0x0f, 0x34], on: ['pentium-pro'], rule: 'sysenter.not-on-this-model' },
  { name: 'sysexit', bytes: [0x0f, 0x35], on: ['pentium-pro'], rule: 'sysenter.not-on-this-model' },
  { name: 'ud2', bytes: [0x0f, 0x0b], on: [], rule: 'ud2' },
];

describe('instructions by model: present, or #UD', () => {
  for (const g of GROUPS) {
    it(g.name, () => {
      for (const model of MODELS) {
        const m = flat32([], 0x10000, 4 << 20, model);
        m.cpu.sysenterCs = 0x08;
        g.setup?.(m.cpu.regs);
        const raised = stepBytes(m, g.bytes);
        if (g.on.includes(model)) expect(raised, `${g.name} on ${model}`).toBeNull();
        else expect(raised, `${g.name} on ${model}`).toEqual({ vector: VEC_UD, errorCode: -1, rule: g.rule });
      }
    });
  }
});

describe('CR4 and MSRs by model', () => {
  const writeCr4 = (model: CpuModelName, value: number) => {
    const m = flat32([], 0x10000, 4 << 20, model);
    m.cpu.regs[EAX] = value;
    return stepBytes(m, [0x0f, 0x22, 0xe0]); // mov cr4, eax
  };
  it('pentium: TSD DE PSE; PGE and PCE are reserved (#GP); pentium-pro adds PGE and PCE; VME nowhere', () => {
    for (const bit of [0x4, 0x8, 0x10]) {
      expect(writeCr4('pentium', bit)).toBeNull();
      expect(writeCr4('pentium-pro', bit)).toBeNull();
    }
    for (const bit of [0x80, 0x100]) {
      expect(writeCr4('pentium', bit)).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'mov-cr.cr4-reserved' });
      expect(writeCr4('pentium-pro', bit)).toBeNull();
    }
    for (const model of ['pentium', 'pentium-pro'] as const) expect(writeCr4(model, 0x1)?.vector).toBe(VEC_GP); // VME
    expect(writeCr4('486dx', 0)).toEqual({ vector: VEC_UD, errorCode: -1, rule: 'mov-cr.reserved-register' });
  });

  const rdmsr = (model: CpuModelName, msr: number, apic = false) => {
    const m = flat32([], 0x10000, 4 << 20, model);
    m.cpu.apicPresent = apic;
    m.cpu.regs[ECX] = msr;
    return { raised: stepBytes(m, [0x0f, 0x32]), edx: m.cpu.regs[EDX] >>> 0, eax: m.cpu.regs[EAX] >>> 0 };
  };
  it('SYSENTER MSRs exist on pentium-pro only; APIC base only with a local APIC; MTRRcap and PAT are not advertised, so #GP', () => {
    for (const msr of [0x174, 0x175, 0x176]) {
      expect(rdmsr('pentium-pro', msr).raised).toBeNull();
      expect(rdmsr('pentium', msr).raised).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'msr.unimplemented' });
    }
    expect(rdmsr('pentium-pro', 0x1b).raised?.vector).toBe(VEC_GP);
    expect(rdmsr('pentium-pro', 0x1b, true)).toEqual({ raised: null, edx: 0, eax: 0xfee00900 });
    for (const msr of [0xfe, 0x277, 0x8b, 0x1a0, 0xc1, 0x186]) expect(rdmsr('pentium-pro', msr).raised?.vector, `MSR 0x${msr.toString(16)}`).toBe(VEC_GP);
  });

  it('WRMSR round-trips the SYSENTER MSRs and IA32_APIC_BASE; reserved APIC-base bits → #GP; the BSP bit stays', () => {
    const m = flat32([], 0x10000, 4 << 20, 'pentium-pro');
    m.cpu.apicPresent = true;
    const seen: number[] = [];
    m.cpu.onApicBaseWrite = (v) => void seen.push(v);
    const wr = (msr: number, hi: number, lo: number) => {
      m.cpu.eip = 0x10000; // a fault's delivery (no IDT here) moved the CPU: start again at the same place
      m.cpu.shutdown = m.cpu.halted = false;
      m.cpu.regs[ECX] = msr;
      m.cpu.regs[EDX] = hi;
      m.cpu.regs[EAX] = lo | 0;
      return stepBytes(m, [0x0f, 0x30]);
    };
    const rd = (msr: number) => {
      m.cpu.regs[ECX] = msr;
      expect(stepBytes(m, [0x0f, 0x32])).toBeNull();
      return [m.cpu.regs[EDX] >>> 0, m.cpu.regs[EAX] >>> 0];
    };
    expect(wr(0x174, 0, 0x10)).toBeNull();
    expect(wr(0x175, 0, 0x9000)).toBeNull();
    expect(wr(0x176, 0, 0xc0001000)).toBeNull();
    expect([rd(0x174), rd(0x175), rd(0x176)]).toEqual([[0, 0x10], [0, 0x9000], [0, 0xc0001000]]);
    expect(wr(0x1b, 0, 0xfec00000)).toBeNull(); // move the APIC, disable it (bit 11 clear); BSP (bit 8) kept
    expect(rd(0x1b)).toEqual([0, 0xfec00100]);
    expect(seen).toEqual([0xfec00100]);
    expect(wr(0x1b, 0, 0xfee00801)).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'msr.reserved-bit' });
    expect(wr(0x1b, 1, 0xfee00800)).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'msr.reserved-bit' });
  });
});
