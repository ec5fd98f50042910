// Descriptor literals from NASM sources, decoded by the engine's own decoder (engine/cpu/protect/descriptor.ts)
// so that a hover means exactly what the CPU does with the same words, then shaped as the SegmentFields the
// debugger views use.
import type { SegmentFields } from '../../debug-adapter/protocol-types';
import { decodeDescriptor as decodeWords } from '../../engine/cpu/protect/descriptor';

export interface GateFields {
  selector: number;
  /** Entry point offset; 0 for a task gate. */
  offset: number;
  /** Parameter count, copied between stacks by a call gate. */
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

const GATE_KINDS = new Set(['call-gate', 'task-gate', 'interrupt-gate', 'trap-gate']);

export function decodeDescriptor(low: number, high: number): DecodedDescriptor {
  const d = decodeWords(low, high);
  const decoded: DecodedDescriptor = {
    low: d.lo,
    high: d.hi,
    fields: { base: d.base, limit: d.limit, type: d.type, s: d.s, dpl: d.dpl, p: d.p, db: d.db, g: d.g, avl: d.avl, usable: d.p },
    l: d.l,
    rawLimit: d.rawLimit,
  };
  if (GATE_KINDS.has(d.kind)) decoded.gate = { selector: d.selector, offset: d.offset, paramCount: d.paramCount };
  return decoded;
}

/** Splits a 64-bit descriptor literal (as a bigint) into its two doublewords. */
export function splitQuadword(value: bigint): [number, number] {
  return [Number(value & 0xffff_ffffn), Number((value >> 32n) & 0xffff_ffffn)];
}
