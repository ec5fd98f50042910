// The names an expression can use while the guest is stopped: general registers in all widths, EIP, EFLAGS and
// each flag, segment registers with their selector and cache fields (`ds.base`), control registers, GDTR/IDTR,
// the descriptor tables (`gdt[2].dpl`), CPL and the mode. Values are read through engine/cpu/inspect.ts and
// memory through protect/peek.ts, so evaluating never changes the guest.

import type { Cpu } from '../../engine/cpu/cpu';
import {
  inspectEflags,
  inspectSegment,
  inspectTable,
  tableBounds,
  type DescriptorView,
  type TableName,
} from '../../engine/cpu/inspect';
import { peekLinear } from '../../engine/cpu/protect/peek';
import { ExpressionError } from './parse';
import { fpuLookup } from './fpu-values';
import { isComposite, toNumber, type Composite, type EvalContext, type Value } from './evaluate';

const GENERAL = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const WORD = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const BYTE = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
/** Segment register names in cpu.ts numbering (ES=0 CS=1 SS=2 DS=3 FS=4 GS=5 LDTR=6 TR=7). */
export const SEGMENT_REGISTERS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'];
const FLAG_NAMES = ['cf', 'pf', 'af', 'zf', 'sf', 'tf', 'if', 'df', 'of', 'nt', 'rf', 'vm', 'ac', 'vif', 'vip', 'id', 'iopl'] as const;

const hex = (v: number, digits = 8): string => '0x' + (v >>> 0).toString(16).padStart(digits, '0');

export function record(name: string, fields: Record<string, Value>, value: number | undefined, display: () => string): Composite {
  return {
    kind: 'composite',
    name,
    value,
    display,
    field: (f) => (Object.prototype.hasOwnProperty.call(fields, f) ? fields[f] : undefined),
    fieldNames: () => Object.keys(fields),
  };
}

export function segmentComposite(cpu: Cpu, reg: number): Composite {
  const s = inspectSegment(cpu, reg);
  const c = s.cache;
  const fields: Record<string, Value> = {
    selector: s.selector,
    index: s.index,
    ti: s.ti,
    rpl: s.rpl,
    base: c.base,
    limit: c.limit,
    type: c.type,
    s: c.s,
    dpl: c.dpl,
    p: c.p,
    db: c.db,
    g: c.g,
    avl: c.avl,
    usable: c.usable,
    consistent: s.consistent,
  };
  return record(s.name, fields, s.selector, () =>
    `${s.name} ${hex(s.selector, 4)} base=${hex(c.base)} limit=${hex(c.limit)} ${c.description} dpl=${c.dpl}${c.usable ? '' : ' unusable'}${s.consistent ? '' : ` inconsistent(${s.differs.join(',')})`}`,
  );
}

export function descriptorComposite(table: string, d: DescriptorView): Composite {
  const fields: Record<string, Value> = {
    base: d.base,
    limit: d.limit,
    type: d.type,
    s: d.s,
    dpl: d.dpl,
    p: d.p,
    db: d.db,
    g: d.g,
    avl: d.avl,
    selector: d.selector,
    offset: d.offset,
    lo: d.lo,
    hi: d.hi,
    address: d.address,
    kind: d.kind,
  };
  return record(`${table}[${d.index}]`, fields, undefined, () => describeDescriptor(table, d));
}

/** One line for a descriptor, as `info gdt` and the Debug Console print it. */
export function describeDescriptor(table: string, d: DescriptorView): string {
  const raw = `${hex(d.hi)}:${hex(d.lo)}`;
  const where =
    d.kind === 'call-gate' || d.kind === 'interrupt-gate' || d.kind === 'trap-gate'
      ? `${hex(d.selector, 4)}:${hex(d.offset)}`
      : d.kind === 'task-gate'
        ? `tss=${hex(d.selector, 4)}`
        : `base=${hex(d.base)} limit=${hex(d.limit)}`;
  return `${table}[${d.index}] ${raw} ${d.description} ${where} dpl=${d.dpl}${d.p ? '' : ' not-present'}${d.db ? ' db' : ''}${d.g ? ' g' : ''}`;
}

function tableComposite(cpu: Cpu, table: TableName): Composite {
  const bounds = tableBounds(cpu, table);
  return {
    kind: 'composite',
    name: table,
    display: () => (bounds ? `${table} base=${hex(bounds.base)} limit=${hex(bounds.limit, 4)}` : `${table} (none: LDTR is unusable)`),
    field: (f) => (bounds && (f === 'base' || f === 'limit') ? bounds[f] : undefined),
    fieldNames: () => ['base', 'limit'],
    entry: (i) => {
      const d = Number.isInteger(i) && i >= 0 ? inspectTable(cpu, table, i, 1)[0] : undefined;
      return d ? descriptorComposite(table, d) : undefined;
    },
  };
}

/** The evaluation context of a stopped CPU. */
export function cpuContext(cpu: Cpu): EvalContext {
  const lookup = (raw: string): Value | undefined => {
    // `$name` is always Ringside's own name (it matters where a C program has a symbol of the same name).
    const name = (raw.startsWith('$') ? raw.slice(1) : raw).toLowerCase();
    let k = GENERAL.indexOf(name);
    if (k >= 0) return cpu.regs[k] >>> 0;
    k = WORD.indexOf(name);
    if (k >= 0) return cpu.regs[k] & 0xffff;
    k = BYTE.indexOf(name);
    if (k >= 0) return (cpu.regs[k & 3] >>> (k >= 4 ? 8 : 0)) & 0xff;
    k = SEGMENT_REGISTERS.indexOf(name);
    if (k >= 0) return segmentComposite(cpu, k);
    if ((FLAG_NAMES as readonly string[]).includes(name)) {
      const f = inspectEflags(cpu.getEflags()) as unknown as Record<string, boolean | number>;
      return f[name];
    }
    switch (name) {
      case 'eip':
        return cpu.eip >>> 0;
      case 'ip':
        return cpu.eip & 0xffff;
      case 'eflags':
      case 'flags':
        return cpu.getEflags() >>> 0;
      case 'cr0':
        return cpu.cr0 >>> 0;
      case 'cr2':
        return cpu.cr2 >>> 0;
      case 'cr3':
        return cpu.cr3 >>> 0;
      case 'cr4':
        return cpu.cr4 >>> 0;
      case 'cpl':
        return cpu.cpl;
      case 'mode':
        return cpu.mode;
      case 'a20':
        return cpu.a20Enabled;
      case 'gdtr':
        return record('GDTR', { base: cpu.gdtrBase >>> 0, limit: cpu.gdtrLimit }, undefined, () => `GDTR base=${hex(cpu.gdtrBase)} limit=${hex(cpu.gdtrLimit, 4)}`);
      case 'idtr':
        return record('IDTR', { base: cpu.idtrBase >>> 0, limit: cpu.idtrLimit }, undefined, () => `IDTR base=${hex(cpu.idtrBase)} limit=${hex(cpu.idtrLimit, 4)}`);
      case 'gdt':
        return tableComposite(cpu, 'GDT');
      case 'ldt':
        return tableComposite(cpu, 'LDT');
      case 'idt':
        return tableComposite(cpu, 'IDT');
    }
    return fpuLookup(cpu, name);
  };
  return {
    lookup,
    segmentedAddress(segment, offset) {
      if (isComposite(segment)) {
        const base = segment.field('base');
        if (typeof base === 'number' && SEGMENT_REGISTERS.includes(segment.name.toLowerCase())) return (base + offset) >>> 0;
        throw new ExpressionError(`${segment.name} is not a segment register`);
      }
      // A number before the colon is a real-mode paragraph: linear = segment × 16 + offset.
      return ((toNumber(segment, 'segment') & 0xffff) * 16 + offset) >>> 0;
    },
    readLinear(linear, size) {
      const v = peekLinear(cpu, linear, size);
      if (v < 0) throw new ExpressionError(`linear address ${hex(linear)} is not mapped`);
      return v;
    },
  };
}
