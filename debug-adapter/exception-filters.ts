// The exception breakpoint filters of design/interfaces.md: one per engine/monitor event that can stop the guest.
// Each carries a condition over the event's fields (`reg == DS`, `selector == 0x10`, `cause == "pop"`,
// `vector == 13`); CPU registers are in scope too, behind the event's own names.

import { SEGMENT_NAMES } from '../engine/cpu/cpu';
import type { CacheSnapshot, EventMap } from '../engine/events';
import type { Value } from './expression/evaluate';

export const FILTER_IDS = [
  'segment-load',
  'cache-inconsistent',
  'cache-consistent',
  'descriptor-write',
  'monitor-trap',
  'sbe-change',
  'cpu-exception',
  'triple-fault',
] as const;
export type FilterId = (typeof FILTER_IDS)[number];

export interface FilterDefinition {
  filter: FilterId;
  label: string;
  description: string;
  conditionDescription: string;
  /** Only meaningful under the monitor. */
  monitorOnly: boolean;
}

export const FILTERS: readonly FilterDefinition[] = [
  {
    filter: 'segment-load',
    label: 'Segment load',
    description: 'A segment register was loaded (MOV, POP, LDS…, far transfers, interrupts, task switches).',
    conditionDescription: 'reg == DS, selector == 0x10, cause == "pop", base == 0x20000 (fields: reg selector oldSelector cause base limit ar oldBase oldLimit)',
    monitorOnly: false,
  },
  {
    filter: 'cache-inconsistent',
    label: 'Cache becomes inconsistent',
    description: "A segment register's hidden cache no longer matches the descriptor its selector names.",
    conditionDescription: 'reg == DS, differs == "base", cause == "descriptor-write" (fields: reg differs cause)',
    monitorOnly: false,
  },
  {
    filter: 'cache-consistent',
    label: 'Cache consistent again',
    description: "A segment register's hidden cache matches its descriptor again.",
    conditionDescription: 'reg == DS (fields: reg cause)',
    monitorOnly: false,
  },
  {
    filter: 'descriptor-write',
    label: 'Descriptor write',
    description: 'The guest stored into a GDT, LDT or IDT entry.',
    conditionDescription: 'table == "GDT" && index == 3 (fields: table index old new)',
    monitorOnly: false,
  },
  {
    filter: 'monitor-trap',
    label: 'Monitor trap',
    description: 'The monitor took a trap for the guest (under the monitor only).',
    conditionDescription: 'reason == "sbe" (fields: reason instruction)',
    monitorOnly: true,
  },
  {
    filter: 'sbe-change',
    label: 'SBE on/off',
    description: 'Scan-before-execute was turned on or off (under the monitor only).',
    conditionDescription: 'on == true (fields: on condition)',
    monitorOnly: true,
  },
  {
    filter: 'cpu-exception',
    label: 'CPU exception',
    description: 'The CPU raised an exception; the stop explains which check of the SDM failed.',
    conditionDescription: 'vector == 13, errorCode == 0x18, rule == "segment-load.data.dpl" (fields: vector errorCode rule)',
    monitorOnly: false,
  },
  {
    filter: 'triple-fault',
    label: 'Triple fault',
    description: 'The CPU shut down after a fault while delivering a double fault.',
    conditionDescription: 'any expression over registers, e.g. eip == 0x7c10',
    monitorOnly: false,
  },
];

function cacheFields(prefix: string, c: CacheSnapshot): Record<string, Value> {
  return { [`${prefix}base`]: c.base >>> 0, [`${prefix}limit`]: c.limit >>> 0, [`${prefix}ar`]: c.ar, [`${prefix}usable`]: c.valid };
}

/** The names a filter condition can use for one event. */
export function eventFields<K extends FilterId>(name: K, e: EventMap[K]): Record<string, Value> {
  switch (name) {
    case 'segment-load': {
      const x = e as EventMap['segment-load'];
      return {
        reg: SEGMENT_NAMES[x.reg],
        selector: x.newSelector,
        newSelector: x.newSelector,
        oldSelector: x.oldSelector,
        cause: x.cause,
        ...cacheFields('', x.newCache),
        ...cacheFields('old', x.oldCache),
      };
    }
    case 'cache-inconsistent':
    case 'cache-consistent': {
      const x = e as EventMap['cache-inconsistent'];
      return { reg: SEGMENT_NAMES[x.reg], differs: x.differs.join(','), cause: x.cause };
    }
    case 'descriptor-write': {
      const x = e as EventMap['descriptor-write'];
      return { table: x.table, index: x.index, oldLo: x.oldValue[0], oldHi: x.oldValue[1], newLo: x.newValue[0], newHi: x.newValue[1] };
    }
    case 'monitor-trap': {
      const x = e as EventMap['monitor-trap'];
      return { reason: x.reason, instruction: x.instruction };
    }
    case 'sbe-change': {
      const x = e as EventMap['sbe-change'];
      return { on: x.on, condition: x.condition };
    }
    case 'cpu-exception': {
      const x = e as EventMap['cpu-exception'];
      return { vector: x.vector, errorCode: x.errorCode, error: x.errorCode, rule: x.ruleId, detail: x.detail };
    }
    case 'triple-fault': {
      const x = e as EventMap['triple-fault'];
      return { detail: x.detail };
    }
  }
  return {};
}
