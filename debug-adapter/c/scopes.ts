// The Locals, Arguments and Globals scopes of a frame and the containers a C value opens into: a struct's or
// union's members, an array's elements (paged), the target of a pointer. Rows carry the C type, the address as
// memoryReference (a pointer's: where it points) and an evaluateName the expressions accept.

import { stripType, typeName } from '../../engine/machine/loaders/dwarf';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Container, type GuestEdit, type Row, type VariableStore } from '../scopes/variable-store';
import { hexAddress, type CValue } from './value';
import type { FrameValues } from './frame-values';

/** Arrays longer than this open paged (indexedVariables). */
const PAGE_AT = 100;

function expandable(v: CValue): boolean {
  const t = stripType(v.type);
  if (t.kind === 'struct' || t.kind === 'union') return t.members.length > 0 && !t.incomplete;
  if (t.kind === 'array') return (t.count ?? 0) > 0;
  if (t.kind === 'pointer') {
    const target = stripType(t.target);
    return target.kind !== 'void' && target.kind !== 'function' && (v.scalar() ?? 0) !== 0;
  }
  return false;
}

export function cValueRow(v: CValue, name: string, evaluateName: string): Row {
  const row: Row = { name, value: v.display(), type: typeName(v.type), evaluateName };
  const t = stripType(v.type);
  if (t.kind === 'pointer') {
    const p = v.scalar();
    if (p !== undefined) row.memoryReference = hexAddress(p);
  } else if (v.address !== undefined) {
    row.memoryReference = hexAddress(v.address);
  }
  if (v.address !== undefined && v.size > 0 && v.size <= 8 && t.kind !== 'struct' && t.kind !== 'union' && t.kind !== 'array') {
    row.dataId = `mem:${v.address}:${v.size}`;
  }
  if (expandable(v)) {
    row.child = new CValueContainer(v, evaluateName);
    if (t.kind === 'array' && (t.count ?? 0) > PAGE_AT) row.indexed = t.count;
  }
  if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'array' || t.kind === 'function' || v.place.kind === 'optimized') row.readOnly = true;
  return row;
}

/** A list of C values by name (Locals, Arguments, Globals). */
export class CValuesScope extends Container {
  constructor(private readonly values: () => CValue[]) {
    super();
  }

  children(): Row[] {
    return this.values().map((v) => cValueRow(v, v.name, v.name));
  }

  override edit(name: string, value: string): GuestEdit {
    const v = this.values().find((x) => x.name === name);
    if (!v) return super.edit(name, value);
    return v.assign(value);
  }
}

/** The members, elements or target of one C value. */
export class CValueContainer extends Container {
  constructor(
    private readonly value: CValue,
    private readonly evaluateName: string,
  ) {
    super();
  }

  private entries(start = 0, count?: number): { name: string; v: CValue; evaluateName: string }[] {
    const v = this.value;
    const t = stripType(v.type);
    const en = /^[\w$.[\]]+$/.test(this.evaluateName) ? this.evaluateName : `(${this.evaluateName})`;
    if (t.kind === 'struct' || t.kind === 'union') return t.members.map((m) => ({ name: m.name, v: v.member(m), evaluateName: `${en}.${m.name}` }));
    if (t.kind === 'array') {
      const n = t.count ?? 0;
      const end = count === undefined ? n : Math.min(n, start + count);
      const out = [];
      for (let i = start; i < end; i++) out.push({ name: `[${i}]`, v: v.entry(i) as CValue, evaluateName: `${en}[${i}]` });
      return out;
    }
    if (t.kind === 'pointer') {
      const target = v.deref();
      return target ? [{ name: `*${v.name}`, v: target, evaluateName: `*${en}` }] : [];
    }
    return [];
  }

  children(start?: number, count?: number): Row[] {
    return this.entries(start, count).map((e) => cValueRow(e.v, e.name, e.evaluateName));
  }

  override childNamed(name: string): Row {
    const e = this.findEntry(name);
    if (!e) return super.childNamed(name);
    return cValueRow(e.v, e.name, e.evaluateName);
  }

  private findEntry(name: string): { name: string; v: CValue; evaluateName: string } | undefined {
    const m = /^\[(\d+)\]$/.exec(name);
    if (m) return this.entries(Number(m[1]), 1).find((e) => e.name === name);
    return this.entries().find((e) => e.name === name);
  }

  override edit(name: string, value: string): GuestEdit {
    const e = this.findEntry(name);
    if (!e) return super.edit(name, value);
    return e.v.assign(value);
  }
}

/** Globals: the frame's compile unit, then one row that opens every unit's globals. */
export class GlobalsScope extends CValuesScope {
  constructor(private readonly frame: FrameValues) {
    super(() => frame.globals());
  }

  override children(): Row[] {
    const rows = super.children();
    const info = this.frame.program.info;
    const units = info.units.length;
    // How many units have been read so far: opening this row reads them all.
    rows.push({ name: '[all compile units]', value: `${units} unit${units === 1 ? '' : 's'} (${info.unitsRead} read)`, readOnly: true, child: new AllUnitsContainer(this.frame) });
    return rows;
  }
}

class AllUnitsContainer extends Container {
  constructor(private readonly frame: FrameValues) {
    super();
  }
  children(): Row[] {
    const p = this.frame.program;
    return p.allGlobals().map(({ unit, variables }) => ({
      name: p.unitName(unit),
      value: `${variables.length} globals`,
      readOnly: true,
      child: new CValuesScope(() => variables.map((v) => this.frame.valueOf(v))),
    }));
  }
}

/** The evaluate response for a C value: its C text and type, its members to open, its address. */
export function cEvaluateBody(v: CValue, expression: string, store: VariableStore): DebugProtocol.EvaluateResponse['body'] {
  const row = cValueRow(v, expression, expression);
  const d = store.toDap(row);
  const body: DebugProtocol.EvaluateResponse['body'] = { result: d.value, type: row.type, variablesReference: d.variablesReference };
  if (d.indexedVariables !== undefined) body.indexedVariables = d.indexedVariables;
  if (d.memoryReference !== undefined) body.memoryReference = d.memoryReference;
  return body;
}
