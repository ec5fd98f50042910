// The transparency proof (model.md §4): the same image runs on a bare machine and on a monitored one, one guest
// instruction at a time, and after every instruction the guest-visible state of both is compared — general
// registers, EIP, EFLAGS as the guest sees them, CPL, CR0/2/3/4, GDTR, IDTR, the SYSENTER MSRs, every segment
// register's selector and hidden cache (LDTR and TR included), halt/shutdown, the instruction count (device time),
// the x87 state, what the guest saw of its devices during the instruction (every port read's time and value, every
// interrupt acknowledgement's time and vector: device-log.ts) and how much it printed. Guest memory, the devices'
// state and the output bytes are compared every `memoryEvery` instructions and at the end, and a difference found
// there is located at its exact instruction by replaying both machines from the image (engine/monitor/README.md,
// "Transparency and its proof"). The first divergence is reported with both states.

import { Buffer } from 'node:buffer';
import { ESP, SEGMENT_NAMES, type CpuModelName } from '../cpu/cpu';
import { Machine, type StopReason } from '../machine/machine';
import type { FpuState } from '../cpu/fpu/state';
import type { LoadOptions } from '../machine/loaders';
import { GuestState } from './guest-state';
import { attachMonitor, type Monitor, type SbeMode } from './monitor';
import { DeviceLog, deviceDifference as deviceLogDifference } from './device-log';
import { StateProbe } from './lockstep-probe';

export interface VisibleState {
  regs: number[];
  eip: number;
  eflags: number;
  cpl: number;
  cr: number[];
  gdtr: [number, number];
  idtr: [number, number];
  /** IA32_SYSENTER_CS, _ESP, _EIP (the MSRs SYSENTER and SYSEXIT use). */
  sysenter: number[];
  /** ES CS SS DS FS GS LDTR TR: selector, base, limit, access rights, usable. */
  segments: { sel: number; base: number; limit: number; ar: number; valid: boolean }[];
  halted: boolean;
  shutdown: boolean;
  instructions: number;
  /** Debug traps (DR6 bits) the last instruction left for the next boundary. */
  pendingDebugTraps: number;
  /** x87: control, status and tag words, ST0–ST7 raw (hex), FIP, opcode, FDP. */
  fpu: string[];
}

export interface Divergence {
  /** Guest instructions both sides had executed when the states differed. */
  step: number;
  field: string;
  bare: VisibleState | string;
  monitored: VisibleState | string;
}

export interface LockstepOptions {
  load?: LoadOptions;
  memoryMB?: number;
  /** The CPU model of both machines (default pentium-pro). */
  model?: CpuModelName;
  maxInstructions?: number;
  sbe?: SbeMode;
  /** The monitor's entry and return shortcuts (MonitorOptions.shortcuts; default on). */
  shortcuts?: boolean;
  /**
   * Compare guest memory, devices and output every this many instructions (default 65536) and at the end; a
   * difference is then located at its exact instruction by replay.
   */
  memoryEvery?: number;
  /** Called with both machines after the image is loaded (again for each replay): tests plant divergences here. */
  prepare?: (bare: Machine, monitored: Machine) => void;
  /** Further ATA disks after the boot image (primary slave, secondary master, secondary slave), on both sides. */
  disks?: Uint8Array[];
}

export interface LockstepResult {
  instructions: number;
  stop: StopReason | 'limit' | null;
  divergence: Divergence | null;
  monitor: Monitor;
  bare: Machine;
  monitored: Machine;
}

const scratch = new GuestState();

/** The guest-visible state of a machine; under a monitor, the guest's view the monitor keeps. */
export function visibleState(machine: Machine, monitor: Monitor | null): VisibleState {
  const cpu = machine.cpu;
  const g = monitor !== null ? monitor.currentGuest(scratch) : (scratch.captureFrom(cpu), scratch);
  const regs = Array.from(cpu.regs, (v) => v >>> 0);
  regs[ESP] = g.esp >>> 0;
  const segments = [];
  for (let s = 0; s < 8; s++) {
    segments.push({ sel: g.sel[s], base: g.base[s] >>> 0, limit: g.limit[s], ar: g.ar[s], valid: g.valid[s] !== 0 });
  }
  return {
    regs,
    eip: g.eip >>> 0,
    eflags: g.eflags >>> 0,
    cpl: g.cpl,
    cr: [g.cr0 >>> 0, g.cr2 >>> 0, g.cr3 >>> 0, g.cr4 >>> 0],
    gdtr: [g.gdtrBase >>> 0, g.gdtrLimit],
    idtr: [g.idtrBase >>> 0, g.idtrLimit],
    sysenter: [g.sysenterCs >>> 0, cpu.sysenterEsp >>> 0, cpu.sysenterEip >>> 0],
    segments,
    halted: cpu.halted,
    shutdown: cpu.shutdown,
    instructions: cpu.icount,
    pendingDebugTraps: cpu.pendingDebugTraps,
    fpu: fpuVisible(cpu.fpu),
  };
}

/**
 * The guest-visible x87 state. FCS and FDS are left out: they hold the selectors the CPU ran with, which under
 * ring compression are the monitor's, not the guest's (a known limit of the monitor's transparency for FSTENV).
 */
function fpuVisible(f: FpuState): string[] {
  const out = [`CW=${f.cw.toString(16)}`, `SW=${f.status.toString(16)}`, `TW=${f.tagWord.toString(16)}`];
  for (let k = 0; k < 8; k++) {
    const p = f.phys(k);
    out.push(`ST${k}=${f.se[p].toString(16).padStart(4, '0')}${f.sig[p].toString(16).padStart(16, '0')}`);
  }
  out.push(`FIP=${(f.fip >>> 0).toString(16)}`, `FOP=${f.fop.toString(16)}`, `FDP=${(f.fdp >>> 0).toString(16)}`);
  return out;
}

const REG_NAMES = ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI'];

/**
 * The first field that differs, by name, or null. Two guests' views (the lockstep: bare against the monitored
 * guest's view), or two real CPUs (visibleState with no monitor: test/engine/monitor/shortcuts.test.ts compares the
 * deprivileged CPUs of two monitored machines so).
 */
export function firstDifference(a: VisibleState, b: VisibleState): string | null {
  for (let r = 0; r < 8; r++) if (a.regs[r] !== b.regs[r]) return REG_NAMES[r];
  if (a.eip !== b.eip) return 'EIP';
  if (a.eflags !== b.eflags) return 'EFLAGS';
  if (a.cpl !== b.cpl) return 'CPL';
  for (let s = 0; s < 8; s++) {
    const x = a.segments[s];
    const y = b.segments[s];
    const n = SEGMENT_NAMES[s];
    if (x.sel !== y.sel) return `${n}.selector`;
    if (x.valid !== y.valid) return `${n}.usable`;
    if (x.base !== y.base) return `${n}.base`;
    if (x.limit !== y.limit) return `${n}.limit`;
    if (x.ar !== y.ar) return `${n}.access`;
  }
  for (let k = 0; k < 4; k++) if (a.cr[k] !== b.cr[k]) return `CR${k}`;
  if (a.gdtr[0] !== b.gdtr[0] || a.gdtr[1] !== b.gdtr[1]) return 'GDTR';
  if (a.idtr[0] !== b.idtr[0] || a.idtr[1] !== b.idtr[1]) return 'IDTR';
  for (let k = 0; k < 3; k++) if (a.sysenter[k] !== b.sysenter[k]) return ['IA32_SYSENTER_CS', 'IA32_SYSENTER_ESP', 'IA32_SYSENTER_EIP'][k];
  if (a.halted !== b.halted) return 'halted';
  if (a.shutdown !== b.shutdown) return 'shutdown';
  if (a.instructions !== b.instructions) return 'instruction count';
  if (a.pendingDebugTraps !== b.pendingDebugTraps) return 'pending debug traps';
  for (let k = 0; k < a.fpu.length; k++) if (a.fpu[k] !== b.fpu[k]) return `FPU ${a.fpu[k].split('=')[0]}`;
  return null;
}

/** First differing guest RAM byte, or -1. */
export function memoryDifference(a: Machine, b: Machine): number {
  const x = Buffer.from(a.mem.u8.buffer, a.mem.u8.byteOffset, a.mem.u8.length);
  const y = Buffer.from(b.mem.u8.buffer, b.mem.u8.byteOffset, b.mem.u8.length);
  if (x.equals(y)) return -1;
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return k;
  return -1;
}

/**
 * The first device whose state differs (PIC, PIT, APICs, UART, … with the device timers' deadlines), or null.
 * Devices are guest-visible through their ports and registers, so the monitor must leave them exactly as bare.
 */
export function deviceDifference(a: Machine, b: Machine): string | null {
  const x = a.devices.snapshot() as unknown as Record<string, unknown>;
  const y = b.devices.snapshot() as unknown as Record<string, unknown>;
  for (const name of Object.keys(x)) {
    if (JSON.stringify(x[name], mapsAsArrays) !== JSON.stringify(y[name], mapsAsArrays)) return `device ${name}`;
  }
  if (JSON.stringify(a.scheduler.snapshot()) !== JSON.stringify(b.scheduler.snapshot())) return 'device timers';
  return null;
}

function mapsAsArrays(_key: string, value: unknown): unknown {
  if (value instanceof Map) return [...value.entries()];
  if (ArrayBuffer.isView(value)) {
    const bytes = value as Uint8Array;
    if (bytes.length <= 4096) return Array.from(bytes);
    // Video memory: compared by a hash (FNV-1a), not as an 8 MiB list.
    let h = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    return `${bytes.length} bytes, hash ${(h >>> 0).toString(16)}`;
  }
  return value;
}

/** The two machines of a lockstep run, with their device logs, the instructions they ran and how they stopped. */
class Pair {
  readonly bare: Machine;
  readonly monitored: Machine;
  readonly monitor: Monitor;
  readonly bareDevices: DeviceLog;
  readonly monitoredDevices: DeviceLog;
  steps = 0;
  stop: StopReason | 'limit' | null = null;

  constructor(image: Uint8Array, options: LockstepOptions) {
    const memoryMB = options.memoryMB ?? 4;
    this.bare = new Machine({ memoryMB, model: options.model, devices: { disks: options.disks } });
    this.monitored = new Machine({ memoryMB, model: options.model, devices: { disks: options.disks } });
    this.monitor = attachMonitor(this.monitored, { sbe: options.sbe ?? 'auto', shortcuts: options.shortcuts ?? true });
    this.bare.load(image, options.load);
    this.monitored.load(image, options.load);
    this.bareDevices = new DeviceLog(this.bare);
    this.monitoredDevices = new DeviceLog(this.monitored);
    options.prepare?.(this.bare, this.monitored);
  }

  /** One guest instruction on each side; a differing stop reason is returned as a divergence field. */
  step(): [string, string, string] | null {
    const r1 = this.bare.step();
    const r2 = this.monitored.step();
    this.steps++;
    if (r1 !== r2) return ['stop reason', String(r1), String(r2)];
    if (r1 !== null) this.stop = r1;
    return null;
  }

  /**
   * What is compared at checkpoints rather than after every instruction, because reading it costs milliseconds:
   * guest memory (32 MiB: about 7 ms), every device's state with the timers' deadlines, and the console output.
   */
  checkpointDifference(): [string, string, string] | null {
    const { bare, monitored } = this;
    const at = memoryDifference(bare, monitored);
    if (at >= 0) return [`memory[0x${at.toString(16)}]`, `0x${bare.mem.u8[at].toString(16)}`, `0x${monitored.mem.u8[at].toString(16)}`];
    const device = deviceDifference(bare, monitored);
    if (device !== null) return [device, JSON.stringify(bare.devices.snapshot(), mapsAsArrays), JSON.stringify(monitored.devices.snapshot(), mapsAsArrays)];
    const out1 = bare.consoleText();
    const out2 = monitored.consoleText();
    if (out1 !== out2) return ['console output', out1, out2];
    return null;
  }

  result(divergence: Divergence | null): LockstepResult {
    return { instructions: this.steps, stop: this.stop, divergence, monitor: this.monitor, bare: this.bare, monitored: this.monitored };
  }
}

/** Checkpoints of a replay each cover at most 1/FANOUT of the interval that held the difference. */
const FANOUT = 64;

/**
 * Runs `image` bare and monitored side by side; stops at the first divergence, a stop, or the instruction limit.
 *
 * After every instruction: the CPU state the guest sees (StateProbe, allocation-free; on a difference both
 * VisibleStates are built and the field named), the port reads and interrupt acknowledgements of that instruction,
 * and the length of the console output. Every `memoryEvery` instructions and at the end (checkpoints): memory, the
 * devices and the output bytes. A checkpoint difference is then located at its exact instruction by replay: both
 * machines start over from the image (the run is a function of the image and guest time, interfaces.md) and
 * compare at checkpoints 64 times denser inside the interval that held it, down to every instruction.
 */
export function lockstep(image: Uint8Array, options: LockstepOptions = {}): LockstepResult {
  const run = new LockstepRun(image, options);
  for (;;) {
    const r = run.advance(Infinity);
    if (r !== null) return r;
  }
}

/**
 * lockstep() that returns to the event loop every `yieldEvery` instructions (default 10^6): a caller that must stay
 * responsive while tens of millions of instructions are compared (a test runner's worker answering its RPC) uses it.
 */
export async function lockstepAsync(image: Uint8Array, options: LockstepOptions = {}, yieldEvery = 1_000_000): Promise<LockstepResult> {
  const run = new LockstepRun(image, options);
  for (;;) {
    const r = run.advance(yieldEvery);
    if (r !== null) return r;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** One lockstep comparison in progress (lockstep() runs it to the end; lockstepAsync() in pieces). */
class LockstepRun {
  private readonly p: Pair;
  private readonly probe = new StateProbe();
  private readonly max: number;
  private readonly every: number;
  /** Instructions after which the last checkpoint found memory, devices and output equal. */
  private clean = 0;
  private sinceCheckpoint = 0;

  constructor(
    private readonly image: Uint8Array,
    private readonly options: LockstepOptions,
  ) {
    this.p = new Pair(image, options);
    this.max = options.maxInstructions ?? 1_000_000;
    this.every = Math.max(1, options.memoryEvery ?? 65536);
  }

  /** Compares at most `budget` more instructions; the result once the run ended or diverged, else null. */
  advance(budget: number): LockstepResult | null {
    const p = this.p;
    const { bare, monitored, monitor } = p;
    const diverge = (field: string, b: VisibleState | string, m: VisibleState | string): LockstepResult =>
      p.result({ step: p.steps, field, bare: b, monitored: m });
    for (let n = 0; ; n++) {
      if (!this.probe.same(bare, null, monitored, monitor)) {
        const a = visibleState(bare, null);
        const b = visibleState(monitored, monitor);
        const field = firstDifference(a, b);
        if (field !== null) return diverge(field, a, b);
      }
      if (!p.bareDevices.empty || !p.monitoredDevices.empty) {
        const device = deviceLogDifference(p.bareDevices, p.monitoredDevices);
        if (device !== null) return diverge(...device);
      }
      if (bare.consoleOutput.length !== monitored.consoleOutput.length) return diverge('console output', bare.consoleText(), monitored.consoleText());
      if (this.sinceCheckpoint === this.every || p.steps === 0 || p.stop !== null) {
        const found = p.checkpointDifference();
        if (found !== null) return locate(this.image, this.options, this.clean, p.steps, found, p);
        this.clean = p.steps;
        this.sinceCheckpoint = 0;
      }
      if (p.stop !== null) break;
      if (p.steps >= this.max) {
        p.stop = 'limit';
        continue;
      }
      if (n >= budget) return null;
      const stopDiffers = p.step();
      this.sinceCheckpoint++;
      if (stopDiffers !== null) return diverge(...stopDiffers);
    }
    if (bare.exitCode !== monitored.exitCode) return diverge('exit code', String(bare.exitCode), String(monitored.exitCode));
    return p.result(null);
  }
}

/**
 * A checkpoint difference found after `hi` instructions, none after `lo`: replays narrow the interval until it is
 * one instruction wide, and the divergence is reported after exactly that instruction, with the replayed machines.
 * (A difference that appears and vanishes again between two checkpoints is not seen; one that lasts is located.)
 */
function locate(image: Uint8Array, options: LockstepOptions, lo: number, hi: number, found: [string, string, string], coarse: Pair): LockstepResult {
  let at: Pair = coarse;
  while (hi - lo > 1) {
    const interval = Math.ceil((hi - lo) / FANOUT);
    const p = new Pair(image, options);
    while (p.steps < lo) replayStep(p);
    let hit: [string, string, string] | null = null;
    while (p.steps < hi && hit === null) {
      const end = Math.min(hi, p.steps + interval);
      while (p.steps < end) replayStep(p);
      hit = p.checkpointDifference();
    }
    if (hit === null) {
      // Not reproduced: the run was not a function of its inputs. Report the checkpoint that saw it, and say so.
      return coarse.result({ step: coarse.steps, field: `${found[0]} (seen at a checkpoint; a replay did not reproduce it)`, bare: found[1], monitored: found[2] });
    }
    lo = Math.max(lo, p.steps - interval);
    hi = p.steps;
    found = hit;
    at = p;
  }
  return at.result({ step: hi, field: found[0], bare: found[1], monitored: found[2] });
}

/** One instruction of a replay: the per-instruction comparison passed on the first run; the logs are drained. */
function replayStep(p: Pair): void {
  p.step();
  if (!p.bareDevices.empty) p.bareDevices.take();
  if (!p.monitoredDevices.empty) p.monitoredDevices.take();
}

/**
 * A divergence as text: the field, then both states side by side where they differ. `labels` name the two sides
 * (the free-run comparison puts the stepped machine first and the free-running one second: free-run.ts).
 */
export function describeDivergence(d: Divergence, labels: [string, string] = ['bare', 'monitored']): string {
  const lines = [`first divergence after ${d.step} guest instructions: ${d.field}`];
  const width = Math.max(labels[0].length, labels[1].length) + 1;
  if (typeof d.bare === 'string' || typeof d.monitored === 'string') {
    lines.push(`  ${`${labels[0]}:`.padEnd(width)} ${String(d.bare)}`, `  ${`${labels[1]}:`.padEnd(width)} ${String(d.monitored)}`);
    return lines.join('\n');
  }
  const show = (s: VisibleState): string[] => {
    const hex = (v: number, w = 8): string => v.toString(16).padStart(w, '0');
    const out = [
      REG_NAMES.map((n, k) => `${n}=${hex(s.regs[k])}`).join(' '),
      `EIP=${hex(s.eip)} EFLAGS=${hex(s.eflags)} CPL=${s.cpl} CR0=${hex(s.cr[0])} CR2=${hex(s.cr[1])} CR3=${hex(s.cr[2])} CR4=${hex(s.cr[3])}`,
      `GDTR=${hex(s.gdtr[0])}/${hex(s.gdtr[1], 4)} IDTR=${hex(s.idtr[0])}/${hex(s.idtr[1], 4)} halted=${s.halted} instructions=${s.instructions}`,
    ];
    s.segments.forEach((x, k) => {
      out.push(`${SEGMENT_NAMES[k].padEnd(4)} ${hex(x.sel, 4)} base=${hex(x.base)} limit=${hex(x.limit)} ar=${hex(x.ar, 4)}${x.valid ? '' : ' unusable'}`);
    });
    out.push(s.fpu.slice(0, 3).join(' '), s.fpu.slice(3, 7).join(' '), s.fpu.slice(7, 11).join(' '), s.fpu.slice(11).join(' '));
    return out;
  };
  const a = show(d.bare);
  const b = show(d.monitored);
  lines.push(`  ${labels[0]}:`);
  for (const l of a) lines.push(`    ${l}`);
  lines.push(`  ${labels[1]}:`);
  for (let k = 0; k < b.length; k++) lines.push(`    ${b[k]}${b[k] !== a[k] ? '   <-- differs' : ''}`);
  return lines.join('\n');
}
