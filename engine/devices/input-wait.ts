// Whether a guest is waiting for input, as the keyboard sees it from outside: scripted keys (--keys, the launch
// attribute `keys`) start each line only then, so that a line is not typed into a guest that is still booting and
// has no reader for it. Linux, for one, takes every key in its i8042 interrupt handler from early in its boot, and
// drops them while no process has the console open; a person waits for the prompt before typing.
//
// Two signs that a guest waits for a key, either of which is enough:
//   - it idles: the CPU is halted (HLT, waiting for an interrupt) at at least half of the millisecond ticks of each
//     of the last IDLE_BLOCKS blocks of BLOCK_TICKS ticks (one second of guest time). A shell, a BIOS key wait
//     (INT 16h AH=00h halts between interrupts) and a kernel's idle loop idle; a kernel booting computes, and its
//     rare sleeps are short;
//   - it polls the keyboard controller: it read the status port POLLS times with nothing in the output buffer and
//     no command written in between (a boot sector looping on INT 16h AH=01h, whose BIOS service reads the status
//     port, or a driver polling port 64h). A driver probing the controller writes commands between its reads.
// The evidence is gathered anew for each line: after a line's Enter the next line waits for the guest to be waiting
// again (the command of the previous line has run and the prompt is back). Everything here is counted in guest
// time (ticks of the keyboard's typing timer), so the same run types at the same moments, bare or monitored.

/** Ticks (milliseconds of guest time) per block. */
export const BLOCK_TICKS = 100;
/** Consecutive idle blocks that make a guest waiting. */
export const IDLE_BLOCKS = 10;
/** Status reads with nothing to read, without a write between them, that make a polling guest waiting. */
export const POLLS = 64;

export interface InputWaitState {
  ticks: number;
  haltedTicks: number;
  idleBlocks: number;
  polls: number;
}

export class InputWait {
  private ticks = 0;
  private haltedTicks = 0;
  private idleBlocks = 0;
  private polls = 0;

  /** One millisecond tick while a line waits to start: was the CPU halted? */
  tick(halted: boolean): void {
    this.ticks++;
    if (halted) this.haltedTicks++;
    if (this.ticks < BLOCK_TICKS) return;
    this.idleBlocks = 2 * this.haltedTicks >= this.ticks ? this.idleBlocks + 1 : 0;
    this.ticks = 0;
    this.haltedTicks = 0;
  }

  /** The guest read the status port and found nothing to read. */
  polled(): void {
    this.polls++;
  }

  /** The guest wrote to the controller: its reads since were a driver's handshake, not a poll for keys. */
  wrote(): void {
    this.polls = 0;
  }

  get waiting(): boolean {
    return this.idleBlocks >= IDLE_BLOCKS || this.polls >= POLLS;
  }

  /** A line was typed: the next one needs new evidence. */
  reset(): void {
    this.ticks = 0;
    this.haltedTicks = 0;
    this.idleBlocks = 0;
    this.polls = 0;
  }

  snapshot(): InputWaitState {
    return { ticks: this.ticks, haltedTicks: this.haltedTicks, idleBlocks: this.idleBlocks, polls: this.polls };
  }

  restore(s: InputWaitState | undefined): void {
    this.ticks = s?.ticks ?? 0;
    this.haltedTicks = s?.haltedTicks ?? 0;
    this.idleBlocks = s?.idleBlocks ?? 0;
    this.polls = s?.polls ?? 0;
  }
}
