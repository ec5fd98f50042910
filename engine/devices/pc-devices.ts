// The devices of a Ringside PC and their wiring: the PIC pair drives the CPU's INTR line and answers INTA; the PIT
// (IRQ 0), keyboard controller (IRQ 1, 12), COM1 (IRQ 4), RTC (IRQ 8) and the ATA disk (IRQ 14) feed it; the 8042
// and port 92h drive the A20 gate and the CPU reset line. Each can be left out (MachineOptions.devices), which
// leaves its ports unclaimed (reads FFh, writes ignored) and its IRQ silent.

import type { Cpu } from '../cpu/cpu';
import type { IoBus, PortDevice } from '../bus/io-bus';
import type { PhysicalMemory } from '../bus/memory';
import type { Scheduler } from '../machine/scheduler';
import { A20Gate } from './a20-gate';
import { ATA_PRIMARY_BASE, ATA_PRIMARY_CONTROL, ATA_SECONDARY_BASE, ATA_SECONDARY_CONTROL, AtaDisk } from './ata';
import { AtaChannel, type AtaChannelSnapshot } from './ata-channel';
import { bootDiskMedia } from './boot-disk';
import { CmosRtc, RTC_IRQ, type CmosSnapshot } from './cmos-rtc';
import { KeyboardController, KEYBOARD_IRQ, type KeyboardControllerSnapshot } from './keyboard-controller';
import { IF } from '../cpu/flags';
import { PicPair, type PicPairSnapshot } from './pic-pair';
import { attachFpuError, FPU_ERROR_IRQ } from './fpu-error';
import { Pit, PIT_IRQ, type PitChannelState } from './pit';
import { SystemPortA } from './system-port-a';
import { SystemPortB } from './system-port-b';
import { COM1_IRQ, Uart16550, type UartSnapshot } from './uart';
import { CrtController } from './vga-text';
import { InterruptRouter, type InterruptRouterSnapshot } from './interrupt-router';
import { LocalApic, type LocalApicSnapshot } from './local-apic';
import { IoApic, type IoApicSnapshot } from './io-apic';
import { Imcr } from './imcr';
import { i440fxFunctions, PciBus, type PciSnapshot } from './pci';
import { AcpiPm } from './acpi-pm';
import { BochsVbe, VBE_MEMORY_SIZE, type BochsVbeSnapshot, type DisplayMode } from './bochs-vbe';
import { FRAMEBUFFER_BASE } from '../machine/loaders/memory-map';
import { APIC_WINDOW_SIZE, IOAPIC_BASE, LAPIC_BASE } from '../machine/loaders/memory-map';

export const ATA_IRQ = 14;
export const ATA_SECONDARY_IRQ = 15;
/** Where the disks after the boot image go: primary slave, secondary master, secondary slave. */
export const EXTRA_DISK_SLOTS: readonly { channel: 0 | 1; position: 0 | 1; name: string }[] = [
  { channel: 0, position: 1, name: 'primary slave' },
  { channel: 1, position: 0, name: 'secondary master' },
  { channel: 1, position: 1, name: 'secondary slave' },
];

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
  /** The local APIC at 0xFEE00000, the I/O APIC at 0xFEC00000 and the IMCR (ports 22h/23h). */
  apic?: boolean;
  /** PCI configuration mechanism #1 with the 440FX host bridge, the PIIX3 ISA bridge and its IDE function. */
  pci?: boolean;
  /** The Bochs VBE display (ports 1CEh/1CFh) with its linear framebuffer at 0xE0000000. */
  vbe?: boolean;
  /** The ACPI PM1a event and control blocks (600h, 604h): S5 through SLP_TYP/SLP_EN powers the machine off. */
  acpiPm?: boolean;
  /** Attach the ATA primary master when a boot image brings a disk. */
  disk?: boolean;
  /** Further disks (contents), in the order of EXTRA_DISK_SLOTS; their writes go to an overlay. */
  disks?: Uint8Array[];
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
  ata?: (AtaChannelSnapshot | null)[];
  lapic?: LocalApicSnapshot;
  ioapic?: IoApicSnapshot;
  imcr?: [number, number];
  router?: InterruptRouterSnapshot;
  pci?: PciSnapshot;
  vbe?: BochsVbeSnapshot;
  acpiPm?: number[];
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
  /** What the CPU asks for interrupts: the 8259 pair and the APICs behind one INTR line and INTA cycle. */
  readonly interrupts: InterruptRouter;
  readonly lapic: LocalApic | null = null;
  readonly ioapic: IoApic | null = null;
  readonly imcr: Imcr | null = null;
  readonly pci: PciBus | null = null;
  readonly vbe: BochsVbe | null = null;
  readonly acpiPm: AcpiPm | null = null;
  /** What the screen shows (for the screen view and screenshots): VGA text, or the VBE framebuffer's mode. */
  readonly display: { mode(): DisplayMode } = {
    mode: () => this.vbe?.mode() ?? { kind: 'text', cols: 80, rows: 25 },
  };
  /** COM1 output when no onSerialByte sink was given. */
  readonly serialOutput: number[] = [];
  /** The two ATA channels, each claimed on the bus once a disk sits on it. */
  readonly ata: [AtaChannel | null, AtaChannel | null] = [null, null];

  constructor(
    cpu: Cpu,
    private readonly io: IoBus,
    mem: PhysicalMemory,
    scheduler: Scheduler,
    resetCpu: () => void,
    private readonly options: PcDeviceOptions = {},
    /** ACPI soft-off (S5): the machine ends the run. */
    powerOff: () => void = () => undefined,
  ) {
    const on = (name: keyof PcDeviceOptions) => options[name] !== false;
    this.a20 = new A20Gate(cpu);
    let router: InterruptRouter | null = null;
    if (on('pic')) {
      const pic = new PicPair((level) => router?.setPicOutput(level));
      pic.attach(io);
      this.pic = pic;
    }
    router = new InterruptRouter(cpu, this.pic);
    this.interrupts = router;
    cpu.acknowledgeInterrupt = () => router.acknowledge();
    if (on('apic')) this.attachApics(cpu, io, mem, scheduler, router);
    const irq = (n: number) => (level: boolean) => router.setIrq(n, level);
    attachFpuError(cpu, io, irq(FPU_ERROR_IRQ));
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
          setIrq: (n, level) => router.setIrq(n, level),
          setA20: (a20) => this.a20.setKeyboardController(a20),
          resetCpu,
          readyForKeys: () => (cpu.getEflags() & IF) !== 0 && this.canInterrupt(KEYBOARD_IRQ),
          cpuHalted: () => cpu.halted,
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
    if (on('pci')) {
      this.pci = new PciBus(i440fxFunctions(), resetCpu);
      this.pci.attach(io);
    }
    if (options.disks && options.disks.length > 0 && options.disk !== false) this.attachExtraDisks(options.disks);
    if (on('acpiPm')) {
      this.acpiPm = new AcpiPm(powerOff);
      this.acpiPm.attach(io);
    }
    if (on('vbe')) {
      this.vbe = new BochsVbe(FRAMEBUFFER_BASE);
      this.vbe.attach(io);
      mem.mapMmio(FRAMEBUFFER_BASE, VBE_MEMORY_SIZE, this.vbe);
    }
    if (on('crtc')) {
      this.crtc = new CrtController(scheduler.now);
      this.crtc.attach(io);
    }
  }

  private attachApics(cpu: Cpu, io: IoBus, mem: PhysicalMemory, scheduler: Scheduler, router: InterruptRouter): void {
    const lapic = new LocalApic({
      scheduler,
      apicBase: () => cpu.apicBase,
      changed: () => router.update(),
      nmi: () => router.nmi(),
      eoiLevel: (vector) => this.ioapic?.endOfInterrupt(vector),
    });
    const ioapic = new IoApic(IOAPIC_BASE, {
      matchesDestination: (dest, logical) => lapic.matchesDestination(dest, logical),
      accept: (vector, level) => lapic.accept(vector, level),
      nmi: () => router.nmi(),
      extInt: (level) => router.setExtIntViaIoApic(level),
    });
    const imcr = new Imcr(() => {
      lapic.setLint(0, !imcr.picMode && router.snapshot().picOutput);
      router.update();
    });
    imcr.attach(io);
    mem.mapMmio(LAPIC_BASE, APIC_WINDOW_SIZE, lapic);
    mem.mapMmio(IOAPIC_BASE, APIC_WINDOW_SIZE, ioapic);
    cpu.apicPresent = true;
    cpu.onApicBaseWrite = () => router.update();
    Object.assign(this, { lapic, ioapic, imcr });
    router.lapic = lapic;
    router.ioapic = ioapic;
    router.imcr = imcr;
  }

  /** The ATA primary master now attached, if any. */
  get disk(): AtaDisk | null {
    return this.ata[0]?.disks[0] ?? null;
  }

  /** The channel (0 primary, 1 secondary), claimed on the bus at its first disk. */
  private channel(index: 0 | 1): AtaChannel {
    let channel = this.ata[index];
    if (channel === null) {
      const [base, control, irq] =
        index === 0 ? [ATA_PRIMARY_BASE, ATA_PRIMARY_CONTROL, ATA_IRQ] : [ATA_SECONDARY_BASE, ATA_SECONDARY_CONTROL, ATA_SECONDARY_IRQ];
      channel = new AtaChannel(index === 0 ? 'primary' : 'secondary', base, control, irq, (level) => this.interrupts.setIrq(irq, level));
      channel.attach(this.io);
      this.ata[index] = channel;
    }
    return channel;
  }

  /** Attaches `image` as the ATA primary master (replacing an earlier one), unless disks are turned off. */
  insertDisk(image: Uint8Array): void {
    if (this.options.disk === false) return;
    const media = bootDiskMedia(image.length);
    this.channel(0).insert(0, image, { geometry: media.geometry, removable: media.removable, writeThrough: this.options.diskWriteThrough });
  }

  /** Attaches the further disks of the options at the primary slave, secondary master and secondary slave. */
  private attachExtraDisks(images: Uint8Array[]): void {
    if (images.length > EXTRA_DISK_SLOTS.length) {
      throw new RangeError(`at most ${EXTRA_DISK_SLOTS.length} disks besides the boot image (primary slave, secondary master, secondary slave), not ${images.length}`);
    }
    images.forEach((image, i) => {
      const slot = EXTRA_DISK_SLOTS[i];
      this.channel(slot.channel).insert(slot.position, image);
    });
  }

  /** True when an interrupt on `irq` would reach the CPU now (a halted CPU waits only for such timers). */
  canInterrupt(irq: number): boolean {
    return this.interrupts.canInterrupt(irq);
  }

  serialInput(bytes: Iterable<number>, paced = false): void {
    this.uart?.receive(bytes, paced);
  }

  /** Host bytes waiting for COM1's receiver; -1 when the machine has no UART. */
  serialInputQueued(): number {
    return this.uart ? this.uart.hostQueued : -1;
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
      ata: this.ata.map((c) => c?.snapshot() ?? null),
      lapic: this.lapic?.snapshot(),
      ioapic: this.ioapic?.snapshot(),
      imcr: this.imcr?.snapshot(),
      router: this.interrupts.snapshot(),
      pci: this.pci?.snapshot(),
      vbe: this.vbe?.snapshot(),
      acpiPm: this.acpiPm?.snapshot(),
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
    s.ata?.forEach((c, i) => {
      if (c) this.ata[i]?.restore(c);
    });
    if (s.pic) this.pic?.restore(s.pic);
    // After the PIC, whose restore drives its INTR output through the router: the APICs' own state wins.
    if (s.lapic) this.lapic?.restore(s.lapic);
    if (s.ioapic) this.ioapic?.restore(s.ioapic);
    if (s.imcr) this.imcr?.restore(s.imcr);
    if (s.pci) this.pci?.restore(s.pci);
    if (s.vbe) this.vbe?.restore(s.vbe);
    if (s.acpiPm) this.acpiPm?.restore(s.acpiPm);
    if (s.router) this.interrupts.restore(s.router);
    this.a20.apply();
  }
}
