// Device time. Every device is timed by the guest's instruction count (cpu.icount), never by wall time, so that a
// run with the same inputs is the same run every time (reverse execution replays from snapshots and relies on it).
//
// The virtual clock: one guest instruction lasts exactly 1/8 of a PIT input clock period, so the CPU runs at
// 8 × 1.193182 MHz = 9.545456 million instructions per virtual second (roughly a 25 MHz 486). The ratio is an
// integer so that PIT ticks fall on whole instruction counts: PIT tick k happens at instruction time 8k.
//
// Devices own timers (absolute deadlines in instruction time). The machine runs the CPU in slices that end at the
// earliest deadline, then fires the timers that are due. A deadline armed while the CPU is inside a slice (a port
// write that starts a counter) cuts the slice short through `onEarlierDeadline`, so interrupts land on their exact
// instruction whatever the slicing.

/** Input clock of the 8254 PIT, in Hz. */
export const PIT_HZ = 1_193_182;
/** Guest instructions per PIT input clock period. */
export const INSTRUCTIONS_PER_PIT_TICK = 8;
/** Guest instructions per virtual second. */
export const INSTRUCTIONS_PER_SECOND = PIT_HZ * INSTRUCTIONS_PER_PIT_TICK;

/** Current virtual time in instructions. */
export type Clock = () => number;

export class DeviceTimer {
  /** Absolute instruction time at which the timer fires; Infinity when disarmed. */
  deadline = Infinity;

  constructor(
    private readonly scheduler: Scheduler,
    readonly name: string,
    /** The IRQ the timer may raise, or null; a halted CPU skips ahead only to timers whose IRQ can reach it. */
    readonly irq: number | null,
    /** Called with the deadline (not the current time), so periodic timers re-arm without drift. */
    readonly fire: (at: number) => void,
  ) {}

  /** Arms the timer at absolute time `at` (a time already past fires at the next check). */
  set(at: number): void {
    this.deadline = at;
    if (at < this.scheduler.sliceEnd) this.scheduler.onEarlierDeadline?.();
  }

  cancel(): void {
    this.deadline = Infinity;
  }
}

export class Scheduler {
  readonly timers: DeviceTimer[] = [];
  /** End of the slice the CPU is running now; -Infinity between slices (nothing to cut short then). */
  sliceEnd = -Infinity;
  /** Called when a timer is armed before `sliceEnd`; the machine stops the CPU at the next instruction boundary. */
  onEarlierDeadline: (() => void) | null = null;

  constructor(readonly now: Clock) {}

  createTimer(name: string, irq: number | null, fire: (at: number) => void): DeviceTimer {
    const t = new DeviceTimer(this, name, irq, fire);
    this.timers.push(t);
    return t;
  }

  /** The earliest deadline of all timers (Infinity when none is armed). */
  nextDeadline(): number {
    let d = Infinity;
    for (const t of this.timers) if (t.deadline < d) d = t.deadline;
    return d;
  }

  /**
   * The earliest deadline of a timer that could wake a halted CPU: one whose IRQ `canWake` lets through. Timers
   * without an IRQ never wake the CPU (they still fire when time passes them). Infinity when nothing can.
   */
  nextWake(canWake: (irq: number) => boolean): number {
    let d = Infinity;
    for (const t of this.timers) {
      if (t.deadline < d && t.irq !== null && canWake(t.irq)) d = t.deadline;
    }
    return d;
  }

  /** Fires, in deadline order (ties in creation order), every timer due at `now`. A fired timer may re-arm. */
  fireDue(now: number): void {
    for (;;) {
      let due: DeviceTimer | null = null;
      for (const t of this.timers) if (t.deadline <= now && (due === null || t.deadline < due.deadline)) due = t;
      if (due === null) return;
      const at = due.deadline;
      due.deadline = Infinity;
      due.fire(at);
    }
  }

  snapshot(): number[] {
    return this.timers.map((t) => t.deadline);
  }

  restore(deadlines: readonly number[]): void {
    this.timers.forEach((t, i) => (t.deadline = deadlines[i] ?? Infinity));
  }
}
