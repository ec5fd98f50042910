// The I/O port address space (64 Ki byte-wide ports). Devices claim ranges; an unclaimed port reads all ones and
// ignores writes, as an ISA bus does. Word and dword accesses to a device that only handles bytes are split into
// byte accesses at consecutive ports (SDM vol. 1 §19.3: a 16-bit port is two consecutive 8-bit ports).

export interface PortDevice {
  /** Reads `size` bytes (1, 2 or 4) from `port`; return the value (only the low `size` bytes count). */
  portIn(port: number, size: number): number;
  portOut(port: number, value: number, size: number): void;
  /** True when the device handles wide accesses itself; otherwise the bus splits them into bytes. */
  readonly wide?: boolean;
  /**
   * Optional, for REP INS (IoBus.inBlock): reads up to `count` elements of `size` bytes from `port` as that many
   * portIn calls would, each stored little-endian at `into[at + k * step]`, and returns how many it read (0: take
   * portIn). It stops after an element whose read did more than move the data (raised an interrupt), where the CPU
   * may stop the instruction; a device offers it only for reads whose values do not depend on guest time.
   */
  portInBlock?(port: number, size: number, count: number, into: Uint8Array, at: number, step: number): number;
  /**
   * Optional, for a loop that polls a port (jit/poll.ts): the guest time (the devices' clock) before which every
   * read of `size` bytes from `port` returns, under `mask`, the bits a read now returns, and changes nothing in the
   * device (no state of its own moved, no interrupt raised); the current time or less when it cannot say.
   */
  steadyUntil?(port: number, size: number, mask: number): number;
}

import { EV_PORT_IO, type EventHub } from '../events';

export type PortIoListener = (port: number, size: number, value: number, isWrite: boolean) => void;

export class IoBus {
  private readonly devices: (PortDevice | undefined)[] = new Array(0x10000);
  /** Set to observe every port access (devices such as the port recorder); null costs nothing. */
  onPortIo: PortIoListener | null = null;
  /** The machine's event hub: `port-io` events are emitted to it while someone listens. */
  events: EventHub | null = null;

  register(port: number, count: number, device: PortDevice): void {
    for (let p = port; p < port + count; p++) {
      if (this.devices[p & 0xffff]) throw new Error(`port 0x${p.toString(16)} is already claimed`);
      this.devices[p & 0xffff] = device;
    }
  }

  in(port: number, size: number): number {
    port &= 0xffff;
    const dev = this.devices[port];
    let v: number;
    if (dev && (size === 1 || dev.wide)) v = dev.portIn(port, size);
    else if (size === 1) v = 0xff;
    else {
      v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + this.in((port + i) & 0xffff, 1);
    }
    v = size === 4 ? v >>> 0 : v & (size === 1 ? 0xff : 0xffff);
    if (this.onPortIo) this.onPortIo(port, size, v, false);
    if (this.events !== null && this.events.active[EV_PORT_IO]) this.events.emit(EV_PORT_IO, { port, size, value: v, write: false });
    return v;
  }

  /**
   * A run of REP INS elements from a device that reads them itself (PortDevice.portInBlock); 0 when it has no such
   * read, or when port reads are observed one by one (a port listener, `port-io` events, or `in` replaced in place,
   * as the lockstep's device log does), and the CPU takes them through `in`.
   */
  inBlock(port: number, size: number, count: number, into: Uint8Array, at: number, step: number): number {
    const dev = this.devices[port & 0xffff];
    if (dev === undefined || dev.portInBlock === undefined || this.onPortIo !== null || this.in !== IoBus.prototype.in) return 0;
    if (this.events !== null && this.events.active[EV_PORT_IO]) return 0;
    return dev.portInBlock(port & 0xffff, size, count, into, at, step);
  }

  /**
   * For a loop that polls `port` (jit/poll.ts): the device's PortDevice.steadyUntil, or -Infinity when it has none,
   * when the access is split into bytes, or while port reads are observed one by one (as for inBlock).
   */
  readsSteadyUntil(port: number, size: number, mask: number): number {
    const dev = this.devices[port & 0xffff];
    if (dev === undefined || dev.steadyUntil === undefined || (size !== 1 && dev.wide !== true)) return -Infinity;
    if (this.onPortIo !== null || this.in !== IoBus.prototype.in || (this.events !== null && this.events.active[EV_PORT_IO])) return -Infinity;
    return dev.steadyUntil(port & 0xffff, size, mask);
  }

  out(port: number, value: number, size: number): void {
    port &= 0xffff;
    value = size === 4 ? value >>> 0 : value & (size === 1 ? 0xff : 0xffff);
    if (this.onPortIo) this.onPortIo(port, size, value, true);
    if (this.events !== null && this.events.active[EV_PORT_IO]) this.events.emit(EV_PORT_IO, { port, size, value, write: true });
    const dev = this.devices[port];
    if (dev && (size === 1 || dev.wide)) {
      dev.portOut(port, value, size);
      return;
    }
    if (size === 1) return;
    for (let i = 0; i < size; i++) {
      const d = this.devices[(port + i) & 0xffff];
      if (d) d.portOut((port + i) & 0xffff, (value >>> (8 * i)) & 0xff, 1);
    }
  }
}
