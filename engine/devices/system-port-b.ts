// Port 0x61, the PC/AT "system control port B": the PIT channel 2 gate and the speaker data bit (the speaker sounds
// when both are set and channel 2's OUT is high), the parity and channel-check enables, and the read-only status
// bits: the DRAM refresh toggle (bit 4) and channel 2's OUT (bit 5). BIOS delay loops count refresh toggles, so it
// flips every 18 PIT clocks (15.1 µs, the PC refresh period), derived from virtual time like everything else.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { INSTRUCTIONS_PER_PIT_TICK } from '../machine/scheduler';
import type { Pit } from './pit';

export const SYSTEM_PORT_B = 0x61;
const GATE2 = 0x01;
const SPEAKER_DATA = 0x02;
const WRITABLE = 0x0f;
const REFRESH_TOGGLE = 0x10;
const OUT2 = 0x20;
/** PIT clocks per DRAM refresh cycle on a PC (channel 1 programmed with 18). */
const REFRESH_TICKS = 18;
/** Guest time between refresh toggles. */
const REFRESH_PERIOD = INSTRUCTIONS_PER_PIT_TICK * REFRESH_TICKS;

export class SystemPortB implements PortDevice {
  /** Bits 0–3 as last written. */
  value = 0;

  constructor(
    private readonly pit: Pit,
    private readonly now: () => number,
  ) {}

  attach(io: IoBus): void {
    io.register(SYSTEM_PORT_B, 1, this);
  }

  /** True while the speaker is driven: gate and data bits set and channel 2's OUT high. */
  get speakerOn(): boolean {
    return (this.value & (GATE2 | SPEAKER_DATA)) === (GATE2 | SPEAKER_DATA) && this.pit.output(2);
  }

  portIn(): number {
    const refresh = Math.floor(this.now() / REFRESH_PERIOD) & 1;
    return this.value | (refresh ? REFRESH_TOGGLE : 0) | (this.pit.output(2) ? OUT2 : 0);
  }

  /**
   * A read changes nothing; bits 0–3 stay as written (only a write changes them), bit 4 until the next refresh toggle,
   * bit 5 while channel 2's OUT stays (jit/poll.ts: GRUB's TSC calibration polls bit 5).
   */
  steadyUntil(_port: number, _size: number, mask: number): number {
    let until = Infinity;
    if ((mask & REFRESH_TOGGLE) !== 0) until = (Math.floor(this.now() / REFRESH_PERIOD) + 1) * REFRESH_PERIOD;
    if ((mask & OUT2) !== 0) until = Math.min(until, this.pit.outputSteadyUntil(2));
    return until;
  }

  portOut(_port: number, value: number): void {
    this.value = value & WRITABLE;
    this.pit.setGate(2, (value & GATE2) !== 0);
  }

  snapshot(): number {
    return this.value;
  }

  restore(v: number): void {
    this.value = v;
  }
}
