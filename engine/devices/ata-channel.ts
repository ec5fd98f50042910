// One ATA channel (ATA/ATAPI-6 §5.2, §9.16): a command block of 8 ports and a control register shared by a master
// (device 0) and a slave (device 1). Register writes reach both devices (each keeps its own copy of the task file,
// as real devices latch every write); the DEV bit of the device register says which one executes commands and
// answers reads and the data port. When the selected device is absent, the other one answers for it (device 0
// reads a status of 00h for a missing device 1). Both devices drive the channel's one IRQ line.
// The primary channel sits at 1F0h/3F6h on IRQ 14, the secondary at 170h/376h on IRQ 15.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { AtaDisk, type AtaDiskOptions, type AtaSnapshot } from './ata';

export interface AtaChannelSnapshot {
  disks: (AtaSnapshot | null)[];
}

export class AtaChannel implements PortDevice {
  readonly wide = true;
  readonly disks: [AtaDisk | null, AtaDisk | null] = [null, null];
  private readonly irqLevels = [false, false];

  constructor(
    readonly name: string,
    readonly base: number,
    readonly controlPort: number,
    readonly irq: number,
    private readonly setIrq: (level: boolean) => void,
  ) {}

  attach(io: IoBus): void {
    io.register(this.base, 8, this);
    io.register(this.controlPort, 1, this);
  }

  /** Puts `image` at `position` (replacing what was there); options as for AtaDisk, minus the wiring. */
  insert(position: 0 | 1, image: Uint8Array, options: AtaDiskOptions = {}): AtaDisk {
    this.irqLevels[position] = false;
    const disk = new AtaDisk(image, {
      ...options,
      base: this.base,
      controlPort: this.controlPort,
      position,
      onIrq: (level) => {
        this.irqLevels[position] = level;
        this.setIrq(this.irqLevels[0] || this.irqLevels[1]);
      },
    });
    this.disks[position] = disk;
    this.setIrq(this.irqLevels[0] || this.irqLevels[1]);
    return disk;
  }

  /** The device that answers now: the selected one, or the other one standing in for it. */
  private answering(): AtaDisk | null {
    const [d0, d1] = this.disks;
    if (d0 && d1) return d0.selected() ? d0 : d1;
    return d0 ?? d1;
  }

  portIn(port: number, size: number): number {
    const disk = this.answering();
    if (disk === null) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    return disk.portIn(port, size);
  }

  portInBlock(port: number, size: number, count: number, into: Uint8Array, at: number, step: number): number {
    const disk = this.answering();
    return disk === null ? 0 : disk.portInBlock(port, size, count, into, at, step);
  }

  portOut(port: number, value: number, size: number): void {
    const [d0, d1] = this.disks;
    if (port === this.base) {
      // The data port moves data for the selected device only.
      this.answering()?.portOut(port, value, size);
      return;
    }
    d0?.portOut(port, value, size);
    d1?.portOut(port, value, size);
  }

  snapshot(): AtaChannelSnapshot {
    return { disks: this.disks.map((d) => d?.snapshot() ?? null) };
  }

  restore(s: AtaChannelSnapshot): void {
    s.disks.forEach((d, i) => {
      if (d) this.disks[i]?.restore(d);
    });
  }
}
