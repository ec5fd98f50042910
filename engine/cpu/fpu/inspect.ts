// The x87 state decoded for the debugger's views (the FPU scope, the expressions `st0` and `fpu.cw`): each stack
// register with its physical register, tag and value as shortest round-trip decimal and raw hex; the control word's
// masks, precision and rounding control; the status word's flags, condition codes and TOP (SDM vol. 1 §8.1).
// Read-only: nothing here changes the FPU.

import type { Cpu } from '../cpu';
import { f80Class, f80Hex, f80ToDecimal } from './decimal';
import { SW_TOP } from './state';

export const TAG_NAMES = ['valid', 'zero', 'special', 'empty'] as const;
/** Exception flags (status word) and masks (control word), bits 0–5 (SDM vol. 1 Figures 8-5 and 8-6). */
export const EXCEPTION_NAMES = ['IE', 'DE', 'ZE', 'OE', 'UE', 'PE'] as const;
export const MASK_NAMES = ['IM', 'DM', 'ZM', 'OM', 'UM', 'PM'] as const;
/** Precision control, CW bits 8–9 (SDM vol. 1 Table 8-2); 01 is reserved. */
export const PRECISION_NAMES = ['24-bit (single)', 'reserved', '53-bit (double)', '64-bit (extended)'] as const;
/** Rounding control, CW bits 10–11 (SDM vol. 1 Table 4-8). */
export const ROUNDING_NAMES = ['nearest', 'down', 'up', 'zero'] as const;

export interface StackRegisterView {
  /** i of ST(i). */
  st: number;
  /** The physical register R0–R7 it maps to: (TOP + i) mod 8. */
  physical: number;
  tag: (typeof TAG_NAMES)[number];
  /** Shortest decimal that reads back as the same 80-bit value. */
  decimal: string;
  /** The 80 bits, sign and exponent first. */
  raw: string;
  /** normal, zero, denormal, infinity, QNaN, SNaN, real indefinite, pseudo-…, unnormal. */
  kind: string;
  /** The value as a JS number (for comparisons in expressions; not exact). */
  approx: number;
}

export interface FpuView {
  present: boolean;
  stack: StackRegisterView[];
  cw: number;
  sw: number;
  tw: number;
  top: number;
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
}

export function inspectFpu(cpu: Cpu): FpuView {
  const f = cpu.fpu;
  const stack = Array.from({ length: 8 }, (_, i): StackRegisterView => {
    const p = f.phys(i);
    const v = f.reg(p);
    const decimal = f80ToDecimal(v);
    return { st: i, physical: p, tag: TAG_NAMES[f.tagOf(p)], decimal, raw: f80Hex(v), kind: f80Class(v), approx: approximate(decimal) };
  });
  const sw = f.status;
  return { present: cpu.fpuPresent, stack, cw: f.cw, sw, tw: f.tagWord, top: (sw & SW_TOP) >> 11, fip: f.fip >>> 0, fcs: f.fcs, fop: f.fop, fdp: f.fdp >>> 0, fds: f.fds };
}

/** The decimal text as a JS number: `inf` and `nan` as JS spells them, a class-name prefix (`unnormal 0.5`) dropped. */
function approximate(decimal: string): number {
  const t = decimal.replace(/^[a-z-]+ (?=[-\d])/, '');
  if (/^-?s?nan$/.test(t)) return NaN;
  if (/^-?inf$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

const bit = (v: number, n: number): number => (v >> n) & 1;

/** `PC=64 RC=nearest masked: IM DM ZM OM UM PM`. */
export function describeControlWord(cw: number): string {
  const masked = MASK_NAMES.filter((_, k) => bit(cw, k));
  return `PC=${PRECISION_NAMES[(cw >> 8) & 3].split('-')[0]} RC=${ROUNDING_NAMES[(cw >> 10) & 3]} masked: ${masked.length ? masked.join(' ') : 'none'}`;
}

/** `TOP=7 C3 C0 IE SF ES B` (the set condition codes and flags). */
export function describeStatusWord(sw: number): string {
  const set: string[] = [];
  for (const [n, b] of [['C3', 14], ['C2', 10], ['C1', 9], ['C0', 8]] as const) if (bit(sw, b)) set.push(n);
  EXCEPTION_NAMES.forEach((n, k) => bit(sw, k) && set.push(n));
  if (bit(sw, 6)) set.push('SF');
  if (bit(sw, 7)) set.push('ES');
  if (bit(sw, 15)) set.push('B');
  return `TOP=${(sw >> 11) & 7}${set.length ? ' ' + set.join(' ') : ''}`;
}

/** The named fields of the control word (children of the FCW row, `fpu.cw` fields). */
export function controlWordFields(cw: number): [string, number | string][] {
  return [
    ...MASK_NAMES.map((n, k): [string, number] => [n, bit(cw, k)]),
    ['PC', PRECISION_NAMES[(cw >> 8) & 3]],
    ['RC', ROUNDING_NAMES[(cw >> 10) & 3]],
    ['X', bit(cw, 12)],
  ];
}

/** The named fields of the status word. */
export function statusWordFields(sw: number): [string, number][] {
  return [
    ['TOP', (sw >> 11) & 7],
    ['C0', bit(sw, 8)],
    ['C1', bit(sw, 9)],
    ['C2', bit(sw, 10)],
    ['C3', bit(sw, 14)],
    ...EXCEPTION_NAMES.map((n, k): [string, number] => [n, bit(sw, k)]),
    ['SF', bit(sw, 6)],
    ['ES', bit(sw, 7)],
    ['B', bit(sw, 15)],
  ];
}

/** The opcode register as the two bytes it came from: 11 bits, the first byte's low 3 bits then the second byte. */
export function describeOpcode(fop: number): string {
  const hex2 = (v: number): string => v.toString(16).toUpperCase().padStart(2, '0');
  return `${hex2(0xd8 | ((fop >> 8) & 7))} ${hex2(fop & 0xff)}`;
}
