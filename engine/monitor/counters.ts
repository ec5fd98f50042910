// The monitor's counters for the debugger's Monitor scope and the benchmarks.

export class MonitorCounters {
  /** Monitor entries by reason (sbe, gp, np, ss, pf, ud, external-interrupt, nmi, table-write, debug, …). */
  readonly traps = new Map<string, number>();
  /** Sensitive instructions completed in place, without an entry (in-place.ts), by handler name. */
  readonly inPlace = new Map<string, number>();
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
    this.traps.set(reason, (this.traps.get(reason) ?? 0) + 1);
  }

  get totalTraps(): number {
    let n = 0;
    for (const v of this.traps.values()) n += v;
    return n;
  }
}
