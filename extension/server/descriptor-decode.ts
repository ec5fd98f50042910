// Decodes the two doublewords of a GDT/LDT/IDT entry (SDM Vol. 3 §3.4.5, Figure 3-8; gates §5.8.3, §6.11).
// The language server works on source text, before any engine runs, so it decodes literals itself; when the
// engine's descriptor decoder (engine/cpu/protect/descriptor.ts) lands, this file should delegate to it.
import type { SegmentFields } from '../../debug-adapter/protocol-types';

/** Access-rights bits of the descriptor's high doubleword. */
const HIGH_TYPE_SHIFT = 8;
const HIGH_TYPE_MASK = 0xf;
const HIGH_S = 1 << 12;
const HIGH_DPL_SHIFT = 13;
const HIGH_P = 1 << 15;
const HIGH_AVL = 1 << 20;
const HIGH_L = 1 << 21;
const HIGH_DB = 1 << 22;
const HIGH_G = 1 << 23;

/** System-descriptor types that are gates: their "base/limit" bits hold a selector and an offset instead. */
const GATE_TYPES = new Set([0x4, 0x5, 0x6, 0x7, 0xc, 0xe, 0xf]);
const TASK_GATE = 0x5;

export interface GateFields {
  selector: number;
  /** Entry point offset; meaningless for a task gate. */
  offset: number;
  /** Parameter count, copied between stacks by a call gate (bits 4:0 of the high doubleword). */
  paramCount: number;
}

export interface DecodedDescriptor {
  low: number;
  high: number;
  fields: SegmentFields;
  /** Bit 21 of the high doubleword: 64-bit code segment in IA-32e mode, reserved otherwise. */
  l: boolean;
  /** The limit field as stored (20 bits), before scaling by G. */
  rawLimit: number;
  gate?: GateFields;
}

export function decodeDescriptor(low: number, high: number): DecodedDescriptor {
  low >>>= 0;
  high >>>= 0;
  const rawLimit = (low & 0xffff) | (high & 0x000f_0000);
  const g = (high & HIGH_G) !== 0;
  const s = (high & HIGH_S) !== 0;
  const type = (high >>> HIGH_TYPE_SHIFT) & HIGH_TYPE_MASK;
  const p = (high & HIGH_P) !== 0;
  const fields: SegmentFields = {
    base: ((low >>> 16) | ((high & 0xff) << 16) | (high & 0xff00_0000)) >>> 0,
    // Limit scaling by G (§3.4.5): 4-KiB units, with the low 12 bits all ones.
    limit: g ? ((rawLimit << 12) | 0xfff) >>> 0 : rawLimit,
    type,
    s,
    dpl: (high >>> HIGH_DPL_SHIFT) & 3,
    p,
    db: (high & HIGH_DB) !== 0,
    g,
    avl: (high & HIGH_AVL) !== 0,
    usable: p,
  };
  const decoded: DecodedDescriptor = { low, high, fields, l: (high & HIGH_L) !== 0, rawLimit };
  if (!s && GATE_TYPES.has(type)) {
    decoded.gate = {
      selector: low >>> 16,
      offset: type === TASK_GATE ? 0 : ((high & 0xffff_0000) | (low & 0xffff)) >>> 0,
      paramCount: high & 0x1f,
    };
  }
  return decoded;
}

/** Splits a 64-bit descriptor literal (as a bigint) into its two doublewords. */
export function splitQuadword(value: bigint): [number, number] {
  return [Number(value & 0xffff_ffffn), Number((value >> 32n) & 0xffff_ffffn)];
}
