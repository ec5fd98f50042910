// The monitor's virtual GDT (and LDT) beside the guest's (interfaces.md: `Virtual GDT`, and each segment
// register's `virtual entry`): the descriptors the CPU really uses while the guest runs deprivileged, with the
// slots the last inconsistent return wrote a cache into or marked inaccessible. They live in the monitor's hidden
// region, which the guest (and so a memoryReference) cannot reach; they come from the monitor's read-only
// snapshot (engine/monitor/inspect.ts) and are decoded like every other descriptor here.

import { decodeDescriptor } from '../../engine/cpu/protect/descriptor';
import { descriptorView, type DescriptorView } from '../../engine/cpu/inspect';
import { monitorSnapshot, type MonitorSnapshot, type VirtualEntryView } from '../../engine/monitor/inspect';
import type { Monitor } from '../../engine/monitor/monitor';
import { descriptorSummary } from './descriptor-rows';
import { Container, type Row } from './variable-store';

export interface VirtualEntry {
  view: DescriptorView;
  /** Holds a register's cache written by the inconsistent return sequence. */
  written: boolean;
  /** Made inaccessible after the return sequence (a reload traps into the monitor). */
  marked: boolean;
  /** The monitor's own entries past the guest's GDT. */
  monitorEntry?: string;
}

function fromSnapshot(e: VirtualEntryView): VirtualEntry {
  return { view: descriptorView(decodeDescriptor(e.virtual.lo, e.virtual.hi), e.index, 0), written: e.written, marked: e.marked, monitorEntry: e.monitorEntry };
}

/** The virtual GDT entries now (empty while the monitor runs the guest emulated). */
export function virtualGdt(snapshot: MonitorSnapshot): VirtualEntry[] {
  return snapshot.virtualGdt.map(fromSnapshot);
}

/** The virtual entry a selector names now, or null while the monitor does not run the guest deprivileged. */
export function virtualEntryFor(m: Monitor | MonitorSnapshot, selector: number): VirtualEntry | null {
  const s = 'virtualGdt' in m ? m : monitorSnapshot(m);
  const list = (selector & 4) !== 0 ? s.virtualLdt : s.virtualGdt;
  const e = list[selector >>> 3];
  return e ? fromSnapshot(e) : null;
}

export function virtualEntryText(e: VirtualEntry): string {
  const notes = [e.marked ? 'marked inaccessible' : '', e.written && !e.marked ? 'holds a register cache' : '', e.monitorEntry ? `monitor ${e.monitorEntry}` : ''].filter((x) => x);
  return `${descriptorSummary(e.view)}${notes.length ? ` [${notes.join(', ')}]` : ''}`;
}

export class VirtualGdtContainer extends Container {
  constructor(private readonly monitor: Monitor) {
    super();
  }

  children(start = 0, count = Infinity): Row[] {
    return virtualGdt(monitorSnapshot(this.monitor))
      .slice(Math.max(0, start), count === Infinity ? undefined : start + count)
      .map((e) => ({ name: `[${e.view.index}]`, value: virtualEntryText(e), readOnly: true }));
  }
}
