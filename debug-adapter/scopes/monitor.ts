// The Monitor scope: on/off, SBE state and its reason, per-register consistency, trap counters (interfaces.md).
// The monitor (engine/monitor) is not part of this build yet: the scope says so and shows the consistency the
// debugger computes itself (inspect.ts), which is what the monitor's tracking must agree with on a bare run.

import type { Cpu } from '../../engine/cpu/cpu';
import { inspectSegment, SEGMENT_ORDER } from '../../engine/cpu/inspect';
import { Container, RowList, type Row } from './variable-store';

export class MonitorScope extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly note: string,
  ) {
    super();
  }

  children(): Row[] {
    return [
      { name: 'on', value: 'false', readOnly: true },
      { name: 'reason', value: this.note, readOnly: true },
      { name: 'SBE', value: 'n/a (no monitor)', readOnly: true },
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
      { name: 'traps', value: '0 (no monitor)', readOnly: true },
    ];
  }
}
