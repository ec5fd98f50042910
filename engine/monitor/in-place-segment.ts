// The guest's side of a data-segment load completed in place (in-place.ts, monitor.ts `loadSegmentInPlace`): MOV
// Sreg and POP Sreg of DS, ES, FS or GS by a guest running deprivileged at CPL 0–2. Ring compression raised every
// DPL in the virtual GDT to 3, so the real CPU's own checks pass where the guest's table may refuse the load; SBE
// binds the loads for that reason, and each one used to cost a monitor entry (Linux's interrupt entry and exit
// paths load DS, ES and FS on every interrupt: 31 000 entries per 200 M instructions of its lib/mpi window).
//
// `ordinaryDataLoad` decides whether the guest's load is an ordinary one and reads its descriptor exactly as a
// bare CPU's load reads it (protect/segment-load.ts loadDataSegmentProtected, protect/descriptor-table.ts
// fetchDescriptor); anything else is left to the monitor's emulation, which raises the guest's fault with its rule:
//   null selector                      loads an unusable cache                          → emulated
//   TI = 1 (the LDT)                   not done here                                    → emulated
//   beyond the GDT limit               #GP(selector)  segment-load.data.table-limit     → emulated
//   entry across a page boundary       two translations                                 → emulated
//   paging: the entry's page not in the guest's TLB (supervisor read), a bare CPU walks the tables there and sets
//           their accessed bits (SDM 3A §4.8)                                           → emulated
//   paging: the tables in memory translate the entry elsewhere than the TLB (a stale translation): the loaded
//           cache would be inconsistent (protect/consistency.ts reads through a walk)   → emulated
//   the entry outside plain RAM (MMIO, a watched load, beyond RAM)                      → emulated
//   not data or readable code          #GP(selector)  segment-load.data.type            → emulated
//   data or non-conforming code with RPL > DPL or CPL > DPL
//                                      #GP(selector)  segment-load.data.dpl             → emulated
//   not present                        #NP(selector)  segment-load.data.not-present     → emulated
//   accessed bit clear                 a bare CPU sets it in the table (a store)        → emulated
// What is left passes every check of SDM 2 "MOV" (segment register load) and loads, without a store, the cache
// the descriptor gives, which is what the register's consistency look would expect of it.

import { PF_LOAD_SLOW, PAGE_SHIFT, type PhysicalMemory } from '../bus/memory';
import { CR0_PG } from '../cpu/cpu';
import { decodeDescriptor, DESCRIPTOR_HI_ACCESSED, type Descriptor } from '../cpu/protect/descriptor';
import { peekWalk } from '../cpu/protect/peek';
import { TLB_FRAME, TLB_SUPERVISOR_READ, type Tlb } from '../cpu/protect/tlb';
import type { GuestState } from './guest-state';

/**
 * Where a bare CPU at the guest's state reads the 8-byte system-table entry at `linear` (a GDT descriptor, an IDT
 * gate), when that read is an ordinary one: within one page, through a translation the guest's TLB holds for a
 * supervisor read that its tables in memory agree with (a bare CPU walks the tables on a miss and sets their
 * accessed bits, SDM 3A §4.8; and the consistency look reads through a walk), in plain RAM. -1 otherwise.
 */
export function ordinaryTableEntry(mem: PhysicalMemory, g: GuestState, guestTlb: Tlb, a20Mask: number, linear: number): number {
  if ((linear & 0xfff) > 0xff8) return -1;
  let phys: number;
  if ((g.cr0 & CR0_PG) !== 0) {
    // A descriptor-table read is a supervisor access whatever the CPL (protect/paging.ts ACCESS_SYSTEM).
    const entry = guestTlb.entries[linear >>> 12];
    if ((entry & TLB_SUPERVISOR_READ) === 0) return -1;
    phys = (((entry & TLB_FRAME) | (linear & 0xfff)) & a20Mask) >>> 0;
    if (peekWalk(mem, g.cr3, g.cr4, a20Mask, linear) !== phys) return -1;
  } else {
    phys = (linear & a20Mask) >>> 0;
  }
  if (phys + 7 >= mem.size || (mem.pageFlags[phys >>> PAGE_SHIFT] & PF_LOAD_SLOW) !== 0) return -1;
  return phys;
}

/**
 * The guest's GDT descriptor of `selector` (null, LDT and beyond-the-limit selectors excluded), read as a bare CPU
 * reads it when the read is ordinary (ordinaryTableEntry); null otherwise.
 */
export function ordinaryGdtDescriptor(mem: PhysicalMemory, g: GuestState, guestTlb: Tlb, a20Mask: number, selector: number, out: Descriptor): Descriptor | null {
  if ((selector & 0xfffc) === 0 || (selector & 4) !== 0) return null;
  const offset = selector & 0xfff8;
  if (offset + 7 > g.gdtrLimit) return null;
  const phys = ordinaryTableEntry(mem, g, guestTlb, a20Mask, (g.gdtrBase + offset) >>> 0);
  if (phys < 0) return null;
  return decodeDescriptor(mem.readSystem32(phys), mem.readSystem32(phys + 4), out);
}

/**
 * Whether the guest's load of a data segment register with `selector`, at its CPL, from its GDT, passes every check
 * and changes nothing but the register (see above); its descriptor is then in `out`.
 */
export function ordinaryDataLoad(mem: PhysicalMemory, g: GuestState, guestTlb: Tlb, a20Mask: number, selector: number, out: Descriptor): boolean {
  const d = ordinaryGdtDescriptor(mem, g, guestTlb, a20Mask, selector, out);
  if (d === null) return false;
  // IF segment is not a data or readable code segment THEN #GP(selector)
  if (!d.readable) return false;
  // IF (data or nonconforming code segment) AND (RPL > DPL or CPL > DPL) THEN #GP(selector)
  if (!d.conforming && ((selector & 3) > d.dpl || g.cpl > d.dpl)) return false;
  // IF segment not marked present THEN #NP(selector)
  if (!d.p) return false;
  // The processor sets the accessed bit of a descriptor it loads (SDM 3A §3.4.5.1): a store into the guest's table.
  return (d.hi & DESCRIPTOR_HI_ACCESSED) !== 0;
}
