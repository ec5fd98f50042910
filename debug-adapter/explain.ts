// The words of an exception stop (exceptionInfo): what happened, in the terms of the event. For a CPU fault: the
// vector, the decoded error code (SDM 3A §6.13: EXT bit 0, IDT bit 1, TI bit 2, index bits 15–3) and which check
// of the SDM failed, as the engine's rule records it.

import { SEGMENT_NAMES } from '../engine/cpu/cpu';
import type { CacheSnapshot, EventMap } from '../engine/events';
import { decodeCache } from '../engine/cpu/inspect';
import type { ExceptionStop } from './runtime';
import { vectorName } from './stack';

const hex = (v: number, d = 8): string => '0x' + (v >>> 0).toString(16).padStart(d, '0');

function cacheText(c: CacheSnapshot): string {
  if (!c.valid) return 'unusable';
  const d = decodeCache(c.ar, c.base, c.limit, c.valid);
  return `base=${hex(c.base)} limit=${hex(c.limit)} ${d.description} dpl=${d.dpl}${d.p ? '' : ' not-present'}${d.db ? ' db' : ''}${d.g ? ' g' : ''}`;
}

/** Decodes a selector error code (SDM 3A §6.13). */
export function explainErrorCode(code: number): string {
  if (code < 0) return 'none (this exception pushes no error code)';
  if (code === 0) return '0 (no selector involved)';
  const ext = code & 1;
  const idt = (code >> 1) & 1;
  const ti = (code >> 2) & 1;
  const index = (code >>> 3) & 0x1fff;
  const table = idt ? 'IDT' : ti ? 'LDT' : 'GDT';
  return `${hex(code, 4)}: index ${index} in the ${table} (EXT=${ext}, IDT=${idt}, TI=${ti})${ext ? ', raised while delivering an external event' : ''}`;
}

export interface Explanation {
  description: string;
  details: string;
}

export function explainException(x: ExceptionStop): Explanation {
  switch (x.filter) {
    case 'segment-load': {
      const e = x.event as EventMap['segment-load'];
      const reg = SEGMENT_NAMES[e.reg];
      return {
        description: `${reg} loaded: ${hex(e.oldSelector, 4)} -> ${hex(e.newSelector, 4)} (cause ${e.cause})`,
        details: `register ${reg}\nold selector ${hex(e.oldSelector, 4)}, cache ${cacheText(e.oldCache)}\nnew selector ${hex(e.newSelector, 4)}, cache ${cacheText(e.newCache)}\ncause ${e.cause} at ${hex(e.cs, 4)}:${hex(e.eip)}`,
      };
    }
    case 'cache-inconsistent':
    case 'cache-consistent': {
      const e = x.event as EventMap['cache-inconsistent'];
      const reg = SEGMENT_NAMES[e.reg];
      return x.filter === 'cache-inconsistent'
        ? { description: `${reg}'s cache no longer matches its descriptor (${e.differs.join(', ')})`, details: `register ${reg}\ndiffering fields: ${e.differs.join(', ')}\ncause: ${e.cause}\nat ${hex(e.cs, 4)}:${hex(e.eip)}` }
        : { description: `${reg}'s cache matches its descriptor again`, details: `register ${reg}\ncause: ${e.cause}\nat ${hex(e.cs, 4)}:${hex(e.eip)}` };
    }
    case 'descriptor-write': {
      const e = x.event as EventMap['descriptor-write'];
      return {
        description: `${e.table}[${e.index}] written`,
        details: `${e.table}[${e.index}]: ${hex(e.oldValue[1])}:${hex(e.oldValue[0])} -> ${hex(e.newValue[1])}:${hex(e.newValue[0])}\nwriter at ${hex(e.cs, 4)}:${hex(e.eip)}`,
      };
    }
    case 'monitor-trap': {
      const e = x.event as EventMap['monitor-trap'];
      return { description: `monitor trap: ${e.reason}`, details: `instruction ${e.instruction} at ${hex(e.cs, 4)}:${hex(e.eip)}` };
    }
    case 'sbe-change': {
      const e = x.event as EventMap['sbe-change'];
      return { description: `SBE turned ${e.on ? 'on' : 'off'}`, details: `condition: ${e.condition}` };
    }
    case 'cpu-exception': {
      const e = x.event as EventMap['cpu-exception'];
      const code = e.errorCode >= 0 ? `(${hex(e.errorCode, 4)})` : '';
      return {
        description: `${vectorName(e.vector)}${code}: ${e.rule}${e.detail ? ` — ${e.detail}` : ''}`,
        details: [
          `vector ${e.vector} (${vectorName(e.vector)}) at ${hex(e.cs, 4)}:${hex(e.eip)}`,
          `error code: ${explainErrorCode(e.errorCode)}`,
          `failed check: ${e.rule} [${e.ruleId}] (${e.sdm})`,
          e.detail ? `detail: ${e.detail}` : '',
        ].filter((l) => l).join('\n'),
      };
    }
    case 'triple-fault': {
      const e = x.event as EventMap['triple-fault'];
      return { description: 'triple fault: the CPU shuts down', details: `${e.detail}\nat ${hex(e.cs, 4)}:${hex(e.eip)}` };
    }
  }
}
