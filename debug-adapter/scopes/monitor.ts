// The Monitor scope: on/off, the monitor's state, SBE and the reason for it, per-register consistency as the
// monitor tracks it, trap counters and the last return sequences (interfaces.md). Without a monitor it says why.

import type { Cpu } from '../../engine/cpu/cpu';
import { inspectSegment, SEGMENT_ORDER } from '../../engine/cpu/inspect';
import type { Monitor } from '../../engine/monitor/monitor';
import { monitorSnapshot } from '../../engine/monitor/inspect';
import { Container, RowList, type Row } from './variable-store';

export class MonitorScope extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly monitor: Monitor | null,
    private readonly note: string,
  ) {
    super();
  }

  children(): Row[] {
    const m = this.monitor;
    if (!m) {
      return [
        { name: 'on', value: 'false', readOnly: true },
        { name: 'reason', value: this.note, readOnly: true },
        {
          name: 'consistency',
          value: 'computed by the debugger from the guest tables',
          child: new RowList(() =>
            SEGMENT_ORDER.map((reg) => {
              const s = inspectSegment(this.cpu, reg);
              return { name: s.name, value: s.consistent ? 'consistent' : `inconsistent (${s.differs.join(', ')})`, readOnly: true };
            }),
          ),
        },
      ];
    }
    const snap = monitorSnapshot(m);
    const last = snap.returns.last;
    return [
      { name: 'on', value: 'true', readOnly: true },
      { name: 'state', value: snap.state === 'direct' ? 'direct (guest runs deprivileged on the virtual GDT)' : `emulated (${snap.emulatedBecause ?? 'no reason recorded'})`, readOnly: true },
      { name: 'SBE', value: `${snap.sbe.on ? 'on' : 'off'} (mode ${snap.sbe.mode}, ${snap.sbe.changes} changes)`, readOnly: true },
      { name: 'SBE reason', value: snap.sbe.condition, readOnly: true },
      { name: 'SBE time', value: `on ${snap.sbe.onInstructions} / off ${snap.sbe.offInstructions} instructions`, readOnly: true },
      {
        name: 'consistency',
        value: 'as the monitor tracks it',
        child: new RowList(() =>
          monitorSnapshot(m).registers.map((r) => ({ name: r.name, value: r.consistent ? 'consistent' : r.differs.length ? `inconsistent (${r.differs.join(', ')})` : '(not tracked yet)', readOnly: true })),
        ),
      },
      {
        name: 'traps',
        value: String(snap.totalTraps),
        child: new RowList(() => Object.entries(monitorSnapshot(m).traps).sort((x, y) => y[1] - x[1]).map(([reason, n]) => ({ name: reason, value: String(n), readOnly: true }))),
      },
      { name: 'returns', value: `${snap.returns.consistent} consistent, ${snap.returns.inconsistent} inconsistent`, readOnly: true },
      {
        name: 'last return',
        value: last ? `${last.path}${last.written.length ? `, wrote ${last.written.join(' ')}` : ''}${last.marked.length ? `, marked ${last.marked.join(' ')}` : ''}` : 'none yet',
        readOnly: true,
      },
      { name: 'marked entries', value: snap.markedEntries.length ? snap.markedEntries.join(' ') : '(none)', readOnly: true },
      {
        name: 'shadow paging',
        value: snap.shadowPaging.active
          ? `${snap.shadowPaging.mappedPages} pages mapped, window at 0x${(snap.shadowPaging.window ?? 0).toString(16).padStart(8, '0')}`
          : 'not in use',
        child: new RowList(() => {
          const sp = monitorSnapshot(m).shadowPaging;
          return (['fills', 'drops', 'flushes', 'relocations'] as const).map((k) => ({ name: k, value: String(sp[k]), readOnly: true }));
        }),
      },
      { name: 'engagements', value: String(snap.engagements), readOnly: true },
      { name: 'panics', value: snap.lastPanic ? `${snap.panics} (last: ${snap.lastPanic})` : String(snap.panics), readOnly: true },
    ];
  }
}
