// The record of returns to the guest (monitor.ts returnToGuest, directReturn), for tests and the debugger's Monitor
// scope: the last return sequences run, the last return of either kind, and a listener told of every return.

export type ReturnPath = 'consistent' | 'inconsistent';

/** One return to the guest, for tests and the Monitor scope. */
export interface ReturnRecord {
  path: ReturnPath;
  /** Registers whose cache was written into the virtual table at their selector before their load. */
  written: string[];
  /** Virtual-table slots marked inaccessible afterwards ("GDT[3]", "LDT[1]"). */
  marked: string[];
  icount: number;
}

/** The empty list of a consistent return's record (shared: records are read, never changed). */
export const NONE: string[] = Object.freeze([]) as unknown as string[];

export class ReturnLog {
  /**
   * The last return sequences run (most recent last, bounded). A direct return (the shortcut that sets the result of
   * a consistent sequence without running it) is not recorded here, to spare the entry a record: `last` and
   * `onReturn` see every return.
   */
  readonly returns: ReturnRecord[] = [];
  /** Called after every return to the guest, direct ones included (tests, the debugger's Monitor scope). */
  onReturn: ((r: ReturnRecord) => void) | null = null;
  /** Guest time of the last direct return while it is the latest return (-1 when a recorded one came after it). */
  private directReturnAt = -1;

  /** The last return to the guest, of either kind. */
  get last(): ReturnRecord | null {
    if (this.directReturnAt >= 0) return { path: 'consistent', written: NONE, marked: NONE, icount: this.directReturnAt };
    return this.returns.length > 0 ? this.returns[this.returns.length - 1] : null;
  }

  /** A return sequence run. */
  record(record: ReturnRecord): void {
    this.directReturnAt = -1;
    this.returns.push(record);
    // Bounded to the last 256 or so, trimmed in batches (a shift per return moved all of them every time).
    if (this.returns.length > 512) this.returns.splice(0, this.returns.length - 256);
    this.onReturn?.(record);
  }

  /** A direct return at guest time `icount`: what the real sequence records of a consistent return, without a record. */
  direct(icount: number): void {
    this.directReturnAt = icount;
    if (this.onReturn !== null) this.onReturn({ path: 'consistent', written: NONE, marked: NONE, icount });
  }
}
