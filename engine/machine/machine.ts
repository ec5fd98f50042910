// A whole guest machine: memory, port bus, CPU, the host-facing ports, the loaded image, run control and snapshots.
// The CLI, the debug adapter, the monitor and the tests all drive guests through this class; it knows nothing of
// the debugger beyond its run-control calls and the CPU's event hub.

import { Cpu, CS, DS, ES, FS, GS, SS, AR_P, AR_S, AR_DB, AR_G, CR0_PE, EAX, EBX, EDX, ESP, type CpuModel } from '../cpu/cpu';
import { IF } from '../cpu/flags';
import { PhysicalMemory } from './memory';
import { IoBus } from './io-bus';
import { DebugConsole, DEBUG_CONSOLE_PORT, EXIT_PORT, ExitPort, PortRecorder } from '../devices/debug-ports';
import { loadImage, type LoadedImage, type LoadOptions, type StartState } from './loaders';

export type StopReason = 'halt' | 'exit' | 'limit' | 'triple-fault' | 'breakpoint' | 'stopped';

export interface MachineOptions {
  /** Installed RAM in MiB (default 16). */
  memoryMB?: number;
  model?: CpuModel;
  /** Ports whose written bytes are recorded (`--port-log`). */
  portLog?: number[];
  /** Receives guest bytes written to port 0xE9 (default: kept in `consoleOutput`). */
  onConsoleByte?: (byte: number) => void;
}

export interface RunResult {
  reason: StopReason;
  instructions: number;
}

/** Instructions per slice of `run`; between slices the machine checks limits (and async callers may yield). */
export const SLICE = 1 << 16;

export class Machine {
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  readonly cpu: Cpu;
  readonly portRecorder: PortRecorder;
  /** Guest bytes from port 0xE9 when no onConsoleByte sink was given. */
  readonly consoleOutput: number[] = [];
  exitCode: number | null = null;
  image: LoadedImage | null = null;
  private exitRequested = false;

  constructor(options: MachineOptions = {}) {
    const mb = options.memoryMB ?? 16;
    if (!Number.isFinite(mb) || mb < 1 || mb > 3072) throw new RangeError(`memory must be 1 to 3072 MiB, got ${mb}`);
    this.mem = new PhysicalMemory(Math.floor(mb * 1024 * 1024));
    this.io = new IoBus();
    this.cpu = new Cpu(this.mem, this.io, { model: options.model });
    const sink = options.onConsoleByte ?? ((b: number) => void this.consoleOutput.push(b));
    this.io.register(DEBUG_CONSOLE_PORT, 1, new DebugConsole(sink));
    this.io.register(
      EXIT_PORT,
      1,
      new ExitPort((code) => {
        this.exitCode = code;
        this.exitRequested = true;
        this.cpu.requestStop();
      }),
    );
    this.portRecorder = new PortRecorder(this.io, options.portLog ?? []);
  }

  /** Loads an image (throws ImageError with a one-line message) and puts the CPU in its start state. */
  load(bytes: Uint8Array, options: LoadOptions = {}): LoadedImage {
    const image = loadImage(this.mem, bytes, options);
    this.image = image;
    this.applyStart(image.start);
    return image;
  }

  /** Puts the CPU into a loader's start state (as reset or a boot loader would leave it). */
  applyStart(start: StartState): void {
    const cpu = this.cpu;
    cpu.reset();
    if (start.kind === 'reset') return;
    cpu.a20Enabled = true;
    if (start.kind === 'real') {
      for (const s of [ES, DS, FS, GS]) cpu.setSegmentReal(s, 0);
      cpu.setSegmentReal(SS, start.ss ?? 0);
      cpu.setSegmentReal(CS, start.cs);
      cpu.eip = start.ip & 0xffff;
      cpu.regs[ESP] = start.sp ?? 0x7000;
      cpu.regs[EDX] = start.dl ?? 0;
      cpu.setEflags(cpu.getEflags() & ~IF);
      cpu.modeChanged();
      return;
    }
    // flat32: the state a Multiboot loader leaves (Multiboot spec §3.2): PE=1, paging off, flat segments, IF=0.
    cpu.cr0 |= CR0_PE;
    const code32 = AR_P | AR_S | 0xb | AR_DB | AR_G;
    const data32 = AR_P | AR_S | 0x3 | AR_DB | AR_G;
    cpu.loadSegmentCache(CS, 0x08, 0, 0xffffffff, code32, true, 'loader');
    for (const s of [SS, DS, ES, FS, GS]) cpu.loadSegmentCache(s, 0x10, 0, 0xffffffff, data32, true, 'loader');
    cpu.cpl = 0;
    cpu.eip = start.eip >>> 0;
    cpu.regs[ESP] = start.esp ?? 0x90000;
    cpu.regs[EAX] = start.eax ?? 0;
    cpu.regs[EBX] = start.ebx ?? 0;
    cpu.modeChanged();
  }

  /**
   * Runs until the guest stops or `maxInstructions` retire. Synchronous: callers that must stay responsive use
   * runSlice from an event loop instead.
   */
  run(maxInstructions = Infinity): RunResult {
    let total = 0;
    for (;;) {
      const budget = Math.min(SLICE, maxInstructions - total);
      if (budget <= 0) return { reason: 'limit', instructions: total };
      const r = this.runSlice(budget);
      total += r.instructions;
      if (r.reason !== null) return { reason: r.reason, instructions: total };
    }
  }

  /** Runs at most `budget` instructions. `reason` is null when the budget ran out with the guest still running. */
  runSlice(budget: number): { reason: StopReason | null; instructions: number } {
    const cpu = this.cpu;
    const n = cpu.run(budget);
    if (this.exitRequested) {
      this.exitRequested = false;
      return { reason: 'exit', instructions: n };
    }
    if (cpu.shutdown) return { reason: 'triple-fault', instructions: n };
    if (cpu.hitBreakpoint) return { reason: 'breakpoint', instructions: n };
    if (cpu.halted) {
      // HLT with interrupts enabled would wait for an interrupt; with no interrupt source pending nothing can
      // wake it, so the run ends as a halt either way (devices that schedule interrupts keep it running).
      if ((cpu.getEflags() & IF) === 0 || !cpu.intrLine) return { reason: 'halt', instructions: n };
      cpu.halted = false;
      return { reason: null, instructions: n };
    }
    if (n < budget) return { reason: 'stopped', instructions: n };
    return { reason: null, instructions: n };
  }

  /** Asks a running guest to stop at the next instruction boundary (safe from event listeners). */
  requestStop(): void {
    this.cpu.requestStop();
  }

  consoleText(): string {
    return Buffer.from(this.consoleOutput).toString('latin1');
  }

  // ---- snapshots (the base for reverse execution) ----

  snapshot(): MachineSnapshot {
    return {
      memory: this.mem.u8.slice(),
      cpu: captureFields(this.cpu),
      exitCode: this.exitCode,
    };
  }

  restore(s: MachineSnapshot): void {
    this.mem.u8.set(s.memory);
    restoreFields(this.cpu, s.cpu);
    this.exitCode = s.exitCode;
    this.cpu.flushDecodeCache();
    this.cpu.modeChanged();
  }
}

export interface MachineSnapshot {
  memory: Uint8Array;
  cpu: Record<string, unknown>;
  exitCode: number | null;
}

/** Copies every number, boolean and typed-array field of an object (state, not wiring). */
function captureFields(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) out[k] = (v as Uint8Array).slice();
  }
  return out;
}

function restoreFields(o: object, saved: Record<string, unknown>): void {
  const target = o as Record<string, unknown>;
  for (const [k, v] of Object.entries(saved)) {
    if (ArrayBuffer.isView(v)) (target[k] as Uint8Array).set(v as Uint8Array);
    else target[k] = v;
  }
}
