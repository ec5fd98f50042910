// One-line text form of each engine event, for `ringside run --trace` and the debugger's event timeline.
// Shape: `<event-name> <subject> key=value … at CCCC:EEEEEEEE` (hex values with 0x), one event per line.

import { SEGMENT_NAMES } from './cpu/cpu';
import type { CacheSnapshot, EventMap, EventName } from './events';

const hex = (v: number, digits: number): string => '0x' + (v >>> 0).toString(16).padStart(digits, '0');
const at = (cs: number, eip: number): string =>
  `at ${(cs & 0xffff).toString(16).padStart(4, '0')}:${(eip >>> 0).toString(16).padStart(8, '0')}`;

function cache(c: CacheSnapshot): string {
  if (!c.valid) return 'unusable';
  return `base=${hex(c.base, 8)} limit=${hex(c.limit, 8)} ar=${hex(c.ar, 4)}`;
}

export function formatEvent<K extends EventName>(name: K, e: EventMap[K]): string {
  switch (name) {
    case 'segment-load': {
      const x = e as EventMap['segment-load'];
      return `segment-load ${SEGMENT_NAMES[x.reg]} ${hex(x.oldSelector, 4)} -> ${hex(x.newSelector, 4)} ${cache(x.newCache)} cause=${x.cause} ${at(x.cs, x.eip)}`;
    }
    case 'descriptor-write': {
      const x = e as EventMap['descriptor-write'];
      const q = (v: [number, number]): string => hex(v[1], 8) + (v[0] >>> 0).toString(16).padStart(8, '0');
      return `descriptor-write ${x.table}[${x.index}] ${q(x.oldValue)} -> ${q(x.newValue)} ${at(x.cs, x.eip)}`;
    }
    case 'cache-inconsistent':
    case 'cache-consistent': {
      const x = e as EventMap['cache-inconsistent'];
      const differs = x.differs.length > 0 ? ` differs=${x.differs.join(',')}` : '';
      return `${name} ${SEGMENT_NAMES[x.reg]}${differs} cause=${x.cause} ${at(x.cs, x.eip)}`;
    }
    case 'monitor-trap': {
      const x = e as EventMap['monitor-trap'];
      const back = x.returnPath !== undefined ? ` return=${x.returnPath}` : '';
      return `monitor-trap reason=${x.reason} instruction="${x.instruction}" ${at(x.cs, x.eip)}${back}`;
    }
    case 'sbe-change': {
      const x = e as EventMap['sbe-change'];
      return `sbe-change ${x.on ? 'on' : 'off'} condition="${x.condition}"`;
    }
    case 'cpu-exception': {
      const x = e as EventMap['cpu-exception'];
      const code = x.errorCode >= 0 ? ` error=${hex(x.errorCode, 4)}` : '';
      const detail = x.detail ? ` detail="${x.detail}"` : '';
      return `cpu-exception vector=${x.vector}${code} rule=${x.ruleId} "${x.rule}" (${x.sdm})${detail} ${at(x.cs, x.eip)}`;
    }
    case 'triple-fault': {
      const x = e as EventMap['triple-fault'];
      return `triple-fault "${x.detail}" ${at(x.cs, x.eip)}`;
    }
    case 'mode-change': {
      const x = e as EventMap['mode-change'];
      return `mode-change ${x.from} -> ${x.to} ${at(x.cs, x.eip)}`;
    }
    case 'port-io': {
      const x = e as EventMap['port-io'];
      return `port-io ${x.write ? 'out' : 'in'} port=${hex(x.port, 4)} size=${x.size} value=${hex(x.value, x.size * 2)}`;
    }
  }
  return name;
}
