// The Descriptor Tables scope: GDT, LDT and IDT as indexed, paged lists of decoded entries, each with a
// memoryReference to its eight bytes, and the TSS that TR names, decoded (interfaces.md). In real mode the IDTR
// describes the interrupt vector table, whose entries are segment:offset pairs.

import { LDTR, type Cpu } from '../../engine/cpu/cpu';
import { inspectIvt, inspectTable, tableBounds, tableEntryCount, type TableName } from '../../engine/cpu/inspect';
import { inspectTss } from '../../engine/cpu/inspect-tss';
import { setTableRegister } from '../../engine/cpu/debug-edit';
import { DescriptorContainer, descriptorSummary } from './descriptor-rows';
import { Container, hex4, hex8, parseTypedNumber, RowList, type GuestEdit, type Row } from './variable-store';
import type { Monitor } from '../../engine/monitor/monitor';
import { VirtualGdtContainer } from './virtual-gdt';
import { monitorSnapshot } from '../../engine/monitor/inspect';

export class DescriptorTablesScope extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly monitor: Monitor | null,
  ) {
    super();
  }

  children(): Row[] {
    const rows: Row[] = (['GDT', 'LDT', 'IDT'] as TableName[]).map((t) => this.tableRow(t));
    const m = this.monitor;
    if (m) {
      const n = monitorSnapshot(m).virtualGdt.length;
      rows.push(
        n > 0
          ? { name: 'Virtual GDT', value: `${n} entries (the guest's, virtualized, then the monitor's)`, indexed: n, child: new VirtualGdtContainer(m) }
          : { name: 'Virtual GDT', value: `not in use: the guest runs emulated (${m.emulatedBecause ?? ''})`, readOnly: true },
      );
    }
    rows.push(this.tssRow());
    return rows;
  }

  private tableRow(table: TableName): Row {
    const b = tableBounds(this.cpu, table);
    if (!b) return { name: table, value: 'none (LDTR is unusable)', readOnly: true };
    // A null LDTR selector names no LDT, whatever its cache held since reset.
    if (table === 'LDT' && (this.cpu.segSel[LDTR] & 0xfffc) === 0) return { name: 'LDT', value: 'none (LDTR holds a null selector)', readOnly: true };
    if (table === 'IDT' && this.cpu.mode === 'real') {
      const n = Math.min(256, Math.floor((b.limit + 1) / 4));
      return { name: 'IDT', value: `IVT base=${hex8(b.base)} limit=${hex4(b.limit)} (${n} vectors)`, indexed: n, child: new IvtContainer(this.cpu), memoryReference: hex8(b.base), evaluateName: 'idt' };
    }
    const n = tableEntryCount(this.cpu, table);
    return {
      name: table,
      value: `base=${hex8(b.base)} limit=${hex4(b.limit)} (${n} entries)`,
      indexed: n,
      child: new TableContainer(this.cpu, table),
      memoryReference: hex8(b.base),
      evaluateName: table.toLowerCase(),
    };
  }

  private tssRow(): Row {
    const t = inspectTss(this.cpu);
    if (!t) return { name: 'TSS', value: 'none (TR holds no task)', readOnly: true };
    return {
      name: 'TSS',
      value: `${t.width}-bit${t.busy ? ' busy' : ''} base=${hex8(t.base)} limit=${hex8(t.limit)}`,
      memoryReference: hex8(t.base),
      child: new RowList(() =>
        (inspectTss(this.cpu)?.fields ?? []).map((f) => ({ name: f.name, value: f.size === 4 ? hex8(f.value) : f.size === 2 ? hex4(f.value) : String(f.value), readOnly: true, memoryReference: hex8(t.base + f.offset) })),
      ),
    };
  }
}

/** One table's entries, `[index]` each, fetched page by page as the client scrolls. */
export class TableContainer extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly table: TableName,
  ) {
    super();
  }

  children(start = 0, count = Infinity): Row[] {
    return inspectTable(this.cpu, this.table, start, count).map((d) => ({
      name: `[${d.index}]`,
      value: descriptorSummary(d),
      memoryReference: hex8(d.address),
      evaluateName: `${this.table.toLowerCase()}[${d.index}]`,
      dataId: `mem:${d.address >>> 0}:8`,
      child: new DescriptorContainer(this.cpu, this.table, d),
    }));
  }
}

export class IvtContainer extends Container {
  constructor(private readonly cpu: Cpu) {
    super();
  }

  children(start = 0, count = 256): Row[] {
    return inspectIvt(this.cpu, start, count).map((v) => ({
      name: `[${v.vector}]`,
      value: `${hex4(v.segment)}:${hex4(v.offset)}`,
      memoryReference: hex8(this.cpu.idtrBase + v.vector * 4),
      dataId: `mem:${(this.cpu.idtrBase + v.vector * 4) >>> 0}:4`,
      readOnly: true,
    }));
  }
}

/** GDTR / IDTR rows of the Control scope (base and limit are writable). */
export class TableRegisterContainer extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly which: 'gdtr' | 'idtr',
  ) {
    super();
  }

  children(): Row[] {
    const base = this.which === 'gdtr' ? this.cpu.gdtrBase : this.cpu.idtrBase;
    const limit = this.which === 'gdtr' ? this.cpu.gdtrLimit : this.cpu.idtrLimit;
    return [
      { name: 'base', value: hex8(base), evaluateName: `${this.which}.base` },
      { name: 'limit', value: hex4(limit), evaluateName: `${this.which}.limit` },
    ];
  }

  override edit(name: string, value: string): GuestEdit {
    if (name !== 'base' && name !== 'limit') return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => setTableRegister(cpu, this.which, name, v);
  }
}
