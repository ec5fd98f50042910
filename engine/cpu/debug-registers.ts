// The guest's debug registers (SDM 3A ch. 17): DR0–DR3 linear breakpoint addresses, DR6 status, DR7 control, and
// single-step through EFLAGS.TF. These belong to the guest; the debugger's own breakpoints (cpu.breakpoints)
// never show here.
//
// Instruction breakpoints (R/W = 00) are faults: checked at the instruction boundary, before the instruction,
// unless EFLAGS.RF = 1; RF is cleared at the start of every instruction after that check (SDM 3A §17.3.1.1), so
// RF = 1 suppresses exactly one. Data breakpoints (R/W = 01 writes, 11 reads or writes; LEN 1, 2, 4 bytes, the
// address aligned down by LEN) are traps: an access that touches any byte of the range records its B bit, and
// the #DB is taken after the instruction completes (a fault in the instruction discards it). Single-step: an
// instruction that began with TF = 1 is followed by a #DB trap with DR6.BS (so not the one that sets TF, and
// still the POPF that clears it). Traps pending at a boundary are taken before NMI and INTR, instruction
// breakpoints after them (SDM 3A §6.9, Table 6-2). General detect: with DR7.GD = 1 any MOV to or from a debug
// register raises a #DB fault with DR6.BD, and GD is cleared so the handler may use them (SDM 3A §17.2.4).
//
// On a #DB, DR6.B0–B3 are replaced by the breakpoints that hit; BD, BS and BT are only ever set by the CPU
// (the handler clears them, SDM 3A §17.2.3). Breakpoints enabled by either the L or the G bit count (there is
// no task-switch clearing of L bits here). I/O breakpoints (R/W = 10) need CR4.DE = 1 (debugging extensions,
// SDM 3A §17.2.4, §17.2.5; without DE, R/W = 10 is undefined and matches nothing here): a port access by IN, OUT,
// INS or OUTS that touches any port of the range DRn[15:0] aligned down by LEN records the B bit, a trap after the
// instruction (after the iteration, for REP INS/OUTS). Not modelled: data breakpoints on the CPU's own system
// accesses (descriptor tables, IDT, TSS) — only the instruction's data accesses are compared. LEN = 10 (undefined
// on 32-bit processors) is taken as 8 bytes, as later processors define it.

import type { Cpu } from './cpu';
import { CS } from './cpu';
import { CpuFault, fault, rule, VEC_DB, type FaultRule } from './faults';
import { RF, TF } from './flags';
import { deliverFault } from './interrupt';
import { CR4_DE } from './model';

export const DR6_B0 = 0x1;
/** B0–B3: breakpoint n's condition was met. */
export const DR6_B_ALL = 0xf;
/** A MOV DRn was attempted while DR7.GD = 1. */
export const DR6_BD = 0x2000;
/** Single-step trap (TF). */
export const DR6_BS = 0x4000;
/** Task switch into a TSS with its T bit set. */
export const DR6_BT = 0x8000;
/** DR7.GD: general detect. */
export const DR7_GD = 0x2000;

const RW_EXECUTE = 0, RW_WRITE = 1, RW_IO = 2, RW_READ_WRITE = 3;

const R_DB_INSTRUCTION = rule('debug.instruction-breakpoint', 'the instruction is at the linear address of an enabled execute breakpoint (DR0–DR3, R/W = 00) and EFLAGS.RF = 0', 'SDM 3A §17.3.1.1');
const R_DB_TRAP = rule('debug.trap', 'a data breakpoint was hit or the instruction began with EFLAGS.TF = 1 (single-step)', 'SDM 3A §17.3.1.2, §17.3.1.4');
const R_DB_GENERAL_DETECT = rule('debug.general-detect', 'a MOV to or from a debug register while DR7.GD = 1', 'SDM 3A §17.3.1.3');
const R_DB_TASK_SWITCH = rule('debug.task-switch', 'a task switch into a TSS whose T flag is set', 'SDM 3A §17.3.1.5');

function enabled(dr7: number, n: number): boolean {
  return ((dr7 >>> (n << 1)) & 3) !== 0;
}

function rwField(dr7: number, n: number): number {
  return (dr7 >>> (16 + (n << 2))) & 3;
}

/** Bytes covered by breakpoint n, minus one (the alignment mask of its address). */
function lengthMask(dr7: number, n: number): number {
  switch ((dr7 >>> (18 + (n << 2))) & 3) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 7;
    default: return 3;
  }
}

/**
 * Re-derives what DR7 arms. Call after a write to DR0–DR7 (MOV DRn) and whenever the CPU state was replaced;
 * Cpu.modeChanged calls it. Data breakpoints route every data access through translateLinear (checkLinear).
 */
export function debugRegistersChanged(cpu: Cpu): void {
  const dr7 = cpu.dr[7];
  let data = false;
  for (let n = 0; n < 4; n++) {
    const rw = rwField(dr7, n);
    if (enabled(dr7, n) && (rw === RW_WRITE || rw === RW_READ_WRITE)) data = true;
  }
  cpu.dataBreakpoints = data;
  cpu.checkLinear = cpu.pagingOn || data;
  cpu.updateAttention();
}

/**
 * Compares a data access with the armed data breakpoints; a hit records its B bit for the trap after the
 * instruction. `access` carries the width (paging.ts ACCESS_SIZE*) and the write bit.
 */
export function matchDataBreakpoints(cpu: Cpu, linear: number, access: number): void {
  const dr7 = cpu.dr[7];
  const size = ((access >>> 3) & 3) + 1;
  const write = (access & 1) !== 0;
  let hits = 0;
  for (let n = 0; n < 4; n++) {
    if (!enabled(dr7, n)) continue;
    const rw = rwField(dr7, n);
    if (rw === RW_EXECUTE || rw === RW_IO || (rw === RW_WRITE && !write)) continue;
    const mask = lengthMask(dr7, n);
    const start = cpu.dr[n] & ~mask;
    // The ranges [linear, linear + size) and [start, start + mask] overlap (addresses wrap at 4 GiB).
    if (((linear - start) >>> 0) <= mask || ((start - linear) >>> 0) < size) hits |= DR6_B0 << n;
  }
  if (hits !== 0) {
    cpu.pendingDebugTraps |= hits;
    cpu.attention = true;
  }
}

/** CR4.DE: debugging extensions (I/O breakpoints; DR4/DR5 no longer alias DR6/DR7). */
export { CR4_DE };

/**
 * Compares a port access (`size` bytes from `port`) with the armed I/O breakpoints; a hit records its B bit for
 * the trap after the instruction. Called by IN, OUT, INS and OUTS; costs one test unless CR4.DE is set.
 */
export function matchIoBreakpoints(cpu: Cpu, port: number, size: number): void {
  if ((cpu.cr4 & CR4_DE) === 0) return;
  const dr7 = cpu.dr[7];
  let hits = 0;
  for (let n = 0; n < 4; n++) {
    if (!enabled(dr7, n) || rwField(dr7, n) !== RW_IO) continue;
    const mask = lengthMask(dr7, n);
    const start = cpu.dr[n] & 0xffff & ~mask;
    if (port <= start + mask && start < port + size) hits |= DR6_B0 << n;
  }
  if (hits !== 0) {
    cpu.pendingDebugTraps |= hits;
    cpu.attention = true;
  }
}

/** Enabled execute breakpoints at a linear address, as DR6 B bits. */
function instructionBreakpointsAt(cpu: Cpu, linear: number): number {
  const dr7 = cpu.dr[7];
  let hits = 0;
  for (let n = 0; n < 4; n++) {
    if (enabled(dr7, n) && rwField(dr7, n) === RW_EXECUTE && cpu.dr[n] >>> 0 === linear) hits |= DR6_B0 << n;
  }
  return hits;
}

/** Reports a #DB: DR6's B bits become `bits & B_ALL`, its BD/BS/BT bits are ORed in; then delivery. */
function raiseDebug(cpu: Cpu, bits: number, r: FaultRule): void {
  cpu.dr[6] = (cpu.dr[6] & ~DR6_B_ALL) | bits;
  const f = new CpuFault(VEC_DB, -1, r, `DR6 = 0x${(cpu.dr[6] >>> 0).toString(16)}`);
  // Under a monitor running the guest deprivileged, the #DB goes to the monitor, which reflects it into the
  // guest's IDT (the real CPU's IDT is the monitor's own).
  if (cpu.monitor !== null) cpu.monitor.fault(f, cpu.flags & RF);
  else deliverFault(cpu, f);
}

/** Takes the debug traps the previous instruction raised (called at the boundary, before NMI and INTR). */
export function deliverDebugTraps(cpu: Cpu): void {
  const bits = cpu.pendingDebugTraps;
  cpu.pendingDebugTraps = 0;
  raiseDebug(cpu, bits, (bits & DR6_BT) !== 0 ? R_DB_TASK_SWITCH : R_DB_TRAP);
}

/**
 * The guest-debug work before an instruction at CS:EIP: the instruction-breakpoint fault (unless RF = 1), RF
 * cleared, and single-step armed when TF = 1. Returns true when a #DB was delivered instead (EIP moved to its
 * handler; the caller checks the new instruction again).
 */
export function beforeInstruction(cpu: Cpu): boolean {
  if ((cpu.flags & RF) !== 0) {
    cpu.flags &= ~RF;
  } else if ((cpu.dr[7] & 0xff) !== 0) {
    const hits = instructionBreakpointsAt(cpu, (cpu.segBase[CS] + cpu.eip) >>> 0);
    if (hits !== 0) {
      cpu.instrStart = cpu.eip;
      cpu.pendingDebugTraps = 0;
      raiseDebug(cpu, hits, R_DB_INSTRUCTION);
      return true;
    }
  }
  if ((cpu.flags & TF) !== 0) cpu.pendingDebugTraps |= DR6_BS;
  return false;
}

/** General detect: call at the start of MOV to/from DRn (after its privilege check). Raises the #DB fault. */
export function checkGeneralDetect(cpu: Cpu): void {
  if ((cpu.dr[7] & DR7_GD) === 0) return;
  cpu.dr[6] = (cpu.dr[6] & ~DR6_B_ALL) | DR6_BD;
  // GD is cleared on entry to the handler, so the handler itself can use the debug registers (SDM 3A §17.2.4).
  cpu.dr[7] &= ~DR7_GD;
  fault(VEC_DB, -1, R_DB_GENERAL_DETECT);
}

/** A task switch loaded a TSS with its T flag set: #DB trap with DR6.BT before the new task's first instruction. */
export function raiseTaskSwitchTrap(cpu: Cpu): void {
  cpu.pendingDebugTraps |= DR6_BT;
  cpu.attention = true;
}

/** DR7's local enables L0–L3 (bits 0, 2, 4, 6), cleared by every task switch (SDM 3A §17.2.4). */
export const DR7_LOCAL_ENABLES = 0x55;

/** Call on a task switch: the local breakpoint enables belong to the old task. */
export function clearLocalBreakpoints(cpu: Cpu): void {
  cpu.dr[7] &= ~DR7_LOCAL_ENABLES;
  debugRegistersChanged(cpu);
}
