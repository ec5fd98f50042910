// Words for descriptor fields and selectors, shared by the language server's hovers and the segment map view.
// Type names follow SDM Vol. 3 Table 3-1 (code and data segments) and Table 3-2 (system segments and gates).
import type { SegmentFields } from '../../debug-adapter/protocol-types';
import { SEG_ACCESSED, SEG_CODE, SEG_CONFORMING, SEG_EXPAND_DOWN, SEG_READABLE, SEG_WRITABLE } from '../../engine/cpu/protect/descriptor';

const SYSTEM_TYPE_NAMES: (string | undefined)[] = [
  undefined,
  '16-bit TSS (available)',
  'LDT',
  '16-bit TSS (busy)',
  '16-bit call gate',
  'task gate',
  '16-bit interrupt gate',
  '16-bit trap gate',
  undefined,
  '32-bit TSS (available)',
  undefined,
  '32-bit TSS (busy)',
  '32-bit call gate',
  undefined,
  '32-bit interrupt gate',
  '32-bit trap gate',
];

/** The SDM's name for a descriptor type, e.g. "code, execute/read, accessed" or "32-bit TSS (busy)". */
export function typeName(s: boolean, type: number): string {
  if (!s) return SYSTEM_TYPE_NAMES[type & 0xf] ?? `reserved system type ${type}`;
  const parts: string[] = [];
  if (type & SEG_CODE) {
    parts.push('code', type & SEG_READABLE ? 'execute/read' : 'execute-only');
    if (type & SEG_CONFORMING) parts.push('conforming');
  } else {
    parts.push('data', type & SEG_WRITABLE ? 'read/write' : 'read-only');
    if (type & SEG_EXPAND_DOWN) parts.push('expand-down');
  }
  if (type & SEG_ACCESSED) parts.push('accessed');
  return parts.join(', ');
}

export function hex(value: number, digits = 8): string {
  return '0x' + (value >>> 0).toString(16).padStart(digits, '0');
}

export interface SelectorParts {
  index: number;
  ti: 0 | 1;
  rpl: number;
}

/** Selector layout (SDM Vol. 3 §3.4.2): index in bits 15:3, table indicator in bit 2, RPL in bits 1:0. */
export function decodeSelector(selector: number): SelectorParts {
  return { index: (selector & 0xffff) >>> 3, ti: ((selector >>> 2) & 1) as 0 | 1, rpl: selector & 3 };
}

export function describeSelector(selector: number): string {
  const { index, ti, rpl } = decodeSelector(selector);
  const table = ti ? 'LDT' : 'GDT';
  const nullNote = index === 0 && ti === 0 ? ' (a null selector)' : '';
  return `selector ${hex(selector, 4)}: index ${index} in the ${table} (byte offset ${hex(index * 8, 4)}), TI=${ti}, RPL=${rpl}${nullNote}`;
}

/** One line per field, as the hover and the segment map print them. */
export function describeFields(f: SegmentFields): string[] {
  return [
    `base ${hex(f.base)}, limit ${hex(f.limit)}${f.g ? ' (G=1: 4-KiB units)' : ' (G=0: bytes)'}`,
    `type ${f.type} = ${typeName(f.s, f.type)}${f.s ? ' (S=1: code/data)' : ' (S=0: system)'}`,
    `DPL=${f.dpl} P=${f.p ? 1 : 0} D/B=${f.db ? 1 : 0} G=${f.g ? 1 : 0} AVL=${f.avl ? 1 : 0}`,
  ];
}

/** The bytes a segment covers, honouring expand-down data segments (SDM Vol. 3 §3.4.5.1). */
export function coveredRange(f: SegmentFields): { start: number; end: number } {
  const expandDown = f.s && !(f.type & SEG_CODE) && (f.type & SEG_EXPAND_DOWN) !== 0;
  if (!expandDown) return { start: f.base, end: f.base + f.limit };
  const top = f.db ? 0xffff_ffff : 0xffff;
  return { start: f.base + f.limit + 1, end: f.base + top };
}
