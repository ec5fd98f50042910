// Engine events (model.md §5). Listeners are plain functions; an event with no listener costs one typed-array load
// on the path that would emit it (`hub.active[EV_X]`), and its payload object is only built when someone listens.

export const EV_SEGMENT_LOAD = 0;
export const EV_DESCRIPTOR_WRITE = 1;
export const EV_CACHE_INCONSISTENT = 2;
export const EV_CACHE_CONSISTENT = 3;
export const EV_MONITOR_TRAP = 4;
export const EV_SBE_CHANGE = 5;
export const EV_CPU_EXCEPTION = 6;
export const EV_TRIPLE_FAULT = 7;
export const EV_MODE_CHANGE = 8;
export const EV_PORT_IO = 9;

export const EVENT_NAMES = [
  'segment-load',
  'descriptor-write',
  'cache-inconsistent',
  'cache-consistent',
  'monitor-trap',
  'sbe-change',
  'cpu-exception',
  'triple-fault',
  'mode-change',
  'port-io',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** A hidden descriptor cache as raw fields (decode with protect/descriptor.ts). */
export interface CacheSnapshot {
  base: number;
  limit: number;
  /** Access-rights word: bits 0–7 = descriptor byte 5 (type, S, DPL, P), bits 12–15 = AVL, L, D/B, G. */
  ar: number;
  /** False for a null selector loaded in protected mode (an unusable cache). */
  valid: boolean;
}

export type SegmentLoadCause =
  | 'mov'
  | 'pop'
  | 'lds'
  | 'les'
  | 'lfs'
  | 'lgs'
  | 'lss'
  | 'far-jmp'
  | 'far-call'
  | 'far-ret'
  | 'iret'
  | 'interrupt'
  | 'task-switch'
  | 'sysenter'
  | 'sysexit'
  | 'lldt'
  | 'ltr'
  | 'reset'
  | 'loader'
  | 'monitor'
  | 'debugger';

export interface SegmentLoadEvent {
  /** Register number: ES=0 CS=1 SS=2 DS=3 FS=4 GS=5 LDTR=6 TR=7. */
  reg: number;
  oldSelector: number;
  newSelector: number;
  oldCache: CacheSnapshot;
  newCache: CacheSnapshot;
  cause: SegmentLoadCause;
  cs: number;
  eip: number;
}

export interface DescriptorWriteEvent {
  table: 'GDT' | 'LDT' | 'IDT';
  index: number;
  /** The 8-byte descriptor before and after, as [low dword, high dword] (unsigned). */
  oldValue: [number, number];
  newValue: [number, number];
  cs: number;
  eip: number;
}

export interface CacheConsistencyEvent {
  reg: number;
  /** Fields that differ between the cache and the table entry (empty when consistent). */
  differs: string[];
  cause: string;
  cs: number;
  eip: number;
}

export interface MonitorTrapEvent {
  reason: string;
  instruction: string;
  /** How the monitor went back to the guest: `consistent`, `inconsistent (…)`, or why it runs the guest emulated. */
  returnPath?: string;
  cs: number;
  eip: number;
}

export interface SbeChangeEvent {
  on: boolean;
  condition: string;
}

export interface CpuExceptionEvent {
  vector: number;
  errorCode: number;
  ruleId: string;
  rule: string;
  sdm: string;
  detail: string;
  cs: number;
  eip: number;
}

export interface TripleFaultEvent {
  cs: number;
  eip: number;
  detail: string;
}

export interface ModeChangeEvent {
  from: 'real' | 'protected' | 'v86';
  to: 'real' | 'protected' | 'v86';
  cs: number;
  eip: number;
}

export interface PortIoEvent {
  port: number;
  size: number;
  value: number;
  write: boolean;
}

export interface EventMap {
  'segment-load': SegmentLoadEvent;
  'descriptor-write': DescriptorWriteEvent;
  'cache-inconsistent': CacheConsistencyEvent;
  'cache-consistent': CacheConsistencyEvent;
  'monitor-trap': MonitorTrapEvent;
  'sbe-change': SbeChangeEvent;
  'cpu-exception': CpuExceptionEvent;
  'triple-fault': TripleFaultEvent;
  'mode-change': ModeChangeEvent;
  'port-io': PortIoEvent;
}

type Listener<K extends EventName> = (e: EventMap[K]) => void;

export class EventHub {
  /** 1 where at least one listener is registered, indexed by EV_*. Hot paths test this before building a payload. */
  readonly active = new Uint8Array(EVENT_NAMES.length);
  private readonly listeners: Listener<EventName>[][] = EVENT_NAMES.map(() => []);
  /** Called whenever the set of listeners changes (the CPU uses it to recompute what it must check). */
  onChange: (() => void) | null = null;

  on<K extends EventName>(name: K, fn: Listener<K>): () => void {
    const id = EVENT_NAMES.indexOf(name);
    if (id < 0) throw new Error(`unknown event ${name}`);
    this.listeners[id].push(fn as Listener<EventName>);
    this.active[id] = 1;
    this.onChange?.();
    return () => this.off(name, fn);
  }

  off<K extends EventName>(name: K, fn: Listener<K>): void {
    const id = EVENT_NAMES.indexOf(name);
    const list = this.listeners[id];
    const k = list.indexOf(fn as Listener<EventName>);
    if (k >= 0) list.splice(k, 1);
    this.active[id] = list.length > 0 ? 1 : 0;
    this.onChange?.();
  }

  emit<K extends EventName>(id: number, e: EventMap[K]): void {
    const list = this.listeners[id];
    for (let k = 0; k < list.length; k++) list[k](e);
  }
}
