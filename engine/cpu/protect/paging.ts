// Linear → physical translation with two-level paging (SDM 3A ch. 4, 32-bit paging), behind the software TLB of
// tlb.ts, and the data-breakpoint check of every data access while one is armed (debug-registers.ts).
//
// Walk, in the SDM's order: PDE present; for a 4 MiB page (PS = 1 with CR4.PSE) its reserved bits 21:13 clear
// (this model has no PSE-36); otherwise PTE present; then the combined U/S and R/W rights at the access's
// privilege (user access = CPL 3 and not a system access; supervisor writes to read-only pages fault only with
// CR0.WP, SDM 3A §4.6); then the accessed bits (and the dirty bit of the last level for a write) are set in
// memory. A failed check raises #PF with CR2 = the linear address and an error code of the named bits below,
// and leaves the tables untouched. Page tables outside installed memory read as the open bus (0xFF bytes) and
// give whatever translation those bits make; nothing here throws anything but the #PF. Entries are read as system
// accesses, so a monitor's shadow tables in its hidden region are walked while its tables are installed.

import type { Cpu } from '../cpu';
import { fault, rule, VEC_PF, type FaultRule } from '../faults';
import { matchDataBreakpoints } from '../debug-registers';
import {
  TLB_GLOBAL,
  TLB_LARGE,
  TLB_SUPERVISOR_READ,
  TLB_SUPERVISOR_WRITE,
  TLB_USER_READ,
  TLB_USER_WRITE,
} from './tlb';

/**
 * Access kinds (bit set): write, instruction fetch, and system (supervisor whatever the CPL: descriptor tables,
 * TSS, IDT), plus the access width for data breakpoints (bits 3–4 = size − 1; absent means one byte).
 */
export type AccessKind = number;
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;
export const ACCESS_SYSTEM = 4;
export const ACCESS_SIZE_SHIFT = 3;
export const ACCESS_SIZE2 = 1 << ACCESS_SIZE_SHIFT;
export const ACCESS_SIZE4 = 3 << ACCESS_SIZE_SHIFT;

// #PF error code bits (SDM 3A §4.7).
export const PFEC_P = 1; // the fault was a protection violation (page present), or a reserved bit was set
export const PFEC_WR = 2; // the access was a write
export const PFEC_US = 4; // the access was a user-mode access (CPL 3, not a system access)
export const PFEC_RSVD = 8; // a reserved bit was set in a paging-structure entry

// Paging-structure entry bits (SDM 3A Tables 4-4 to 4-6).
export const PTE_P = 0x1, PTE_RW = 0x2, PTE_US = 0x4, PTE_A = 0x20, PTE_D = 0x40, PDE_PS = 0x80, PTE_G = 0x100;
/** Bits 21:13 of a PDE mapping a 4 MiB page: reserved without PSE-36 (SDM 3A Table 4-4). */
export const PDE_4M_RESERVED = 0x003fe000;
const CR0_WP = 0x10000;
const CR4_PSE = 0x10;
const CR4_PGE = 0x80;

const R_PF_PDE_NOT_PRESENT = rule('paging.pde-not-present', 'the page-directory entry is not present (P = 0)', 'SDM 3A §4.7');
const R_PF_PTE_NOT_PRESENT = rule('paging.pte-not-present', 'the page-table entry is not present (P = 0)', 'SDM 3A §4.7');
const R_PF_RESERVED = rule('paging.reserved-bit', 'a reserved bit (21:13) is set in a page-directory entry that maps a 4-MByte page', 'SDM 3A §4.3, Table 4-4');
const R_PF_USER = rule('paging.user', 'a user-mode access (CPL 3) to a supervisor-mode page (U/S = 0 at either level)', 'SDM 3A §4.6');
const R_PF_WRITE = rule('paging.read-only', 'a write to a read-only page (R/W = 0 at either level) in user mode, or in supervisor mode with CR0.WP = 1', 'SDM 3A §4.6');

/**
 * Translates through the TLB, walking the tables on a miss. Called by Cpu.translate whenever paging is on or a
 * data breakpoint is armed; returns the physical address (signed 32-bit; the caller applies A20 and `>>> 0`).
 */
export function translateLinear(cpu: Cpu, linear: number, access: AccessKind): number {
  if (cpu.dataBreakpoints && (access & (ACCESS_FETCH | ACCESS_SYSTEM)) === 0) matchDataBreakpoints(cpu, linear, access);
  if (!cpu.pagingOn) return linear;
  // Entry bit needed: supervisor read 1, supervisor write 2, user read 4, user write 8.
  const need = (1 + (access & ACCESS_WRITE)) << ((access & ACCESS_SYSTEM) === 0 && cpu.cpl === 3 ? 2 : 0);
  const entry = cpu.tlb.entries[linear >>> 12];
  if ((entry & need) !== 0) return (entry & 0xfffff000) | (linear & 0xfff);
  return walk(cpu, linear >>> 0, access);
}

/** The two-level walk; fills the TLB with the result. */
function walk(cpu: Cpu, linear: number, access: AccessKind): number {
  const write = (access & ACCESS_WRITE) !== 0;
  const user = (access & ACCESS_SYSTEM) === 0 && cpu.cpl === 3;
  const err = (write ? PFEC_WR : 0) | (user ? PFEC_US : 0);
  const mem = cpu.mem;
  const pdeAddr = ((cpu.cr3 & 0xfffff000) + ((linear >>> 22) << 2)) >>> 0;
  const pde = mem.readSystem32(pdeAddr);
  if ((pde & PTE_P) === 0) pageFault(cpu, linear, err, R_PF_PDE_NOT_PRESENT);

  if ((pde & PDE_PS) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
    if ((pde & PDE_4M_RESERVED) !== 0) pageFault(cpu, linear, err | PFEC_P | PFEC_RSVD, R_PF_RESERVED);
    checkRights(cpu, linear, pde, err, write, user);
    // Setting A (and D on a write) is a locked read-modify-write of the entry (SDM 3A §4.8).
    const updated = pde | PTE_A | (write ? PTE_D : 0);
    if (updated !== pde) mem.write32(pdeAddr, updated);
    const frame = (pde & 0xffc00000) | (linear & 0x3ff000);
    cpu.tlb.fill(linear >>> 12, frame | tlbRights(cpu, pde, updated) | TLB_LARGE);
    return frame | (linear & 0xfff);
  }

  const pteAddr = ((pde & 0xfffff000) + (((linear >>> 12) & 0x3ff) << 2)) >>> 0;
  const pte = mem.readSystem32(pteAddr);
  if ((pte & PTE_P) === 0) pageFault(cpu, linear, err, R_PF_PTE_NOT_PRESENT);
  // Rights are the more restrictive of the two levels (SDM 3A §4.6.1).
  const rights = pde & pte;
  checkRights(cpu, linear, rights, err, write, user);
  if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
  const updated = pte | PTE_A | (write ? PTE_D : 0);
  if (updated !== pte) mem.write32(pteAddr, updated);
  const frame = pte & 0xfffff000;
  cpu.tlb.fill(linear >>> 12, frame | tlbRights(cpu, rights, updated));
  return frame | (linear & 0xfff);
}

/**
 * The TLB rights of a translation: which access kinds may skip the walk. Writes only when the last level is
 * dirty already; supervisor writes to read-only pages only while CR0.WP = 0; global only with CR4.PGE.
 */
function tlbRights(cpu: Cpu, rights: number, last: number): number {
  let bits = TLB_SUPERVISOR_READ;
  const dirty = (last & PTE_D) !== 0;
  const writable = (rights & PTE_RW) !== 0;
  if (dirty && (writable || (cpu.cr0 & CR0_WP) === 0)) bits |= TLB_SUPERVISOR_WRITE;
  if ((rights & PTE_US) !== 0) {
    bits |= TLB_USER_READ;
    if (dirty && writable) bits |= TLB_USER_WRITE;
  }
  if ((last & PTE_G) !== 0 && (cpu.cr4 & CR4_PGE) !== 0) bits |= TLB_GLOBAL;
  return bits;
}

function checkRights(cpu: Cpu, linear: number, rights: number, err: number, write: boolean, user: boolean): void {
  if (user && (rights & PTE_US) === 0) pageFault(cpu, linear, err | PFEC_P, R_PF_USER);
  if (write && (rights & PTE_RW) === 0 && (user || (cpu.cr0 & CR0_WP) !== 0)) {
    pageFault(cpu, linear, err | PFEC_P, R_PF_WRITE);
  }
}

/** Raises #PF: CR2 ← the linear address (SDM 3A §4.7). */
function pageFault(cpu: Cpu, linear: number, err: number, r: FaultRule): never {
  cpu.cr2 = linear | 0;
  return fault(VEC_PF, err, r, `linear address 0x${(linear >>> 0).toString(16)}, error code 0x${err.toString(16)}`);
}
