// The Control scope: CR0 with its bits decoded, CR2, CR3, CR4, GDTR, IDTR, CPL, mode and A20 (interfaces.md).

import type { Cpu } from '../../engine/cpu/cpu';
import { inspectCpu, inspectCr0 } from '../../engine/cpu/inspect';
import { setControlRegister } from '../../engine/cpu/debug-edit';
import { TableRegisterContainer } from './descriptor-tables';
import { Container, hex4, hex8, parseTypedNumber, RowList, type GuestEdit, type Row } from './variable-store';

const CR0_BITS = ['pe', 'mp', 'em', 'ts', 'et', 'ne', 'wp', 'am', 'nw', 'cd', 'pg'] as const;

export class ControlScope extends Container {
  /**
   * @param instructions guest time since launch (the moment `ringside/goto` takes)
   * @param reach how far reverse execution's record reaches, or null when it is off
   */
  constructor(
    private readonly cpu: Cpu,
    private readonly instructions: () => number = () => 0,
    private readonly reach: () => { earliest: number; furthest: number } | null = () => null,
  ) {
    super();
  }

  children(): Row[] {
    const s = inspectCpu(this.cpu);
    const set = CR0_BITS.filter((b) => s.cr0[b]).map((b) => b.toUpperCase());
    return [
      {
        name: 'CR0',
        value: `${hex8(s.cr0.value)} [${set.join(' ')}]`,
        evaluateName: 'cr0',
        dataId: 'reg:cr0',
        child: new RowList(() => {
          const c = inspectCr0(this.cpu.cr0) as unknown as Record<string, boolean>;
          return CR0_BITS.map((b) => ({ name: b.toUpperCase(), value: c[b] ? '1' : '0', readOnly: true }));
        }),
      },
      { name: 'CR2', value: hex8(s.cr2), evaluateName: 'cr2' },
      { name: 'CR3', value: hex8(s.cr3), evaluateName: 'cr3' },
      { name: 'CR4', value: hex8(s.cr4), evaluateName: 'cr4' },
      { name: 'GDTR', value: `base=${hex8(s.gdtr.base)} limit=${hex4(s.gdtr.limit)}`, evaluateName: 'gdtr', child: new TableRegisterContainer(this.cpu, 'gdtr') },
      { name: 'IDTR', value: `base=${hex8(s.idtr.base)} limit=${hex4(s.idtr.limit)}`, evaluateName: 'idtr', child: new TableRegisterContainer(this.cpu, 'idtr') },
      { name: 'CPL', value: String(s.cpl), evaluateName: 'cpl', readOnly: true },
      { name: 'mode', value: s.mode, evaluateName: 'mode', readOnly: true },
      { name: 'A20', value: s.a20 ? 'enabled' : 'disabled', evaluateName: 'a20', readOnly: true },
      { name: 'instructions', value: String(this.instructions()), readOnly: true },
      this.reverseRow(),
    ];
  }

  /** How far Step Back and Reverse Continue can go (the record's cap may have dropped the oldest history). */
  private reverseRow(): Row {
    const r = this.reach();
    if (r === null) return { name: 'reverse', value: 'off', readOnly: true };
    return { name: 'reverse', value: `reaches back to ${r.earliest} instructions (the run has reached ${r.furthest})`, readOnly: true };
  }

  override edit(name: string, value: string): GuestEdit {
    const n = ({ CR0: 0, CR2: 2, CR3: 3, CR4: 4 } as const)[name as 'CR0'];
    if (n === undefined) return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => setControlRegister(cpu, n, v);
  }
}
