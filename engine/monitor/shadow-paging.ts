// Shadow page tables (engine/monitor/README.md "Shadow paging"): how the monitor runs a paging guest deprivileged.
//
// While the guest pages, the real CPU runs it with CR3 naming a page directory in the monitor's hidden region. The
// shadow tables are built on demand and hold only translations the guest's own TLB holds: the guest's TLB (the
// CPU's Tlb, used whenever the CPU holds the guest's view) is the architectural state SDM 3A §4.10 describes, and
// every shadow entry is one of its entries materialised for the real CPU. So a translation the guest would still
// use from its TLB after rewriting a page-table entry without INVLPG is used here too, and one it would walk again
// is walked again — exactly as on a bare CPU, whose TLB keeps translations until CR3 loads, INVLPG or CR0/CR4
// changes (tlb.ts). The guest's TLB tells this class of every change (TlbListener), and the shadow drops what no
// longer matches:
//   filled(page)       the guest walked (its entry changed): the shadow entry goes, to be made again from it;
//   invalidated(page)  INVLPG: shadow entries whose guest TLB entry is gone go;
//   cleared()          CR3 load (global entries survive), CR0/CR4 paging changes: the same, for every table.
// A real #PF while the guest runs directly is a shadow miss or a right the shadow withholds: the monitor emulates
// the instruction on the guest's view (its walk sets the accessed and dirty bits and fills the guest's TLB, or
// raises the guest's own #PF) and then makes the shadow entry from the guest's TLB (`fill`).
//
// Rights, with the guest running at real CPL 3 (ring compression):
//   guest CPL 0–2: a page is user-accessible in the shadow when the guest's TLB entry allows supervisor reads,
//                  writable when it allows supervisor writes (dirty already; CR0.WP judged by the guest's walk);
//   guest CPL 3:   user-accessible / writable exactly when the entry allows user reads / writes.
// The shadow is dropped when the guest's CPL class changes. Pages whose frame lies in the monitor's hidden region are
// never mapped: every access to them is emulated and sees the open bus, so the guest can never reach the monitor's
// memory. Other frames beyond guest RAM — the local and I/O APIC, a high ROM, the open bus — are mapped like RAM:
// the deprivileged CPU's access there goes to the bus exactly as the emulation's would (the bus serves the hidden
// region to data accesses only while the monitor's own operations run, bus/memory.ts `hiddenData`). Linux writes
// its local APIC's EOI register after every interrupt: 10 700 monitor entries per 200 M instructions in its lib/mpi
// window, each a #PF thrown out of a translated block, when those frames were left unmapped.
//
// The window: the CPU reaches the monitor's tables, TSS, code and stack by linear address, so the first
// WINDOW_BYTES of the hidden region are mapped, supervisor-only, in one 4 MiB slot the guest leaves unmapped (its
// page-directory entry not present, and nothing of the slot in its TLB). A guest access there faults (a user
// access to a supervisor page) and is emulated, giving the guest its own #PF. When the guest maps the slot the
// window moves to another free slot; with none free the monitor runs the guest emulated.

import type { Cpu } from '../cpu/cpu';
import { PTE_A, PTE_D, PTE_P, PTE_RW, PTE_US } from '../cpu/protect/paging';
import { Tlb, TLB_FRAME, TLB_SUPERVISOR_READ, TLB_SUPERVISOR_WRITE, TLB_USER_READ, TLB_USER_WRITE, type TlbListener } from '../cpu/protect/tlb';
import type { HiddenMemory } from './hidden-memory';
import { SHADOW_PD_OFFSET, SHADOW_POOL_OFFSET, SHADOW_POOL_TABLES, WINDOW_BYTES, WINDOW_PT_OFFSET } from './layout';

const SLOTS = 1024;
const NO_TABLE = -1;

export interface ShadowCounters {
  /** Shadow entries made from the guest's TLB. */
  fills: number;
  /** Shadow entries dropped because the guest's TLB entry changed or went. */
  drops: number;
  /** Whole shadows dropped (CPL class change, pool exhausted). */
  flushes: number;
  /** Moves of the monitor's window to another 4 MiB slot. */
  relocations: number;
}

export interface ShadowMapping {
  /** Linear page number. */
  page: number;
  /** Physical frame address. */
  frame: number;
  writable: boolean;
  user: boolean;
}

export class ShadowPaging implements TlbListener {
  /**
   * The real CPU's TLB while it walks the shadow tables: in the wasm memory beside the guest's (bus/memory.ts
   * claimTlbEntries), so wasm blocks translate through it while the guest runs deprivileged under paging.
   */
  readonly realTlb: Tlb;
  /** 4 MiB slot of linear space holding the monitor's window (-1: none placed yet). */
  windowSlot = -1;
  /** The guest's TLB filled something in the window's slot: the window must move before the guest runs again. */
  private windowConflict = false;
  /** Pool table of each slot (-1: no shadow table, the shadow PDE is not present). */
  private readonly slotTable = new Int16Array(SLOTS).fill(NO_TABLE);
  private readonly freeTables: number[] = [];
  /** The guest CPL class the entries were made for: 0 (CPL 0–2) or 1 (CPL 3); -1 none. */
  private userClass = -1;
  /** The guest CR3 under which no slot was free; asked again only after its TLB dropped something. */
  private noRoomCr3 = -1;
  readonly counters: ShadowCounters = { fills: 0, drops: 0, flushes: 0, relocations: 0 };

  constructor(
    private readonly cpu: Cpu,
    private readonly hidden: HiddenMemory,
    private readonly guestTlb: Tlb,
  ) {
    this.realTlb = new Tlb(cpu.mem.claimTlbEntries());
    for (let k = SHADOW_POOL_TABLES - 1; k >= 0; k--) this.freeTables.push(k);
    hidden.bytes.fill(0, SHADOW_PD_OFFSET, SHADOW_PD_OFFSET + 0x1000);
    // The window's page table: the hidden region's first pages, supervisor, writable, accessed and dirty already.
    hidden.bytes.fill(0, WINDOW_PT_OFFSET, WINDOW_PT_OFFSET + 0x1000);
    for (let k = 0; k < WINDOW_BYTES >>> 12; k++) {
      hidden.write32(WINDOW_PT_OFFSET + k * 4, (hidden.base + k * 0x1000) | PTE_P | PTE_RW | PTE_A | PTE_D);
    }
    guestTlb.listener = this;
  }

  /** Physical address of the shadow page directory (the real CR3). */
  get directory(): number {
    return this.hidden.base + SHADOW_PD_OFFSET;
  }

  /** Linear address of the window (the hidden region as the real CPU reaches it). */
  get windowLinear(): number {
    return (this.windowSlot << 22) >>> 0;
  }

  /** The present shadow entries, by linear page (tests, the Monitor scope). */
  mappings(): ShadowMapping[] {
    const out: ShadowMapping[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const k = this.slotTable[slot];
      if (k === NO_TABLE) continue;
      for (let i = 0; i < 1024; i++) {
        const pte = this.hidden.read32(this.tableOffset(k) + i * 4);
        if ((pte & PTE_P) === 0) continue;
        out.push({ page: (slot << 10) | i, frame: (pte & 0xfffff000) >>> 0, writable: (pte & PTE_RW) !== 0, user: (pte & PTE_US) !== 0 });
      }
    }
    return out;
  }

  /**
   * Before the guest runs on the shadow: the window in a free slot (moved if the guest took its slot), and entries
   * for the guest's CPL class. False when no slot is free (the guest maps all 4 GiB): it must run emulated.
   */
  prepare(guestCr3: number, guestCpl: number): boolean {
    if (!this.windowStillFree(guestCr3) && !this.moveWindow(guestCr3)) return false;
    const cls = guestCpl === 3 ? 1 : 0;
    if (cls !== this.userClass) {
      this.dropAll();
      this.userClass = cls;
    }
    return true;
  }

  /** Whether some slot is free for the window (the current one, or another). */
  hasRoom(guestCr3: number): boolean {
    if (this.windowStillFree(guestCr3)) return true;
    if (guestCr3 === this.noRoomCr3) return false;
    if (this.freeSlot(guestCr3) >= 0) return true;
    this.noRoomCr3 = guestCr3;
    return false;
  }

  /**
   * Makes the shadow entry of a linear page from the guest's TLB entry, after the monitor emulated an access to
   * it. Nothing when the guest's TLB has no entry, the page is in the window's slot, the guest's class may not
   * read it, or its frame lies in the hidden region (those accesses keep being emulated).
   */
  fill(page: number): void {
    const entry = this.guestTlb.entries[page];
    const slot = page >>> 10;
    if (entry === 0 || slot === this.windowSlot || this.userClass < 0) return;
    const user = this.userClass === 1;
    if ((entry & (user ? TLB_USER_READ : TLB_SUPERVISOR_READ)) === 0) return;
    const frame = (entry & TLB_FRAME) >>> 0;
    const hiddenStart = this.hidden.base;
    if (frame + 0x1000 > hiddenStart && frame < hiddenStart + this.hidden.bytes.length) return;
    const writable = (entry & (user ? TLB_USER_WRITE : TLB_SUPERVISOR_WRITE)) !== 0;
    let k = this.slotTable[slot];
    if (k === NO_TABLE) k = this.allocateTable(slot);
    this.hidden.write32(this.tableOffset(k) + (page & 0x3ff) * 4, frame | PTE_P | PTE_US | PTE_A | PTE_D | (writable ? PTE_RW : 0));
    this.realTlb.invalidate(page);
    this.counters.fills++;
  }

  /**
   * A real #PF on `page` (a `write` or not) while the guest runs directly, when it is only a shadow miss: the
   * guest's TLB already holds the translation with the access's right for the guest's CPL class (the one the
   * entries are made for), so a bare CPU would use it without a walk (no accessed or dirty bit to set: a TLB entry
   * allows writes only once its page is dirty). The shadow entry is made from it now (fill); true when the entry made lets the access pass, so
   * the instruction can run again on the real CPU. False (nothing changed but a fill the monitor's entry would make
   * too) when the guest must walk, the page is in the window's slot or the window must move, or the frame lies in
   * the hidden region: the monitor's entry handles those.
   */
  fillMiss(page: number, write: boolean, guestCpl: number): boolean {
    if (this.windowConflict || this.userClass !== (guestCpl === 3 ? 1 : 0)) return false;
    // The entry made from the guest's TLB (fill) gives exactly its rights for this class: when it lets the access
    // pass, the TLB entry allowed it. (No entry made, or one without the right: the guest must walk.)
    this.fill(page);
    const k = this.slotTable[page >>> 10];
    if (k === NO_TABLE) return false;
    const pte = this.hidden.read32(this.tableOffset(k) + (page & 0x3ff) * 4);
    // The real CPU's access is a user access: the restart passes (no endless refault) only through a user entry.
    return (pte & (PTE_P | PTE_US)) === (PTE_P | PTE_US) && (!write || (pte & PTE_RW) !== 0);
  }

  /** Drops every shadow entry (the window stays). */
  dropAll(): void {
    for (let slot = 0; slot < SLOTS; slot++) if (this.slotTable[slot] !== NO_TABLE) this.releaseTable(slot);
    this.realTlb.clear(false);
    this.cpu.mappingsChanged();
    this.counters.flushes++;
  }

  /** Starts over: no entries, no window placed, no CPL class (a restored snapshot; monitor.ts `restore`). */
  reset(): void {
    this.dropAll();
    if (this.windowSlot >= 0) this.hidden.write32(SHADOW_PD_OFFSET + this.windowSlot * 4, 0);
    this.windowSlot = -1;
    this.windowConflict = false;
    this.userClass = -1;
    this.noRoomCr3 = -1;
    // Tables are taken from the end: the lowest first, as after construction.
    this.freeTables.sort((a, b) => b - a);
  }

  // ---- TlbListener: the guest's TLB changed ----

  filled(page: number): void {
    if (page >>> 10 === this.windowSlot) this.windowConflict = true;
    this.drop(page);
  }

  invalidated(page: number): void {
    this.noRoomCr3 = -1;
    this.prune(page >>> 10);
  }

  cleared(): void {
    this.noRoomCr3 = -1;
    for (let slot = 0; slot < SLOTS; slot++) if (this.slotTable[slot] !== NO_TABLE) this.prune(slot);
  }

  // ---- internals ----

  private tableOffset(k: number): number {
    return SHADOW_POOL_OFFSET + k * 0x1000;
  }

  private drop(page: number): void {
    const k = this.slotTable[page >>> 10];
    if (k === NO_TABLE) return;
    const at = this.tableOffset(k) + (page & 0x3ff) * 4;
    if ((this.hidden.read32(at) & PTE_P) === 0) return;
    this.hidden.write32(at, 0);
    this.realTlb.invalidate(page);
    this.cpu.mappingsChanged();
    this.counters.drops++;
  }

  /** Drops the slot's shadow entries whose guest TLB entry is gone. */
  private prune(slot: number): void {
    const k = this.slotTable[slot];
    if (k === NO_TABLE) return;
    const entries = this.guestTlb.entries;
    for (let i = 0; i < 1024; i++) {
      const page = (slot << 10) | i;
      if (entries[page] === 0) this.drop(page);
    }
  }

  private allocateTable(slot: number): number {
    if (this.freeTables.length === 0) this.dropAll();
    const k = this.freeTables.pop()!;
    const off = this.tableOffset(k);
    this.hidden.bytes.fill(0, off, off + 0x1000);
    this.slotTable[slot] = k;
    this.hidden.write32(SHADOW_PD_OFFSET + slot * 4, (this.hidden.base + off) | PTE_P | PTE_RW | PTE_US | PTE_A);
    return k;
  }

  private releaseTable(slot: number): void {
    this.freeTables.push(this.slotTable[slot]);
    this.slotTable[slot] = NO_TABLE;
    this.hidden.write32(SHADOW_PD_OFFSET + slot * 4, 0);
  }

  /**
   * Whether the window is placed and its slot still unused by the guest. Its TLB is not searched: it held nothing in
   * the slot when the window was placed (moveWindow), and every entry it gains since is a fill it reports
   * (`filled`, which sets windowConflict; nothing else writes the TLB's entries, and a restored TLB reports each
   * of its entries as a fill too). Only the directory entry, which the guest may write at any time, is read.
   */
  private windowStillFree(guestCr3: number): boolean {
    return this.windowSlot >= 0 && !this.windowConflict && !this.directoryMapsSlot(guestCr3, this.windowSlot);
  }

  private directoryMapsSlot(guestCr3: number, slot: number): boolean {
    return (this.cpu.mem.peek(((guestCr3 & 0xfffff000) + slot * 4) >>> 0, 4) & PTE_P) !== 0;
  }

  /** Whether the guest's page directory maps the slot, or its TLB holds a translation in it. */
  private guestMapsSlot(guestCr3: number, slot: number): boolean {
    if (this.directoryMapsSlot(guestCr3, slot)) return true;
    const entries = this.guestTlb.entries;
    for (let page = slot << 10; page < (slot + 1) << 10; page++) if (entries[page] !== 0) return true;
    return false;
  }

  /** A slot the guest leaves unmapped, searched from the top of linear space down; -1 when there is none. */
  private freeSlot(guestCr3: number): number {
    for (let slot = SLOTS - 1; slot >= 0; slot--) if (!this.guestMapsSlot(guestCr3, slot)) return slot;
    return -1;
  }

  private moveWindow(guestCr3: number): boolean {
    const slot = this.freeSlot(guestCr3);
    if (slot < 0) return false;
    if (this.windowSlot >= 0) this.hidden.write32(SHADOW_PD_OFFSET + this.windowSlot * 4, 0);
    if (this.slotTable[slot] !== NO_TABLE) this.releaseTable(slot);
    this.windowSlot = slot;
    this.windowConflict = false;
    this.hidden.write32(SHADOW_PD_OFFSET + slot * 4, (this.hidden.base + WINDOW_PT_OFFSET) | PTE_P | PTE_RW | PTE_A);
    this.realTlb.clear(false);
    this.cpu.mappingsChanged();
    this.counters.relocations++;
    return true;
  }
}
