// The monitor's virtual GDT beside the guest's (interfaces.md: `Virtual GDT`, and each segment register's
// `virtual entry`): the descriptors the CPU really uses while the guest runs deprivileged, with the slots the
// last inconsistent return wrote a cache into or marked inaccessible. They live in the monitor's hidden region,
// which the guest (and so a memoryReference) cannot reach; they are read through the monitor's tables.

import { decodeDescriptor } from '../../engine/cpu/protect/descriptor';
import { descriptorView, type DescriptorView } from '../../engine/cpu/inspect';
import { slotOf } from '../../engine/monitor/virtual-tables';
import { MON_ENTRIES } from '../../engine/monitor/layout';
import type { Monitor } from '../../engine/monitor/monitor';
import { descriptorSummary } from './descriptor-rows';
import { Container, type Row } from './variable-store';

export interface VirtualEntry {
  view: DescriptorView;
  /** Holds a register's cache written by the inconsistent return sequence. */
  dirty: boolean;
  /** Made inaccessible after the return sequence (a reload traps into the monitor). */
  marked: boolean;
}

function entryAt(m: Monitor, slot: number): VirtualEntry {
  const [lo, hi] = m.tables.readSlot(slot);
  return { view: descriptorView(decodeDescriptor(lo, hi), slot & 0xffff, 0), dirty: m.tables.dirty.has(slot), marked: m.tables.marked.has(slot) };
}

/** The virtual entry a selector names now, or null while the monitor does not run the guest deprivileged. */
export function virtualEntryFor(m: Monitor, selector: number): VirtualEntry | null {
  if (m.state !== 'direct') return null;
  return entryAt(m, slotOf(selector));
}

export function virtualEntryText(e: VirtualEntry): string {
  const notes = [e.marked ? 'marked inaccessible' : '', e.dirty && !e.marked ? 'holds a register cache' : ''].filter((x) => x);
  return `${descriptorSummary(e.view)}${notes.length ? ` [${notes.join(', ')}]` : ''}`;
}

/** Number of virtual GDT slots worth showing: the guest's entries and the monitor's own just past them. */
export function virtualGdtSize(m: Monitor): number {
  return m.state === 'direct' ? m.tables.monitorIndex + MON_ENTRIES : 0;
}

export class VirtualGdtContainer extends Container {
  constructor(private readonly monitor: Monitor) {
    super();
  }

  children(start = 0, count = Infinity): Row[] {
    const n = virtualGdtSize(this.monitor);
    const rows: Row[] = [];
    for (let i = Math.max(0, start); i < Math.min(n, start + count); i++) {
      const e = entryAt(this.monitor, i);
      const own = i >= this.monitor.tables.monitorIndex ? ' (monitor)' : '';
      rows.push({ name: `[${i}]`, value: virtualEntryText(e) + own, readOnly: true });
    }
    return rows;
  }
}
