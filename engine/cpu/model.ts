// CPU models: what each processor Ringside can be reports through CPUID and which instruction groups it has.
//
// One description per model replaces "if model ===" ladders: handlers ask for a capability (`cpu.model.i486`,
// a CPUID feature bit through `hasFeature`, `cpu.p6`), never for a model name. Feature bits follow CPUID leaf 1
// EDX (SDM 2 CPUID, Table 3-11); a bit is set only when the engine implements the feature AND the real chip had
// it, and an instruction a model lacks raises #UD on it (SDM 2, each instruction's "IA-32 Architecture
// Compatibility"): CMPXCHG8B needs CX8, RDTSC needs TSC, RDMSR/WRMSR need MSR, CMOVcc needs CMOV, SYSENTER/SYSEXIT
// need SEP, MOV to/from CR4 needs a model with CR4 (the Pentium and later).
//
// The vendor string is Ringside's own ("RingsideCPU!"), so no software applies a particular chip's errata or
// reads its undocumented MSRs (Linux uses its generic init for an unknown vendor; memtest86+ shows it as is).
// Leaves above the maximum return the highest basic leaf's data (SDM 2 CPUID: "If a value entered for CPUID.EAX
// is higher than the maximum input value … the data for the highest basic information leaf is returned").

import { AC, ID } from './flags';

/** CPUID leaf 1 EDX bits (SDM 2 CPUID, Table 3-11). */
export const CPUID_FPU = 1 << 0;
export const CPUID_VME = 1 << 1;
export const CPUID_DE = 1 << 2;
export const CPUID_PSE = 1 << 3;
export const CPUID_TSC = 1 << 4;
export const CPUID_MSR = 1 << 5;
export const CPUID_PAE = 1 << 6;
export const CPUID_MCE = 1 << 7;
export const CPUID_CX8 = 1 << 8;
export const CPUID_APIC = 1 << 9;
export const CPUID_SEP = 1 << 11;
export const CPUID_MTRR = 1 << 12;
export const CPUID_PGE = 1 << 13;
export const CPUID_MCA = 1 << 14;
export const CPUID_CMOV = 1 << 15;
export const CPUID_PAT = 1 << 16;

export const CPUID_VENDOR = 'RingsideCPU!';

// CR4 bits (SDM 3A §2.5) a model may implement.
export const CR4_TSD = 0x4;
export const CR4_DE = 0x8;
export const CR4_PSE = 0x10;
export const CR4_PGE = 0x80;
export const CR4_PCE = 0x100;

/** The models `--cpu` and the launch attribute `cpu` accept (interfaces.md), the default last. */
export const CPU_MODEL_NAMES = ['486sx', '486dx', 'pentium', 'pentium-pro'] as const;
export type PublicCpuModelName = (typeof CPU_MODEL_NAMES)[number];
/** `386` is internal: the conformance runner executes the 80286/80386 captures on it. */
export type CpuModelName = PublicCpuModelName | '386';
export const DEFAULT_CPU_MODEL: PublicCpuModelName = 'pentium-pro';

export interface CpuModel {
  readonly name: CpuModelName;
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
  /**
   * The 486 additions: BSWAP, XADD, CMPXCHG, INVLPG, INVD, WBINVD, EFLAGS.AC, and CR0.NE/WP/AM/NW/CD (SDM 3A
   * ch. 22, "IA-32 Architecture Compatibility", the Intel486 notes).
   */
  readonly i486: boolean;
  /** Highest basic CPUID leaf; -1 when the model has no CPUID (then EFLAGS.ID cannot be toggled either). */
  readonly cpuidMaxLeaf: number;
  /** CPUID.1:EDX as the engine implements it for this model (APIC is added at run time, see Cpu.apicPresent). */
  readonly features: number;
  /** CR4 bits the model implements; 0 = no CR4 (MOV to or from it raises #UD). */
  readonly cr4Bits: number;
  /**
   * The P6 integer additions beyond what a feature bit announces: RDPMC (with CR4.PCE) and the hint-NOP space
   * 0F 18–0F 1F (multi-byte NOP 0F 1F /0; ENDBR32 is F3 0F 1E FB). The x87 FCMOVcc/FCOMI group follows it too.
   */
  readonly p6: boolean;
  /** An on-chip x87 FPU (every model but the 486SX and the internal 386). */
  readonly fpu: boolean;
  /** The chip can have a local APIC (P54C and P6): CPUID.APIC is reported when the platform enables one. */
  readonly apic: boolean;
}

const P5_FEATURES = CPUID_FPU | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8;

const MODELS: Readonly<Record<CpuModelName, CpuModel>> = {
  '386': { name: '386', family: 3, model: 0, stepping: 3, i486: false, cpuidMaxLeaf: -1, features: 0, cr4Bits: 0, p6: false, fpu: false, apic: false },
  // SL-enhanced Intel486 chips, the ones with CPUID: leaf 1 reports the FPU bit and nothing else (VME, on some
  // of them, is not implemented here).
  '486sx': { name: '486sx', family: 4, model: 2, stepping: 7, i486: true, cpuidMaxLeaf: 1, features: 0, cr4Bits: 0, p6: false, fpu: false, apic: false },
  '486dx': { name: '486dx', family: 4, model: 1, stepping: 5, i486: true, cpuidMaxLeaf: 1, features: CPUID_FPU, cr4Bits: 0, p6: false, fpu: true, apic: false },
  // P54C: TSC, MSRs, CMPXCHG8B, 4 MiB pages, I/O breakpoints; no PGE (that is P6). VME and MCE are not implemented.
  pentium: { name: 'pentium', family: 5, model: 2, stepping: 0xc, i486: true, cpuidMaxLeaf: 1, features: P5_FEATURES, cr4Bits: CR4_TSD | CR4_DE | CR4_PSE, p6: false, fpu: true, apic: true },
  // P6: adds PGE, CMOVcc, SYSENTER/SYSEXIT (SEP), RDPMC; leaf 2 exists. PAE, MTRR, MCA are not implemented.
  'pentium-pro': {
    name: 'pentium-pro', family: 6, model: 1, stepping: 9, i486: true, cpuidMaxLeaf: 2,
    features: P5_FEATURES | CPUID_PGE | CPUID_CMOV | CPUID_SEP,
    cr4Bits: CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE, p6: true, fpu: true, apic: true,
  },
};

export function cpuModel(name: CpuModelName): CpuModel {
  const m = MODELS[name];
  if (m === undefined) throw new RangeError(`unknown CPU model "${name}" (expected ${CPU_MODEL_NAMES.join(', ')})`);
  return m;
}

export function isPublicCpuModel(name: string): name is PublicCpuModelName {
  return (CPU_MODEL_NAMES as readonly string[]).includes(name);
}

/** EAX of CPUID leaf 1 and EDX after reset: type 0, family, model, stepping (SDM 2 CPUID Figure 3-6). */
export function signature(m: CpuModel): number {
  return (m.family << 8) | (m.model << 4) | m.stepping;
}

/** CPUID.1:EDX as this CPU reports it now: the model's features, plus APIC while the platform has a local APIC. */
export function featureBits(model: CpuModel, apicPresent: boolean): number {
  return model.features | (apicPresent && model.apic ? CPUID_APIC : 0);
}

/**
 * The EFLAGS bits a model has of AC and ID (SDM 1 §3.4.3): AC from the 486 on; ID (the CPUID detection flag)
 * only on models with CPUID. POPF and IRET can never set a bit the model lacks.
 */
export function modelEflags(model: CpuModel): number {
  return ~((model.i486 ? 0 : AC) | (model.cpuidMaxLeaf >= 0 ? 0 : ID));
}
