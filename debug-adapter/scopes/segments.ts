// The Segments scope: CS, SS, DS, ES, FS, GS, LDTR, TR, each `0xSSSS` with its selector fields, hidden cache, the
// table entry the selector names now, whether the two agree, and which fields differ (interfaces.md).

import type { Cpu } from '../../engine/cpu/cpu';
import { inspectSegment, SEGMENT_ORDER } from '../../engine/cpu/inspect';
import { CACHE_FIELDS, setCacheField, setSelector, type CacheField } from '../../engine/cpu/debug-edit';
import { cacheRows, DescriptorContainer, descriptorSummary } from './descriptor-rows';
import { Container, hex4, hex8, parseTypedNumber, RowList, type GuestEdit, type Row } from './variable-store';
import type { Monitor } from '../../engine/monitor/monitor';
import { virtualEntryFor, virtualEntryText } from './virtual-gdt';

export class SegmentsScope extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly monitor: Monitor | null,
  ) {
    super();
  }

  children(): Row[] {
    return SEGMENT_ORDER.map((reg) => {
      const s = inspectSegment(this.cpu, reg);
      // The value is the selector alone (interfaces.md: "each is 0xSSSS"); the state goes in the type, which
      // clients show on hover, and in the children.
      const state = s.consistent ? 'consistent' : `inconsistent: ${s.differs.join(', ')}`;
      return {
        name: s.name,
        value: hex4(s.selector),
        type: `segment register, ${state}${s.unreal ? ', unreal' : ''}`,
        evaluateName: s.name.toLowerCase(),
        dataId: `seg:${reg}`,
        child: new SegmentContainer(this.cpu, reg, this.monitor),
      };
    });
  }

  override edit(name: string, value: string): GuestEdit {
    const reg = SEGMENT_ORDER.find((r) => inspectSegment(this.cpu, r).name === name);
    if (reg === undefined) return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => setSelector(cpu, reg, v);
  }
}

export class SegmentContainer extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly reg: number,
    private readonly monitor: Monitor | null,
  ) {
    super();
  }

  children(): Row[] {
    const s = inspectSegment(this.cpu, this.reg);
    const ev = s.name.toLowerCase();
    const rows: Row[] = [
      { name: 'selector', value: hex4(s.selector), evaluateName: `${ev}.selector` },
      { name: 'index', value: String(s.index), readOnly: true },
      { name: 'ti', value: `${s.ti} (${s.ti ? 'LDT' : 'GDT'})`, readOnly: true },
      { name: 'rpl', value: String(s.rpl), readOnly: true },
      {
        name: 'cache',
        value: s.cache.usable ? `base=${hex8(s.cache.base)} limit=${hex8(s.cache.limit)} ${s.cache.description}` : 'unusable',
        child: new CacheContainer(this.cpu, this.reg),
      },
      s.tableEntry
        ? { name: 'table entry', value: descriptorSummary(s.tableEntry), memoryReference: hex8(s.tableEntry.address), child: new DescriptorContainer(this.cpu, s.ti ? 'LDT' : 'GDT', s.tableEntry) }
        : { name: 'table entry', value: this.cpu.mode === 'protected' ? 'none (null selector, beyond the table limit or unmapped)' : `none (${this.cpu.mode} mode: base = selector × 16)`, readOnly: true },
      { name: 'consistent', value: s.consistent ? 'true' : 'false', readOnly: true },
      { name: 'differs', value: s.differs.length ? s.differs.join(', ') : '(none)', readOnly: true },
    ];
    if (s.unreal) rows.push({ name: 'unreal', value: 'true (real mode with a limit other than 0xFFFF)', readOnly: true });
    if (this.monitor) {
      const v = virtualEntryFor(this.monitor, s.selector);
      rows.push({ name: 'virtual entry', value: v ? virtualEntryText(v) : `none: the guest runs emulated (${this.monitor.emulatedBecause ?? ''})`, readOnly: true });
    }
    return rows;
  }

  override edit(name: string, value: string): GuestEdit {
    if (name !== 'selector') return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => setSelector(cpu, this.reg, v);
  }
}

/** A hidden cache; writing a field reloads the cache with it (cause "debugger"). */
export class CacheContainer extends Container {
  constructor(
    private readonly cpu: Cpu,
    private readonly reg: number,
  ) {
    super();
  }

  children(): Row[] {
    const s = inspectSegment(this.cpu, this.reg);
    return cacheRows(s.cache, s.name.toLowerCase());
  }

  override edit(name: string, value: string): GuestEdit {
    if (!(CACHE_FIELDS as readonly string[]).includes(name)) return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => setCacheField(cpu, this.reg, name as CacheField, v);
  }
}

export { RowList };
