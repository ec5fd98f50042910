// Guest time as the tests observe it: the instruction count at every byte a guest writes (port E9h and COM1) and at
// its end, in a variant of the run (bare or monitored, every listener off or on, slices of a given length). Used by
// determinism.test.ts (the examples) and test/guests/guest-time-real.test.ts (the real guests).
import { EVENT_NAMES } from '../../../engine/events';
import { Machine, type StopReason } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { MemoryWatch } from '../../../engine/cpu/watch';
import { CS } from '../../../engine/cpu/cpu';
import type { LoadOptions } from '../../../engine/machine/loaders';
import type { HostKey } from '../../../engine/devices/host-keys';
import type { CpuModelName } from '../../../engine/cpu/model';

/**
 * Everything a debugger or a trace can listen with, none of which may change guest time: every event, instruction
 * breakpoints that never hit, a breakpoint at the current instruction (a logpoint: reported, then run on), and data
 * watches on the real-mode vector table and below the examples' stack top. Returns the logpoint's address.
 */
export function armAllListeners(m: Machine): number {
  for (const name of EVENT_NAMES) m.cpu.events.on(name, () => undefined);
  // Breakpoints that never hit: the top of the address space and a byte no example executes.
  m.cpu.breakpoints.add(0xfffffff0);
  m.cpu.breakpoints.add(0x000ffff0);
  const logpoint = (m.cpu.segBase[CS] + m.cpu.eip) >>> 0;
  m.cpu.breakpoints.add(logpoint);
  const watch = new MemoryWatch(m.mem);
  watch.onHit = () => undefined;
  watch.set([
    { id: 1, phys: 0, length: 0x400, access: 'readWrite' }, // the real-mode vector table
    { id: 2, phys: 0x6000, length: 0x1000, access: 'write' }, // below the examples' stack top
  ]);
  return logpoint;
}

export interface RealVariant {
  monitor: boolean;
  listeners: boolean;
  /** Instructions per runSlice call (the CLI's 65,536 × 16, or an odd length as the adapter's wall-clock slices). */
  slice: number;
}

export interface RealTimeline {
  /** `COUNT e9|com1 HH` for every output byte, as `ringside run --output-times` writes them. */
  bytes: string[];
  /** Guest time at the end (instructions, time a halted CPU skipped included). */
  end: number;
  stop: StopReason | 'limit';
}

export interface RealGuest {
  image: Uint8Array;
  load: LoadOptions;
  memoryMB: number;
  /** Guest time to run at most. */
  limit: number;
  /** Typed on the keyboard a line at a time, as --keys does. */
  keys?: HostKey[];
  /** Received on COM1 as the guest reads them, as --serial-in does. */
  serialIn?: Uint8Array;
  /** The processor (the Machine's default otherwise), as --cpu. */
  model?: CpuModelName;
}

/** Runs a guest in one variant, returning to the event loop every 100 ms or so (a test worker must answer its RPC). */
export async function realTimeline(g: RealGuest, v: RealVariant): Promise<RealTimeline> {
  const bytes: string[] = [];
  const record = (channel: string) => (b: number) => void bytes.push(`${m.cpu.icount} ${channel} ${b.toString(16).padStart(2, '0')}`);
  const m: Machine = new Machine({
    memoryMB: g.memoryMB,
    model: g.model,
    onConsoleByte: record('e9'),
    devices: { onSerialByte: record('com1') },
  });
  if (v.monitor) attachMonitor(m, { sbe: 'auto' });
  m.load(g.image, g.load);
  if (g.keys !== undefined) m.typeKeys(g.keys, 'line');
  if (g.serialIn !== undefined) m.serialInput(g.serialIn, true);
  if (v.listeners) armAllListeners(m);
  let stop: StopReason | 'limit' = 'limit';
  let yielded = Date.now();
  while (m.cpu.icount < g.limit) {
    let reason = m.runSlice(Math.min(v.slice, g.limit - m.cpu.icount)).reason;
    // After a breakpoint (the logpoint) the adapter runs the instruction at it and goes on.
    if (reason === 'breakpoint') reason = m.step();
    if (reason !== null && reason !== 'stopped') {
      stop = reason;
      break;
    }
    if (Date.now() - yielded > 100) {
      await new Promise((resolve) => setImmediate(resolve));
      yielded = Date.now();
    }
  }
  return { bytes, end: m.cpu.icount, stop };
}
