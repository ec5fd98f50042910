// What a guest sees of its devices, for the lockstep (model.md §4: "I/O" is guest-visible): every port read — the
// guest time it happened at, the port, the width and the value the device gave — and every interrupt
// acknowledgement — the guest time (the instruction boundary where the interrupt is taken) and the vector the PIC
// gave. A register compare after the instruction misses a read made at the wrong time whose value happens to
// match, a read the instruction then throws away (a faulting INS), and an interrupt taken one instruction late
// whose handler's effects look alike; these logs do not.
//
// The log wraps the machine's port bus and its CPU's acknowledge hook in place (both are replaceable members),
// so it sees the guest's own reads and the monitor's emulated ones alike, and nothing else changes.

import type { Machine } from '../machine/machine';

/** One entry: [guest time, kind (KIND_*), port or vector, width, value]. */
export type DeviceEntry = [number, number, number, number, number];

export const KIND_PORT_READ = 0;
export const KIND_INTERRUPT = 1;

export class DeviceLog {
  /** Entries since the last `take()`. */
  private entries: DeviceEntry[] = [];

  constructor(machine: Machine) {
    const cpu = machine.cpu;
    const io = machine.io;
    const portIn = io.in.bind(io);
    io.in = (port: number, size: number): number => {
      const v = portIn(port, size);
      this.entries.push([cpu.icount, KIND_PORT_READ, port & 0xffff, size, v]);
      return v;
    };
    const acknowledge = cpu.acknowledgeInterrupt;
    if (acknowledge !== null) {
      cpu.acknowledgeInterrupt = (): number => {
        const vector = acknowledge();
        this.entries.push([cpu.icount, KIND_INTERRUPT, vector & 0xff, 0, 0]);
        return vector;
      };
    }
  }

  /** The entries since the last call (and forgets them). */
  take(): DeviceEntry[] {
    const out = this.entries;
    this.entries = [];
    return out;
  }
}

/** An entry as text, for a divergence report. */
export function describeDeviceEntry(e: DeviceEntry | undefined): string {
  if (e === undefined) return '(none)';
  const [time, kind, what, size, value] = e;
  const hex = (v: number, w: number): string => '0x' + v.toString(16).padStart(w, '0');
  return kind === KIND_PORT_READ
    ? `at instruction ${time}: in ${hex(what, 4)} (${size} byte${size > 1 ? 's' : ''}) = ${hex(value, size * 2)}`
    : `at instruction ${time}: interrupt acknowledged, vector ${hex(what, 2)}`;
}

/**
 * The first entry where two logs' new entries differ, as [field, bare text, monitored text], or null. The field
 * names what differs: `port read` or `interrupt acknowledge`.
 */
export function deviceDifference(bare: DeviceLog, monitored: DeviceLog): [string, string, string] | null {
  const a = bare.take();
  const b = monitored.take();
  for (let k = 0; k < Math.max(a.length, b.length); k++) {
    const x = a[k];
    const y = b[k];
    if (x !== undefined && y !== undefined && x.every((v, j) => v === y[j])) continue;
    const kind = (x ?? y)![1];
    return [kind === KIND_PORT_READ ? 'port read' : 'interrupt acknowledge', describeDeviceEntry(x), describeDeviceEntry(y)];
  }
  return null;
}
