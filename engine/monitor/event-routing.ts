// Where the CPU reports while a monitor is attached (monitor.ts): the guest's hub, where the debugger listens; the
// monitor's own hub (`internalEvents`) for its real CPU operations — its entries, context switches and return
// sequences, which a bare CPU never does; and during an entry the recorder (entry-recorder.ts), which keeps what the
// guest sees happen and replays it on the guest's hub after the entry's `monitor-trap` event.

import type { Cpu } from '../cpu/cpu';
import { consistencyListenersChanged } from '../cpu/protect/consistency-events';
import { EventHub, EV_MODE_CHANGE, EV_MONITOR_TRAP, EV_SEGMENT_LOAD } from '../events';
import type { MonitorTrapEvent, SegmentLoadEvent } from '../events';
import { EntryRecorder } from './entry-recorder';

export class EventRouting {
  /** The guest's hub (where the debugger listens): the hub the CPU had when the monitor attached. */
  readonly live: EventHub;
  /** Where guest-visible events go while the monitor handles an entry: recorded, then replayed after its trap event. */
  private guestSink: EventHub;
  private readonly recorder = new EntryRecorder();
  private muteDepth = 0;

  constructor(
    private readonly cpu: Cpu,
    /** Real CPU operations of the monitor itself (Monitor.internalEvents). */
    private readonly internal: EventHub,
  ) {
    this.live = cpu.events;
    this.guestSink = cpu.events;
  }

  /** Where what the guest sees happen goes now: the guest's hub, or during an entry the recorder. */
  get sink(): EventHub {
    return this.guestSink;
  }

  /** Whether the CPU reports to the monitor's own hub now. */
  get muted(): boolean {
    return this.muteDepth > 0;
  }

  mute(): void {
    if (this.muteDepth++ === 0) (this.cpu as { events: EventHub }).events = this.internal;
  }

  unmute(): void {
    if (this.muteDepth === 0) return;
    if (--this.muteDepth === 0) (this.cpu as { events: EventHub }).events = this.guestSink;
  }

  unmuteAll(): void {
    while (this.muteDepth > 0) this.unmute();
  }

  /** An entry begins: the guest's events recorded (with the guest hub's listeners), the monitor's own muted. */
  beginEntry(): void {
    this.recorder.clear();
    this.recorder.follow(this.live);
    this.guestSink = this.recorder;
    this.mute();
  }

  /** An entry ends: the CPU reports to the guest's hub again; the entry's trap event, then what the guest saw in it. */
  endEntry(trap: MonitorTrapEvent | null): void {
    this.unmuteAll();
    this.guestSink = this.live;
    (this.cpu as { events: EventHub }).events = this.live;
    if (trap !== null && this.live.active[EV_MONITOR_TRAP]) this.live.emit(EV_MONITOR_TRAP, trap);
    this.recorder.replay(this.live);
  }

  /** The cause a bare CPU's tracker gives the entry's changes: the first segment load or mode change seen in it. */
  bareCause(fallback: string): string {
    const { ids, payloads, count } = this.recorder;
    for (let k = 0; k < count; k++) {
      // A task switch reports its loads and table registers as 'task-switch' (protect/task-switch.ts), and LLDT its
      // LDTR load as 'lldt': both recheck at once through tableRegistersChanged with their own cause
      // (protect/consistency-events.ts), before the segment load's recheck deferred to the instruction's end.
      if (ids[k] === EV_SEGMENT_LOAD) {
        const loadCause = (payloads[k] as SegmentLoadEvent).cause;
        return loadCause === 'task-switch' || loadCause === 'lldt' ? loadCause : 'segment-load';
      }
      if (ids[k] === EV_MODE_CHANGE) return 'mode-change';
    }
    return fallback;
  }

  /**
   * Starts or stops the bare CPU's consistency tracker (it stands down while the monitor is engaged), judged on the
   * guest's hub — not on the monitor's internal or recording hub, which may be installed right now.
   */
  syncBareTracker(): void {
    const cpu = this.cpu as { events: EventHub };
    const current = cpu.events;
    cpu.events = this.live;
    try {
      consistencyListenersChanged(this.cpu);
    } finally {
      cpu.events = current;
    }
  }
}
