// System instructions (SDM 2, each under its mnemonic; SDM 3A §2.5–2.7, §5.9): descriptor-table registers
// (LGDT LIDT SGDT SIDT LLDT SLDT LTR STR), selector queries (LAR LSL VERR VERW ARPL), control and debug registers
// (MOV CRn/DRn, LMSW SMSW CLTS), caches and TLB (INVD WBINVD INVLPG), identification and time (CPUID RDTSC RDMSR
// WRMSR), UD2, and the x87 escapes of a CPU without an FPU (D8–DF, WAIT).
//
// Privileged instructions check CPL = 0 first (#GP(0)); in real mode CPL is 0, in V86 mode it is 3. LLDT, SLDT,
// LTR, STR, LAR, LSL, VERR, VERW and ARPL are not recognised in real-address or V86 mode (#UD). What exists
// depends on the CPU model (model.ts): the 486 additions (INVLPG INVD WBINVD) need `model.i486`, CPUID a model
// with CPUID, RDTSC the TSC feature, RDMSR/WRMSR the MSR feature, CR4 a model with CR4; elsewhere they raise #UD.
// CPUID's leaves are in cpuid.ts, the MSRs in msr.ts.

import { fpuEscape, fwait } from '../fpu/escape';
import type { Cpu } from '../cpu';
import { CR0_AM, CR0_CD, CR0_EM, CR0_ET, CR0_MP, CR0_NE, CR0_NW, CR0_PE, CR0_PG, CR0_TS, CR0_WP } from '../cpu';
import { EAX, EBX, ECX, EDX, LDTR, TR } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, R_GP_PRIVILEGED, R_NM_NO_FPU, rule, VEC_GP, VEC_NM, VEC_UD } from '../faults';
import { VM, ZF } from '../flags';
import { loadLdtr, loadTr } from '../protect/system-segment-load';
import { tableRegistersChanged } from '../protect/consistency-events';
import { flushTlb, invalidatePage, pagingControlChanged } from '../protect/tlb';
import { checkGeneralDetect, CR4_DE, debugRegistersChanged } from '../debug-registers';
import { queryAccessRights, querySegmentLimit, verifySegment } from '../protect/segment-query';
import { CPUID_MSR, CPUID_TSC, CR4_TSD } from '../model';
import { cpuidLeaf } from '../cpuid';
import { readMsr, readTsc, writeMsr } from '../msr';

const R_UD_REAL_V86 = rule('system.not-in-real-or-v86', 'the instruction is not recognized in real-address or virtual-8086 mode', 'SDM 2 LLDT/SLDT/LTR/STR/LAR/LSL/VERR/VERW/ARPL — Exceptions');
const R_UD_MODEL = rule('system.not-on-this-model', 'the instruction does not exist on this processor model', 'SDM 2 — IA-32 Architecture Compatibility');
const R_UD_UD2 = rule('ud2', 'UD2 raises an invalid-opcode exception', 'SDM 2 UD');
const R_UD_CR = rule('mov-cr.reserved-register', 'an attempt is made to access CR1, CR5, CR6 or CR7 (or CR4 on a processor before the Pentium)', 'SDM 2 MOV (control registers)');
const R_GP_PG_NO_PE = rule('mov-cr.pg-without-pe', 'an attempt is made to set the PG flag when the PE flag is clear', 'SDM 2 MOV (control registers)');
const R_GP_NW_NO_CD = rule('mov-cr.nw-without-cd', 'an attempt is made to set the NW flag when the CD flag is clear', 'SDM 2 MOV (control registers)');
const R_GP_CR4_RESERVED = rule('mov-cr.cr4-reserved', 'an attempt is made to write a 1 to a reserved (unimplemented) bit of CR4', 'SDM 2 MOV (control registers)');
const R_UD_DR45 = rule('mov-dr.dr4-dr5-with-de', 'a reference to DR4 or DR5 while CR4.DE = 1', 'SDM 3A §17.2.2; SDM 2 MOV (debug registers)');
const R_GP_TSD = rule('rdtsc.tsd', 'CR4.TSD = 1 and CPL > 0', 'SDM 2 RDTSC');

export { CR4_TSD, CR4_PSE, CR4_PGE } from '../model';
export { MSR_TSC, readTsc } from '../msr';

const TWO32 = 4294967296;

function requireCpl0(cpu: Cpu): void {
  if (cpu.cpl !== 0) fault(VEC_GP, 0, R_GP_PRIVILEGED, `CPL ${cpu.cpl}`);
}

function requireProtectedMode(cpu: Cpu): void {
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) fault(VEC_UD, -1, R_UD_REAL_V86);
}

function require486(cpu: Cpu): void {
  if (!cpu.model.i486) fault(VEC_UD, -1, R_UD_MODEL, cpu.model.name);
}

/** Instructions CPUID announces (RDTSC: TSC; RDMSR/WRMSR: MSR) raise #UD on models without the feature. */
function requireFeature(cpu: Cpu, feature: number): void {
  if ((cpu.model.features & feature) === 0) fault(VEC_UD, -1, R_UD_MODEL, cpu.model.name);
}

/** MOV to or from CR4: only models from the Pentium on have CR4 (SDM 2 MOV — #UD for CR4 before it). */
function requireCr4(cpu: Cpu): void {
  if (cpu.model.cr4Bits === 0) fault(VEC_UD, -1, R_UD_CR, 'CR4');
}

/**
 * Stores a selector-sized value (SLDT, STR): 16 bits to memory; to a register, zero-extended by the operand size.
 * The SDM leaves the upper half of a 32-bit register undefined on the 386 and 486; we clear it, as later
 * processors do.
 */
function storeWord(cpu: Cpu, i: Instr, v: number): void {
  if (i.rm >= 0) cpu.setReg(i.os32 ? 4 : 2, i.rm, v);
  else cpu.writeMem(i.seg, cpu.ea(i), 2, v & 0xffff);
}

function setZF(cpu: Cpu, on: boolean): void {
  cpu.setFlagBits(ZF, on ? ZF : 0);
}

// ---- descriptor-table registers ----

function sldt(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  storeWord(cpu, i, cpu.segSel[LDTR]);
}

function str(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  storeWord(cpu, i, cpu.segSel[TR]);
}

function lldt(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  requireCpl0(cpu);
  loadLdtr(cpu, cpu.readRm(i, 2));
  tableRegistersChanged(cpu, 'lldt');
}

function ltr(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  requireCpl0(cpu);
  loadTr(cpu, cpu.readRm(i, 2));
}

/**
 * SGDT/SIDT: limit (16 bits), then base. A 16-bit operand size stores 24 bits of base and a zero top byte (the 286
 * stored 0xFF there; SDM 2 SGDT, IA-32 Architecture Compatibility); a 32-bit operand size stores all 32 bits.
 */
function storeTableRegister(cpu: Cpu, i: Instr, base: number, limit: number): void {
  const off = cpu.ea(i);
  const baseOff = i.as32 ? (off + 2) >>> 0 : (off + 2) & 0xffff;
  cpu.checkWrite(i.seg, off, 2);
  cpu.checkWrite(i.seg, baseOff, 4);
  cpu.writeMem(i.seg, off, 2, limit & 0xffff);
  cpu.writeMem(i.seg, baseOff, 4, i.os32 ? base : base & 0x00ffffff);
}

function sgdt(cpu: Cpu, i: Instr): void {
  storeTableRegister(cpu, i, cpu.gdtrBase, cpu.gdtrLimit);
}

function sidt(cpu: Cpu, i: Instr): void {
  storeTableRegister(cpu, i, cpu.idtrBase, cpu.idtrLimit);
}

/** LGDT/LIDT: limit, then base (24 bits with a 16-bit operand size). */
function readTableRegister(cpu: Cpu, i: Instr): { base: number; limit: number } {
  requireCpl0(cpu);
  const off = cpu.ea(i);
  const limit = cpu.readMem(i.seg, off, 2);
  const base = cpu.readMem(i.seg, i.as32 ? (off + 2) >>> 0 : (off + 2) & 0xffff, 4);
  return { base: i.os32 ? base | 0 : base & 0x00ffffff, limit };
}

function lgdt(cpu: Cpu, i: Instr): void {
  const t = readTableRegister(cpu, i);
  cpu.gdtrBase = t.base;
  cpu.gdtrLimit = t.limit;
  tableRegistersChanged(cpu, 'lgdt');
}

function lidt(cpu: Cpu, i: Instr): void {
  const t = readTableRegister(cpu, i);
  cpu.idtrBase = t.base;
  cpu.idtrLimit = t.limit;
  tableRegistersChanged(cpu, 'lidt');
}

// ---- selector queries ----

function lar(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  const rights = queryAccessRights(cpu, cpu.readRm(i, 2));
  if (rights >= 0) cpu.setReg(i.size, i.reg, i.size === 4 ? rights : rights & 0xff00);
  setZF(cpu, rights >= 0);
}

function lsl(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  const limit = querySegmentLimit(cpu, cpu.readRm(i, 2));
  if (limit >= 0) cpu.setReg(i.size, i.reg, i.size === 4 ? limit : limit & 0xffff);
  setZF(cpu, limit >= 0);
}

function verr(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  setZF(cpu, verifySegment(cpu, cpu.readRm(i, 2), false));
}

function verw(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  setZF(cpu, verifySegment(cpu, cpu.readRm(i, 2), true));
}

/** ARPL r/m16, r16: raise the destination selector's RPL to the source's (ZF = 1 when it changed). */
function arpl(cpu: Cpu, i: Instr): void {
  requireProtectedMode(cpu);
  const src = cpu.getReg(2, i.reg);
  if (i.rm >= 0) {
    const dest = cpu.getReg(2, i.rm);
    const adjust = (dest & 3) < (src & 3);
    if (adjust) cpu.setReg(2, i.rm, (dest & ~3) | (src & 3));
    setZF(cpu, adjust);
    return;
  }
  const off = cpu.ea(i);
  const dest = cpu.readMem(i.seg, off, 2);
  const adjust = (dest & 3) < (src & 3);
  if (adjust) cpu.writeMem(i.seg, off, 2, (dest & ~3) | (src & 3));
  setZF(cpu, adjust);
}

// ---- control and debug registers ----

/** SMSW: CR0's low 16 bits to memory; to a register with a 32-bit operand size all of CR0, as 386+ chips store. */
function smsw(cpu: Cpu, i: Instr): void {
  if (i.rm >= 0) cpu.setReg(i.os32 ? 4 : 2, i.rm, i.os32 ? cpu.cr0 : cpu.cr0 & 0xffff);
  else cpu.writeMem(i.seg, cpu.ea(i), 2, cpu.cr0 & 0xffff);
}

/** LMSW: loads PE, MP, EM and TS from the source; it can set PE but never clear it (SDM 2 LMSW). */
function lmsw(cpu: Cpu, i: Instr): void {
  requireCpl0(cpu);
  const src = cpu.readRm(i, 2);
  const low = CR0_PE | CR0_MP | CR0_EM | CR0_TS;
  writeCr0(cpu, ((cpu.cr0 & ~low) | (src & low) | (cpu.cr0 & CR0_PE)) >>> 0);
}

function clts(cpu: Cpu): void {
  requireCpl0(cpu);
  cpu.cr0 &= ~CR0_TS;
}

/** CR0 bits the model implements; ET reads 1 from the 486 on (SDM 3A §2.5: hardwired). */
function cr0Implemented(cpu: Cpu): number {
  const base = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_PG;
  return cpu.model.i486 ? base | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD : base;
}

/** Writes CR0 after the SDM's combination checks; a change of PE or PG updates the mode and reports it. */
export function writeCr0(cpu: Cpu, value: number): void {
  value >>>= 0;
  if ((value & CR0_PG) !== 0 && (value & CR0_PE) === 0) fault(VEC_GP, 0, R_GP_PG_NO_PE);
  if (cpu.model.i486 && (value & CR0_NW) !== 0 && (value & CR0_CD) === 0) fault(VEC_GP, 0, R_GP_NW_NO_CD);
  value &= cr0Implemented(cpu);
  if (cpu.model.i486) value |= CR0_ET;
  const before = cpu.mode;
  const changed = (cpu.cr0 ^ value) & (CR0_PE | CR0_PG);
  cpu.cr0 = value | 0;
  if (changed !== 0) {
    cpu.modeChanged();
    cpu.noteModeChange(before);
  } else {
    // WP (and PG through modeChanged) decide cached translations' rights: a change flushes the TLB.
    pagingControlChanged(cpu);
  }
}

function movRC(cpu: Cpu, i: Instr): void {
  requireCpl0(cpu);
  let v: number;
  switch (i.reg) {
    case 0: v = cpu.cr0; break;
    case 2: v = cpu.cr2; break;
    case 3: v = cpu.cr3; break;
    case 4:
      requireCr4(cpu);
      v = cpu.cr4;
      break;
    default:
      return fault(VEC_UD, -1, R_UD_CR, `CR${i.reg}`);
  }
  cpu.setReg(4, i.rm, v);
}

function movCR(cpu: Cpu, i: Instr): void {
  requireCpl0(cpu);
  const v = cpu.getReg(4, i.rm);
  switch (i.reg) {
    case 0:
      writeCr0(cpu, v);
      break;
    case 2:
      cpu.cr2 = v | 0;
      break;
    case 3:
      // Page-directory base and the PWT/PCD bits; the write flushes non-global translations (SDM 3A §4.10.4.1).
      cpu.cr3 = v & 0xfffff018;
      flushTlb(cpu);
      break;
    case 4:
      requireCr4(cpu);
      if ((v & ~cpu.model.cr4Bits) !== 0) fault(VEC_GP, 0, R_GP_CR4_RESERVED, `CR4 value 0x${(v >>> 0).toString(16)}`);
      cpu.cr4 = v;
      // A change of PSE or PGE flushes every translation; DE arms or disarms the I/O breakpoints.
      pagingControlChanged(cpu);
      debugRegistersChanged(cpu);
      break;
    default:
      fault(VEC_UD, -1, R_UD_CR, `CR${i.reg}`);
  }
}

/**
 * DR4 and DR5 are aliases of DR6 and DR7 while CR4.DE = 0; with DE = 1 a reference to them raises #UD
 * (SDM 3A §17.2.2).
 */
function debugRegisterIndex(cpu: Cpu, n: number): number {
  if ((n === 4 || n === 5) && (cpu.cr4 & CR4_DE) !== 0) fault(VEC_UD, -1, R_UD_DR45, `DR${n}`);
  return n === 4 ? 6 : n === 5 ? 7 : n;
}

// The checks in the SDM's order (SDM 2 MOV, debug registers): #GP(0) for CPL > 0, #UD for DR4/DR5 with CR4.DE,
// then the general-detect #DB.
function movRD(cpu: Cpu, i: Instr): void {
  requireCpl0(cpu);
  const n = debugRegisterIndex(cpu, i.reg);
  checkGeneralDetect(cpu);
  cpu.setReg(4, i.rm, cpu.dr[n]);
}

function movDR(cpu: Cpu, i: Instr): void {
  requireCpl0(cpu);
  const n = debugRegisterIndex(cpu, i.reg);
  checkGeneralDetect(cpu);
  const v = cpu.getReg(4, i.rm);
  // DR6 and DR7 have bits that always read 1 (DR6 bits 4–11 and 16–31; DR7 bit 10) (SDM 3A §17.2.3–17.2.4).
  if (n === 6) cpu.dr[6] = (v & 0xe00f) | 0xffff0ff0;
  else if (n === 7) cpu.dr[7] = (v & ~0xd800) | 0x400;
  else cpu.dr[n] = v;
  debugRegistersChanged(cpu);
}

// ---- caches, TLB ----

/** INVLPG m: drops the TLB entry of the page holding the operand's linear address (no segment checks apply). */
function invlpg(cpu: Cpu, i: Instr): void {
  require486(cpu);
  requireCpl0(cpu);
  invalidatePage(cpu, (cpu.segBase[i.seg] + cpu.ea(i)) >>> 0);
}

function invd(cpu: Cpu): void {
  require486(cpu);
  requireCpl0(cpu);
}

function wbinvd(cpu: Cpu): void {
  require486(cpu);
  requireCpl0(cpu);
}

function ud(): void {
  fault(VEC_UD, -1, R_UD_UD2);
}

// ---- identification, time-stamp counter, MSRs ----

function cpuid(cpu: Cpu): void {
  if (cpu.model.cpuidMaxLeaf < 0) fault(VEC_UD, -1, R_UD_MODEL, cpu.model.name);
  const r = cpuidLeaf(cpu.model, cpu.apicPresent, cpu.regs[EAX]);
  cpu.regs[EAX] = r.eax;
  cpu.regs[EBX] = r.ebx;
  cpu.regs[ECX] = r.ecx;
  cpu.regs[EDX] = r.edx;
}

function setEdxEax(cpu: Cpu, v: number): void {
  const lo = ((v % TWO32) + TWO32) % TWO32;
  const hi = Math.floor((v - lo) / TWO32) % TWO32;
  cpu.regs[EAX] = lo | 0;
  cpu.regs[EDX] = hi | 0;
}

function rdtsc(cpu: Cpu): void {
  requireFeature(cpu, CPUID_TSC);
  if ((cpu.cr4 & CR4_TSD) !== 0 && cpu.cpl !== 0) fault(VEC_GP, 0, R_GP_TSD, `CPL ${cpu.cpl}`);
  setEdxEax(cpu, readTsc(cpu));
}

function rdmsr(cpu: Cpu): void {
  requireFeature(cpu, CPUID_MSR);
  requireCpl0(cpu);
  setEdxEax(cpu, readMsr(cpu, cpu.regs[ECX]));
}

function wrmsr(cpu: Cpu): void {
  requireFeature(cpu, CPUID_MSR);
  requireCpl0(cpu);
  writeMsr(cpu, cpu.regs[ECX], cpu.regs[EDX], cpu.regs[EAX]);
}

export const handlers: Record<string, Handler> = {
  sldt,
  str,
  lldt,
  ltr,
  verr,
  verw,
  sgdt,
  sidt,
  lgdt,
  lidt,
  smsw,
  lmsw,
  invlpg,
  lar,
  lsl,
  clts,
  invd,
  wbinvd,
  ud,
  movRC,
  movRD,
  movCR,
  movDR,
  wrmsr,
  rdtsc,
  rdmsr,
  cpuid,
  arpl,
  fpuEscape,
  fwait,
};
