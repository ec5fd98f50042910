// The body of Ringside's `ringside/segmentMap` request (protocol-types.ts): the segment registers with their caches
// and table entries, GDTR and the GDT, and under the monitor each register's virtual entry and the virtual GDT.

import type { Cpu } from '../engine/cpu/cpu';
import { inspectSegment, inspectTable, SEGMENT_ORDER } from '../engine/cpu/inspect';
import type { Monitor } from '../engine/monitor/monitor';
import type { SegmentFields, SegmentMapResponseBody, SegmentRegisterName, SegmentRegisterView } from './protocol-types';
import { virtualEntryFor, virtualGdt } from './scopes/virtual-gdt';
import { monitorSnapshot } from '../engine/monitor/inspect';

/** A decoded cache or descriptor (inspect.ts) has these fields; `usable` is decided by the caller. */
type DecodedFields = Omit<SegmentFields, 'usable'>;

function fields(x: DecodedFields, usable: boolean): SegmentFields {
  return { base: x.base, limit: x.limit, type: x.type, s: x.s, dpl: x.dpl, p: x.p, db: x.db, g: x.g, avl: x.avl, usable };
}

/** `cpu` is what the views show (the guest's view under the monitor). */
export function buildSegmentMap(cpu: Cpu, monitor: Monitor | null): SegmentMapResponseBody {
  const snapshot = monitor ? monitorSnapshot(monitor) : null;
  const registers: SegmentRegisterView[] = SEGMENT_ORDER.map((reg) => {
    const s = inspectSegment(cpu, reg);
    const view: SegmentRegisterView = {
      name: s.name as SegmentRegisterName,
      selector: s.selector,
      cache: fields(s.cache, s.cache.usable),
      tableEntry: s.tableEntry ? fields(s.tableEntry, s.tableEntry.p) : null,
      consistent: s.consistent,
      differs: s.differs,
    };
    if (snapshot) {
      const v = virtualEntryFor(snapshot, s.selector);
      view.virtualEntry = v ? fields(v.view, v.view.p) : null;
    }
    return view;
  });
  const gdt = inspectTable(cpu, 'GDT', 0, 8192).map((d) => ({ index: d.index, raw: [d.lo, d.hi] as [number, number], fields: fields(d, d.p) }));
  const body: SegmentMapResponseBody = { mode: cpu.mode, cpl: cpu.cpl, monitor: monitor !== null, registers, gdtr: { base: cpu.gdtrBase >>> 0, limit: cpu.gdtrLimit }, gdt };
  if (snapshot) {
    body.virtualGdt = virtualGdt(snapshot).map((v) => ({ index: v.view.index, raw: [v.view.lo, v.view.hi] as [number, number], fields: fields(v.view, v.view.p) }));
  }
  return body;
}
