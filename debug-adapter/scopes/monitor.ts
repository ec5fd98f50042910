// The Monitor scope: on/off, the monitor's state, SBE and the reason for it, per-register consistency as the
// monitor tracks it, trap counters and the last return sequences (interfaces.md). Without a monitor it says why.

import type { Cpu } from '../../engine/cpu/cpu';
import { SEGMENT_NAMES } from '../../engine/cpu/cpu';
import { inspectSegment, SEGMENT_ORDER } from '../../engine/cpu/inspect';
import type { Monitor } from '../../engine/monitor/monitor';
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
    const c = m.counters;
    const time = m.sbeTime();
    return [
      { name: 'on', value: 'true', readOnly: true },
      { name: 'state', value: m.state === 'direct' ? 'direct (guest runs deprivileged on the virtual GDT)' : `emulated (${m.emulatedBecause ?? 'no reason recorded'})`, readOnly: true },
      { name: 'SBE', value: `${m.sbeOn ? 'on' : 'off'} (mode ${m.sbeMode})`, readOnly: true },
      { name: 'SBE reason', value: m.sbeCondition, readOnly: true },
      { name: 'SBE time', value: `on ${time.on} / off ${time.off} instructions`, readOnly: true },
      {
        name: 'consistency',
        value: 'as the monitor tracks it',
        child: new RowList(() =>
          SEGMENT_ORDER.map((reg) => ({ name: SEGMENT_NAMES[reg], value: m.consistency[reg] || '(not tracked yet)', readOnly: true })),
        ),
      },
      {
        name: 'traps',
        value: String(c.totalTraps),
        child: new RowList(() => [...m.counters.traps.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => ({ name: reason, value: String(n), readOnly: true }))),
      },
      { name: 'returns', value: `${c.returnsConsistent} consistent, ${c.returnsInconsistent} inconsistent`, readOnly: true },
      {
        name: 'last returns',
        value: m.returns.length ? `${m.returns.length} recorded` : 'none yet',
        child: new RowList(() =>
          m.returns.slice(-16).reverse().map((r, k) => ({
            name: `[${k}]`,
            value: `${r.path}${r.written.length ? `, wrote ${r.written.join(' ')}` : ''}${r.marked.length ? `, marked ${r.marked.join(' ')}` : ''} at instruction ${r.icount}`,
            readOnly: true,
          })),
        ),
      },
      { name: 'engagements', value: `${c.engagements} engaged, ${c.disengagements} disengaged`, readOnly: true },
      { name: 'panics', value: m.lastPanic ? `${c.panics} (last: ${m.lastPanic})` : String(c.panics), readOnly: true },
    ];
  }
}
