// The hub the CPU reports to while the monitor handles an entry: what the guest sees happen during the entry is kept
// here and replayed on the guest's hub after the entry's `monitor-trap` event (event-routing.ts endEntry).
//
// It listens to what the guest's hub listens to, nothing more: an event nobody would receive is not built (a
// segment load's payload with its two cache snapshots was most of what a monitor entry allocated). The one
// addition: while the guest's hub takes consistency reports, segment loads and mode changes are kept too, because
// the report's cause is the first of them in the entry (event-routing.ts bareCause); they are not replayed unless the
// guest's hub listens to them.

import { EventHub, EV_CACHE_CONSISTENT, EV_CACHE_INCONSISTENT, EV_MODE_CHANGE, EV_SEGMENT_LOAD } from '../events';

export class EntryRecorder extends EventHub {
  /** The events of the current entry, in order: ids and payloads side by side (no pair per event), `count` of them. */
  readonly ids: number[] = [];
  readonly payloads: unknown[] = [];
  count = 0;

  /** Takes the guest hub's listeners as this entry's (called as each entry begins: the debugger may have changed them). */
  follow(live: EventHub): void {
    const a = this.active;
    const from = live.active;
    for (let id = 0, n = a.length; id < n; id++) a[id] = from[id];
    if (live.active[EV_CACHE_CONSISTENT] !== 0 || live.active[EV_CACHE_INCONSISTENT] !== 0) {
      a[EV_SEGMENT_LOAD] = 1;
      a[EV_MODE_CHANGE] = 1;
    }
  }

  override emit(id: number, e: unknown): void {
    // Slots are overwritten, not the arrays shortened: setting an array's length costs more than an entry's events.
    this.ids[this.count] = id;
    this.payloads[this.count] = e;
    this.count++;
  }

  /** Forgets the kept events (their payloads are let go). */
  clear(): void {
    for (let k = 0; k < this.count; k++) this.payloads[k] = undefined;
    this.count = 0;
  }

  /** Replays what was kept on `live` (what it listens to now), then forgets it. */
  replay(live: EventHub): void {
    const ids = this.ids;
    const payloads = this.payloads;
    // A listener may end the entry's replay early by throwing; what it did not see is forgotten all the same.
    try {
      for (let k = 0; k < this.count; k++) if (live.active[ids[k]] !== 0) live.emit(ids[k], payloads[k] as never);
    } finally {
      this.clear();
    }
  }
}
