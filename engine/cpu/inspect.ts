// Read-only snapshots of the CPU for the debugger (interfaces.md scopes Registers, Segments, Descriptor Tables,
// Control) and for tools. Nothing here changes CPU or memory state: flags are computed without materialising the
// lazy record, descriptor tables are read through protect/peek.ts (no accessed/dirty bits, no page faults).
// The debug adapter reads engine state only through this module.

import type { Cpu, CpuMode } from './cpu';
import {
  AR_AVL,
  AR_DB,
  AR_DPL,
  AR_DPL_SHIFT,
  AR_G,
  AR_L,
  AR_P,
  AR_S,
  AR_TYPE,
  CR0_AM,
  CR0_CD,
  CR0_EM,
  CR0_ET,
  CR0_MP,
  CR0_NE,
  CR0_NW,
  CR0_PE,
  CR0_PG,
  CR0_TS,
  CR0_WP,
  SEGMENT_NAMES,
} from './cpu';
import { AC, AF, CF, DF, ID, IF, IOPL, IOPL_SHIFT, NT, OF, PF, RF, SF, TF, VIF, VIP, VM, ZF } from './flags';
import { decodeDescriptor, describeType, type Descriptor, type DescriptorKind } from './protect/descriptor';
import { checkConsistency } from './protect/consistency';
import { peekLinear } from './protect/peek';
import { SELECTOR_TI } from './protect/descriptor-table';

export const REGISTER_NAMES = ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI'] as const;
/** Segment registers in the order the Segments scope shows them. */
export const SEGMENT_ORDER = [1, 2, 3, 0, 4, 5, 6, 7]; // CS SS DS ES FS GS LDTR TR

export interface DecodedCache {
  base: number;
  limit: number;
  /** Raw access-rights word (cpu.ts layout). */
  ar: number;
  type: number;
  s: boolean;
  dpl: number;
  p: boolean;
  db: boolean;
  g: boolean;
  avl: boolean;
  l: boolean;
  usable: boolean;
  /** e.g. "data read/write", "code execute/read conforming", "LDT". */
  description: string;
}

export interface DescriptorView {
  /** Index in its table (selector >> 3, or the vector for the IDT). */
  index: number;
  /** Linear address of the entry. */
  address: number;
  lo: number;
  hi: number;
  kind: DescriptorKind;
  description: string;
  type: number;
  s: boolean;
  dpl: number;
  p: boolean;
  base: number;
  limit: number;
  db: boolean;
  g: boolean;
  avl: boolean;
  l: boolean;
  /** Gates: target selector and offset; call gates: parameter count. */
  selector: number;
  offset: number;
  paramCount: number;
}

export interface SegmentInspection {
  name: string;
  reg: number;
  selector: number;
  index: number;
  ti: number;
  rpl: number;
  cache: DecodedCache;
  /** The descriptor the selector names now, decoded the same way (null for NULL, beyond the limit, unmapped, real/V86). */
  tableEntry: DescriptorView | null;
  consistent: boolean;
  differs: string[];
  unreal: boolean;
}

export interface EflagsInspection {
  value: number;
  cf: boolean;
  pf: boolean;
  af: boolean;
  zf: boolean;
  sf: boolean;
  tf: boolean;
  if: boolean;
  df: boolean;
  of: boolean;
  iopl: number;
  nt: boolean;
  rf: boolean;
  vm: boolean;
  ac: boolean;
  vif: boolean;
  vip: boolean;
  id: boolean;
}

export interface Cr0Inspection {
  value: number;
  pe: boolean;
  mp: boolean;
  em: boolean;
  ts: boolean;
  et: boolean;
  ne: boolean;
  wp: boolean;
  am: boolean;
  nw: boolean;
  cd: boolean;
  pg: boolean;
}

export interface CpuInspection {
  registers: Record<(typeof REGISTER_NAMES)[number] | 'EIP', number>;
  eflags: EflagsInspection;
  segments: SegmentInspection[];
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  cr0: Cr0Inspection;
  cr2: number;
  cr3: number;
  cr4: number;
  dr: number[];
  mode: CpuMode;
  cpl: number;
  a20: boolean;
  halted: boolean;
  shutdown: boolean;
  icount: number;
}

export function decodeCache(ar: number, base: number, limit: number, usable: boolean): DecodedCache {
  // Describe the cache through the descriptor decoder, so cache and table entry read the same way.
  const hi = ((ar & 0xf0ff) << 8) >>> 0;
  const d = decodeDescriptor(0, hi);
  return {
    base: base >>> 0,
    limit: limit >>> 0,
    ar,
    type: ar & AR_TYPE,
    s: (ar & AR_S) !== 0,
    dpl: (ar & AR_DPL) >> AR_DPL_SHIFT,
    p: (ar & AR_P) !== 0,
    db: (ar & AR_DB) !== 0,
    g: (ar & AR_G) !== 0,
    avl: (ar & AR_AVL) !== 0,
    l: (ar & AR_L) !== 0,
    usable,
    description: describeType(d),
  };
}

export function descriptorView(d: Descriptor, index: number, address: number): DescriptorView {
  return {
    index,
    address: address >>> 0,
    lo: d.lo,
    hi: d.hi,
    kind: d.kind,
    description: describeType(d),
    type: d.type,
    s: d.s,
    dpl: d.dpl,
    p: d.p,
    base: d.base,
    limit: d.limit,
    db: d.db,
    g: d.g,
    avl: d.avl,
    l: d.l,
    selector: d.selector,
    offset: d.offset,
    paramCount: d.paramCount,
  };
}

export function inspectEflags(value: number): EflagsInspection {
  value >>>= 0;
  return {
    value,
    cf: (value & CF) !== 0,
    pf: (value & PF) !== 0,
    af: (value & AF) !== 0,
    zf: (value & ZF) !== 0,
    sf: (value & SF) !== 0,
    tf: (value & TF) !== 0,
    if: (value & IF) !== 0,
    df: (value & DF) !== 0,
    of: (value & OF) !== 0,
    iopl: (value & IOPL) >> IOPL_SHIFT,
    nt: (value & NT) !== 0,
    rf: (value & RF) !== 0,
    vm: (value & VM) !== 0,
    ac: (value & AC) !== 0,
    vif: (value & VIF) !== 0,
    vip: (value & VIP) !== 0,
    id: (value & ID) !== 0,
  };
}

export function inspectCr0(value: number): Cr0Inspection {
  value >>>= 0;
  return {
    value,
    pe: (value & CR0_PE) !== 0,
    mp: (value & CR0_MP) !== 0,
    em: (value & CR0_EM) !== 0,
    ts: (value & CR0_TS) !== 0,
    et: (value & CR0_ET) !== 0,
    ne: (value & CR0_NE) !== 0,
    wp: (value & CR0_WP) !== 0,
    am: (value & CR0_AM) !== 0,
    nw: (value & CR0_NW) !== 0,
    cd: (value & CR0_CD) !== 0,
    pg: (value & CR0_PG) !== 0,
  };
}

export function inspectSegment(cpu: Cpu, reg: number): SegmentInspection {
  const selector = cpu.segSel[reg];
  const report = checkConsistency(cpu, reg);
  const entry = report.entry;
  let tableEntry: DescriptorView | null = null;
  if (entry !== null) {
    const tableBase = (selector & SELECTOR_TI) !== 0 ? cpu.segBase[6] : cpu.gdtrBase;
    tableEntry = descriptorView(entry, selector >> 3, (tableBase + (selector & 0xfff8)) >>> 0);
  }
  return {
    name: SEGMENT_NAMES[reg],
    reg,
    selector,
    index: selector >> 3,
    ti: (selector >> 2) & 1,
    rpl: selector & 3,
    cache: decodeCache(cpu.segAr[reg], cpu.segBase[reg], cpu.segLimit[reg], cpu.segValid[reg] !== 0),
    tableEntry,
    consistent: report.consistent,
    differs: report.differs,
    unreal: report.unreal,
  };
}

export function inspectCpu(cpu: Cpu): CpuInspection {
  const registers = {} as CpuInspection['registers'];
  REGISTER_NAMES.forEach((name, n) => (registers[name] = cpu.regs[n] >>> 0));
  registers.EIP = cpu.eip >>> 0;
  return {
    registers,
    eflags: inspectEflags(cpu.getEflags()),
    segments: SEGMENT_ORDER.map((reg) => inspectSegment(cpu, reg)),
    gdtr: { base: cpu.gdtrBase >>> 0, limit: cpu.gdtrLimit },
    idtr: { base: cpu.idtrBase >>> 0, limit: cpu.idtrLimit },
    cr0: inspectCr0(cpu.cr0),
    cr2: cpu.cr2 >>> 0,
    cr3: cpu.cr3 >>> 0,
    cr4: cpu.cr4 >>> 0,
    dr: Array.from(cpu.dr, (v) => v >>> 0),
    mode: cpu.mode,
    cpl: cpu.cpl,
    a20: cpu.a20Enabled,
    halted: cpu.halted,
    shutdown: cpu.shutdown,
    icount: cpu.icount,
  };
}

export type TableName = 'GDT' | 'LDT' | 'IDT';

/** Base and limit of a descriptor table now (the LDT's from the LDTR cache; null when LDTR is unusable). */
export function tableBounds(cpu: Cpu, table: TableName): { base: number; limit: number } | null {
  if (table === 'GDT') return { base: cpu.gdtrBase >>> 0, limit: cpu.gdtrLimit };
  if (table === 'IDT') return { base: cpu.idtrBase >>> 0, limit: cpu.idtrLimit };
  if (!cpu.segValid[6]) return null;
  return { base: cpu.segBase[6] >>> 0, limit: cpu.segLimit[6] };
}

/** Number of whole 8-byte entries a table holds (in real mode the IDT is the IVT and has 4-byte entries). */
export function tableEntryCount(cpu: Cpu, table: TableName): number {
  const b = tableBounds(cpu, table);
  return b === null ? 0 : Math.floor((b.limit + 1) / 8);
}

/**
 * Decoded entries `start` … `start + count - 1` of a table (clipped to its limit). Entries on unmapped pages are
 * left out. Protected-mode layout; for the real-mode IVT use `inspectIvt`.
 */
export function inspectTable(cpu: Cpu, table: TableName, start = 0, count = Infinity): DescriptorView[] {
  const b = tableBounds(cpu, table);
  if (b === null) return [];
  const end = Math.min(tableEntryCount(cpu, table), start + count);
  const out: DescriptorView[] = [];
  for (let index = Math.max(0, start); index < end; index++) {
    const address = (b.base + index * 8) | 0;
    const lo = peekLinear(cpu, address, 4);
    const hi = peekLinear(cpu, address + 4, 4);
    if (lo < 0 || hi < 0) continue;
    out.push(descriptorView(decodeDescriptor(lo, hi), index, address));
  }
  return out;
}

/** Real-mode interrupt vector table entries (segment:offset) within the IDTR limit. */
export function inspectIvt(cpu: Cpu, start = 0, count = 256): { vector: number; segment: number; offset: number }[] {
  const out: { vector: number; segment: number; offset: number }[] = [];
  for (let v = start; v < Math.min(256, start + count); v++) {
    if (v * 4 + 3 > cpu.idtrLimit) break;
    const entry = peekLinear(cpu, cpu.idtrBase + v * 4, 4);
    if (entry < 0) continue;
    out.push({ vector: v, offset: entry & 0xffff, segment: entry >>> 16 });
  }
  return out;
}

export interface TssInspection {
  selector: number;
  base: number;
  limit: number;
  /** 32 for a 32-bit TSS, 16 for a 16-bit one. */
  bits: 32 | 16;
  busy: boolean;
  link: number;
  /** SS:ESP of privilege levels 0, 1 and 2. */
  stacks: { ss: number; esp: number }[];
  cr3: number | null;
  eip: number;
  eflags: number;
  /** EAX … EDI in encoding order (16-bit TSS: the words). */
  regs: number[];
  /** ES CS SS DS FS GS (16-bit TSS: FS and GS are null). */
  sregs: number[];
  ldt: number;
  /** 32-bit TSS: the I/O map base and the debug trap (T) bit. */
  ioMapBase: number | null;
  trap: boolean;
}

/** The current task's TSS (TR), decoded without side effects; null when TR is unusable or the TSS is unmapped. */
export function inspectTss(cpu: Cpu): TssInspection | null {
  if (!cpu.segValid[7]) return null;
  const base = cpu.segBase[7] >>> 0;
  const bits = (cpu.segAr[7] & 0x8) !== 0 ? 32 : 16;
  const read = (off: number, size: number): number => peekLinear(cpu, base + off, size);
  const wide = bits === 32;
  const fields: number[] = [];
  const need = wide ? 0x68 : 0x2c;
  for (let off = 0; off < need; off += 2) {
    const v = read(off, 2);
    if (v < 0) return null;
    fields.push(v);
  }
  const w = (off: number): number => fields[off >> 1];
  const d = (off: number): number => (w(off) | (w(off + 2) << 16)) >>> 0;
  return {
    selector: cpu.segSel[7],
    base,
    limit: cpu.segLimit[7],
    bits,
    busy: (cpu.segAr[7] & 0x2) !== 0,
    link: w(0),
    stacks: [0, 1, 2].map((n) => (wide ? { esp: d(4 + 8 * n), ss: w(8 + 8 * n) } : { esp: w(2 + 4 * n), ss: w(4 + 4 * n) })),
    cr3: wide ? d(0x1c) : null,
    eip: wide ? d(0x20) : w(0x0e),
    eflags: wide ? d(0x24) : w(0x10),
    regs: [0, 1, 2, 3, 4, 5, 6, 7].map((n) => (wide ? d(0x28 + 4 * n) : w(0x12 + 2 * n))),
    sregs: wide ? [0, 1, 2, 3, 4, 5].map((n) => w(0x48 + 4 * n)) : [w(0x22), w(0x24), w(0x26), w(0x28), 0, 0],
    ldt: wide ? w(0x60) : w(0x2a),
    ioMapBase: wide ? w(0x66) : null,
    trap: wide ? (w(0x64) & 1) !== 0 : false,
  };
}
