// The host-facing ports every Ringside machine has (interfaces.md): 0xE9 sends bytes to the host (the Bochs/QEMU
// debug-console convention), 0xF4 ends the run with the written value as exit code, and a recorder that keeps every
// byte written to chosen ports (`--port-log`).

import type { IoBus, PortDevice } from '../bus/io-bus';

export const DEBUG_CONSOLE_PORT = 0xe9;
export const EXIT_PORT = 0xf4;

export class DebugConsole implements PortDevice {
  /** Receives each byte the guest writes; the machine buffers them for the CLI or the debugger. */
  constructor(private readonly sink: (byte: number) => void) {}
  portIn(): number {
    return DEBUG_CONSOLE_PORT; // reading 0xE9 returns 0xE9, which lets guests detect the port (Bochs convention)
  }
  portOut(_port: number, value: number): void {
    this.sink(value & 0xff);
  }
}

export class ExitPort implements PortDevice {
  constructor(private readonly onExit: (code: number) => void) {}
  portIn(): number {
    return 0xff;
  }
  portOut(_port: number, value: number): void {
    this.onExit(value & 0xff);
  }
}

/** Keeps the bytes written to selected ports, in order (wide writes are recorded little-endian byte by byte). */
export class PortRecorder {
  readonly log = new Map<number, number[]>();
  constructor(io: IoBus, ports: readonly number[]) {
    for (const p of ports) this.log.set(p & 0xffff, []);
    if (ports.length === 0) return;
    const previous = io.onPortIo;
    io.onPortIo = (port, size, value, isWrite) => {
      previous?.(port, size, value, isWrite);
      if (!isWrite) return;
      for (let k = 0; k < size; k++) this.log.get((port + k) & 0xffff)?.push((value >>> (8 * k)) & 0xff);
    };
  }
}
