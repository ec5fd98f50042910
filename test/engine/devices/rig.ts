// A bench for device tests: a port bus, a scheduler on a clock the test moves, and a record of IRQ line changes.
import { IoBus } from '../../../engine/bus/io-bus';
import { Scheduler } from '../../../engine/machine/scheduler';

export interface IrqEdge {
  at: number;
  level: boolean;
}

export class Rig {
  readonly io = new IoBus();
  time = 0;
  readonly scheduler = new Scheduler(() => this.time);
  /** Every change of each IRQ line, with the instruction time it happened at. */
  readonly irqLog = new Map<number, IrqEdge[]>();
  readonly levels = new Map<number, boolean>();

  irq(n: number): (level: boolean) => void {
    return (level) => {
      if (this.levels.get(n) === level) return;
      this.levels.set(n, level);
      const log = this.irqLog.get(n) ?? [];
      log.push({ at: this.time, level });
      this.irqLog.set(n, log);
    };
  }

  /** Instruction times at which line `n` rose. */
  rises(n: number): number[] {
    return (this.irqLog.get(n) ?? []).filter((e) => e.level).map((e) => e.at);
  }

  /** Moves the clock to `target`, firing every timer at its own deadline on the way. */
  advanceTo(target: number): void {
    for (;;) {
      const next = this.scheduler.nextDeadline();
      if (next > target) break;
      this.time = Math.max(this.time, next);
      this.scheduler.fireDue(this.time);
    }
    this.time = target;
  }

  advance(n: number): void {
    this.advanceTo(this.time + n);
  }

  out(port: number, ...bytes: number[]): void {
    for (const b of bytes) this.io.out(port, b, 1);
  }

  in(port: number): number {
    return this.io.in(port, 1);
  }
}
