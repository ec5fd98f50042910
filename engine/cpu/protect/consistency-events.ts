// The `descriptor-write`, `cache-inconsistent` and `cache-consistent` events of a bare CPU (model.md §2, §5).
//
// Nothing here runs while no one listens: the CPU calls `consistencyListenersChanged` whenever its event listeners
// change, and tracking is switched on only while a listener for one of these three events exists. Then:
//   - in protected mode, the physical pages under the active GDT, LDT (when LDTR is not NULL) and IDT are watched
//     (PF_WATCH); a store into them is reported as
//     `descriptor-write` for every 8-byte entry it touched, with the entry before and after;
//   - after such a store, a segment load (`segment-load`), a mode change (`mode-change`) or a change of GDTR, IDTR or
//     LDTR (`tableRegistersChanged`, called by LGDT, LIDT, LLDT and task switches), every segment register's
//     consistency is computed again (consistency.ts) and a change is reported: `cache-inconsistent` with the
//     differing fields when a register becomes inconsistent or its reasons change, `cache-consistent` when it
//     becomes consistent again. The state found when tracking starts is the baseline and is not reported.
// The pages are watched through the memory's store dispatcher (bus/store-watch.ts), beside the debugger's data
// watches and the monitor, so starting and stopping here never turns their watches off.

import type { Cpu } from '../cpu';
import { CR0_PE, CS, LDTR } from '../cpu';
import { EV_CACHE_CONSISTENT, EV_CACHE_INCONSISTENT, EV_DESCRIPTOR_WRITE } from '../../events';
import { PAGE_SHIFT } from '../../bus/memory';
import { storeWatchOf, type StoreWatchSubscription } from '../../bus/store-watch';
import { checkConsistency } from './consistency';
import { peekTranslate } from './peek';
import { descriptorBefore, oldByte, type ReplacedByte } from './descriptor-write';

type TableName = 'GDT' | 'LDT' | 'IDT';

interface WatchedPage {
  table: TableName;
  /** Linear address of the table's first byte and its limit. */
  base: number;
  limit: number;
  /** Linear address that maps to the start of this physical page. */
  linear: number;
}

class ConsistencyTracker {
  /** Per register: the last reported state as "consistent" or the joined differing fields. */
  private readonly state: string[] = [];
  private readonly pages = new Map<number, WatchedPage[]>();
  /**
   * Per watched page, the offsets its tables cover: lowest | highest << 12. Kernels keep other data beside a table
   * in its page (Linux's IDT fills half of one, with .bss after it), and every store there reaches onStore: this
   * answers those with one lookup.
   */
  private readonly spans = new Map<number, number>();
  private tables = '';
  private readonly storeWatch: StoreWatchSubscription;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly cpu: Cpu) {
    this.storeWatch = storeWatchOf(cpu.mem).subscribe((addr, size, oldValue) => this.onStore(addr, size, oldValue));
  }

  start(): void {
    const cpu = this.cpu;
    this.unsubscribe.push(cpu.events.on('segment-load', () => this.recheckAtBoundary('segment-load')));
    this.unsubscribe.push(cpu.events.on('mode-change', () => this.recheckAtBoundary('mode-change')));
    this.watchTables();
    for (let reg = 0; reg < 8; reg++) this.state[reg] = this.describe(reg);
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.unwatch();
    this.storeWatch.close();
  }

  /** The last reported state of each register, for machine snapshots. */
  saveState(): string[] {
    return [...this.state];
  }

  /**
   * After a snapshot restore: the reported states of that moment (or, for a snapshot taken before tracking began,
   * the states found now, as when tracking starts), so the next recheck reports only what changes after it.
   */
  restoreState(saved: string[] | undefined): void {
    this.pendingCause = null;
    this.watchTables();
    for (let reg = 0; reg < 8; reg++) this.state[reg] = saved?.[reg] ?? this.describe(reg);
  }

  /** GDTR, IDTR or LDTR may have changed. */
  tablesChanged(cause: string): void {
    this.watchTables();
    this.recheck(cause);
  }

  private describe(reg: number): string {
    const r = checkConsistency(this.cpu, reg);
    return r.consistent ? 'consistent' : r.differs.join(',');
  }

  /** The first cause seen in the current instruction, for the deferred recheck. */
  private pendingCause: string | null = null;
  private readonly flushPending = (): void => {
    const cause = this.pendingCause;
    this.pendingCause = null;
    if (cause !== null) this.recheck(cause);
  };

  /**
   * Segment loads and mode changes are judged once the instruction has completed: a privilege change loads CS
   * and then SS, and nulls data segments, and the registers are consistent again before the instruction ends.
   */
  private recheckAtBoundary(cause: string): void {
    if (this.pendingCause === null) this.pendingCause = cause;
    this.cpu.deferToBoundary(this.flushPending);
  }

  /** Recomputes every register's consistency and reports the changes. */
  recheck(cause: string): void {
    const cpu = this.cpu;
    if (this.tableKey() !== this.tables) this.watchTables();
    for (let reg = 0; reg < 8; reg++) {
      const now = this.describe(reg);
      if (now === this.state[reg]) continue;
      this.state[reg] = now;
      const consistent = now === 'consistent';
      const id = consistent ? EV_CACHE_CONSISTENT : EV_CACHE_INCONSISTENT;
      if (cpu.events.active[id]) {
        cpu.events.emit(id, { reg, differs: consistent ? [] : now.split(','), cause, cs: cpu.segSel[CS], eip: cpu.instrStart });
      }
    }
  }

  private tableKey(): string {
    const cpu = this.cpu;
    return [cpu.gdtrBase, cpu.gdtrLimit, cpu.idtrBase, cpu.idtrLimit, cpu.segSel[LDTR], cpu.segValid[LDTR] ? cpu.segBase[LDTR] : -1, cpu.segLimit[LDTR], cpu.cr3, cpu.cr0 & CR0_PE, cpu.pagingOn].join(':');
  }

  private watchTables(): void {
    const cpu = this.cpu;
    this.unwatch();
    this.tables = this.tableKey();
    // In real mode no descriptor table is in use (SDM 3B §20.1: segment loads there take selector × 16 and
    // read no descriptor; IDTR describes the interrupt vector table, whose 4-byte entries are not descriptors; LLDT
    // is #UD). The GDTR of reset (base 0, limit 0xFFFF) spans the vector table, the BIOS data area and the usual
    // real-mode stack, so watching it would call every push a descriptor write. The tables are watched from the
    // moment PE is set (tableKey holds PE, so the mode change rewatches them): a GDT written in real mode and
    // loaded after the switch shows in its segment-load events.
    if ((cpu.cr0 & CR0_PE) === 0) return;
    this.watch('GDT', cpu.gdtrBase >>> 0, cpu.gdtrLimit);
    // A NULL LDTR selector means no LDT, even with the usable cache reset leaves in LDTR.
    if (cpu.segValid[LDTR] && (cpu.segSel[LDTR] & 0xfffc) !== 0) this.watch('LDT', cpu.segBase[LDTR] >>> 0, cpu.segLimit[LDTR]);
    this.watch('IDT', cpu.idtrBase >>> 0, cpu.idtrLimit);
  }

  private watch(table: TableName, base: number, limit: number): void {
    const mem = this.cpu.mem;
    // By page count, in unsigned arithmetic: `base & ~0xfff` is negative for a table above 2 GiB (Linux's GDT and
    // IDT), and a loop from it up to `base + limit` once watched every mapped page of the address space.
    const first = (base & ~0xfff) >>> 0;
    const count = (((base & 0xfff) + limit) >>> 12) + 1;
    for (let k = 0; k < count; k++) {
      const linear = (first + k * 0x1000) >>> 0;
      const phys = peekTranslate(this.cpu, linear);
      if (phys < 0 || phys >= mem.size) continue;
      const page = phys >>> PAGE_SHIFT;
      let list = this.pages.get(page);
      if (list === undefined) {
        list = [];
        this.pages.set(page, list);
        this.storeWatch.add(page);
      }
      list.push({ table, base, limit, linear });
      // The bytes of this page the table covers (the whole page where the table wraps at 4 GiB).
      const start = base - linear;
      const end = base + limit - linear;
      const lo = start > 0 && start <= 0xfff ? start : 0;
      const hi = end >= 0 && end < 0xfff ? end : 0xfff;
      const span = this.spans.get(page);
      this.spans.set(page, span === undefined ? lo | (hi << 12) : Math.min(span & 0xfff, lo) | (Math.max(span >>> 12, hi) << 12));
    }
  }

  private unwatch(): void {
    this.storeWatch.clear();
    this.pages.clear();
    this.spans.clear();
  }

  /**
   * A store touched a watched page. Each byte is placed by its own page's mappings (a store may straddle into a
   * table from a page that holds none); each table entry it touched is reported once, with every byte it replaced.
   */
  private onStore(addr: number, size: number, oldValue: number): void {
    const off = addr & 0xfff;
    if (off + size <= 0x1000) {
      // Within one page: nothing to do unless the store touches the bytes a table covers there.
      const span = this.spans.get(addr >>> PAGE_SHIFT);
      if (span === undefined || off + size - 1 < (span & 0xfff) || off > span >>> 12) return;
    }
    // By table: a table's pages are separate entries of `pages`, and a store may touch two of them.
    let hits: Map<TableName, { w: WatchedPage; first: number; last: number; replaced: ReplacedByte[] }> | null = null;
    for (let k = 0; k < size; k++) {
      const at = addr + k;
      for (const w of this.pages.get(at >>> PAGE_SHIFT) ?? []) {
        const linear = (w.linear + (at & 0xfff)) >>> 0;
        const off = (linear - w.base) >>> 0; // unsigned: a table may wrap at 4 GiB
        if (off > w.limit) continue;
        hits ??= new Map();
        let h = hits.get(w.table);
        if (h === undefined) {
          h = { w, first: off, last: off, replaced: [] };
          hits.set(w.table, h);
        }
        h.first = Math.min(h.first, off);
        h.last = Math.max(h.last, off);
        h.replaced.push([linear, oldByte(oldValue, k)]);
      }
    }
    if (hits === null) return;
    const cpu = this.cpu;
    let reportedTable = false;
    // The GDT and LDT first: a store the IDT's range also covers is reported for them (see below).
    const ordered = [...hits.values()].sort((a, b) => (a.w.table === 'IDT' ? 1 : 0) - (b.w.table === 'IDT' ? 1 : 0));
    for (const h of ordered) {
      const w = h.w;
      // Where the IDT's limit also spans a GDT or LDT (the IDTR of reset covers the first 64 KiB), the store is
      // reported once, for the segment descriptor table.
      if (!cpu.events.active[EV_DESCRIPTOR_WRITE] || (w.table === 'IDT' && reportedTable)) continue;
      if (w.table !== 'IDT') reportedTable = true;
      for (let index = h.first >> 3; index <= h.last >> 3; index++) {
        const entry = (w.base + index * 8) >>> 0;
        const after = this.readEntry(entry);
        const before = descriptorBefore(after, entry, h.replaced);
        cpu.events.emit(EV_DESCRIPTOR_WRITE, {
          table: w.table,
          index,
          oldValue: before,
          newValue: after,
          cs: cpu.segSel[CS],
          eip: cpu.instrStart,
        });
      }
    }
    this.recheck('descriptor-write');
  }

  private readEntry(linear: number): [number, number] {
    const out: [number, number] = [0, 0];
    for (let w = 0; w < 2; w++) {
      let v = 0;
      for (let k = 3; k >= 0; k--) {
        const phys = peekTranslate(this.cpu, linear + 4 * w + k);
        v = v * 256 + (phys < 0 ? 0 : this.cpu.mem.peek(phys, 1));
      }
      out[w] = v >>> 0;
    }
    return out;
  }
}

const trackers = new WeakMap<Cpu, ConsistencyTracker>();

/** Called by the CPU whenever its event listeners change: starts or stops tracking. */
export function consistencyListenersChanged(cpu: Cpu): void {
  const a = cpu.events.active;
  // A monitor running the guest deprivileged reports these events itself, from the guest's view of the tables.
  const owned = cpu.monitor !== null && cpu.monitor.ownsConsistency;
  const wanted = !owned && (a[EV_DESCRIPTOR_WRITE] !== 0 || a[EV_CACHE_INCONSISTENT] !== 0 || a[EV_CACHE_CONSISTENT] !== 0);
  const tracker = trackers.get(cpu);
  if (wanted && tracker === undefined) {
    const t = new ConsistencyTracker(cpu);
    trackers.set(cpu, t);
    t.start();
  } else if (!wanted && tracker !== undefined) {
    trackers.delete(cpu);
    tracker.stop();
  }
}

/** What a machine snapshot keeps of the tracker: the last reported consistency of each register (undefined: none). */
export function saveConsistencyTracking(cpu: Cpu): string[] | undefined {
  return trackers.get(cpu)?.saveState();
}

/** Puts back what saveConsistencyTracking kept, after the CPU's fields (a restored run reports what a first run did). */
export function restoreConsistencyTracking(cpu: Cpu, saved: string[] | undefined): void {
  trackers.get(cpu)?.restoreState(saved);
}

/** LGDT, LIDT, LLDT and task switches call this: the watched tables follow GDTR, IDTR and LDTR. */
export function tableRegistersChanged(cpu: Cpu, cause: string): void {
  trackers.get(cpu)?.tablesChanged(cause);
}
