// Model-specific registers (SDM 2 RDMSR/WRMSR; SDM 4 "Model-Specific Registers" for the P5 and P6 families).
//
// Only the MSRs a model has AND the engine implements exist; every other ECX raises #GP(0) ("ECX specifies a
// reserved or unimplemented MSR address"), as does a write of a reserved bit.
//   10H   IA32_TIME_STAMP_COUNTER   models with TSC: guest instructions retired plus an offset (model.md §4)
//   1BH   IA32_APIC_BASE            only while the platform has a local APIC (cpu.apicPresent)
//   174H  IA32_SYSENTER_CS          models with SEP (protect/sysenter.ts); 32 bits kept, EDX ignored
//   175H  IA32_SYSENTER_ESP         "
//   176H  IA32_SYSENTER_EIP         "
// Not implemented, so not advertised and #GP: MTRRs (MTRRcap FEH; CPUID.MTRR = 0), PAT (277H; CPUID.PAT = 0),
// machine check (CPUID.MCE = MCA = 0), the performance-event MSRs (C1H, C2H, 186H, 187H: RDPMC reads counters
// that nothing programs, see ops/p6.ts).

import type { Cpu } from './cpu';
import { fault, rule, VEC_GP } from './faults';
import { CPUID_SEP, CPUID_TSC } from './model';

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;

/** IA32_APIC_BASE: BSP flag (bit 8, read-only), global enable (bit 11), base (bits 12–31; EDX = bits 32–35). */
const APIC_BASE_BSP = 1 << 8;
const APIC_BASE_WRITABLE = 0xfffff800;

const R_GP_MSR = rule('msr.unimplemented', 'ECX names a reserved or unimplemented model-specific register', 'SDM 2 RDMSR/WRMSR');
const R_GP_MSR_RESERVED = rule('msr.reserved-bit', 'WRMSR sets a reserved bit of the model-specific register', 'SDM 2 WRMSR');

const TWO32 = 4294967296;

/** The virtual time-stamp counter: guest instructions retired plus the offset WRMSR set (model.md §4). */
export function readTsc(cpu: Cpu): number {
  return cpu.icount + cpu.tscOffset;
}

function has(cpu: Cpu, feature: number): boolean {
  return (cpu.model.features & feature) !== 0;
}

/** IA32_APIC_BASE exists while the platform enables the local APIC of a model that can have one. */
function apicMsr(cpu: Cpu): boolean {
  return cpu.apicPresent && cpu.model.apic;
}

function unimplemented(msr: number): never {
  return fault(VEC_GP, 0, R_GP_MSR, `MSR 0x${msr.toString(16)}`);
}

/** RDMSR: the 64-bit value of MSR `msr` as a number (the TSC can pass 2^32), or #GP(0). */
export function readMsr(cpu: Cpu, msr: number): number {
  msr >>>= 0;
  if (msr === MSR_TSC && has(cpu, CPUID_TSC)) return readTsc(cpu);
  if (msr === MSR_APIC_BASE && apicMsr(cpu)) return cpu.apicBase >>> 0;
  if (has(cpu, CPUID_SEP)) {
    if (msr === MSR_SYSENTER_CS) return cpu.sysenterCs >>> 0;
    if (msr === MSR_SYSENTER_ESP) return cpu.sysenterEsp >>> 0;
    if (msr === MSR_SYSENTER_EIP) return cpu.sysenterEip >>> 0;
  }
  return unimplemented(msr);
}

/** WRMSR of EDX:EAX (`hi`, `lo`) to MSR `msr`, or #GP(0). */
export function writeMsr(cpu: Cpu, msr: number, hi: number, lo: number): void {
  msr >>>= 0;
  lo >>>= 0;
  hi >>>= 0;
  if (msr === MSR_TSC && has(cpu, CPUID_TSC)) {
    // This instruction retires after the write, so the counter reads the value at the next instruction.
    cpu.tscOffset = hi * TWO32 + lo - (cpu.icount + 1);
    return;
  }
  if (msr === MSR_APIC_BASE && apicMsr(cpu)) {
    // Physical addresses are 32 bits wide here: base bits 32–35 (EDX) and bits 0–7, 9, 10 are reserved.
    if (hi !== 0 || (lo & ~(APIC_BASE_WRITABLE | APIC_BASE_BSP)) !== 0) fault(VEC_GP, 0, R_GP_MSR_RESERVED, `IA32_APIC_BASE 0x${hi.toString(16)}:${lo.toString(16)}`);
    cpu.apicBase = ((lo & APIC_BASE_WRITABLE) | (cpu.apicBase & APIC_BASE_BSP)) | 0;
    cpu.onApicBaseWrite?.(cpu.apicBase >>> 0);
    return;
  }
  if (has(cpu, CPUID_SEP)) {
    if (msr === MSR_SYSENTER_CS) return void (cpu.sysenterCs = lo | 0);
    if (msr === MSR_SYSENTER_ESP) return void (cpu.sysenterEsp = lo | 0);
    if (msr === MSR_SYSENTER_EIP) return void (cpu.sysenterEip = lo | 0);
  }
  unimplemented(msr);
}
