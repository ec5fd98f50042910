// Consistency of a segment register's hidden cache with its selector (model.md §2).
//
// A register is consistent when reloading its selector now — at the current CPL, in the current mode, from the
// tables as they are in memory — would give exactly the cache it holds, ignoring the accessed bit. The check is
// pure: it reads memory through peek.ts (no accessed/dirty bits, no page faults) and changes nothing.
//
// What a reload gives, by mode:
//   real mode   base = selector × 16; limit and attributes kept; usable        → only base and usable can differ
//   V86 mode    base = selector × 16, limit 0xFFFF, AR 0xF3 (DPL 3), usable
//   protected   NULL (DS–GS, LDTR) → an unusable cache; otherwise the descriptor the selector names, provided the
//               load's checks would pass; a selector beyond its table, an unmapped table page, a not-present
//               descriptor, a type the register cannot hold or a failed privilege rule are reported as reasons
//               (the reload would fault instead of giving any cache)
//
// `differs` names the fields or reasons: base limit type s dpl p db g avl usable, selector-beyond-limit,
// table-unmapped, not-present, wrong-type, privilege. `unreal` is real mode with a limit other than 0xFFFF.

import type { Cpu } from '../cpu';
import { AR_AVL, AR_DB, AR_DPL, AR_G, AR_P, AR_S, AR_TYPE, CR0_PE, CS, LDTR, SS, TR } from '../cpu';
import type { CacheSnapshot } from '../../events';
import { VM } from '../flags';
import { accessRightsOf, Descriptor, SEG_ACCESSED, TSS_BUSY_BIT } from './descriptor';
import { peekDescriptor, selectorRpl, type PeekedDescriptor } from './descriptor-table';
import { AR_V86 } from './segment-load';

export interface ConsistencyReport {
  consistent: boolean;
  /** Fields that differ between the cache and a reload, or reasons a reload would fault (empty when consistent). */
  differs: string[];
  /** Real mode with a limit other than 0xFFFF. */
  unreal: boolean;
  /** The cache a reload would give, when it would succeed. */
  expected: CacheSnapshot | null;
  /** The descriptor the selector names now (protected mode), when it can be read. */
  entry: Descriptor | null;
}

/**
 * Access-rights fields compared, with their masks. Built on first use: this module loads inside the CPU modules'
 * import cycle (cpu.ts → consistency-events.ts → here), when cpu.ts's constants are not yet initialised.
 */
let fields: readonly [string, number][] | null = null;
function accessRightsFields(): readonly [string, number][] {
  fields ??= [
    ['type', AR_TYPE],
    ['s', AR_S],
    ['dpl', AR_DPL],
    ['p', AR_P],
    ['db', AR_DB],
    ['g', AR_G],
    ['avl', AR_AVL],
  ];
  return fields;
}

/** Compares two caches field by field, ignoring the accessed bit of code/data types (and TSS busy for TR). */
export function cacheDifferences(seg: number, actual: CacheSnapshot, expected: CacheSnapshot): string[] {
  const differs: string[] = [];
  if (actual.valid !== expected.valid) differs.push('usable');
  if (!actual.valid && !expected.valid) return differs;
  if (actual.base >>> 0 !== expected.base >>> 0) differs.push('base');
  if (actual.limit >>> 0 !== expected.limit >>> 0) differs.push('limit');
  let ignore = 0;
  if ((expected.ar & AR_S) !== 0) ignore = SEG_ACCESSED;
  else if (seg === TR) ignore = TSS_BUSY_BIT;
  for (const [name, mask] of accessRightsFields()) {
    const m = name === 'type' ? mask & ~ignore : mask;
    if ((actual.ar & m) !== (expected.ar & m)) differs.push(name);
  }
  return differs;
}

export function checkConsistency(cpu: Cpu, seg: number): ConsistencyReport {
  const actual = cpu.cacheSnapshot(seg);
  const selector = cpu.segSel[seg];
  const realMode = (cpu.cr0 & CR0_PE) === 0;
  const unreal = realMode && seg < 6 && actual.limit !== 0xffff;
  let expected: CacheSnapshot | null;
  let entry: Descriptor | null = null;
  const reasons: string[] = [];
  if ((realMode || (cpu.flags & VM) !== 0) && (seg === LDTR || seg === TR)) {
    // LLDT and LTR raise #UD in real and V86 mode: no reload exists that could give another cache.
    return { consistent: true, differs: [], unreal: false, expected: actual, entry: null };
  }
  if (realMode && seg < 6) {
    expected = { base: (selector << 4) >>> 0, limit: actual.limit, ar: actual.ar, valid: true };
  } else if ((cpu.flags & VM) !== 0 && seg < 6) {
    expected = { base: (selector << 4) >>> 0, limit: 0xffff, ar: AR_V86, valid: true };
  } else {
    const peeked = peekDescriptor(cpu, selector);
    entry = peeked.descriptor;
    expected = protectedReload(cpu, seg, selector, peeked, reasons);
  }
  const differs = expected === null ? reasons : cacheDifferences(seg, actual, expected);
  return { consistent: differs.length === 0, differs, unreal, expected, entry };
}

/** The cache a protected-mode reload would give, or null with the reasons it would fault. */
function protectedReload(cpu: Cpu, seg: number, selector: number, peeked: PeekedDescriptor, reasons: string[]): CacheSnapshot | null {
  if (peeked.status === 'null') {
    // DS–GS and LDTR load NULL as an unusable cache; CS, SS and TR cannot be loaded with NULL at all.
    if (seg === CS || seg === SS || seg === TR) {
      reasons.push('usable');
      return null;
    }
    return { base: cpu.segBase[seg] >>> 0, limit: cpu.segLimit[seg], ar: cpu.segAr[seg], valid: false };
  }
  if (peeked.status === 'beyond-limit') {
    reasons.push('selector-beyond-limit');
    return null;
  }
  if (peeked.status === 'unmapped') {
    reasons.push('table-unmapped');
    return null;
  }
  const d = peeked.descriptor!;
  if (!typeFits(seg, d, selector)) reasons.push('wrong-type');
  if (!privilegeFits(cpu, seg, d, selector)) reasons.push('privilege');
  if (!d.p) reasons.push('not-present');
  if (reasons.length > 0) return null;
  return { base: d.base, limit: d.limit, ar: accessRightsOf(d), valid: true };
}

function typeFits(seg: number, d: Descriptor, selector: number): boolean {
  switch (seg) {
    case CS:
      return d.isCode;
    case SS:
      return d.writable;
    case LDTR:
      return d.kind === 'ldt' && (selector & 4) === 0;
    case TR:
      return d.kind === 'tss' && (selector & 4) === 0;
    default:
      return d.readable;
  }
}

/** The privilege rule of the load that would reload this register (SDM MOV, far JMP, LLDT/LTR at CPL 0). */
function privilegeFits(cpu: Cpu, seg: number, d: Descriptor, selector: number): boolean {
  const cpl = cpu.cpl;
  const rpl = selectorRpl(selector);
  switch (seg) {
    case CS:
      return d.conforming ? d.dpl <= cpl : d.dpl === cpl;
    case SS:
      return rpl === cpl && d.dpl === cpl;
    case LDTR:
    case TR:
      return true;
    default:
      return d.conforming || (rpl <= d.dpl && cpl <= d.dpl);
  }
}
