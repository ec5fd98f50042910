// The transparency proof (model.md §4): the same image runs on a bare machine and on a monitored one, one guest
// instruction at a time, and after every instruction the guest-visible state of both is compared — general
// registers, EIP, EFLAGS as the guest sees them, CPL, CR0/2/3/4, GDTR, IDTR, the SYSENTER MSRs, every segment register's selector and
// hidden cache (LDTR and TR included), halt/shutdown, the instruction count (device time), the guest's port output;
// what the guest sees of its devices after every instruction (every port read's time and value, every interrupt
// acknowledgement's time and vector: device-log.ts); guest memory is compared every `memoryEvery` instructions and
// at the end. The first divergence is reported with both states.

import { Buffer } from 'node:buffer';
import { ESP, SEGMENT_NAMES, type CpuModelName } from '../cpu/cpu';
import { Machine, type StopReason } from '../machine/machine';
import type { FpuState } from '../cpu/fpu/state';
import type { LoadOptions } from '../machine/loaders';
import { GuestState } from './guest-state';
import { attachMonitor, type Monitor, type SbeMode } from './monitor';
import { DeviceLog, deviceDifference as deviceLogDifference } from './device-log';

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
  /** Compare guest memory every this many instructions (default 4096) and at the end. */
  memoryEvery?: number;
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

/** The first field that differs, by name, or null. */
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

/** Runs `image` bare and monitored side by side; stops at the first divergence, a stop, or the instruction limit. */
export function lockstep(image: Uint8Array, options: LockstepOptions = {}): LockstepResult {
  const memoryMB = options.memoryMB ?? 4;
  const bare = new Machine({ memoryMB, model: options.model, devices: { disks: options.disks } });
  const monitored = new Machine({ memoryMB, model: options.model, devices: { disks: options.disks } });
  const monitor = attachMonitor(monitored, { sbe: options.sbe ?? 'auto' });
  bare.load(image, options.load);
  monitored.load(image, options.load);
  const bareDevices = new DeviceLog(bare);
  const monitoredDevices = new DeviceLog(monitored);
  const max = options.maxInstructions ?? 1_000_000;
  const every = options.memoryEvery ?? 4096;
  let steps = 0;
  let stop: StopReason | 'limit' | null = null;
  const diverge = (field: string, b: VisibleState | string, m: VisibleState | string): LockstepResult => ({
    instructions: steps,
    stop,
    divergence: { step: steps, field, bare: b, monitored: m },
    monitor,
    bare,
    monitored,
  });
  for (;;) {
    const a = visibleState(bare, null);
    const b = visibleState(monitored, monitor);
    const field = firstDifference(a, b);
    if (field !== null) return diverge(field, a, b);
    const device = deviceLogDifference(bareDevices, monitoredDevices);
    if (device !== null) return diverge(...device);
    if (steps % every === 0 || stop !== null) {
      const at = memoryDifference(bare, monitored);
      if (at >= 0) return diverge(`memory[0x${at.toString(16)}]`, `0x${bare.mem.u8[at].toString(16)}`, `0x${monitored.mem.u8[at].toString(16)}`);
      const device = deviceDifference(bare, monitored);
      if (device !== null) return diverge(device, JSON.stringify(bare.devices.snapshot(), mapsAsArrays), JSON.stringify(monitored.devices.snapshot(), mapsAsArrays));
      const out1 = bare.consoleText();
      const out2 = monitored.consoleText();
      if (out1 !== out2) return diverge('console output', out1, out2);
    }
    if (stop !== null) break;
    if (steps >= max) {
      stop = 'limit';
      continue;
    }
    const r1 = bare.step();
    const r2 = monitored.step();
    steps++;
    if (r1 !== r2) return diverge('stop reason', String(r1), String(r2));
    if (r1 !== null) stop = r1;
  }
  if (bare.exitCode !== monitored.exitCode) return diverge('exit code', String(bare.exitCode), String(monitored.exitCode));
  return { instructions: steps, stop, divergence: null, monitor, bare, monitored };
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
