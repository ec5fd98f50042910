// The guest's view of the CPU for the debugger's views while the monitor runs the guest deprivileged.
//
// Under the monitor the real CPU holds CPL 3, the virtual GDT, the monitor's IDT and TSS, and caches rewritten by
// the return sequences; the guest's own view (what a bare CPU would hold, model.md §4) is the monitor's guest
// record. The views (inspect.ts, the scopes, the expressions) read a Cpu, so this makes a read-only Cpu-shaped
// object whose system state comes from that record and whose everything else (general registers, memory, paging
// parameters not virtualised, methods) comes from the real CPU through the prototype chain. Nothing written to it
// reaches the real CPU: edits go through the monitor instead (Runtime.editGuest, Monitor.editGuestView), and the
// runtime then refreshes the view in place, so the containers that hold it read the new state.

import { AR_DB, CR0_PE, CR0_PG, CS, ESP, SS, type Cpu } from '../engine/cpu/cpu';
import { VM } from '../engine/cpu/flags';
import type { Tlb } from '../engine/cpu/protect/tlb';

/** The fields of the monitor's guest record the view needs (engine/monitor/guest-state.ts has them). */
export interface GuestRecord {
  cpl: number;
  eflags: number;
  eip: number;
  esp: number;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  gdtrBase: number;
  gdtrLimit: number;
  idtrBase: number;
  idtrLimit: number;
  readonly sel: Uint16Array;
  readonly base: Int32Array;
  readonly limit: Uint32Array;
  readonly ar: Uint16Array;
  readonly valid: Uint8Array;
}

/**
 * A Cpu-shaped snapshot of the guest's view over a real CPU (see the file comment). `tlb` is the guest's own TLB
 * when the monitor keeps one apart from the real CPU's (shadow paging): views that translate through the CPU then
 * use the guest's translations; without it the real CPU's TLB is seen through the prototype.
 */
export function guestViewCpu(cpu: Cpu, g: GuestRecord, tlb?: Tlb): Cpu {
  const view = Object.create(cpu) as Cpu;
  refreshGuestView(view, cpu, g, tlb);
  return view;
}

/** Puts the guest record's values into a view made by guestViewCpu over `cpu` (after the guest's view changed). */
export function refreshGuestView(view: Cpu, cpu: Cpu, g: GuestRecord, tlb?: Tlb): void {
  if (Object.getPrototypeOf(view) !== cpu) throw new Error('refreshGuestView: the view was not made over this CPU');
  const regs = new Int32Array(cpu.regs);
  regs[ESP] = g.esp | 0;
  const vm = (g.eflags & VM) !== 0;
  const own: Record<string, unknown> = {
    regs,
    regs16: new Uint16Array(regs.buffer),
    regs8: new Uint8Array(regs.buffer),
    segSel: g.sel.slice(),
    segBase: g.base.slice(),
    segLimit: g.limit.slice(),
    segAr: g.ar.slice(),
    segValid: g.valid.slice(),
    cpl: g.cpl,
    eip: g.eip >>> 0,
    flags: g.eflags >>> 0,
    lazyMask: 0,
    cr0: g.cr0 | 0,
    cr2: g.cr2 | 0,
    cr3: g.cr3 | 0,
    cr4: g.cr4 | 0,
    gdtrBase: g.gdtrBase | 0,
    gdtrLimit: g.gdtrLimit,
    idtrBase: g.idtrBase | 0,
    idtrLimit: g.idtrLimit,
    code32: !vm && (g.ar[CS] & AR_DB) !== 0,
    stack32: !vm && (g.ar[SS] & AR_DB) !== 0,
    pagingOn: (g.cr0 & CR0_PE) !== 0 && (g.cr0 & CR0_PG) !== 0,
  };
  if (tlb !== undefined) own.tlb = tlb;
  else delete (view as { tlb?: Tlb }).tlb;
  // Read-only to writers (a write throws in strict code); configurable so the next refresh can replace them.
  for (const [k, v] of Object.entries(own)) Object.defineProperty(view, k, { value: v, writable: false, enumerable: true, configurable: true });
}
