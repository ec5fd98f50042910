// Whether loading a descriptor into a segment register would fault, and with what, in the order the SDM checks
// (Vol. 2, MOV and POP "IF SS is loaded" / "IF DS, ES, FS, or GS is loaded"; JMP/CALL far to a code segment;
// Vol. 3 §5.6–5.8). Used by the hover ("what it would mean if loaded into CS/SS/DS") and the diagnostics.
import type { SegmentFields } from '../../debug-adapter/protocol-types';
import { SEG_CODE as TYPE_CODE, SEG_CONFORMING as TYPE_CODE_CONFORMING, SEG_READABLE as TYPE_CODE_READABLE, SEG_WRITABLE as TYPE_DATA_WRITABLE } from '../../engine/cpu/protect/descriptor';
import { typeName } from './descriptor-text';

export type SegmentRole = 'CS' | 'SS' | 'DS';

export interface LoadVerdict {
  ok: boolean;
  /** `#GP(0x0010)`-style fault with its error code (the selector with RPL cleared), when not ok. */
  fault?: string;
  /** Why, in the SDM's terms. */
  reason: string;
}

/** Selector error code (SDM Vol. 3 §6.13): the selector's index and TI; RPL bits are replaced by EXT/IDT, here 0. */
const SELECTOR_ERROR_MASK = 0xfffc;

function fault(kind: '#GP' | '#SS' | '#NP', selector: number | undefined, reason: string): LoadVerdict {
  const code = selector === undefined ? 'sel' : `0x${(selector & SELECTOR_ERROR_MASK).toString(16).padStart(4, '0')}`;
  return { ok: false, fault: `${kind}(${code})`, reason };
}

const isCode = (f: SegmentFields) => f.s && (f.type & TYPE_CODE) !== 0;
const isData = (f: SegmentFields) => f.s && (f.type & TYPE_CODE) === 0;

/**
 * Checks a load of `f` through a selector with RPL `rpl` at privilege `cpl`. `checkPrivilege: false` skips the
 * RPL/DPL/CPL rules, for roles guessed from names, where the privilege of the loading code is unknown.
 */
export function checkLoad(
  role: SegmentRole,
  f: SegmentFields,
  options: { selector?: number; rpl?: number; cpl?: number; checkPrivilege?: boolean } = {},
): LoadVerdict {
  const { selector } = options;
  const rpl = options.rpl ?? (selector !== undefined ? selector & 3 : 0);
  const cpl = options.cpl ?? 0;
  const privilege = options.checkPrivilege ?? true;
  const kind = typeName(f.s, f.type);
  if (role === 'SS') {
    if (privilege && rpl !== cpl) return fault('#GP', selector, `SS's selector RPL (${rpl}) must equal CPL (${cpl})`);
    if (!isData(f) || !(f.type & TYPE_DATA_WRITABLE)) return fault('#GP', selector, `SS must be a writable data segment, not ${kind}`);
    if (privilege && f.dpl !== cpl) return fault('#GP', selector, `SS's descriptor DPL (${f.dpl}) must equal CPL (${cpl})`);
    if (!f.p) return fault('#SS', selector, 'the stack segment is not present (P=0)');
    return { ok: true, reason: `a writable data segment at DPL ${f.dpl}: usable as a stack` };
  }
  if (role === 'DS') {
    if (!isData(f) && !(isCode(f) && f.type & TYPE_CODE_READABLE)) {
      return fault('#GP', selector, `DS, ES, FS and GS take only data or readable code segments, not ${kind}`);
    }
    const conformingCode = isCode(f) && (f.type & TYPE_CODE_CONFORMING) !== 0;
    if (privilege && !conformingCode && (rpl > f.dpl || cpl > f.dpl)) {
      return fault('#GP', selector, `both RPL (${rpl}) and CPL (${cpl}) must be at most the descriptor's DPL (${f.dpl})`);
    }
    if (!f.p) return fault('#NP', selector, 'the segment is not present (P=0)');
    return { ok: true, reason: isCode(f) ? 'readable code: its bytes can be read through DS, ES, FS or GS, not written' : f.type & TYPE_DATA_WRITABLE ? 'a writable data segment' : 'a read-only data segment: writes through it fault with #GP' };
  }
  // CS through a far JMP or CALL straight to a segment descriptor.
  if (!f.s) {
    const gateOrTask = [0x1, 0x4, 0x5, 0x9, 0xc].includes(f.type);
    return gateOrTask
      ? { ok: true, reason: `a far JMP/CALL to ${kind} goes through it (call gate or task switch), not into it as code` }
      : fault('#GP', selector, `a far JMP/CALL cannot go to ${kind}`);
  }
  if (!isCode(f)) return fault('#GP', selector, `CS must be a code segment, not ${kind}`);
  if (privilege) {
    if (f.type & TYPE_CODE_CONFORMING) {
      if (f.dpl > cpl) return fault('#GP', selector, `a conforming code segment's DPL (${f.dpl}) must be at most CPL (${cpl})`);
    } else {
      if (rpl > cpl) return fault('#GP', selector, `the selector's RPL (${rpl}) must be at most CPL (${cpl}) for nonconforming code`);
      if (f.dpl !== cpl) return fault('#GP', selector, `a nonconforming code segment's DPL (${f.dpl}) must equal CPL (${cpl})`);
    }
  }
  if (!f.p) return fault('#NP', selector, 'the code segment is not present (P=0)');
  return { ok: true, reason: `${f.db ? '32' : '16'}-bit code${f.type & TYPE_CODE_CONFORMING ? ', conforming' : ''}` };
}
