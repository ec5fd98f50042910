// SYSENTER and SYSEXIT (SDM 2 SYSENTER, SYSEXIT; SDM 3A §5.8.7): the fast system call of the P6 family, on models
// with CPUID.SEP (model.ts; #UD elsewhere).
//
// Neither reads a descriptor: CS and SS are loaded with fixed flat caches derived from IA32_SYSENTER_CS (MSR 174H)
//   SYSENTER  CS = SYSENTER_CS & FFFCH,      DPL 0, base 0, limit 4 GiB, code execute/read accessed, D = 1
//             SS = CS + 8,                   DPL 0, base 0, limit 4 GiB, data read/write accessed, B = 1
//             ESP = SYSENTER_ESP, EIP = SYSENTER_EIP; EFLAGS.VM, IF and RF cleared; CPL 0
//   SYSEXIT   CS = (SYSENTER_CS + 16) | 3,   DPL 3, the same flat code cache
//             SS = (SYSENTER_CS + 24) | 3,   DPL 3, the same flat data cache
//             ESP = ECX, EIP = EDX; CPL 3
// through the single cache writer (Cpu.loadSegmentCache), so `segment-load` reports both loads with cause
// `sysenter` / `sysexit`. It is the operating system's job to make its GDT agree; when it does not, the caches
// are inconsistent with the table and the debugger says so.

import type { Cpu } from '../cpu';
import { AR_DB, AR_DPL_SHIFT, AR_G, AR_P, AR_S, CR0_PE, CS, ECX, EDX, ESP, SS } from '../cpu';
import { fault, rule, VEC_GP, VEC_UD } from '../faults';
import { IF, RF, VM } from '../flags';
import { CPUID_SEP } from '../model';

const R_UD_NO_SEP = rule('sysenter.not-on-this-model', 'SYSENTER/SYSEXIT on a processor without them (CPUID.01H:EDX.SEP = 0)', 'SDM 2 SYSENTER — IA-32 Architecture Compatibility');
const R_GP_SYSENTER_REAL = rule('sysenter.real-mode', 'SYSENTER with CR0.PE = 0', 'SDM 2 SYSENTER — Operation');
const R_GP_SYSENTER_CS_NULL = rule('sysenter.cs-null', 'SYSENTER with IA32_SYSENTER_CS[15:2] = 0', 'SDM 2 SYSENTER — Operation');
const R_GP_SYSEXIT_CS_NULL = rule('sysexit.cs-null', 'SYSEXIT with IA32_SYSENTER_CS[15:2] = 0', 'SDM 2 SYSEXIT — Operation');
const R_GP_SYSEXIT_REAL = rule('sysexit.real-mode', 'SYSEXIT with CR0.PE = 0', 'SDM 2 SYSEXIT — Operation');
const R_GP_SYSEXIT_CPL = rule('sysexit.cpl-not-0', 'SYSEXIT with CPL ≠ 0 (virtual-8086 mode is CPL 3)', 'SDM 2 SYSEXIT — Operation');

const SELECTOR_INDEX_TI = 0xfffc;
const RPL3 = 3;
/** Scaled limit of the fixed caches: limit FFFFFH with G = 1. */
const FLAT_LIMIT = 0xffffffff;
/** Code, execute/read, accessed (type 11); data, read/write, accessed (type 3). */
const TYPE_CODE_ER_ACCESSED = 0xb;
const TYPE_DATA_RW_ACCESSED = 0x3;

function flatRights(type: number, dpl: number): number {
  return AR_P | AR_S | type | (dpl << AR_DPL_SHIFT) | AR_DB | AR_G;
}

function requireSep(cpu: Cpu): void {
  if ((cpu.model.features & CPUID_SEP) === 0) fault(VEC_UD, -1, R_UD_NO_SEP, cpu.model.name);
}

/** Loads CS and SS with the fixed caches of privilege `dpl` and makes CPL = dpl (both instructions end here). */
function loadFlatPair(cpu: Cpu, cs: number, ss: number, dpl: number, cause: 'sysenter' | 'sysexit'): void {
  if ((cpu.segBase[CS] | 0) !== 0) cpu.mappingsChanged();
  cpu.loadSegmentCache(CS, cs, 0, FLAT_LIMIT, flatRights(TYPE_CODE_ER_ACCESSED, dpl), true, cause);
  cpu.loadSegmentCache(SS, ss, 0, FLAT_LIMIT, flatRights(TYPE_DATA_RW_ACCESSED, dpl), true, cause);
  cpu.cpl = dpl;
  cpu.modeChanged();
}

export function sysenter(cpu: Cpu): void {
  requireSep(cpu);
  // IF CR0.PE = 0 OR IA32_SYSENTER_CS[15:2] = 0 THEN #GP(0)
  if ((cpu.cr0 & CR0_PE) === 0) fault(VEC_GP, 0, R_GP_SYSENTER_REAL);
  const msrCs = cpu.sysenterCs & 0xffff;
  if ((msrCs & SELECTOR_INDEX_TI) === 0) fault(VEC_GP, 0, R_GP_SYSENTER_CS_NULL);
  const before = cpu.mode;
  // RFLAGS.VM ← 0; RFLAGS.IF ← 0; RFLAGS.RF ← 0 (leaving V86 mode here is why the mode may change)
  cpu.setEflags(cpu.getEflags() & ~(VM | IF | RF));
  const cs = msrCs & SELECTOR_INDEX_TI;
  loadFlatPair(cpu, cs, (cs + 8) & 0xffff, 0, 'sysenter');
  cpu.regs[ESP] = cpu.sysenterEsp;
  cpu.eip = cpu.sysenterEip >>> 0;
  cpu.noteModeChange(before);
}

export function sysexit(cpu: Cpu): void {
  requireSep(cpu);
  // IF IA32_SYSENTER_CS[15:2] = 0 OR CR0.PE = 0 OR CPL ≠ 0 THEN #GP(0)
  const msrCs = cpu.sysenterCs & 0xffff;
  if ((msrCs & SELECTOR_INDEX_TI) === 0) fault(VEC_GP, 0, R_GP_SYSEXIT_CS_NULL);
  if ((cpu.cr0 & CR0_PE) === 0) fault(VEC_GP, 0, R_GP_SYSEXIT_REAL);
  if (cpu.cpl !== 0 || (cpu.flags & VM) !== 0) fault(VEC_GP, 0, R_GP_SYSEXIT_CPL, `CPL ${cpu.cpl}`);
  loadFlatPair(cpu, ((msrCs + 16) | RPL3) & 0xffff, ((msrCs + 24) | RPL3) & 0xffff, RPL3, 'sysexit');
  cpu.regs[ESP] = cpu.regs[ECX];
  cpu.eip = cpu.regs[EDX] >>> 0;
}
