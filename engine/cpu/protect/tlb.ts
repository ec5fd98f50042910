// Software TLB for 32-bit paging (SDM 3A §4.10): the translations of recent walks, checked before walking.
//
// One Int32Array entry per linear page (2^20 of them, direct-mapped, so a hit is one load and one test): the
// physical frame in bits 12–31 and, in the low bits, which kinds of access may use the entry without a walk. A
// write right is granted only once the dirty bit is set in memory, so the first write to a clean page walks and
// sets it; a user right only where both levels allow user access, so a CPL 3 access to a supervisor page still
// walks and faults. Entry 0 means "not cached" (every cached entry has the supervisor-read bit).
//
// Every filled page number is also recorded in a short list, so a flush clears only what was filled instead of
// 4 MiB. When the list is full the whole TLB is emptied (a real TLB drops entries whenever it likes, SDM 3A
// §4.10.2.2, so this is allowed).
//
// Flush rules (SDM 3A §4.10.4): a CR3 load drops every entry except global ones (CR4.PGE); INVLPG drops one
// page (the whole 4 MiB page when it maps one); changes of CR0.PG, CR0.WP, CR4.PSE or CR4.PGE drop everything.
// Without a flush a changed page-table entry is not seen: the old translation stays in use, as on real chips.

import type { Cpu } from '../cpu';

/** Entry bits: the access kinds that may use the entry. */
export const TLB_SUPERVISOR_READ = 0x1;
export const TLB_SUPERVISOR_WRITE = 0x2;
export const TLB_USER_READ = 0x4;
export const TLB_USER_WRITE = 0x8;
/** Translation of a global page (G = 1 with CR4.PGE = 1): survives CR3 loads. */
export const TLB_GLOBAL = 0x10;
/** One 4 KiB piece of a 4 MiB page: INVLPG anywhere in the 4 MiB page drops every piece. */
export const TLB_LARGE = 0x20;
export const TLB_FRAME = 0xfffff000 | 0;

const PAGES = 1 << 20;
/** Pages filled between flushes before the whole TLB is emptied. */
const FILL_LIMIT = 8192;

// Control-register bits whose change flushes everything (SDM 3A §4.10.4.1).
const CR0_PAGING_BITS = (0x80000000 | 0x10000) | 0; // PG, WP
const CR4_PAGING_BITS = 0x10 | 0x80; // PSE, PGE

/**
 * Told about every change of a TLB's contents (the monitor's shadow page tables mirror the guest's TLB, see
 * engine/monitor/shadow-paging.ts). Called only on walks and flushes, never on a hit.
 */
export interface TlbListener {
  filled(page: number): void;
  invalidated(page: number): void;
  cleared(): void;
}

/** A TLB's contents (Tlb.save): the fill list and each listed page's entry, and the control bits they were made under. */
export interface TlbSnapshot {
  pages: Int32Array;
  values: Int32Array;
  cr3: number;
  cr0Bits: number;
  cr4Bits: number;
}

export class Tlb {
  /**
   * Indexed by linear page number; see the entry bits above. The CPU's own TLB keeps them in the guest's
   * WebAssembly.Memory (bus/memory.ts claimTlbEntries), where wasm blocks read them.
   */
  readonly entries: Int32Array;
  private readonly filled = new Int32Array(FILL_LIMIT);
  private count = 0;
  /** CR3 and the paging bits of CR0/CR4 the cached translations were made under (for host-side changes). */
  cr3 = 0;
  cr0Bits = 0;
  cr4Bits = 0;
  listener: TlbListener | null = null;

  constructor(entries: Int32Array | null = null) {
    this.entries = entries ?? new Int32Array(PAGES);
  }
  /**
   * Moves whenever a translation may lose a right (a clear, an invalidation, a fill over an entry), so translated
   * code that looked a page up once for many accesses (jit/emitter.ts, "Hoisted checks") knows when to look again.
   */
  generation = 0;

  /** Caches a translation made by a walk. */
  fill(page: number, entry: number): void {
    if (this.entries[page] === 0) {
      if (this.count === FILL_LIMIT) this.clear(false);
      this.filled[this.count++] = page;
    } else this.generation++;
    this.entries[page] = entry;
    if (this.listener !== null) this.listener.filled(page);
  }

  /** Drops every entry, or every entry but the global ones. */
  clear(keepGlobal: boolean): void {
    const entries = this.entries;
    const filled = this.filled;
    let kept = 0;
    for (let k = 0; k < this.count; k++) {
      const page = filled[k];
      if (keepGlobal && (entries[page] & TLB_GLOBAL) !== 0) filled[kept++] = page;
      else entries[page] = 0;
    }
    this.count = kept;
    this.generation++;
    if (this.listener !== null) this.listener.cleared();
  }

  /** Drops the translation of one linear page; if it was part of a 4 MiB page, every piece of that page. */
  invalidate(page: number): void {
    const entries = this.entries;
    entries[page] = 0;
    this.generation++;
    const first = page & ~0x3ff;
    for (let p = first; p < first + 0x400; p++) {
      if ((entries[p] & TLB_LARGE) !== 0) entries[p] = 0;
    }
    if (this.listener !== null) this.listener.invalidated(page);
  }

  /**
   * The TLB's contents, for a machine snapshot: the TLB is guest-visible state (a stale entry stays in use, and an
   * entry decides whether an access walks and sets accessed bits), so a restored moment must translate as the
   * original did. The fill list is kept whole, dead and repeated pages included, so the next emptying at FILL_LIMIT
   * comes at the same fill as in the original run.
   */
  save(): TlbSnapshot {
    const pages = this.filled.slice(0, this.count);
    const values = new Int32Array(this.count);
    for (let k = 0; k < this.count; k++) values[k] = this.entries[pages[k]];
    return { pages, values, cr3: this.cr3, cr0Bits: this.cr0Bits, cr4Bits: this.cr4Bits };
  }

  /** Puts back what `save` returned, in place of everything cached now; the listener hears a clear, then each fill. */
  load(s: TlbSnapshot): void {
    this.clear(false);
    this.filled.set(s.pages);
    this.count = s.pages.length;
    for (let k = 0; k < this.count; k++) this.entries[s.pages[k]] = s.values[k];
    this.cr3 = s.cr3;
    this.cr0Bits = s.cr0Bits;
    this.cr4Bits = s.cr4Bits;
    if (this.listener !== null) for (let k = 0; k < this.count; k++) if (s.values[k] !== 0) this.listener.filled(s.pages[k]);
  }

  /** Number of cached translations (tests, inspection). */
  get size(): number {
    let n = 0;
    for (let k = 0; k < this.count; k++) if (this.entries[this.filled[k]] !== 0) n++;
    return n;
  }
}

function record(cpu: Cpu): void {
  const tlb = cpu.tlb;
  tlb.cr3 = cpu.cr3;
  tlb.cr0Bits = cpu.cr0 & CR0_PAGING_BITS;
  tlb.cr4Bits = cpu.cr4 & CR4_PAGING_BITS;
}

/** A CR3 load (MOV CR3, task switch): drops all but global translations. Call after storing CR3. */
export function flushTlb(cpu: Cpu): void {
  cpu.tlb.clear(true);
  record(cpu);
  cpu.mappingsChanged();
}

/** Drops every translation, global ones too. */
export function flushTlbAll(cpu: Cpu): void {
  cpu.tlb.clear(false);
  record(cpu);
  cpu.mappingsChanged();
}

/** INVLPG: drops the translation of the page holding `linear`. */
export function invalidatePage(cpu: Cpu, linear: number): void {
  cpu.tlb.invalidate(linear >>> 12);
  cpu.mappingsChanged();
}

/**
 * Call after any write of CR0 or CR4: a change of PG, WP, PSE or PGE flushes everything (SDM 3A §4.10.4.1).
 * Also notices a CR3 that changed without a flush (host edits, task switches), so it is safe to call anywhere
 * the control registers may have changed.
 */
export function pagingControlChanged(cpu: Cpu): void {
  const tlb = cpu.tlb;
  if ((cpu.cr0 & CR0_PAGING_BITS) !== tlb.cr0Bits || (cpu.cr4 & CR4_PAGING_BITS) !== tlb.cr4Bits) flushTlbAll(cpu);
  else if (cpu.cr3 !== tlb.cr3) flushTlb(cpu);
}
