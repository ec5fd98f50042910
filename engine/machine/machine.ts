// A whole guest machine: memory, port bus, CPU, the host-facing ports, the loaded image, run control and snapshots.
// The CLI, the debug adapter, the monitor and the tests all drive guests through this class; it knows nothing of
// the debugger beyond its run-control calls and the CPU's event hub.

import type { FpuSnapshot } from '../cpu/fpu/state';
import { Cpu, CS, DS, ES, FS, GS, SS, AR_P, AR_S, AR_DB, AR_G, CR0_PE, EAX, EBX, EDX, ESP, type CpuModelName } from '../cpu/cpu';
import { IF } from '../cpu/flags';
import { PhysicalMemory } from '../bus/memory';
import { IoBus } from '../bus/io-bus';
import { DebugConsole, DEBUG_CONSOLE_PORT, EXIT_PORT, ExitPort, PortRecorder } from '../devices/debug-ports';
import { loadImage, type LoadedImage, type LoadOptions, type StartState } from './loaders';
import { Scheduler } from './scheduler';
import { restoreConsistencyTracking, saveConsistencyTracking } from '../cpu/protect/consistency-events';
import { flushTlbAll, type TlbSnapshot } from '../cpu/protect/tlb';
import { PcDevices, type PcDeviceOptions, type PcDevicesSnapshot } from '../devices/pc-devices';
import { keysForText, type HostKey } from '../devices/host-keys';
import type { KeyPacing } from '../devices/keyboard-controller';
import { captureScreen, framebufferOf, type FramebufferSource, type Screen } from '../screen/screen';

/**
 * Most guest RAM a machine can have, in MiB: 3 GiB. The top GiB of the 32-bit physical address space stays free for
 * what sits above RAM: the BIOS alias below 4 GiB, memory-mapped devices and the monitor's hidden region.
 * The launch attribute `memoryMB` and `--memory` take the same maximum.
 */
export const MAX_MEMORY_MB = 3072;

export type StopReason = 'halt' | 'exit' | 'limit' | 'triple-fault' | 'breakpoint' | 'stopped';

export interface MachineOptions {
  /** Installed RAM in MiB (default 16). */
  memoryMB?: number;
  /** The processor (engine/cpu/model.ts); default pentium-pro. */
  model?: CpuModelName;
  /** Ports whose written bytes are recorded (`--port-log`). */
  portLog?: number[];
  /** Receives guest bytes written to port 0xE9 (default: kept in `consoleOutput`). */
  onConsoleByte?: (byte: number) => void;
  /** The PC devices to attach (all by default), the COM1 sink and the RTC's start time (see pc-devices.ts). */
  devices?: PcDeviceOptions;
  /**
   * What a triple fault does: `stop` ends the run with reason `triple-fault` (default); `reset` resets the CPU as
   * a PC chipset does on the shutdown cycle, and the guest goes on from the reset vector.
   */
  tripleFault?: 'stop' | 'reset';
}

export interface RunResult {
  reason: StopReason;
  /**
   * Virtual time that passed, in instructions: those retired plus the idle time a halted CPU skipped while it
   * waited for a device interrupt (see `idleInstructions`).
   */
  instructions: number;
}

/** Timer deadlines a halted CPU may wait through within one `step` before the wait counts as a halt. */
const MAX_WAITS_PER_STEP = 1 << 16;

/** Instructions per slice of `run`; between slices the machine checks limits (and async callers may yield). */
export const SLICE = 1 << 16;

export class Machine {
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  readonly cpu: Cpu;
  readonly portRecorder: PortRecorder;
  /** Device timers, in guest instruction counts (scheduler.ts). */
  readonly scheduler: Scheduler;
  /** PIC, PIT, CMOS, 8042, port 92h, COM1, CRTC and the boot disk. */
  readonly devices: PcDevices;
  /** Instruction times skipped while the CPU was halted waiting for an interrupt (part of `instructions`). */
  idleInstructions = 0;
  /** Machine resets done by the guest (8042 command FEh, port 92h bit 0, a triple fault with tripleFault: reset). */
  resets = 0;
  private userStop = false;
  /** The guest switched the machine off through ACPI (S5). */
  poweredOff = false;
  private resetRequested = false;
  private readonly resetOnTripleFault: boolean;
  /** Guest bytes from port 0xE9 when no onConsoleByte sink was given. */
  readonly consoleOutput: number[] = [];
  exitCode: number | null = null;
  image: LoadedImage | null = null;
  private exitRequested = false;

  constructor(options: MachineOptions = {}) {
    const mb = options.memoryMB ?? 16;
    if (!Number.isFinite(mb) || mb < 1 || mb > MAX_MEMORY_MB) throw new RangeError(`memory must be 1 to ${MAX_MEMORY_MB} MiB, got ${mb}`);
    this.mem = new PhysicalMemory(Math.floor(mb * 1024 * 1024));
    this.io = new IoBus();
    this.cpu = new Cpu(this.mem, this.io, { model: options.model });
    this.io.events = this.cpu.events;
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
    this.resetOnTripleFault = options.tripleFault === 'reset';
    // Device time is the count of retired instructions; inside a translated block `icount` lags by those the block
    // retired so far in this run, which it keeps in `jitRetired` while a device may look (jit/emitter.ts deviceTime).
    this.scheduler = new Scheduler(() => this.cpu.icount + this.cpu.jitRetired);
    this.scheduler.onEarlierDeadline = () => this.cpu.requestStop();
    this.devices = new PcDevices(this.cpu, this.io, this.mem, this.scheduler, () => this.requestReset(), options.devices, () => this.powerOff());
    this.framebuffer = framebufferOf(this.devices);
  }

  /** Loads an image (throws ImageError with a one-line message) and puts the CPU in its start state. */
  load(bytes: Uint8Array, options: LoadOptions = {}): LoadedImage {
    const image = loadImage(this.mem, bytes, { cpuModel: this.cpu.model.name, ...options });
    this.image = image;
    if (image.disk) this.devices.insertDisk(image.disk);
    this.applyStart(image.start);
    return image;
  }

  /** Puts the CPU into a loader's start state (as reset or a boot loader would leave it). */
  applyStart(start: StartState): void {
    const cpu = this.cpu;
    cpu.reset();
    if (start.kind === 'reset') {
      this.devices.a20.apply();
      return;
    }
    this.devices.a20.enableForLoader();
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

  /**
   * Runs at most `budget` instructions of virtual time. `reason` is null when the budget ran out with the guest
   * still running (or still halted, waiting for a device interrupt that is due later).
   *
   * The CPU runs in slices that end at the next device deadline; due timers fire between slices. A halted CPU with
   * IF = 1 jumps straight to the next deadline of a timer whose interrupt could reach it; with IF = 0, or when no
   * such timer is armed, the run ends with `halt`.
   */
  runSlice(budget: number): { reason: StopReason | null; instructions: number } {
    const cpu = this.cpu;
    const scheduler = this.scheduler;
    const start = cpu.icount;
    const end = start + budget;
    const done = (reason: StopReason | null) => ({ reason, instructions: cpu.icount - start });
    for (;;) {
      if (this.poweredOff) return done('halt');
      scheduler.fireDue(cpu.icount);
      if (cpu.icount >= end) return done(null);
      if (cpu.halted && !this.wakeOnInterrupt()) {
        if ((cpu.getEflags() & IF) === 0) return done('halt');
        const wake = scheduler.nextWake((irq) => this.devices.canInterrupt(irq));
        if (wake === Infinity) return done('halt');
        const to = Math.min(wake, end);
        this.idleInstructions += to - cpu.icount;
        cpu.icount = to;
        continue;
      }
      const sliceEnd = Math.min(end, scheduler.nextDeadline());
      scheduler.sliceEnd = sliceEnd;
      cpu.run(sliceEnd - cpu.icount);
      cpu.runBoundaryWork();
      scheduler.sliceEnd = -Infinity;
      if (this.exitRequested) {
        this.exitRequested = false;
        return done('exit');
      }
      if (cpu.shutdown) {
        if (!this.resetOnTripleFault) return done('triple-fault');
        this.resetRequested = true;
      }
      if (cpu.hitBreakpoint) return done('breakpoint');
      if (this.resetRequested) this.resetCpu();
      if (this.userStop) {
        this.userStop = false;
        return done('stopped');
      }
    }
  }

  /**
   * Executes one instruction (or delivers one pending interrupt first, as the CPU does) with the devices' timers
   * kept in step. A halted CPU first waits, in virtual time, for the interrupt that wakes it; the result is `halt`
   * when none can. For the debugger's step commands.
   */
  step(): StopReason | null {
    const cpu = this.cpu;
    if (this.poweredOff) return 'halt';
    this.scheduler.fireDue(cpu.icount);
    if (cpu.halted && !this.wakeOnInterrupt()) {
      if ((cpu.getEflags() & IF) === 0) return 'halt';
      // Wait in virtual time until an interrupt wakes the CPU. One deadline may not be enough: a PIT in mode 2
      // drops its output for one clock before the rising edge that raises IRQ 0, and each is a deadline.
      for (let waits = 0; ; waits++) {
        const wake = this.scheduler.nextWake((irq) => this.devices.canInterrupt(irq));
        if (wake === Infinity || wake <= cpu.icount || waits >= MAX_WAITS_PER_STEP) return 'halt';
        this.runSlice(wake - cpu.icount);
        if (!cpu.halted || this.wakeOnInterrupt()) break;
      }
    }
    // One instruction needs no preemption: timers it arms are due at the earliest after it, and fire below.
    cpu.step();
    if (cpu.shutdown && this.resetOnTripleFault) this.resetRequested = true;
    if (this.resetRequested) this.resetCpu();
    this.scheduler.fireDue(cpu.icount);
    if (cpu.shutdown) return 'triple-fault';
    if (this.poweredOff) return 'halt';
    if (this.exitRequested) {
      this.exitRequested = false;
      return 'exit';
    }
    return null;
  }

  /** Ends HLT when an NMI or an enabled interrupt is pending (the CPU then delivers it); true if it did. */
  private wakeOnInterrupt(): boolean {
    const cpu = this.cpu;
    if (cpu.nmiPending || (cpu.intrLine && (cpu.getEflags() & IF) !== 0)) cpu.halted = false;
    return !cpu.halted;
  }

  /** Asks a running guest to stop at the next instruction boundary (safe from event listeners). */
  requestStop(): void {
    this.userStop = true;
    this.cpu.requestStop();
  }

  /**
   * Bytes from the host to the guest's COM1 (the debug session's input or stdin), received at the line's rate, or
   * `paced`: as the guest reads them (uart.ts).
   */
  serialInput(bytes: Iterable<number>, paced = false): void {
    this.devices.serialInput(bytes, paced);
  }

  /**
   * Host text typed on the PS/2 keyboard as the guest becomes ready for each key; with `line` pacing (scripted
   * keys), each line also waits until the guest waits for input (keyboard-controller.ts, input-wait.ts).
   */
  typeKeys(keys: string | readonly HostKey[], pacing: KeyPacing = 'ready'): void {
    const kbc = this.devices.keyboardController;
    if (kbc === null) throw new Error('this machine has no keyboard controller');
    kbc.typeKeys(typeof keys === 'string' ? keysForText(keys) : keys, pacing);
  }

  /** Typed keys and paced serial bytes the guest has not taken yet. */
  inputWaiting(): { keys: number; serialBytes: number } {
    return { keys: this.devices.keyboardController?.keysWaiting ?? 0, serialBytes: this.devices.uart?.bytesWaiting ?? 0 };
  }

  /**
   * Which framebuffer the display scans out now, if a display adapter with one is attached (null: VGA text).
   * A display device sets this; the screen capture reads it.
   */
  framebuffer: FramebufferSource;

  /** What the guest's monitor shows now (screen.ts). */
  screen(): Screen {
    return captureScreen({ mem: this.mem, crtc: this.devices.crtc, framebuffer: this.framebuffer });
  }

  /**
   * True while the built-in firmware's own code runs (the current instruction lies in the BIOS ROM at F0000h–FFFFFh):
   * its copy of teletype text to port E9h is then the firmware's, not the guest's.
   */
  executingFirmware(): boolean {
    const format = this.image?.format;
    if (format !== 'boot' && format !== 'linux') return false;
    const linear = (this.cpu.segBase[CS] + this.cpu.instrStart) >>> 0;
    return linear >= 0xf0000 && linear < 0x100000;
  }

  /** Scan codes from the host keyboard (set 1, as the guest reads them through the 8042), each raising IRQ 1. */
  keyboardInput(codes: Iterable<number>): void {
    this.devices.keyboardController?.keyboardInput(codes);
  }

  /**
   * ACPI soft-off (S5, acpi-pm.ts): the machine is off. The run ends with `halt` at the next instruction boundary,
   * and every later run or step ends there again at once.
   */
  private powerOff(): void {
    this.poweredOff = true;
    this.cpu.requestStop();
  }

  /** A reset line pulsed by the guest: the CPU resets at the next instruction boundary. */
  private requestReset(): void {
    this.resetRequested = true;
    this.cpu.requestStop();
  }

  /** Resets the CPU only, as the 8042 and port 92h reset lines do: memory, devices and A20 keep their state. */
  private resetCpu(): void {
    this.resetRequested = false;
    this.resets++;
    this.cpu.reset();
    // The local APIC is part of the processor: it resets with it (SDM 3A §11.4.7.1); the chipset's devices do not.
    this.devices.lapic?.reset();
    this.devices.interrupts.update();
    this.devices.a20.apply();
  }

  consoleText(): string {
    return Buffer.from(this.consoleOutput).toString('latin1');
  }

  // ---- snapshots (the base for reverse execution) ----

  snapshot(): MachineSnapshot {
    return { memory: this.mem.u8.slice(), ...this.snapshotState() };
  }

  restore(s: MachineSnapshot): void {
    this.mem.u8.set(s.memory);
    this.restoreState(s);
  }

  /** Everything but memory (reverse execution keeps memory by page itself: engine/machine/history.ts). */
  snapshotState(): MachineState {
    return {
      cpu: captureFields(this.cpu),
      fpu: this.cpu.fpu.save(),
      exitCode: this.exitCode,
      poweredOff: this.poweredOff,
      devices: this.devices.snapshot(),
      timers: this.scheduler.snapshot(),
      idleInstructions: this.idleInstructions,
      resets: this.resets,
      monitor: this.cpu.monitor?.snapshot(),
      // The guest's TLB (under a monitor, the monitor's snapshot holds it: the CPU's may be the shadow's real one).
      tlb: this.cpu.monitor === null ? this.cpu.tlb.save() : undefined,
      consistency: saveConsistencyTracking(this.cpu),
    };
  }

  /**
   * Puts back everything but memory; memory must already hold the same moment's contents. `keepDecoded`: the caller
   * has told the decode cache of every page it rewrote (as a store would, PhysicalMemory.onCodeStore), so the
   * instructions decoded on the other pages still hold and are kept — bare only, unless `sameMemory`: under the
   * monitor the decoder's SBE scan must see every instruction again after the monitor starts over, except when
   * memory has not changed at all since the state was taken (a checkpoint that restarts the monitor, history.ts
   * `take`), where Monitor.restore drops them itself if its scan ends different.
   */
  restoreState(s: MachineState, keepDecoded = false, sameMemory = false): void {
    restoreFields(this.cpu, s.cpu);
    this.cpu.fpu.load(s.fpu);
    this.exitCode = s.exitCode;
    this.poweredOff = s.poweredOff ?? false;
    this.devices.restore(s.devices);
    this.scheduler.restore(s.timers);
    this.idleInstructions = s.idleInstructions;
    this.resets = s.resets;
    this.userStop = false;
    this.resetRequested = false;
    this.exitRequested = false;
    if (keepDecoded && (s.monitor === undefined || sameMemory)) flushTlbAll(this.cpu);
    else this.cpu.flushDecodeCache();
    // The guest's TLB as it was (a stale entry stays in use, SDM 3A §4.10.4): a restored moment translates as the
    // original did, and a checkpoint does not empty it. Snapshots from before it was kept restore it empty.
    if (s.monitor === undefined && s.tlb !== undefined) this.cpu.tlb.load(s.tlb);
    this.cpu.modeChanged();
    restoreConsistencyTracking(this.cpu, s.consistency);
    // Under a monitor the CPU's fields were the deprivileged ones: the monitor puts the guest's view back.
    if (s.monitor !== undefined) this.cpu.monitor?.restore(s.monitor);
  }
}

export interface MachineSnapshot extends MachineState {
  memory: Uint8Array;
}

export interface MachineState {
  cpu: Record<string, unknown>;
  /** The x87 registers and words (BigInt significands do not fit captureFields' plain numbers). */
  fpu: FpuSnapshot;
  exitCode: number | null;
  poweredOff?: boolean;
  devices: PcDevicesSnapshot;
  /** Device timer deadlines, in the scheduler's order. */
  timers: number[];
  idleInstructions: number;
  resets: number;
  /** The monitor's part (engine/monitor/), when one is attached. */
  monitor?: unknown;
  /** The TLB's contents, bare (under a monitor they are in `monitor`). */
  tlb?: TlbSnapshot;
  /** The bare consistency tracker's last reported states, when it runs (protect/consistency-events.ts). */
  consistency?: string[];
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
