// The devices of a Ringside PC and their wiring: the PIC pair drives the CPU's INTR line and answers INTA; the PIT
// (IRQ 0), keyboard controller (IRQ 1, 12), COM1 (IRQ 4), RTC (IRQ 8) and the ATA disk (IRQ 14) feed it; the 8042
// and port 92h drive the A20 gate and the CPU reset line. Each can be left out (MachineOptions.devices), which
// leaves its ports unclaimed (reads FFh, writes ignored) and its IRQ silent.

import type { Cpu } from '../cpu/cpu';
import type { IoBus, PortDevice } from '../machine/io-bus';
import type { PhysicalMemory } from '../machine/memory';
import type { Scheduler } from '../machine/scheduler';
import { A20Gate } from './a20-gate';
import { ATA_PRIMARY_BASE, ATA_PRIMARY_CONTROL, AtaDisk, type AtaSnapshot } from './ata';
import { bootDiskMedia } from './boot-disk';
import { CmosRtc, RTC_IRQ, type CmosSnapshot } from './cmos-rtc';
import { KeyboardController, KEYBOARD_IRQ, type KeyboardControllerSnapshot } from './keyboard-controller';
import { IF } from '../cpu/flags';
import { PicPair, type PicPairSnapshot } from './pic-pair';
import { Pit, PIT_IRQ, type PitChannelState } from './pit';
import { SystemPortA } from './system-port-a';
import { SystemPortB } from './system-port-b';
import { COM1_IRQ, Uart16550, type UartSnapshot } from './uart';
import { CrtController } from './vga-text';

export const ATA_IRQ = 14;

export interface PcDeviceOptions {
  /** Set a device to false to leave it out. All are present by default. */
  pic?: boolean;
  pit?: boolean;
  cmos?: boolean;
  keyboardController?: boolean;
  /** Port 92h (fast A20 and reset). */
  systemPortA?: boolean;
  uart?: boolean;
  crtc?: boolean;
  /** Attach the ATA primary master when a boot image brings a disk. */
  disk?: boolean;
  /** Receives each byte the guest sends on COM1 (default: kept in `serialOutput`). */
  onSerialByte?: (byte: number) => void;
  /** RTC start time in seconds since the Unix epoch, UTC (default 2024-01-01 00:00:00). */
  rtcStartTime?: number;
  /** Disk writes change the image array itself instead of a copy-on-write overlay. */
  diskWriteThrough?: boolean;
}

export interface PcDevicesSnapshot {
  a20: [boolean, boolean];
  pic?: PicPairSnapshot;
  pit?: { channels: PitChannelState[]; out0: boolean };
  portB?: number;
  cmos?: CmosSnapshot;
  kbc?: KeyboardControllerSnapshot;
  portA?: number;
  uart?: UartSnapshot;
  crtc?: number[];
  disk?: AtaSnapshot;
}

/** Forwards the ATA ports to the disk of the current image (a second load replaces the disk, not the ports). */
class DiskSlot implements PortDevice {
  readonly wide = true;
  disk: AtaDisk | null = null;
  portIn(port: number, size: number): number {
    return this.disk ? this.disk.portIn(port, size) : size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }
  portOut(port: number, value: number, size: number): void {
    this.disk?.portOut(port, value, size);
  }
}

export class PcDevices {
  readonly a20: A20Gate;
  readonly pic: PicPair | null = null;
  readonly pit: Pit | null = null;
  readonly portB: SystemPortB | null = null;
  readonly cmos: CmosRtc | null = null;
  readonly keyboardController: KeyboardController | null = null;
  readonly portA: SystemPortA | null = null;
  readonly uart: Uart16550 | null = null;
  readonly crtc: CrtController | null = null;
  /** COM1 output when no onSerialByte sink was given. */
  readonly serialOutput: number[] = [];
  private diskSlot: DiskSlot | null = null;

  constructor(
    cpu: Cpu,
    private readonly io: IoBus,
    mem: PhysicalMemory,
    scheduler: Scheduler,
    resetCpu: () => void,
    private readonly options: PcDeviceOptions = {},
  ) {
    const on = (name: keyof PcDeviceOptions) => options[name] !== false;
    this.a20 = new A20Gate(cpu);
    if (on('pic')) {
      const pic = new PicPair((level) => cpu.setIntrLine(level));
      pic.attach(io);
      cpu.acknowledgeInterrupt = () => pic.acknowledge();
      this.pic = pic;
    }
    const irq = (n: number) => (level: boolean) => this.pic?.setIrq(n, level);
    if (on('pit')) {
      this.pit = new Pit(scheduler, irq(PIT_IRQ));
      this.pit.attach(io);
      this.pic?.presetIrq(PIT_IRQ, this.pit.output(0));
      this.portB = new SystemPortB(this.pit, scheduler.now);
      this.portB.attach(io);
    }
    if (on('cmos')) {
      this.cmos = new CmosRtc(scheduler, irq(RTC_IRQ), { memorySize: mem.size, startTime: options.rtcStartTime });
      this.cmos.attach(io);
    }
    if (on('keyboardController')) {
      this.keyboardController = new KeyboardController(
        {
          setIrq: (n, level) => this.pic?.setIrq(n, level),
          setA20: (a20) => this.a20.setKeyboardController(a20),
          resetCpu,
          readyForKeys: () => (cpu.getEflags() & IF) !== 0 && this.canInterrupt(KEYBOARD_IRQ),
        },
        scheduler,
      );
      this.keyboardController.attach(io);
    }
    if (on('systemPortA')) {
      this.portA = new SystemPortA((a20) => this.a20.setFast(a20), resetCpu);
      this.portA.attach(io);
    }
    if (on('uart')) {
      const sink = options.onSerialByte ?? ((b: number) => void this.serialOutput.push(b));
      this.uart = new Uart16550(scheduler, sink, irq(COM1_IRQ));
      this.uart.attach(io);
    }
    if (on('crtc')) {
      this.crtc = new CrtController(scheduler.now);
      this.crtc.attach(io);
    }
  }

  /** The ATA primary master now attached, if any. */
  get disk(): AtaDisk | null {
    return this.diskSlot?.disk ?? null;
  }

  /** Attaches `image` as the ATA primary master (replacing an earlier one), unless disks are turned off. */
  insertDisk(image: Uint8Array): void {
    if (this.options.disk === false) return;
    if (!this.diskSlot) {
      this.diskSlot = new DiskSlot();
      this.io.register(ATA_PRIMARY_BASE, 8, this.diskSlot);
      this.io.register(ATA_PRIMARY_CONTROL, 1, this.diskSlot);
    }
    this.pic?.setIrq(ATA_IRQ, false);
    const media = bootDiskMedia(image.length);
    this.diskSlot.disk = new AtaDisk(image, {
      geometry: media.geometry,
      removable: media.removable,
      writeThrough: this.options.diskWriteThrough,
      onIrq: (level) => this.pic?.setIrq(ATA_IRQ, level),
    });
  }

  /** True when an interrupt on `irq` would reach the CPU now (a halted CPU waits only for such timers). */
  canInterrupt(irq: number): boolean {
    return this.pic !== null && this.pic.wouldDeliver(irq);
  }

  serialInput(bytes: Iterable<number>, paced = false): void {
    this.uart?.receive(bytes, paced);
  }

  serialText(): string {
    return Buffer.from(this.serialOutput).toString('latin1');
  }

  snapshot(): PcDevicesSnapshot {
    return {
      a20: this.a20.snapshot(),
      pic: this.pic?.snapshot(),
      pit: this.pit?.snapshot(),
      portB: this.portB?.snapshot(),
      cmos: this.cmos?.snapshot(),
      kbc: this.keyboardController?.snapshot(),
      portA: this.portA?.snapshot(),
      uart: this.uart?.snapshot(),
      crtc: this.crtc?.snapshot(),
      disk: this.disk?.snapshot(),
    };
  }

  /** Restores device state; the PIC last, so that the lines it drives to the CPU match the restored requests. */
  restore(s: PcDevicesSnapshot): void {
    this.a20.restore(s.a20);
    if (s.pit) this.pit?.restore(s.pit);
    if (s.portB !== undefined) this.portB?.restore(s.portB);
    if (s.cmos) this.cmos?.restore(s.cmos);
    if (s.kbc) this.keyboardController?.restore(s.kbc);
    if (s.portA !== undefined) this.portA?.restore(s.portA);
    if (s.uart) this.uart?.restore(s.uart);
    if (s.crtc) this.crtc?.restore(s.crtc);
    if (s.disk) this.disk?.restore(s.disk);
    if (s.pic) this.pic?.restore(s.pic);
    this.a20.apply();
  }
}
