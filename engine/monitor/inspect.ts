// A read-only picture of the monitor for the debugger's Monitor scope and the CLI (interfaces.md "Monitor"):
// state and why, SBE and its condition, per-register guest view and consistency, trap counters, return sequences,
// and the virtual GDT decoded beside the guest's, with the entries marked inaccessible or holding a register's cache.

import { SEGMENT_NAMES } from '../cpu/cpu';
import { decodeDescriptor, describeType } from '../cpu/protect/descriptor';
import { MON_ENTRIES } from './layout';
import type { Monitor, ReturnRecord, SbeMode } from './monitor';
import { LDT_SLOT } from './virtual-tables';

export interface DescriptorView {
  lo: number;
  hi: number;
  kind: string;
  base: number;
  limit: number;
  dpl: number;
  present: boolean;
}

export interface VirtualEntryView {
  table: 'GDT' | 'LDT';
  index: number;
  /** The guest's descriptor at this index (null past the guest's limit: the monitor's own entries). */
  guest: DescriptorView | null;
  virtual: DescriptorView;
  /** What the monitor's own entries are for. */
  monitorEntry?: 'code' | 'stack' | 'tss';
  /** Marked not present by the last inconsistent return (reloads trap). */
  marked: boolean;
  /** Holds something other than the virtualized guest entry (a register's cache). */
  written: boolean;
}

export interface RegisterView {
  name: string;
  selector: number;
  base: number;
  limit: number;
  ar: number;
  usable: boolean;
  consistent: boolean;
  differs: string[];
}

export interface MonitorSnapshot {
  state: 'emulated' | 'direct';
  emulatedBecause: string | null;
  sbe: { mode: SbeMode; on: boolean; condition: string; onInstructions: number; offInstructions: number; changes: number };
  guestCpl: number;
  registers: RegisterView[];
  traps: Record<string, number>;
  totalTraps: number;
  returns: { consistent: number; inconsistent: number; last: ReturnRecord | null };
  virtualGdt: VirtualEntryView[];
  virtualLdt: VirtualEntryView[];
  markedEntries: string[];
  watchedPages: number[];
  /** Shadow paging (shadow-paging.ts): in use while the guest pages and runs deprivileged. */
  shadowPaging: { active: boolean; window: number | null; mappedPages: number; fills: number; drops: number; flushes: number; relocations: number };
  engagements: number;
  panics: number;
  lastPanic: string | null;
}

export interface MonitorSummary {
  traps: Record<string, number>;
  totalTraps: number;
  /** Sensitive instructions completed in place, without a monitor entry (in-place.ts), by handler. */
  inPlace: Record<string, number>;
  returnsConsistent: number;
  returnsInconsistent: number;
  /** Entries without the real delivery and consistent returns without the real sequence (monitor.ts shortcuts). */
  directEntries: number;
  directReturns: number;
  sbeOnInstructions: number;
  sbeOffInstructions: number;
  sbeChanges: number;
  state: string;
}

function view(lo: number, hi: number): DescriptorView {
  const d = decodeDescriptor(lo, hi);
  return { lo: lo >>> 0, hi: hi >>> 0, kind: describeType(d), base: d.base >>> 0, limit: d.limit >>> 0, dpl: d.dpl, present: d.p };
}

export function monitorSnapshot(monitor: Monitor): MonitorSnapshot {
  const t = monitor.tables;
  const direct = monitor.state === 'direct';
  const entries = (ldt: boolean): VirtualEntryView[] => {
    if (!direct) return [];
    const out: VirtualEntryView[] = [];
    const count = ldt ? (t.ldtLimit >= 0 ? (t.ldtLimit + 1) >>> 3 : 0) : t.monitorIndex + MON_ENTRIES;
    for (let index = 0; index < count; index++) {
      const slot = index | (ldt ? LDT_SLOT : 0);
      const [lo, hi] = t.readSlot(slot);
      const guest = t.guestEntry(slot);
      const e: VirtualEntryView = {
        table: ldt ? 'LDT' : 'GDT',
        index,
        guest: guest === null ? null : view(guest[0], guest[1]),
        virtual: view(lo, hi),
        marked: t.marked.has(slot),
        written: t.dirty.has(slot),
      };
      if (!ldt && index >= t.monitorIndex) e.monitorEntry = (['code', 'stack', 'tss'] as const)[index - t.monitorIndex];
      out.push(e);
    }
    return out;
  };
  const g = monitor.currentGuest();
  const registers: RegisterView[] = [];
  for (let s = 0; s < 8; s++) {
    const c = monitor.consistency[s];
    registers.push({
      name: SEGMENT_NAMES[s],
      selector: g.sel[s],
      base: g.base[s] >>> 0,
      limit: g.limit[s],
      ar: g.ar[s],
      usable: g.valid[s] !== 0,
      consistent: c === 'consistent',
      differs: c === 'consistent' || c === '' ? [] : c.split(','),
    });
  }
  const time = monitor.sbeTime();
  const virtualGdt = entries(false);
  const virtualLdt = entries(true);
  return {
    state: monitor.state,
    emulatedBecause: monitor.emulatedBecause,
    sbe: { mode: monitor.sbeMode, on: monitor.sbeOn, condition: monitor.sbeCondition, onInstructions: time.on, offInstructions: time.off, changes: monitor.counters.sbeChanges },
    guestCpl: g.cpl,
    registers,
    traps: Object.fromEntries(monitor.counters.traps),
    totalTraps: monitor.counters.totalTraps,
    returns: {
      consistent: monitor.counters.returnsConsistent,
      inconsistent: monitor.counters.returnsInconsistent,
      last: monitor.lastReturn,
    },
    virtualGdt,
    virtualLdt,
    markedEntries: [...virtualGdt, ...virtualLdt].filter((e) => e.marked).map((e) => `${e.table}[${e.index}]`),
    watchedPages: monitor.watchedPages,
    shadowPaging: {
      active: monitor.state === 'direct' && (g.cr0 & 0x80000000) !== 0,
      window: monitor.shadow.windowSlot < 0 ? null : monitor.shadow.windowLinear,
      mappedPages: monitor.shadow.mappings().length,
      ...monitor.shadow.counters,
    },
    engagements: monitor.counters.engagements,
    panics: monitor.counters.panics,
    lastPanic: monitor.lastPanic,
  };
}

export function monitorSummary(monitor: Monitor): MonitorSummary {
  const time = monitor.sbeTime();
  return {
    traps: Object.fromEntries(monitor.counters.traps),
    totalTraps: monitor.counters.totalTraps,
    inPlace: Object.fromEntries(monitor.counters.inPlace),
    returnsConsistent: monitor.counters.returnsConsistent,
    returnsInconsistent: monitor.counters.returnsInconsistent,
    directEntries: monitor.counters.directEntries,
    directReturns: monitor.counters.directReturns,
    sbeOnInstructions: time.on,
    sbeOffInstructions: time.off,
    sbeChanges: monitor.counters.sbeChanges,
    state: monitor.state,
  };
}
