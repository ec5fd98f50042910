// Data breakpoint ids ("Break on Value Change"): what dataBreakpointInfo hands out and setDataBreakpoints takes
// back. `mem:<linear>:<length>` (an address or a descriptor-table entry), `seg:<register number>`, `reg:<name>`.

import type { DataTarget } from './data-breakpoints';

const MAX_WATCH_BYTES = 0x10000;

export function dataIdOf(t: DataTarget): string {
  switch (t.kind) {
    case 'memory':
      return `mem:${t.linear >>> 0}:${t.length}`;
    case 'segment':
      return `seg:${t.reg}`;
    case 'register':
      return `reg:${t.name}`;
  }
}

export function parseDataId(id: unknown): DataTarget {
  if (typeof id !== 'string') throw new Error('dataId must be a string');
  let m = /^mem:(\d+):(\d+)$/.exec(id);
  if (m) {
    const linear = Number(m[1]);
    const length = Number(m[2]);
    if (linear > 0xffffffff || length < 1 || length > MAX_WATCH_BYTES) throw new Error(`dataId ${id}: address or length out of range`);
    return { kind: 'memory', linear, length };
  }
  m = /^seg:([0-7])$/.exec(id);
  if (m) return { kind: 'segment', reg: Number(m[1]) };
  m = /^reg:([a-z0-9]+)$/.exec(id);
  if (m) return { kind: 'register', name: m[1] };
  throw new Error(`dataId "${id}" is not one this adapter handed out`);
}
