// Segment and gate descriptors (SDM 3A §3.4.5, §3.5, §5.8.3, §6.11, §7.2.2): decoding the two raw descriptor words
// into a typed Descriptor, encoding descriptors back into words, and the access-rights word the hidden caches keep.
//
// Layout of a descriptor (low dword, high dword):
//   segment / system segment   lo = base[15:0] << 16 | limit[15:0]
//                              hi = base[31:24] << 24 | G D/B L AVL << 20 | limit[19:16] << 16
//                                   | P DPL(2) S TYPE(4) << 8 | base[23:16]
//   call / interrupt / trap    lo = selector << 16 | offset[15:0]
//   gate                       hi = offset[31:16] << 16 | P DPL(2) 0 TYPE(4) << 8 | param count (call gates)
//   task gate                  lo = TSS selector << 16;  hi = P DPL(2) 0 0101 << 8
//
// The decoder, the segment loads, the consistency check, the debugger's views and the tests all use this one
// decoder, so a field means the same thing everywhere.

// This module imports nothing from the CPU, so any module may use it while the CPU modules are still loading.

// ---- segment types (S = 1): bits of the 4-bit type field (SDM 3A Table 3-1) ----
export const SEG_ACCESSED = 0x1;
/** Data: writable. Code: readable. */
export const SEG_WRITABLE = 0x2;
export const SEG_READABLE = 0x2;
/** Data: expand-down. Code: conforming. */
export const SEG_EXPAND_DOWN = 0x4;
export const SEG_CONFORMING = 0x4;
export const SEG_CODE = 0x8;

// ---- system descriptor types (S = 0), 32-bit protected mode (SDM 3A Table 3-2) ----
export const TYPE_TSS16_AVAIL = 0x1;
export const TYPE_LDT = 0x2;
export const TYPE_TSS16_BUSY = 0x3;
export const TYPE_CALL_GATE16 = 0x4;
export const TYPE_TASK_GATE = 0x5;
export const TYPE_INT_GATE16 = 0x6;
export const TYPE_TRAP_GATE16 = 0x7;
export const TYPE_TSS32_AVAIL = 0x9;
export const TYPE_TSS32_BUSY = 0xb;
export const TYPE_CALL_GATE32 = 0xc;
export const TYPE_INT_GATE32 = 0xe;
export const TYPE_TRAP_GATE32 = 0xf;
/** The busy bit within a TSS type (available 1/9 ↔ busy 3/B). */
export const TSS_BUSY_BIT = 0x2;

// ---- raw high-dword bits ----
const HI_ACCESSED = 0x100;
const HI_S = 0x1000;
const HI_P = 0x8000;
const HI_AVL = 0x100000;
const HI_L = 0x200000;
const HI_DB = 0x400000;
const HI_G = 0x800000;

export type DescriptorKind =
  | 'code'
  | 'data'
  | 'ldt'
  | 'tss'
  | 'call-gate'
  | 'task-gate'
  | 'interrupt-gate'
  | 'trap-gate'
  | 'reserved';

/** A decoded descriptor. Fields that do not apply to its kind are 0/false. */
export class Descriptor {
  /** Raw words as read from the table (unsigned). */
  lo = 0;
  hi = 0;
  kind: DescriptorKind = 'reserved';
  /** The 4-bit type field. */
  type = 0;
  /** S: 1 for code/data segments, 0 for system descriptors. */
  s = false;
  dpl = 0;
  p = false;
  // ---- segments and system segments (LDT, TSS) ----
  base = 0;
  /** Limit in bytes, already scaled by G (SDM 3A §3.4.5). */
  limit = 0;
  /** The 20-bit limit field as stored. */
  rawLimit = 0;
  g = false;
  db = false;
  l = false;
  avl = false;
  // ---- gates ----
  /** Target code segment selector (call/interrupt/trap gates) or TSS selector (task gates). */
  selector = 0;
  offset = 0;
  /** Call gates: number of stack parameters to copy (5 bits). */
  paramCount = 0;

  get isCode(): boolean {
    return this.s && (this.type & SEG_CODE) !== 0;
  }
  get isData(): boolean {
    return this.s && (this.type & SEG_CODE) === 0;
  }
  get conforming(): boolean {
    return this.isCode && (this.type & SEG_CONFORMING) !== 0;
  }
  /** Data segments are always readable; code segments when the R bit is set. */
  get readable(): boolean {
    return this.s && ((this.type & SEG_CODE) === 0 || (this.type & SEG_READABLE) !== 0);
  }
  get writable(): boolean {
    return this.isData && (this.type & SEG_WRITABLE) !== 0;
  }
  get expandDown(): boolean {
    return this.isData && (this.type & SEG_EXPAND_DOWN) !== 0;
  }
  get accessed(): boolean {
    return this.s && (this.type & SEG_ACCESSED) !== 0;
  }
  /** TSS: busy. */
  get busy(): boolean {
    return this.kind === 'tss' && (this.type & TSS_BUSY_BIT) !== 0;
  }
  /** Gates and TSSs: the 32-bit form (type bit 3). */
  get is32(): boolean {
    return !this.s && (this.type & 0x8) !== 0;
  }
}

function kindOf(s: boolean, type: number): DescriptorKind {
  if (s) return (type & SEG_CODE) !== 0 ? 'code' : 'data';
  switch (type) {
    case TYPE_LDT:
      return 'ldt';
    case TYPE_TSS16_AVAIL:
    case TYPE_TSS16_BUSY:
    case TYPE_TSS32_AVAIL:
    case TYPE_TSS32_BUSY:
      return 'tss';
    case TYPE_CALL_GATE16:
    case TYPE_CALL_GATE32:
      return 'call-gate';
    case TYPE_TASK_GATE:
      return 'task-gate';
    case TYPE_INT_GATE16:
    case TYPE_INT_GATE32:
      return 'interrupt-gate';
    case TYPE_TRAP_GATE16:
    case TYPE_TRAP_GATE32:
      return 'trap-gate';
    default:
      return 'reserved';
  }
}

/** Decodes raw descriptor words. Pass `out` to reuse an object on hot paths. */
export function decodeDescriptor(lo: number, hi: number, out: Descriptor = new Descriptor()): Descriptor {
  lo >>>= 0;
  hi >>>= 0;
  const d = out;
  d.lo = lo;
  d.hi = hi;
  d.type = (hi >>> 8) & 0xf;
  d.s = (hi & HI_S) !== 0;
  d.dpl = (hi >>> 13) & 3;
  d.p = (hi & HI_P) !== 0;
  d.kind = kindOf(d.s, d.type);
  const segmentLike = d.kind === 'code' || d.kind === 'data' || d.kind === 'ldt' || d.kind === 'tss';
  if (segmentLike || d.kind === 'reserved') {
    d.base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
    d.rawLimit = (lo & 0xffff) | (hi & 0xf0000);
    d.g = (hi & HI_G) !== 0;
    // G scales the limit to 4 KiB units, filling the low 12 bits with ones (SDM 3A §3.4.5).
    d.limit = d.g ? ((d.rawLimit << 12) | 0xfff) >>> 0 : d.rawLimit;
    d.db = (hi & HI_DB) !== 0;
    d.l = (hi & HI_L) !== 0;
    d.avl = (hi & HI_AVL) !== 0;
    d.selector = d.offset = d.paramCount = 0;
  } else {
    d.base = d.limit = d.rawLimit = 0;
    d.g = d.db = d.l = d.avl = false;
    d.selector = lo >>> 16;
    if (d.kind === 'task-gate') {
      d.offset = 0;
      d.paramCount = 0;
    } else {
      d.offset = d.is32 ? ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0 : lo & 0xffff;
      d.paramCount = d.kind === 'call-gate' ? hi & 0x1f : 0;
    }
  }
  return d;
}

/**
 * The hidden cache's access-rights word for a segment descriptor (cpu.ts layout): descriptor byte 5 (type, S,
 * DPL, P) in bits 0–7, the flags nibble of byte 6 (AVL, L, D/B, G) in bits 12–15.
 */
export function accessRightsOf(d: Descriptor): number {
  return (d.hi >>> 8) & 0xf0ff;
}

/** The access-rights word straight from the raw high dword (for paths that do not decode). */
export function accessRightsOfHigh(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

/**
 * Builds descriptor words for a segment or system segment from base, byte limit and an access-rights word. Pass
 * `out` to reuse a pair on hot paths (the monitor's return checks six registers per entry).
 */
export function encodeSegment(base: number, limit: number, ar: number, out: [number, number] = [0, 0]): [number, number] {
  // With G (access-rights bit 15) the limit is stored in 4 KiB units and the low 12 bits are implied ones.
  const g = (ar & 0x8000) !== 0;
  const raw = g ? limit >>> 12 : limit & 0xfffff;
  out[0] = (((base & 0xffff) << 16) | (raw & 0xffff)) >>> 0;
  out[1] = ((base & 0xff000000) | ((ar & 0xf0ff) << 8) | (raw & 0xf0000) | ((base >>> 16) & 0xff)) >>> 0;
  return out;
}

/**
 * Access-rights word (the cache layout: descriptor byte 5 in bits 0–7, the AVL/L/D/B/G nibble in bits 12–15) for a
 * segment from its parts.
 */
export function segmentAccessRights(
  type: number,
  opts: { dpl?: number; present?: boolean; db?: boolean; g?: boolean; system?: boolean; avl?: boolean } = {},
): number {
  const byte5 = (opts.present === false ? 0 : 0x80) | (((opts.dpl ?? 0) & 3) << 5) | (opts.system ? 0 : 0x10) | (type & 0xf);
  const flags = (opts.g ? 0x8 : 0) | (opts.db ? 0x4 : 0) | (opts.avl ? 0x1 : 0);
  return byte5 | (flags << 12);
}

/** Builds gate words: call (4/C), task (5), interrupt (6/E) and trap (7/F) gates. */
export function encodeGate(
  type: number,
  selector: number,
  offset: number,
  opts: { dpl?: number; present?: boolean; paramCount?: number } = {},
): [number, number] {
  const access = (opts.present === false ? 0 : 0x80) | ((opts.dpl ?? 0) << 5) | (type & 0xf);
  const offsetHigh = (type & 0x8) !== 0 ? offset & 0xffff0000 : 0;
  const lo = (((selector & 0xffff) << 16) | (offset & 0xffff)) >>> 0;
  const hi = (offsetHigh | (access << 8) | ((opts.paramCount ?? 0) & 0x1f)) >>> 0;
  return [lo, hi];
}

/** Sets the accessed bit in raw high-dword form. */
export function withAccessed(hi: number): number {
  return (hi | HI_ACCESSED) >>> 0;
}

export const DESCRIPTOR_HI_ACCESSED = HI_ACCESSED;

/** Short human text for a descriptor type, for the debugger and fault details. */
export function describeType(d: Descriptor): string {
  switch (d.kind) {
    case 'code':
      return `code ${(d.type & SEG_READABLE) !== 0 ? 'execute/read' : 'execute-only'}${d.conforming ? ' conforming' : ''}`;
    case 'data':
      return `data ${d.writable ? 'read/write' : 'read-only'}${d.expandDown ? ' expand-down' : ''}`;
    case 'ldt':
      return 'LDT';
    case 'tss':
      return `${d.is32 ? '32' : '16'}-bit TSS (${d.busy ? 'busy' : 'available'})`;
    case 'call-gate':
      return `${d.is32 ? '32' : '16'}-bit call gate`;
    case 'task-gate':
      return 'task gate';
    case 'interrupt-gate':
      return `${d.is32 ? '32' : '16'}-bit interrupt gate`;
    case 'trap-gate':
      return `${d.is32 ? '32' : '16'}-bit trap gate`;
    default:
      return `reserved system type ${d.type}`;
  }
}
