// LAR, LSL, VERR and VERW: asking whether a selector would be usable, without loading it and without faulting on
// the answer (SDM 2 LAR, LSL, VERR/VERW — Operation). Each returns "not valid" (ZF = 0 for the caller) when the
// selector is NULL, lies beyond its table, names a type the instruction does not accept, or fails the privilege
// rule: for anything but conforming code, DPL ≥ CPL and DPL ≥ RPL. The descriptor is read as a supervisor access
// (a page fault on the table is still raised).

import type { Cpu } from '../cpu';
import {
  decodeDescriptor,
  Descriptor,
  TYPE_CALL_GATE16,
  TYPE_CALL_GATE32,
  TYPE_LDT,
  TYPE_TASK_GATE,
  TYPE_TSS16_AVAIL,
  TYPE_TSS16_BUSY,
  TYPE_TSS32_AVAIL,
  TYPE_TSS32_BUSY,
} from './descriptor';
import { descriptorAddress, isNullSelector, selectorRpl } from './descriptor-table';

/** System types LAR accepts (SDM 2 LAR, Table "Segment and Gate Types"): TSSs, LDT, call and task gates. */
const LAR_SYSTEM_TYPES = new Set([TYPE_TSS16_AVAIL, TYPE_LDT, TYPE_TSS16_BUSY, TYPE_CALL_GATE16, TYPE_TASK_GATE, TYPE_TSS32_AVAIL, TYPE_TSS32_BUSY, TYPE_CALL_GATE32]);
/** System types LSL accepts: the ones with a limit (TSSs and LDT). */
const LSL_SYSTEM_TYPES = new Set([TYPE_TSS16_AVAIL, TYPE_LDT, TYPE_TSS16_BUSY, TYPE_TSS32_AVAIL, TYPE_TSS32_BUSY]);

const scratch = new Descriptor();

/** The descriptor `selector` names if it exists and passes the privilege rule, else null. */
function visibleDescriptor(cpu: Cpu, selector: number): Descriptor | null {
  if (isNullSelector(selector)) return null;
  const addr = descriptorAddress(cpu, selector);
  if (addr === -1) return null;
  const d = decodeDescriptor(cpu.readLinear32(addr), cpu.readLinear32(addr + 4), scratch);
  if (!d.conforming && (d.dpl < cpu.cpl || d.dpl < selectorRpl(selector))) return null;
  return d;
}

/** LAR: the descriptor's second dword masked to the access rights (00FxFF00H), or -1 when not valid. */
export function queryAccessRights(cpu: Cpu, selector: number): number {
  const d = visibleDescriptor(cpu, selector);
  if (d === null || (!d.s && !LAR_SYSTEM_TYPES.has(d.type))) return -1;
  return (d.hi & 0x00ffff00) >>> 0;
}

/** LSL: the byte-granular (scaled) limit, or -1 when not valid. */
export function querySegmentLimit(cpu: Cpu, selector: number): number {
  const d = visibleDescriptor(cpu, selector);
  if (d === null || (!d.s && !LSL_SYSTEM_TYPES.has(d.type))) return -1;
  return d.limit;
}

/** VERR (write = false) / VERW (write = true): readable (data or readable code) / writable data at this privilege. */
export function verifySegment(cpu: Cpu, selector: number, write: boolean): boolean {
  const d = visibleDescriptor(cpu, selector);
  if (d === null || !d.s) return false;
  return write ? d.writable : d.readable;
}
