// Free running against stepping (issue 17, item 3). `ringside run` and the debug adapter run a guest in slices
// (Machine.runSlice): the run loop follows links between decoded instructions and runs translated blocks. Stepping
// (Machine.step, as the lockstep harness and the debugger's steps do) runs one instruction per call and uses
// neither. Both must give the guest the same machine. This runs the same image twice — once freely, in slices,
// translation on, once one instruction per step — and compares the guest-visible state (lockstep.ts's
// visibleState: registers, flags, segment caches, control and table registers, instruction count), the output
// written so far on port 0xE9 and COM1 and, at most every `memoryEvery` instructions and at the end, guest memory:
// after every output byte (the free machine stops at the instruction boundary after it), at the end of every
// slice, and at the end of the run. Both machines are bare, or both monitored.

import { IF } from '../cpu/flags';
import { Machine, SLICE, type StopReason } from '../machine/machine';
import type { LoadOptions } from '../machine/loaders';
import { firstDifference, memoryDifference, visibleState, type Divergence } from './lockstep';
import { attachMonitor, type Monitor, type SbeMode } from './monitor';

export interface FreeRunOptions {
  load?: LoadOptions;
  memoryMB?: number;
  /** Virtual time (instructions) to compare, from the loader's start state (default 1,000,000). */
  maxInstructions?: number;
  /** Both machines run under the monitor, with this SBE policy. */
  monitored?: boolean;
  sbe?: SbeMode;
  /** Instruction budget of the free machine's k-th slice (default SLICE, what `ringside run` cuts at). */
  slice?: number | ((k: number) => number);
  /** Compare guest memory at most every this many instructions (default 65,536), and at the end. */
  memoryEvery?: number;
  /** Called with both machines after the image is loaded, before either runs. */
  prepare?: (free: Machine, stepped: Machine) => void;
}

export interface FreeRunResult {
  /** Virtual time both machines reached (instructions, idle time included). */
  instructions: number;
  stop: StopReason | 'limit' | null;
  /** Points where the two were compared (output bytes, slice ends, the end). */
  comparisons: number;
  /** Bytes the guest wrote to port 0xE9 and COM1. */
  outputBytes: number;
  /** In describeDivergence's terms, `bare` is the stepped machine's state and `monitored` the free one's. */
  divergence: Divergence | null;
  free: Machine;
  stepped: Machine;
}

/** Labels for describeDivergence of a free-run divergence. */
export const FREE_RUN_LABELS: [string, string] = ['stepped', 'free'];

/** One of the two machines, with the guest's output on both channels. */
class Side {
  readonly machine: Machine;
  readonly monitor: Monitor | null;
  readonly console: number[] = [];
  readonly serial: number[] = [];

  constructor(options: FreeRunOptions, onOutput: () => void) {
    this.machine = new Machine({
      memoryMB: options.memoryMB ?? 4,
      onConsoleByte: (b) => {
        this.console.push(b);
        onOutput();
      },
      devices: {
        onSerialByte: (b) => {
          this.serial.push(b);
          onOutput();
        },
      },
    });
    this.monitor = options.monitored === true ? attachMonitor(this.machine, { sbe: options.sbe ?? 'auto' }) : null;
  }

  get time(): number {
    return this.machine.cpu.icount;
  }
}

function bytesText(bytes: number[]): string {
  return JSON.stringify(Buffer.from(bytes).toString('latin1'));
}

/** Runs `image` freely and by steps, comparing as the file comment says; stops at the first divergence. */
export function freeRunCompare(image: Uint8Array, options: FreeRunOptions = {}): FreeRunResult {
  const sliceOf = typeof options.slice === 'function' ? options.slice : (): number => (options.slice as number | undefined) ?? SLICE;
  const memoryEvery = options.memoryEvery ?? 65_536;
  let outputSeen = false;
  const free = new Side(options, () => {
    // Compare at the boundary after the instruction that wrote it.
    outputSeen = true;
    free.machine.requestStop();
  });
  const stepped = new Side(options, () => undefined);
  free.machine.load(image, options.load);
  stepped.machine.load(image, options.load);
  options.prepare?.(free.machine, stepped.machine);
  const start = free.time;
  const end = start + (options.maxInstructions ?? 1_000_000);

  let freeStop: StopReason | 'limit' | null = null;
  let stepStop: StopReason | null = null;
  let comparisons = 0;
  let memoryAt = -Infinity;
  const result = (divergence: Divergence | null): FreeRunResult => ({
    instructions: free.time - start,
    stop: freeStop,
    comparisons,
    outputBytes: free.console.length + free.serial.length,
    divergence,
    free: free.machine,
    stepped: stepped.machine,
  });
  const diverge = (field: string, a: Divergence['bare'], b: Divergence['monitored']): FreeRunResult =>
    result({ step: free.time - start, field, bare: a, monitored: b });

  for (let k = 0; ; k++) {
    outputSeen = false;
    if (free.time >= end) freeStop = 'limit';
    else {
      const r = free.machine.runSlice(Math.max(1, Math.min(sliceOf(k), end - free.time)));
      if (r.reason === 'stopped' && !outputSeen) return diverge('stop reason', 'none', 'stopped without output');
      if (r.reason !== null && r.reason !== 'stopped') freeStop = r.reason;
    }
    stepStop = catchUp(stepped.machine, free.time, stepStop);
    // A stop the free run reported at this point is one the stepped machine reports on its next step (a halt
    // with nothing to wake it is found before any instruction runs).
    if (freeStop !== null && freeStop !== 'limit' && stepStop === null && stepped.time === free.time) stepStop = stepped.machine.step();

    comparisons++;
    const a = visibleState(stepped.machine, stepped.monitor);
    const b = visibleState(free.machine, free.monitor);
    const field = firstDifference(a, b);
    if (field !== null) return diverge(field, a, b);
    for (const channel of ['console', 'serial'] as const) {
      const x = stepped[channel];
      const y = free[channel];
      if (x.length !== y.length || x.some((v, n) => v !== y[n])) return diverge(`${channel} output`, bytesText(x), bytesText(y));
    }
    const final = freeStop !== null;
    if (final || free.time - memoryAt >= memoryEvery) {
      memoryAt = free.time;
      const at = memoryDifference(stepped.machine, free.machine);
      if (at >= 0) return diverge(`memory[0x${at.toString(16)}]`, `0x${stepped.machine.mem.u8[at].toString(16)}`, `0x${free.machine.mem.u8[at].toString(16)}`);
    }
    if (final) {
      const expected = freeStop === 'limit' ? null : freeStop;
      if (stepStop !== expected) return diverge('stop reason', String(stepStop), String(expected));
      if (stepped.machine.exitCode !== free.machine.exitCode) {
        return diverge('exit code', String(stepped.machine.exitCode), String(free.machine.exitCode));
      }
      return result(null);
    }
  }
}

/**
 * Steps `m` until its virtual time reaches `target` or it stops. While the CPU is halted waiting for an interrupt,
 * time moves on without an instruction to the earlier of the wake-up and `target` (a step would wait past
 * `target` to the wake-up and run the next instruction).
 */
function catchUp(m: Machine, target: number, stop: StopReason | null): StopReason | null {
  const cpu = m.cpu;
  while (stop === null && cpu.icount < target) {
    if (cpu.halted && !cpu.nmiPending && !(cpu.intrLine && (cpu.getEflags() & IF) !== 0)) {
      const wake = m.scheduler.nextWake((irq) => m.devices.canInterrupt(irq));
      const to = Math.min(wake, target);
      if (to > cpu.icount && (cpu.getEflags() & IF) !== 0) {
        m.runSlice(to - cpu.icount); // a halted CPU with nothing due before `to` runs no instruction here
        continue;
      }
    }
    stop = m.step();
  }
  return stop;
}
