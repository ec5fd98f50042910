// Rows of a decoded descriptor or hidden cache, shared by the Segments and Descriptor Tables scopes so that a
// cache and a table entry read the same way (interfaces.md: `table entry` is "decoded the same way").

import type { Cpu } from '../../engine/cpu/cpu';
import type { DecodedCache, DescriptorView } from '../../engine/cpu/inspect';
import { inspectTable, type TableName } from '../../engine/cpu/inspect';
import { DESCRIPTOR_FIELDS, setDescriptorField, type DescriptorField } from '../../engine/cpu/debug-edit';
import { Container, hex4, hex8, parseTypedNumber, type GuestEdit, type Row } from './variable-store';

const bool = (b: boolean): string => (b ? 'true' : 'false');

export function cacheRows(c: DecodedCache, evaluateBase?: string): Row[] {
  const e = (f: string): string | undefined => (evaluateBase ? `${evaluateBase}.${f}` : undefined);
  return [
    { name: 'base', value: hex8(c.base), evaluateName: e('base') },
    { name: 'limit', value: hex8(c.limit), evaluateName: e('limit') },
    { name: 'type', value: `${hex4(c.type).replace('0x000', '0x')} (${c.description})`, evaluateName: e('type') },
    { name: 's', value: bool(c.s), evaluateName: e('s') },
    { name: 'dpl', value: String(c.dpl), evaluateName: e('dpl') },
    { name: 'p', value: bool(c.p), evaluateName: e('p') },
    { name: 'db', value: bool(c.db), evaluateName: e('db') },
    { name: 'g', value: bool(c.g), evaluateName: e('g') },
    { name: 'avl', value: bool(c.avl), evaluateName: e('avl') },
    { name: 'usable', value: bool(c.usable), evaluateName: e('usable') },
  ];
}

/** One-line value of a descriptor row. */
export function descriptorSummary(d: DescriptorView): string {
  if (d.kind === 'call-gate' || d.kind === 'interrupt-gate' || d.kind === 'trap-gate') {
    return `${d.description} ${hex4(d.selector)}:${hex8(d.offset)} dpl=${d.dpl}${d.p ? '' : ' not-present'}`;
  }
  if (d.kind === 'task-gate') return `${d.description} tss=${hex4(d.selector)} dpl=${d.dpl}${d.p ? '' : ' not-present'}`;
  if (d.lo === 0 && d.hi === 0) return 'null descriptor';
  return `${d.description} base=${hex8(d.base)} limit=${hex8(d.limit)} dpl=${d.dpl}${d.p ? '' : ' not-present'}`;
}

/** A descriptor in a table, decoded field by field; fields are written back into the table. */
export class DescriptorContainer extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly table: TableName | null,
    private readonly view: DescriptorView,
  ) {
    super();
  }

  private current(): DescriptorView {
    if (this.table === null) return this.view;
    return inspectTable(this.cpu, this.table, this.view.index, 1)[0] ?? this.view;
  }

  children(): Row[] {
    const d = this.current();
    const ev = this.table ? (f: string): string => `${this.table!.toLowerCase()}[${d.index}].${f}` : (): undefined => undefined;
    const rows: Row[] = [{ name: 'raw', value: `${hex8(d.hi)} ${hex8(d.lo)}`, readOnly: true, memoryReference: hex8(d.address) }];
    const gate = d.kind === 'call-gate' || d.kind === 'interrupt-gate' || d.kind === 'trap-gate' || d.kind === 'task-gate';
    rows.push({ name: 'kind', value: d.description, readOnly: true });
    if (gate) {
      rows.push({ name: 'selector', value: hex4(d.selector), evaluateName: ev('selector') });
      if (d.kind !== 'task-gate') rows.push({ name: 'offset', value: hex8(d.offset), evaluateName: ev('offset') });
      if (d.kind === 'call-gate') rows.push({ name: 'paramCount', value: String(d.paramCount), readOnly: true });
    } else {
      rows.push({ name: 'base', value: hex8(d.base), evaluateName: ev('base') });
      rows.push({ name: 'limit', value: hex8(d.limit), evaluateName: ev('limit') });
    }
    rows.push({ name: 'type', value: `0x${d.type.toString(16)}`, evaluateName: ev('type') });
    rows.push({ name: 's', value: bool(d.s), evaluateName: ev('s') });
    rows.push({ name: 'dpl', value: String(d.dpl), evaluateName: ev('dpl') });
    rows.push({ name: 'p', value: bool(d.p), evaluateName: ev('p') });
    if (!gate) {
      rows.push({ name: 'db', value: bool(d.db), evaluateName: ev('db') });
      rows.push({ name: 'g', value: bool(d.g), evaluateName: ev('g') });
      rows.push({ name: 'avl', value: bool(d.avl), evaluateName: ev('avl') });
    }
    return rows;
  }

  override edit(name: string, value: string): GuestEdit {
    if (!(DESCRIPTOR_FIELDS as readonly string[]).includes(name)) return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => setDescriptorField(cpu, this.view.address, name as DescriptorField, v);
  }
}
