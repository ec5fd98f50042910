// Port 92h, the PS/2 "system control port A": bit 1 is the fast A20 gate, bit 0 the fast CPU reset (a write that
// sets it pulses the reset line; it reads back as written). The other bits read as 0 here (no security lock, no
// fixed-disk activity light).

import type { IoBus, PortDevice } from '../bus/io-bus';

export const SYSTEM_PORT_A = 0x92;
const FAST_RESET = 0x01;
const FAST_A20 = 0x02;

export class SystemPortA implements PortDevice {
  value = 0;

  constructor(
    private readonly setA20: (on: boolean) => void,
    private readonly resetCpu: () => void,
  ) {}

  attach(io: IoBus): void {
    io.register(SYSTEM_PORT_A, 1, this);
  }

  portIn(): number {
    return this.value;
  }

  portOut(_port: number, value: number): void {
    const was = this.value;
    this.value = value & (FAST_RESET | FAST_A20);
    if ((value & FAST_A20) !== (was & FAST_A20)) this.setA20((value & FAST_A20) !== 0);
    if ((value & FAST_RESET) !== 0 && (was & FAST_RESET) === 0) this.resetCpu(); // on the 0 → 1 transition
  }

  snapshot(): number {
    return this.value;
  }

  restore(v: number): void {
    this.value = v;
  }
}
