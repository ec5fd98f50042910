// Fetching descriptors from the GDT and LDT by selector (SDM 3A §3.4.2, §3.5.1).
//
// A selector names index (bits 15–3), table indicator TI (bit 2: 0 GDT, 1 LDT) and RPL (bits 1–0). The descriptor
// at index × 8 must lie wholly within the table: index × 8 + 7 ≤ limit, else the caller raises its exception
// (#GP(selector) for segment loads and far transfers, #TS(selector) during a task switch) — so the caller passes
// the vector and the rule. A TI = 1 selector with an unusable LDTR (null LDT) fails the same check.
//
// The accessed bit is written back to memory only when it is clear (SDM 3A §3.4.5.1: the processor sets it; a
// store when it is already set would be a needless locked write, and it would fire descriptor-write watches).

import type { Cpu } from '../cpu';
import { LDTR } from '../cpu';
import { fault, selectorError, type FaultRule } from '../faults';
import { decodeDescriptor, Descriptor, DESCRIPTOR_HI_ACCESSED } from './descriptor';
import { peekLinear } from './peek';
import { ACCESS_SYSTEM } from './paging';

export const SELECTOR_RPL = 0x3;
export const SELECTOR_TI = 0x4;
export const SELECTOR_INDEX_SHIFT = 3;

export function selectorRpl(sel: number): number {
  return sel & SELECTOR_RPL;
}

export function selectorIndex(sel: number): number {
  return (sel & 0xffff) >>> SELECTOR_INDEX_SHIFT;
}

/** A null selector: index 0 in the GDT, any RPL (SDM 3A §3.4.2). */
export function isNullSelector(sel: number): boolean {
  return (sel & 0xfffc) === 0;
}

/**
 * Linear address of the descriptor that `selector` names, or -1 when it lies beyond its table's limit (or TI = 1
 * while LDTR holds no usable LDT).
 */
export function descriptorAddress(cpu: Cpu, selector: number): number {
  const offset = selector & 0xfff8;
  if ((selector & SELECTOR_TI) !== 0) {
    if (!cpu.segValid[LDTR]) return -1;
    if (offset + 7 > cpu.segLimit[LDTR]) return -1;
    return (cpu.segBase[LDTR] + offset) | 0;
  }
  if (offset + 7 > cpu.gdtrLimit) return -1;
  return (cpu.gdtrBase + offset) | 0;
}

/**
 * Reads the descriptor `selector` names, raising `fault(vector, selectorError(selector), rule)` when it lies beyond
 * the table limit. Reads go through paging as supervisor accesses (a not-present page raises #PF).
 */
export function fetchDescriptor(
  cpu: Cpu,
  selector: number,
  vector: number,
  r: FaultRule,
  out?: Descriptor,
): Descriptor {
  const addr = descriptorAddress(cpu, selector);
  if (addr === -1) {
    const table = (selector & SELECTOR_TI) !== 0 ? `LDT (limit 0x${cpu.segLimit[LDTR].toString(16)})` : `GDT (limit 0x${cpu.gdtrLimit.toString(16)})`;
    return fault(vector, selectorError(selector), r, `selector 0x${hex4(selector)} lies beyond the ${table}`);
  }
  readDescriptorWords(cpu, addr);
  return decodeDescriptor(wordLo, wordHi, out);
}

/** The two words `readDescriptorWords` read last (module scratch, so segment loads allocate nothing). */
let wordLo = 0;
let wordHi = 0;

/**
 * Reads the 8 bytes of a descriptor at a linear address as supervisor data reads: one translation when the entry
 * lies within a page (entries are 8-byte aligned from an aligned table base, the common case), byte-wise otherwise.
 */
function readDescriptorWords(cpu: Cpu, addr: number): void {
  if ((addr & 0xfff) <= 0xff8) {
    const phys = cpu.translate(addr, ACCESS_SYSTEM);
    // System reads: under the monitor the tables may live in its hidden region (memory.ts readSystem32).
    wordLo = cpu.mem.readSystem32(phys);
    wordHi = cpu.mem.readSystem32((phys + 4) >>> 0);
  } else {
    wordLo = cpu.readLinear32(addr);
    wordHi = cpu.readLinear32(addr + 4);
  }
}

/** Sets the descriptor's accessed bit in memory when it is clear (after every check has passed). */
export function markAccessed(cpu: Cpu, selector: number, d: Descriptor): void {
  if ((d.hi & DESCRIPTOR_HI_ACCESSED) !== 0) return;
  const addr = descriptorAddress(cpu, selector);
  if (addr === -1) return;
  // Byte 5 holds the type; writing just that byte leaves the rest of the descriptor as it is in memory.
  cpu.writeLinear8(addr + 5, ((d.hi >>> 8) & 0xff) | 0x1);
  d.hi = (d.hi | DESCRIPTOR_HI_ACCESSED) >>> 0;
  d.type |= 0x1;
}

/** Rewrites the type byte of a system descriptor in memory (TSS busy bit; used by LTR and task switches). */
export function writeDescriptorType(cpu: Cpu, selector: number, d: Descriptor, type: number): void {
  const addr = descriptorAddress(cpu, selector);
  if (addr === -1) return;
  const byte5 = ((d.hi >>> 8) & 0xf0) | (type & 0xf);
  cpu.writeLinear8(addr + 5, byte5);
  d.hi = ((d.hi & ~0xf00) | ((type & 0xf) << 8)) >>> 0;
  d.type = type & 0xf;
}

export function hex4(v: number): string {
  return (v & 0xffff).toString(16).padStart(4, '0');
}

export type PeekStatus = 'ok' | 'null' | 'beyond-limit' | 'unmapped';

export interface PeekedDescriptor {
  status: PeekStatus;
  /** Linear address of the entry (-1 when beyond the limit). */
  address: number;
  descriptor: Descriptor | null;
}

/**
 * The descriptor `selector` names, read without side effects (no accessed bits, no page faults) for the debugger
 * and the consistency check.
 */
export function peekDescriptor(cpu: Cpu, selector: number): PeekedDescriptor {
  if (isNullSelector(selector)) return { status: 'null', address: -1, descriptor: null };
  const address = descriptorAddress(cpu, selector);
  if (address === -1) return { status: 'beyond-limit', address, descriptor: null };
  const lo = peekLinear(cpu, address, 4);
  const hi = peekLinear(cpu, address + 4, 4);
  if (lo < 0 || hi < 0) return { status: 'unmapped', address, descriptor: null };
  return { status: 'ok', address, descriptor: decodeDescriptor(lo, hi) };
}
