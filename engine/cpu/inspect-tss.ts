// Read-only view of the task-state segment TR names (SDM 3A §7.2.1, Figure 7-2 for the 32-bit TSS, Figure 7-11
// for the 16-bit one), for the debugger's Descriptor Tables scope. Reads go through protect/peek.ts.

import { TR, type Cpu } from './cpu';
import { peekLinear } from './protect/peek';

/** Field name, byte offset and width of each TSS field, in the SDM's figure order. */
const TSS32: [string, number, number][] = [
  ['link', 0x00, 2], ['esp0', 0x04, 4], ['ss0', 0x08, 2], ['esp1', 0x0c, 4], ['ss1', 0x10, 2], ['esp2', 0x14, 4],
  ['ss2', 0x18, 2], ['cr3', 0x1c, 4], ['eip', 0x20, 4], ['eflags', 0x24, 4], ['eax', 0x28, 4], ['ecx', 0x2c, 4],
  ['edx', 0x30, 4], ['ebx', 0x34, 4], ['esp', 0x38, 4], ['ebp', 0x3c, 4], ['esi', 0x40, 4], ['edi', 0x44, 4],
  ['es', 0x48, 2], ['cs', 0x4c, 2], ['ss', 0x50, 2], ['ds', 0x54, 2], ['fs', 0x58, 2], ['gs', 0x5c, 2],
  ['ldt', 0x60, 2], ['t', 0x64, 1], ['iomap', 0x66, 2],
];
const TSS16: [string, number, number][] = [
  ['link', 0x00, 2], ['sp0', 0x02, 2], ['ss0', 0x04, 2], ['sp1', 0x06, 2], ['ss1', 0x08, 2], ['sp2', 0x0a, 2],
  ['ss2', 0x0c, 2], ['ip', 0x0e, 2], ['flags', 0x10, 2], ['ax', 0x12, 2], ['cx', 0x14, 2], ['dx', 0x16, 2],
  ['bx', 0x18, 2], ['sp', 0x1a, 2], ['bp', 0x1c, 2], ['si', 0x1e, 2], ['di', 0x20, 2], ['es', 0x22, 2],
  ['cs', 0x24, 2], ['ss', 0x26, 2], ['ds', 0x28, 2], ['ldt', 0x2a, 2],
];

export interface TssInspection {
  /** 16 or 32 (from the type in TR's cache). */
  width: 16 | 32;
  base: number;
  limit: number;
  busy: boolean;
  /** Fields within the TSS limit that could be read, in layout order. */
  fields: { name: string; offset: number; size: number; value: number }[];
}

/** The TSS TR names now, or null when TR holds no TSS (real mode after reset holds a placeholder). */
export function inspectTss(cpu: Cpu): TssInspection | null {
  if (!cpu.segValid[TR] || cpu.segSel[TR] === 0) return null;
  const type = cpu.segAr[TR] & 0xf;
  const width = (type & 0x8) !== 0 ? 32 : 16;
  const base = cpu.segBase[TR] >>> 0;
  const limit = cpu.segLimit[TR];
  const fields: TssInspection['fields'] = [];
  for (const [name, offset, size] of width === 32 ? TSS32 : TSS16) {
    if (offset + size - 1 > limit) break;
    const value = peekLinear(cpu, (base + offset) | 0, size);
    if (value >= 0) fields.push({ name, offset, size, value: name === 't' ? value & 1 : value });
  }
  return { width, base, limit, busy: (type & 0x2) !== 0, fields };
}
