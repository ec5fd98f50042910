// Variables-pane containers after vscode-js-debug's variable store: one class per kind of value, each with an
// `id` (its variablesReference), `children()` and, per row, a DAP variable. References are handed out by the
// store and all dropped on every stop, so a stale reference from an earlier stop is an error, never old data.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Cpu } from '../../engine/cpu/cpu';
import { parseNumber } from '../expression/parse';

export const hex4 = (v: number): string => '0x' + (v & 0xffff).toString(16).padStart(4, '0');
export const hex8 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** One row of a container. */
export interface Row {
  name: string;
  value: string;
  /** Shown by clients beside or on hover of the value. */
  type?: string;
  child?: Container;
  /** For paged children: how many indexed entries the child has. */
  indexed?: number;
  memoryReference?: string;
  evaluateName?: string;
  /** Data breakpoint id for "Break on Value Change" (see data-breakpoints.ts). */
  dataId?: string;
  readOnly?: boolean;
}

/**
 * A change the debugger makes to the stopped guest (setVariable), as a function of the CPU to make it on: the CPU
 * itself when it runs bare, or under the monitor the CPU while it holds the guest's own view
 * (Runtime.editGuest). The typed value is parsed before the edit is made, so bad input fails before anything runs.
 */
export type GuestEdit = (cpu: Cpu) => void;

export abstract class Container {
  id = 0;
  /** The children, or for paged containers the children `start … start+count-1`. */
  abstract children(start?: number, count?: number): Row[];
  /** The row of one child, as it reads now (setVariable answers with it after the change). */
  childNamed(name: string): Row {
    const row = this.children().find((r) => r.name === name);
    if (!row) throw new RangeError(`no variable "${name}" here`);
    return row;
  }

  /** The change that writes a child by name (setVariable). Containers that cannot be written throw. */
  edit(name: string, _value: string): GuestEdit {
    throw new RangeError(`${name} cannot be changed here`);
  }
}

export class VariableStore {
  /** The client said it shows variable types (InitializeRequestArguments.supportsVariableType). */
  variableTypes = false;
  private readonly containers = new Map<number, Container>();
  private nextId = 1;

  add<T extends Container>(c: T): T {
    c.id = this.nextId++;
    this.containers.set(c.id, c);
    return c;
  }

  get(id: number): Container {
    const c = this.containers.get(id);
    if (!c) throw new Error(`variables reference ${id} is not valid (it belongs to an earlier stop)`);
    return c;
  }

  /** Drops every reference (called on each stop and on every change of guest state). */
  reset(): void {
    this.containers.clear();
  }

  toDap(row: Row): DebugProtocol.Variable {
    const child = row.child ? this.add(row.child) : undefined;
    const v: DebugProtocol.Variable = { name: row.name, value: row.value, variablesReference: child ? child.id : 0 };
    if (row.type !== undefined && this.variableTypes) v.type = row.type;
    if (row.indexed !== undefined) v.indexedVariables = row.indexed;
    if (row.memoryReference !== undefined) v.memoryReference = row.memoryReference;
    if (row.evaluateName !== undefined) v.evaluateName = row.evaluateName;
    if (row.readOnly) v.presentationHint = { attributes: ['readOnly'] };
    return v;
  }
}

/** A fixed list of rows computed when asked. */
export class RowList extends Container {
  constructor(private readonly make: () => Row[]) {
    super();
  }
  children(): Row[] {
    return this.make();
  }
}

/** Parses a value typed into the Variables pane: a number in any notation the expressions accept, or true/false. */
export function parseTypedNumber(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'true') return 1;
  if (t === 'false') return 0;
  const negative = t.startsWith('-');
  const v = parseNumber(negative ? t.slice(1) : t);
  if (v === undefined) throw new RangeError(`"${text}" is not a number (write it as 0x1f, 1fh, 0b101 or 31)`);
  return negative ? -v : v;
}
