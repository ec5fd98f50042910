// The A20 gate of a PC/AT: address line 20 reaches memory when either the 8042's output port bit 1 or the fast
// gate (port 92h bit 1) enables it; chipsets OR the two sources. The result drives cpu.a20Enabled, which masks
// bit 20 of every physical address while it is off (the 8086 wrap at 1 MiB).

import type { Cpu } from '../cpu/cpu';

export class A20Gate {
  /** The 8042 output port's A20 bit (on after power-on). */
  keyboardController = true;
  /** Port 92h bit 1. */
  fast = false;

  constructor(private readonly cpu: Cpu) {}

  get enabled(): boolean {
    return this.keyboardController || this.fast;
  }

  setKeyboardController(on: boolean): void {
    this.keyboardController = on;
    this.apply();
  }

  setFast(on: boolean): void {
    this.fast = on;
    this.apply();
  }

  /** Drives the CPU's A20 mask from the gate (also after a CPU reset, which does not touch the gate). */
  apply(): void {
    if (this.cpu.a20Enabled !== this.enabled) this.cpu.a20Enabled = this.enabled;
  }

  /** A boot loader leaves A20 on (Multiboot, and every flat start state): as if it had used the 8042. */
  enableForLoader(): void {
    this.setKeyboardController(true);
  }

  snapshot(): [boolean, boolean] {
    return [this.keyboardController, this.fast];
  }

  restore([kbc, fast]: [boolean, boolean]): void {
    this.keyboardController = kbc;
    this.fast = fast;
  }
}
