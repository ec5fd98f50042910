// The virtual GDT and LDT in the hidden region (model.md §3 "Virtual GDT"): each guest entry virtualized at its own
// index, so selector values stay the guest's; the monitor's own entries (code, stack, TSS) just past the guest's GDT
// limit; the monitor's IDT and TSS. Slots the return sequence overwrites with a register's cache are remembered and
// put back the next time the monitor runs.

import { AR_DB, AR_P, AR_S } from '../cpu/cpu';
import { encodeGate, encodeSegment, TYPE_INT_GATE32 } from '../cpu/protect/descriptor';
import { HiddenMemory } from './hidden-memory';
import {
  CODE_LIMIT,
  CODE_OFFSET,
  IDT_OFFSET,
  MAX_GDT_ENTRIES,
  MON_ENTRIES,
  MON_ENTRY_CODE,
  MON_ENTRY_STACK,
  MON_ENTRY_TSS,
  MON_VECTORS,
  monitorBaseIndex,
  STACK_OFFSET,
  STACK_SIZE,
  TSS_LIMIT,
  TSS_OFFSET,
  VGDT_OFFSET,
  VLDT_OFFSET,
} from './layout';
import { virtualizeHigh } from './virtualize';

/** A slot of the virtual GDT (index) or LDT (index | LDT_SLOT). */
export const LDT_SLOT = 0x10000;

export function slotOf(selector: number): number {
  return (selector >>> 3) | ((selector & 4) !== 0 ? LDT_SLOT : 0);
}

export class VirtualTables {
  /** Index of the monitor's first GDT entry (past the guest's limit). */
  monitorIndex = 1;
  gdtLimit = 0;
  /**
   * What the tables were built from: the guest's GDTR, LDT, CPL class, the hidden region's linear address and the
   * mapping version of the pages behind the tables; a change rebuilds them (NaN: rebuild at the next sync).
   */
  private readonly built = new Float64Array(8).fill(NaN);
  /** Guest LDT as built: linear base and limit (-1 limit: no LDT). */
  ldtBase = 0;
  ldtLimit = -1;
  private gdtBase = 0;
  private guestGdtLimit = 0;
  private compressed = false;
  /** The caches the monitor's code and stack entries load (its context switch loads them without a table read). */
  monitorCode = { base: 0, limit: 0, ar: 0 };
  monitorStack = { base: 0, limit: 0, ar: 0 };
  /** Slots holding something other than their virtualized guest entry (a register's cache, or marked). */
  readonly dirty = new Set<number>();
  /** Slots marked inaccessible by the last inconsistent return. */
  readonly marked = new Set<number>();

  /** Guest linear → physical as the guest's CPU translates now (-1 unmapped); identity until the monitor sets it. */
  translate: (linear: number) => number = (linear) => linear >>> 0;

  constructor(readonly hidden: HiddenMemory) {}

  get codeSelector(): number {
    return (this.monitorIndex + MON_ENTRY_CODE) << 3;
  }
  get stackSelector(): number {
    return (this.monitorIndex + MON_ENTRY_STACK) << 3;
  }
  get tssSelector(): number {
    return (this.monitorIndex + MON_ENTRY_TSS) << 3;
  }

  /** Whether the guest's GDT leaves room for the monitor's entries in a 64 KiB table. */
  static fits(guestGdtLimit: number): boolean {
    return monitorBaseIndex(guestGdtLimit) + MON_ENTRIES <= MAX_GDT_ENTRIES;
  }

  /** Rebuilds what changed since the last call. Returns true when anything was rebuilt. */
  /** `mapping` is the version of the physical pages behind the tables (table-watch.ts): a change reads them again. */
  sync(gdtBase: number, gdtLimit: number, ldtValid: boolean, ldtBase: number, ldtLimit: number, guestCpl: number, mapping = 0): boolean {
    const compressed = guestCpl < 3;
    const lb = ldtValid ? ldtBase >>> 0 : 0;
    // Selectors reach at most 8192 entries (64 KiB), whatever limit the LDT descriptor gives.
    const ll = ldtValid ? Math.min(ldtLimit >>> 0, 0xffff) : -1;
    const b = this.built;
    if (
      b[0] === gdtBase >>> 0 && b[1] === gdtLimit && b[2] === lb && b[3] === ll && b[4] === (compressed ? 1 : 0) &&
      b[5] === this.hidden.linear && b[6] === mapping
    ) {
      return false;
    }
    b.set([gdtBase >>> 0, gdtLimit, lb, ll, compressed ? 1 : 0, this.hidden.linear, mapping]);
    this.gdtBase = gdtBase >>> 0;
    this.guestGdtLimit = gdtLimit;
    this.ldtBase = lb;
    this.ldtLimit = ll;
    this.compressed = compressed;
    this.dirty.clear();
    this.marked.clear();
    this.buildMonitorStructures(gdtLimit);
    const gdtEntries = this.monitorIndex;
    for (let index = 0; index < gdtEntries; index++) this.refresh(index);
    if (ll >= 0) for (let index = 0; index <= ll >>> 3; index++) this.refresh(index | LDT_SLOT);
    return true;
  }

  /** Forces the next sync to rebuild (e.g. after the monitor disengaged). */
  invalidate(): void {
    this.built.fill(NaN);
  }

  /** The guest's descriptor for a slot, or null when the slot lies (even partly) beyond the guest's table limit. */
  guestEntry(slot: number): [number, number] | null {
    const index = slot & 0xffff;
    const ldt = (slot & LDT_SLOT) !== 0;
    const limit = ldt ? this.ldtLimit : this.guestGdtLimit;
    if (index * 8 + 7 > limit) return null;
    const base = ldt ? this.ldtBase : this.gdtBase;
    const at = (base + index * 8) >>> 0;
    const lo = this.guestLinear32(at);
    const hi = this.guestLinear32((at + 4) >>> 0);
    // An entry on a page the guest leaves unmapped: not present here, so a load traps and is emulated (#PF).
    return lo < 0 || hi < 0 ? [0, 0] : [lo, hi];
  }

  /** A guest dword by linear address through `translate`; -1 when a byte is unmapped. */
  guestLinear32(linear: number): number {
    let v = 0;
    for (let k = 3; k >= 0; k--) {
      const phys = this.translate((linear + k) >>> 0);
      if (phys < 0) return -1;
      v = v * 256 + this.hidden.guestByte(phys);
    }
    return v;
  }

  /** The virtualized guest entry for a slot (null descriptor beyond the guest's limit and at GDT index 0). */
  properEntry(slot: number): [number, number] {
    if (slot === 0) return [0, 0];
    const e = this.guestEntry(slot);
    if (e === null) return [0, 0];
    return [e[0], virtualizeHigh(e[1], this.compressed ? 0 : 3)];
  }

  slotOffset(slot: number): number {
    return ((slot & LDT_SLOT) !== 0 ? VLDT_OFFSET : VGDT_OFFSET) + (slot & 0xffff) * 8;
  }

  readSlot(slot: number): [number, number] {
    const off = this.slotOffset(slot);
    return [this.hidden.read32(off), this.hidden.read32(off + 4)];
  }

  /** Whether the slot holds exactly this descriptor (readSlot without its pair). */
  slotHolds(slot: number, lo: number, hi: number): boolean {
    const off = this.slotOffset(slot);
    return this.hidden.read32(off) === lo >>> 0 && this.hidden.read32(off + 4) === hi >>> 0;
  }

  /**
   * Counts the writes to the virtual GDT and LDT (every one goes through writeSlot: the real CPU never writes there,
   * as entries with the accessed bit clear are not present and it never loads TR or switches tasks itself). While it
   * stands still, what a slot held when the monitor last looked, it holds now (monitor.ts directReturn).
   */
  version = 0;

  writeSlot(slot: number, lo: number, hi: number): void {
    this.version++;
    const off = this.slotOffset(slot);
    this.hidden.write32(off, lo);
    this.hidden.write32(off + 4, hi);
  }

  /** Writes the virtualized guest entry into its slot (after a guest store, or to undo a return's overwrite). */
  refresh(slot: number): void {
    if ((slot & LDT_SLOT) === 0 && (slot & 0xffff) >= this.monitorIndex) return;
    if ((slot & LDT_SLOT) !== 0 && ((slot & 0xffff) * 8 > this.ldtLimit || this.ldtLimit < 0)) return;
    const [lo, hi] = this.properEntry(slot);
    this.writeSlot(slot, lo, hi);
  }

  /** Puts back every slot a return sequence overwrote or marked. */
  restoreDirty(): void {
    if (this.dirty.size === 0 && this.marked.size === 0) return;
    for (const slot of this.dirty) this.refresh(slot);
    this.dirty.clear();
    this.marked.clear();
  }

  /** Whether a slot lies within the guest's GDT or LDT as built (guest stores there must refresh it). */
  coversGdt(linear: number): number {
    const off = linear - this.gdtBase;
    return off >= 0 && off <= this.guestGdtLimit ? off : -1;
  }

  coversLdt(linear: number): number {
    const off = linear - this.ldtBase;
    return this.ldtLimit >= 0 && off >= 0 && off <= this.ldtLimit ? off : -1;
  }

  get gdtLinearBase(): number {
    return this.gdtBase;
  }

  get guestLimit(): number {
    return this.guestGdtLimit;
  }

  private buildMonitorStructures(guestGdtLimit: number): void {
    const h = this.hidden;
    this.monitorIndex = monitorBaseIndex(guestGdtLimit);
    this.gdtLimit = (this.monitorIndex + MON_ENTRIES) * 8 - 1;
    // Bases are linear: the window's address while the guest pages (shadow-paging.ts).
    const code = encodeSegment(h.linear + CODE_OFFSET, CODE_LIMIT, AR_P | AR_S | 0xb | AR_DB);
    const stack = encodeSegment(h.linear + STACK_OFFSET, STACK_SIZE - 1, AR_P | AR_S | 0x3 | AR_DB);
    const tss = encodeSegment(h.linear + TSS_OFFSET, TSS_LIMIT, AR_P | 0xb);
    this.monitorCode = { base: h.linear + CODE_OFFSET, limit: CODE_LIMIT, ar: AR_P | AR_S | 0xb | AR_DB };
    this.monitorStack = { base: h.linear + STACK_OFFSET, limit: STACK_SIZE - 1, ar: AR_P | AR_S | 0x3 | AR_DB };
    this.writeSlot(this.monitorIndex + MON_ENTRY_CODE, code[0], code[1]);
    this.writeSlot(this.monitorIndex + MON_ENTRY_STACK, stack[0], stack[1]);
    this.writeSlot(this.monitorIndex + MON_ENTRY_TSS, tss[0], tss[1]);
    // The IDT: one 32-bit interrupt gate (DPL 0: a guest INT n at CPL 3 raises #GP into the monitor instead) per
    // vector, its offset the vector number, so the monitor knows which one the CPU delivered.
    for (let v = 0; v < MON_VECTORS; v++) {
      const [lo, hi] = encodeGate(TYPE_INT_GATE32, this.codeSelector, v, { dpl: 0 });
      h.write32(IDT_OFFSET + v * 8, lo);
      h.write32(IDT_OFFSET + v * 8 + 4, hi);
    }
    // The TSS: ring-0 stack; no I/O bitmap (its offset lies past the limit); a null back link.
    h.bytes.fill(0, TSS_OFFSET, TSS_OFFSET + TSS_LIMIT + 1);
    h.write32(TSS_OFFSET + 4, STACK_SIZE);
    h.write16(TSS_OFFSET + 8, this.stackSelector);
    h.write16(TSS_OFFSET + 0x66, TSS_LIMIT + 1);
  }
}
