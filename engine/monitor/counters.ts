// The monitor's counters for the debugger's Monitor scope and the benchmarks.

export class MonitorCounters {
  /** Sensitive instructions completed in place, without an entry (in-place.ts), by handler name. */
  get inPlace(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [name, counter] of this.inPlaceCounters) if (counter.n > 0) counts.set(name, counter.n);
    return counts;
  }

  /**
   * The counter of one in-place handler, which it increments itself, instead of a Map's get and set at each of
   * GRUB's 2.8 million in-place instructions.
   */
  inPlaceCounter(name: string): { n: number } {
    let counter = this.inPlaceCounters.get(name);
    if (counter === undefined) this.inPlaceCounters.set(name, (counter = { n: 0 }));
    return counter;
  }

  private readonly inPlaceCounters = new Map<string, { n: number }>();

  /** Return sequences taken. */
  returnsConsistent = 0;
  returnsInconsistent = 0;
  /** Entries without the real delivery (faults) and consistent returns without the real sequence (monitor.ts shortcuts). */
  directEntries = 0;
  directReturns = 0;
  /** Guest instructions (the CPU's count) spent with SBE on and off while the monitor was engaged. */
  sbeOnInstructions = 0;
  sbeOffInstructions = 0;
  sbeChanges = 0;
  /** Times the monitor engaged (guest entered protected mode) and disengaged. */
  engagements = 0;
  disengagements = 0;
  /** Guest states the monitor could not run deprivileged and ran emulated instead (see reasons). */
  panics = 0;

  countTrap(reason: string): void {
    // The same reason as the last entry's (the common case: a loop's trap) is counted without a Map lookup; the
    // count is flushed into `traps` when the reason changes or the map is read.
    if (reason === this.lastReason) {
      this.lastCount++;
      return;
    }
    this.flushTrapCount();
    this.lastReason = reason;
    this.lastCount = 1;
  }

  /** Monitor entries by reason (sbe, gp, np, ss, pf, ud, external-interrupt, nmi, table-write, debug, …). */
  get traps(): Map<string, number> {
    this.flushTrapCount();
    return this.trapCounts;
  }

  private readonly trapCounts = new Map<string, number>();
  private lastReason: string | null = null;
  private lastCount = 0;

  private flushTrapCount(): void {
    if (this.lastReason === null || this.lastCount === 0) return;
    this.trapCounts.set(this.lastReason, (this.trapCounts.get(this.lastReason) ?? 0) + this.lastCount);
    this.lastCount = 0;
  }

  get totalTraps(): number {
    let n = 0;
    for (const v of this.traps.values()) n += v;
    return n;
  }
}
