// The x87 names expressions accept (README "Debug Console"): `st0`…`st7` (a stack register: fields value, raw,
// tag, class, register) and `fpu` (fields cw, sw, tw, top, c0–c3, pc, rc, fip, fcs, fop, fdp, fds), so a watch on
// `st0` or `fpu.cw` and a condition like `fpu.top == 6` work. On a model without an x87 they are an error.

import type { Cpu } from '../../engine/cpu/cpu';
import { describeControlWord, describeStatusWord, inspectFpu } from '../../engine/cpu/fpu/inspect';
import { stackRegisterText } from '../scopes/fpu';
import type { Value } from './evaluate';
import { record as composite } from './cpu-values';
import { ExpressionError } from './parse';

const hex = (v: number, digits: number): string => '0x' + (v >>> 0).toString(16).padStart(digits, '0');

/** The value of an x87 name (already lower case, `$` removed), or undefined when the name is not one. */
export function fpuLookup(cpu: Cpu, name: string): Value | undefined {
  const st = /^st([0-7])$/.exec(name);
  if (!st && name !== 'fpu') return undefined;
  if (!cpu.fpuPresent) throw new ExpressionError(`${name}: this CPU model (${cpu.model.name}) has no FPU`);
  const s = inspectFpu(cpu);
  if (st) {
    const r = s.stack[Number(st[1])];
    const fields: Record<string, Value> = { value: r.approx, raw: r.raw, tag: r.tag, class: r.kind, register: r.physical };
    return composite(`ST${r.st}`, fields, r.tag === 'empty' ? undefined : r.approx, () => `ST${r.st} = ${stackRegisterText(r)}`);
  }
  const bit = (v: number, n: number): number => (v >> n) & 1;
  const fields: Record<string, Value> = {
    cw: s.cw,
    sw: s.sw,
    tw: s.tw,
    top: s.top,
    c0: bit(s.sw, 8),
    c1: bit(s.sw, 9),
    c2: bit(s.sw, 10),
    c3: bit(s.sw, 14),
    pc: (s.cw >> 8) & 3,
    rc: (s.cw >> 10) & 3,
    fip: s.fip,
    fcs: s.fcs,
    fop: s.fop,
    fdp: s.fdp,
    fds: s.fds,
  };
  return composite('FPU', fields, undefined, () =>
    `FPU cw=${hex(s.cw, 4)} [${describeControlWord(s.cw)}] sw=${hex(s.sw, 4)} [${describeStatusWord(s.sw)}] tw=${hex(s.tw, 4)} fip=${hex(s.fcs, 4)}:${hex(s.fip, 8)} fdp=${hex(s.fds, 4)}:${hex(s.fdp, 8)}`,
  );
}
