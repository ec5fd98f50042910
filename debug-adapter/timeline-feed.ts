// The events the Event Timeline shows, sent always (not only the kinds `trace` names) but bounded per slice: a guest
// that loads a segment register in a tight loop makes millions of events a second, which no client can take. Each
// slice passes the first events of each kind through and counts the rest; the slice ends with one summary per kind
// that had more. The budget is per kind so that a flood of one kind (a BIOS clearing memory under the GDT makes
// thousands of descriptor writes) does not hide the rare events (a mode change, an exception) of the same slice.
import { EVENT_NAMES, type EventMap, type EventName } from '../engine/events';

/** The kinds the Event Timeline shows; `port-io` is left to `trace` (every byte of console output would be one). */
export const TIMELINE_KINDS: readonly EventName[] = EVENT_NAMES.filter((n) => n !== 'port-io');

/** Events of one kind sent to the timeline per slice at most. */
export const TIMELINE_EVENTS_PER_KIND_PER_SLICE = 64;

export interface TimelineOverflow {
  kind: EventName;
  /** How many events of this kind the slice left out. */
  count: number;
  /** The last one left out (for where it happened). */
  last: EventMap[EventName];
}

export class TimelineFeed {
  private readonly sent = new Map<EventName, number>();
  private readonly left = new Map<EventName, TimelineOverflow>();

  /**
   * @param send called for each event passed through
   * @param overflow called at the end of a slice, once per kind that had events left out
   */
  constructor(
    private readonly kinds: ReadonlySet<EventName>,
    private readonly send: (kind: EventName, e: EventMap[EventName]) => void,
    private readonly overflow: (o: TimelineOverflow) => void,
    private readonly perKind = TIMELINE_EVENTS_PER_KIND_PER_SLICE,
  ) {}

  wants(kind: EventName): boolean {
    return this.kinds.has(kind);
  }

  offer(kind: EventName, e: EventMap[EventName]): void {
    if (!this.kinds.has(kind)) return;
    const sent = this.sent.get(kind) ?? 0;
    if (sent < this.perKind) {
      this.sent.set(kind, sent + 1);
      this.send(kind, e);
      return;
    }
    const o = this.left.get(kind);
    if (o) {
      o.count++;
      o.last = e;
    } else {
      this.left.set(kind, { kind, count: 1, last: e });
    }
  }

  /** Ends a slice: reports what was left out and opens the budget of the next one. */
  endSlice(): void {
    for (const o of this.left.values()) this.overflow(o);
    this.left.clear();
    this.sent.clear();
  }
}
