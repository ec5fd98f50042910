// The Event timeline's contents: the `ringside/event`s of a session in arrival order, capped so that a guest
// that loads segments in a loop cannot grow the view without bound, with the words and icons each entry shows.
// Pure (no VS Code) so that capping and wording are tested directly.
import { TRACE_EVENT_NAMES, type TraceEventBody, type TraceEventName } from '../debug-adapter/protocol-types';

export interface TimelineEntry {
  /** Position in the session, counting from 1, including entries dropped by the cap. */
  seq: number;
  event: TraceEventBody;
}

export class TimelineModel {
  private items: TimelineEntry[] = [];
  private count = 0;
  private droppedCount = 0;
  /** The highest event ordinal listed: after a travel back, running forward again meets those events a second time. */
  private lastOrdinal = 0;
  /** The ordinal of the last event before the moment the guest is stopped at (`ringside/moment`), or Infinity. */
  present = Infinity;

  constructor(private maxEntries: number) {}

  setMaxEntries(max: number): void {
    this.maxEntries = Math.max(1, Math.floor(max));
    this.trim();
  }

  /** Adds an event; ignores a body that is not a well-formed trace event and says so by returning false. */
  add(body: unknown): boolean {
    const event = asTraceEvent(body);
    if (!event) return false;
    const ordinal = eventOrdinal(event);
    if (ordinal !== undefined) {
      // Already listed: the run passes again where it was before a travel back.
      if (ordinal <= this.lastOrdinal) return true;
      this.lastOrdinal = ordinal;
    }
    this.items.push({ seq: ++this.count, event });
    this.trim();
    return true;
  }

  clear(): void {
    this.items = [];
    this.count = 0;
    this.droppedCount = 0;
    this.lastOrdinal = 0;
    this.present = Infinity;
  }

  /** True for an event that, after a travel back, lies after the moment the guest is stopped at. */
  isLater(entry: TimelineEntry): boolean {
    const o = eventOrdinal(entry.event);
    return o !== undefined && o > this.present;
  }

  get entries(): readonly TimelineEntry[] {
    return this.items;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  private trim(): void {
    const excess = this.items.length - this.maxEntries;
    if (excess > 0) {
      this.items.splice(0, excess);
      this.droppedCount += excess;
    }
  }
}

function asTraceEvent(body: unknown): TraceEventBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.kind !== 'string' || !(TRACE_EVENT_NAMES as readonly string[]).includes(b.kind)) return undefined;
  return {
    kind: b.kind as TraceEventName,
    summary: typeof b.summary === 'string' ? b.summary : b.kind,
    cs: typeof b.cs === 'number' ? b.cs : 0,
    eip: typeof b.eip === 'number' ? b.eip : 0,
    detail: typeof b.detail === 'object' && b.detail !== null ? (b.detail as Record<string, unknown>) : {},
  };
}

/** The event's ordinal in guest time (the adapter numbers every guest event; `ringside/goto { event }` takes it). */
export function eventOrdinal(event: TraceEventBody): number | undefined {
  const o = event.detail.ordinal;
  return typeof o === 'number' && Number.isInteger(o) && o > 0 ? o : undefined;
}

export function hex(value: number, digits: number): string {
  return (value >>> 0).toString(16).padStart(digits, '0');
}

/** `CS:EIP` as the trace lines print it (`0008:00001234`). */
export function formatAddress(cs: number, eip: number): string {
  return `${hex(cs & 0xffff, 4)}:${hex(eip, 8)}`;
}

/** Codicon per event kind, so the eye finds faults and inconsistencies in a long list. */
export const EVENT_ICONS: Record<TraceEventName, { icon: string; color?: string }> = {
  'segment-load': { icon: 'arrow-down' },
  'descriptor-write': { icon: 'edit' },
  'cache-inconsistent': { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  'cache-consistent': { icon: 'pass', color: 'testing.iconPassed' },
  'monitor-trap': { icon: 'debug-step-into' },
  'sbe-change': { icon: 'eye' },
  'cpu-exception': { icon: 'error', color: 'problemsErrorIcon.foreground' },
  'triple-fault': { icon: 'flame', color: 'problemsErrorIcon.foreground' },
  'mode-change': { icon: 'symbol-event' },
  'port-io': { icon: 'plug' },
};

/**
 * The summary without the event name in front or the `at CCCC:EEEEEEEE` behind, which the adapter may include (it
 * can send the engine's trace line as is); the view shows both separately.
 */
export function summaryText(event: TraceEventBody): string {
  let text = event.summary.trim();
  if (text.startsWith(event.kind + ' ') || text === event.kind) text = text.slice(event.kind.length).trim();
  return text.replace(/\s+at [0-9a-f]{4}:[0-9a-f]{8}$/i, '');
}

/** The event as a trace line (the format `ringside run --trace` prints), for the ringside-trace language. */
export function toTraceLine(entry: TimelineEntry): string {
  const { event } = entry;
  return `${event.kind} ${summaryText(event)} at ${formatAddress(event.cs, event.eip)}`.replace(/  +/g, ' ');
}

/** The event as a Markdown document: its summary, where it happened and each detail field. */
export function describeEvent(entry: TimelineEntry): string {
  const { event } = entry;
  const lines = [`# ${event.kind} #${entry.seq}`, '', summaryText(event), '', `at \`${formatAddress(event.cs, event.eip)}\``, ''];
  const fields = Object.entries(event.detail);
  if (fields.length > 0) {
    lines.push('| field | value |', '| --- | --- |');
    for (const [key, value] of fields) {
      const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
      lines.push(`| ${key} | \`${text.replace(/\|/g, '\\|')}\` |`);
    }
  }
  return lines.join('\n') + '\n';
}
