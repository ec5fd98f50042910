// Linear → physical translation with two-level paging (SDM 3A ch. 4, 32-bit paging).
//
// Check order per access: PDE present, then (4 MiB page with CR4.PSE) or PTE present, then the combined U/S and R/W
// rights at the access's privilege (supervisor writes to read-only pages fault only with CR0.WP, SDM 3A §4.6), then
// the accessed and dirty bits are set in memory. A failed check raises #PF with CR2 = the linear address and an
// error code built from the named bits below.

import type { Cpu } from '../cpu';
import { fault, rule, VEC_PF } from '../faults';

/** Access kinds (bit set): write, instruction fetch, and system (supervisor whatever the CPL: descriptor tables, TSS, IDT). */
export type AccessKind = number;
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;
export const ACCESS_SYSTEM = 4;

// #PF error code bits (SDM 3A §4.7).
export const PFEC_P = 1; // the fault was a protection violation (page present)
export const PFEC_WR = 2; // the access was a write
export const PFEC_US = 4; // the access was made at CPL 3

const PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PDE_PS = 0x80;
const CR0_WP = 0x10000;
const CR4_PSE = 0x10;

const R_PF_NOT_PRESENT = rule('paging.not-present', 'the page directory or page table entry is not present', 'SDM 3A §4.7');
const R_PF_USER = rule('paging.user', 'a CPL 3 access to a supervisor page', 'SDM 3A §4.6');
const R_PF_WRITE = rule('paging.read-only', 'a write to a read-only page (CPL 3, or CPL < 3 with CR0.WP = 1)', 'SDM 3A §4.6');

export function translateLinear(cpu: Cpu, linear: number, access: AccessKind): number {
  const write = (access & ACCESS_WRITE) !== 0;
  const user = (access & ACCESS_SYSTEM) === 0 && cpu.cpl === 3;
  const mem = cpu.mem;
  const pdeAddr = ((cpu.cr3 & 0xfffff000) + ((linear >>> 22) << 2)) >>> 0;
  const pde = mem.read32(pdeAddr);
  let err = (write ? PFEC_WR : 0) | (user ? PFEC_US : 0);
  if ((pde & PTE_P) === 0) pageFault(cpu, linear, err, R_PF_NOT_PRESENT);
  if ((pde & PDE_PS) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
    checkRights(cpu, linear, pde, err, write, user);
    const updated = pde | PTE_A | (write ? PTE_D : 0);
    if (updated !== pde) mem.write32(pdeAddr, updated);
    return ((pde & 0xffc00000) | (linear & 0x3fffff)) >>> 0;
  }
  const pteAddr = ((pde & 0xfffff000) + (((linear >>> 12) & 0x3ff) << 2)) >>> 0;
  const pte = mem.read32(pteAddr);
  if ((pte & PTE_P) === 0) pageFault(cpu, linear, err, R_PF_NOT_PRESENT);
  // Rights are the more restrictive of the two levels (SDM 3A §4.6.1).
  checkRights(cpu, linear, pde & pte, err, write, user);
  if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
  const updated = pte | PTE_A | (write ? PTE_D : 0);
  if (updated !== pte) mem.write32(pteAddr, updated);
  err = 0;
  return ((pte & 0xfffff000) | (linear & 0xfff)) >>> 0;
}

function checkRights(cpu: Cpu, linear: number, rights: number, err: number, write: boolean, user: boolean): void {
  if (user && (rights & PTE_US) === 0) pageFault(cpu, linear, err | PFEC_P, R_PF_USER);
  if (write && (rights & PTE_RW) === 0 && (user || (cpu.cr0 & CR0_WP) !== 0)) {
    pageFault(cpu, linear, err | PFEC_P, R_PF_WRITE);
  }
}

function pageFault(cpu: Cpu, linear: number, err: number, r: ReturnType<typeof rule>): never {
  cpu.cr2 = linear | 0;
  return fault(VEC_PF, err, r, `linear address 0x${(linear >>> 0).toString(16)}`);
}
