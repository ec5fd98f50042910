// The events the Event Timeline shows, sent always (not only the kinds `trace` names) but bounded: a guest that
// loads a segment register in a tight loop makes millions of events a second, and even a real-mode guest idling in
// the BIOS's keyboard wait makes thousands (CS is loaded on every timer interrupt and its IRET). Every message goes
// from the adapter to the workbench and back to the extension; a flood of them keeps VS Code too busy to open a
// webview. So events are passed in windows of about a second of wall time (and a window always ends at a stop):
//   - per kind, the first PER_KIND events of a window that differ from those already sent in it are listed; an
//     event equal to one already listed in the window (same fields: the same load at the same instruction, say) is
//     a repeat and is only counted, so an idle guest's interrupt loop shows once per window, not once per tick;
//   - the rest is counted, and the window ends with one summary per kind that had events left out.
// The budget is per kind so that a flood of one kind (a BIOS clearing memory under the GDT makes thousands of
// descriptor writes) does not hide the rare events (a mode change, an exception) of the same window. Comparing an
// event with those listed costs a string of it; it is done for at most COMPARED_PER_KIND events a window, after
// which events are counted without a look, so a guest in a tight loop pays a counter increment per event.
import { EVENT_NAMES, type EventMap, type EventName } from '../engine/events';

/** The kinds the Event Timeline shows; `port-io` is left to `trace` (every byte of console output would be one). */
export const TIMELINE_KINDS: readonly EventName[] = EVENT_NAMES.filter((n) => n !== 'port-io');

/** Distinct events of one kind listed per window at most. */
export const TIMELINE_EVENTS_PER_KIND_PER_WINDOW = 64;
/** Events of one kind compared with the listed ones per window at most (later ones are counted unseen). */
export const TIMELINE_COMPARED_PER_KIND_PER_WINDOW = 4096;
/** Wall time of a window while the guest runs. */
export const TIMELINE_WINDOW_MS = 1000;

export interface TimelineOverflow {
  kind: EventName;
  /** How many events of this kind the window left out. */
  count: number;
  /** Of those, how many were repeats of an event listed in the window. */
  repeats: number;
  /** The last one left out (for where it happened). */
  last: EventMap[EventName];
}

interface KindWindow {
  /** Events offered in this window. */
  offered: number;
  /** The listed events, as strings. */
  listed: Set<string>;
  left: TimelineOverflow | null;
}

export interface TimelineFeedOptions {
  perKind?: number;
  comparedPerKind?: number;
  windowMs?: number;
  /** Wall clock in milliseconds (tests give their own). */
  now?: () => number;
}

export class TimelineFeed {
  private readonly windows = new Map<EventName, KindWindow>();
  private readonly perKind: number;
  private readonly comparedPerKind: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private windowStart: number;

  /**
   * @param send called for each event listed
   * @param overflow called when a window ends, once per kind that had events left out
   */
  constructor(
    private readonly kinds: ReadonlySet<EventName>,
    private readonly send: (kind: EventName, e: EventMap[EventName]) => void,
    private readonly overflow: (o: TimelineOverflow) => void,
    options: TimelineFeedOptions = {},
  ) {
    this.perKind = options.perKind ?? TIMELINE_EVENTS_PER_KIND_PER_WINDOW;
    this.comparedPerKind = Math.max(this.perKind, options.comparedPerKind ?? TIMELINE_COMPARED_PER_KIND_PER_WINDOW);
    this.windowMs = options.windowMs ?? TIMELINE_WINDOW_MS;
    this.now = options.now ?? Date.now;
    this.windowStart = this.now();
  }

  wants(kind: EventName): boolean {
    return this.kinds.has(kind);
  }

  offer(kind: EventName, e: EventMap[EventName]): void {
    if (!this.kinds.has(kind)) return;
    let w = this.windows.get(kind);
    if (w === undefined) {
      w = { offered: 0, listed: new Set(), left: null };
      this.windows.set(kind, w);
    }
    const n = w.offered++;
    let repeat = false;
    if (n < this.comparedPerKind && w.listed.size < this.perKind) {
      const key = JSON.stringify(e);
      if (!w.listed.has(key)) {
        w.listed.add(key);
        this.send(kind, e);
        return;
      }
      repeat = true;
    }
    if (w.left === null) w.left = { kind, count: 0, repeats: 0, last: e };
    w.left.count++;
    if (repeat) w.left.repeats++;
    w.left.last = e;
  }

  /** A run slice ended: ends the window when its wall time is up. */
  endSlice(): void {
    if (this.now() - this.windowStart >= this.windowMs) this.endWindow();
  }

  /** Ends the window now (at a stop, at the end): reports what was left out and opens a new budget. */
  endWindow(): void {
    for (const w of this.windows.values()) if (w.left !== null) this.overflow(w.left);
    this.windows.clear();
    this.windowStart = this.now();
  }
}
