// An ATA (IDE) disk driven by PIO, by default on the primary channel in the master position: the command block
// at 0x1F0–0x1F7 and the control block at 0x3F6 (another channel and position through the options; ata-channel.ts
// puts two devices on one channel) (ATA/ATAPI-6 §7, register and protocol descriptions; the floppy controller keeps
// 0x3F7). The device is instantaneous: BSY is never seen, and DRQ is up as soon as a command that moves data is
// written. Reads and writes use LBA28 or CHS addressing. Writes go to a copy-on-write overlay, so the image the
// user gave is never changed, unless `writeThrough` is set.
//
// Commands: IDENTIFY DEVICE (ECh), READ SECTORS (20h/21h), WRITE SECTORS (30h/31h), READ VERIFY SECTORS (40h/41h),
// INITIALIZE DEVICE PARAMETERS (91h), EXECUTE DEVICE DIAGNOSTIC (90h), RECALIBRATE (1xh), SEEK (7xh),
// SET FEATURES (EFh), FLUSH CACHE (E7h), CHECK POWER MODE (E5h), IDLE/STANDBY (E0h–E3h). Anything else is
// aborted (ERR with ABRT), as the standard requires for unsupported commands.

import type { IoBus, PortDevice } from '../bus/io-bus';

export const ATA_PRIMARY_BASE = 0x1f0;
export const ATA_PRIMARY_CONTROL = 0x3f6;
export const ATA_SECONDARY_BASE = 0x170;
export const ATA_SECONDARY_CONTROL = 0x376;
export const SECTOR_SIZE = 512;
/** LBA28 can name 2^28 sectors. */
const LBA28_LIMIT = 0x0fff_ffff;

// Register offsets from the command block base.
const REG_DATA = 0;
const REG_ERROR_FEATURES = 1;
const REG_COUNT = 2;
const REG_LBA0 = 3; // sector number
const REG_LBA1 = 4; // cylinder low
const REG_LBA2 = 5; // cylinder high
const REG_DEVICE = 6; // drive/head
const REG_STATUS_COMMAND = 7;

// Status register bits.
export const ST_BSY = 0x80;
export const ST_DRDY = 0x40;
export const ST_DF = 0x20;
export const ST_DSC = 0x10;
export const ST_DRQ = 0x08;
export const ST_ERR = 0x01;
// Error register bits.
export const ER_UNC = 0x40;
export const ER_IDNF = 0x10;
export const ER_ABRT = 0x04;
// Device register bits.
const DEV_LBA = 0x40;
const DEV_DEV1 = 0x10;
// Device control register bits.
const CTL_SRST = 0x04;
const CTL_NIEN = 0x02;

export interface DiskGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

export interface AtaDiskOptions {
  /** Default CHS translation reported by IDENTIFY (words 1, 3, 6); by default 16 heads and 63 sectors. */
  geometry?: DiskGeometry;
  /** Reported in IDENTIFY word 0 bit 7; the firmware treats such a disk as a floppy (drive 00h). */
  removable?: boolean;
  /** Writes change the image array itself instead of an overlay. */
  writeThrough?: boolean;
  /** The IRQ 14 line: called with true when the device raises INTRQ and false when it drops it. */
  onIrq?: (asserted: boolean) => void;
  model?: string;
  /** The channel's command block base and control register (default: the primary channel's). */
  base?: number;
  controlPort?: number;
  /** 0 = master (device 0), 1 = slave (device 1). */
  position?: 0 | 1;
}

type Transfer = { kind: 'none' } | { kind: 'in' | 'out'; buffer: Uint8Array; pos: number; lba: number; remaining: number };

/** Everything the guest can observe of the disk, for machine snapshots (reverse execution). */
export interface AtaSnapshot {
  registers: number[];
  transfer: Transfer;
  irqPending: boolean;
  /** Written sectors. Stored sectors are never changed in place, so the map is copied but not its arrays. */
  overlay: Map<number, Uint8Array>;
  /** The whole image, only for write-through disks (their writes change it). */
  image?: Uint8Array;
}

/** Standard translation for a hard disk image: 16 heads, 63 sectors, as many cylinders as needed (≤ 16383). */
export function defaultHardDiskGeometry(sectors: number): DiskGeometry {
  return { cylinders: Math.max(1, Math.min(16383, Math.ceil(sectors / (16 * 63)))), heads: 16, sectorsPerTrack: 63 };
}

export class AtaDisk implements PortDevice {
  readonly wide = true;
  /** Sectors written since creation (or all writes, with writeThrough, land in `image`). */
  readonly overlay = new Map<number, Uint8Array>();
  readonly totalSectors: number;
  readonly geometry: DiskGeometry;
  private readonly removable: boolean;
  private readonly writeThrough: boolean;
  private readonly onIrq: ((asserted: boolean) => void) | undefined;
  private readonly model: string;
  readonly base: number;
  readonly controlPort: number;
  readonly position: 0 | 1;

  // Task file.
  private error = 1; // diagnostic code 01h: no error, after power-on
  private features = 0;
  private count = 1;
  private lba0 = 1;
  private lba1 = 0;
  private lba2 = 0;
  private device = 0;
  private status = ST_DRDY | ST_DSC;
  private control = 0;
  /** Current CHS translation (changed by INITIALIZE DEVICE PARAMETERS). */
  private heads: number;
  private sectorsPerTrack: number;
  private transfer: Transfer = { kind: 'none' };
  private irqPending = false;

  constructor(
    /** The disk contents; a partial last sector reads as zeros. */
    readonly image: Uint8Array,
    options: AtaDiskOptions = {},
  ) {
    this.totalSectors = Math.min(Math.ceil(image.length / SECTOR_SIZE), LBA28_LIMIT);
    this.geometry = options.geometry ?? defaultHardDiskGeometry(this.totalSectors);
    this.heads = this.geometry.heads;
    this.sectorsPerTrack = this.geometry.sectorsPerTrack;
    this.removable = options.removable ?? false;
    this.writeThrough = options.writeThrough ?? false;
    this.onIrq = options.onIrq;
    this.model = options.model ?? (this.removable ? 'RINGSIDE REMOVABLE DISK' : 'RINGSIDE HARD DISK');
    this.base = options.base ?? ATA_PRIMARY_BASE;
    this.controlPort = options.controlPort ?? ATA_PRIMARY_CONTROL;
    this.position = options.position ?? 0;
  }

  /** Claims the command block (8 ports) and the control register on the bus, for a device alone on its channel. */
  attach(io: IoBus): void {
    io.register(this.base, 8, this);
    io.register(this.controlPort, 1, this);
  }

  // ---- sector storage ----

  /** The current contents of sector `lba` (overlay first). */
  readSector(lba: number): Uint8Array {
    const written = this.overlay.get(lba);
    if (written) return written.slice();
    const out = new Uint8Array(SECTOR_SIZE);
    const start = lba * SECTOR_SIZE;
    if (start < this.image.length) out.set(this.image.subarray(start, Math.min(start + SECTOR_SIZE, this.image.length)));
    return out;
  }

  private writeSector(lba: number, data: Uint8Array): void {
    if (!this.writeThrough) {
      this.overlay.set(lba, data.slice());
      return;
    }
    const start = lba * SECTOR_SIZE;
    const n = Math.max(0, Math.min(SECTOR_SIZE, this.image.length - start));
    this.image.set(data.subarray(0, n), start);
  }

  // ---- snapshots ----

  snapshot(): AtaSnapshot {
    const t = this.transfer;
    return {
      registers: [
        this.error, this.features, this.count, this.lba0, this.lba1, this.lba2,
        this.device, this.status, this.control, this.heads, this.sectorsPerTrack,
      ],
      transfer: t.kind === 'none' ? t : { ...t, buffer: t.buffer.slice() },
      irqPending: this.irqPending,
      overlay: new Map(this.overlay),
      image: this.writeThrough ? this.image.slice() : undefined,
    };
  }

  restore(s: AtaSnapshot): void {
    [
      this.error, this.features, this.count, this.lba0, this.lba1, this.lba2,
      this.device, this.status, this.control, this.heads, this.sectorsPerTrack,
    ] = s.registers;
    const t = s.transfer;
    this.transfer = t.kind === 'none' ? t : { ...t, buffer: t.buffer.slice() };
    this.overlay.clear();
    for (const [lba, data] of s.overlay) this.overlay.set(lba, data);
    if (s.image) this.image.set(s.image);
    if (s.irqPending !== this.irqPending) {
      this.irqPending = s.irqPending;
      this.onIrq?.(s.irqPending);
    }
  }

  // ---- port interface ----

  portIn(port: number, size: number): number {
    if (port === this.base + REG_DATA) return this.readData(size);
    // Wider reads of byte registers read consecutive registers (the bus would split them the same way).
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.readRegister(port + i);
    return v;
  }

  portOut(port: number, value: number, size: number): void {
    if (port === this.base + REG_DATA) {
      this.writeData(value, size);
      return;
    }
    for (let i = 0; i < size; i++) this.writeRegister(port + i, (value >>> (8 * i)) & 0xff);
  }

  /** The device register's DEV bit names this device. */
  selected(): boolean {
    return ((this.device & DEV_DEV1) !== 0) === (this.position === 1);
  }

  private readRegister(port: number): number {
    if (port === this.controlPort) return this.selected() ? this.status : 0; // alternate status: IRQ untouched
    const reg = port - this.base;
    // With no device 1, device 0 answers for it with a status of 00h (ATA-6 §9.16.1).
    if (!this.selected() && reg === REG_STATUS_COMMAND) return 0;
    switch (reg) {
      case REG_ERROR_FEATURES:
        return this.error;
      case REG_COUNT:
        return this.count;
      case REG_LBA0:
        return this.lba0;
      case REG_LBA1:
        return this.lba1;
      case REG_LBA2:
        return this.lba2;
      case REG_DEVICE:
        return this.device | 0xa0; // bits 7 and 5 are obsolete and read as 1
      case REG_STATUS_COMMAND:
        this.setIrq(false); // reading the status register acknowledges the interrupt
        return this.status;
      default:
        return 0xff;
    }
  }

  private writeRegister(port: number, value: number): void {
    if (port === this.controlPort) {
      this.writeControl(value);
      return;
    }
    switch (port - this.base) {
      case REG_ERROR_FEATURES:
        this.features = value;
        break;
      case REG_COUNT:
        this.count = value;
        break;
      case REG_LBA0:
        this.lba0 = value;
        break;
      case REG_LBA1:
        this.lba1 = value;
        break;
      case REG_LBA2:
        this.lba2 = value;
        break;
      case REG_DEVICE:
        this.device = value & 0x5f;
        break;
      case REG_STATUS_COMMAND:
        if (this.selected()) this.command(value);
        break;
    }
  }

  private writeControl(value: number): void {
    const wasReset = (this.control & CTL_SRST) !== 0;
    this.control = value;
    if ((value & CTL_NIEN) !== 0) this.setIrq(false);
    // Software reset happens when SRST goes from 1 to 0: the device sets its signature (ATA-6 §9.2).
    if (wasReset && (value & CTL_SRST) === 0) this.reset();
    else if ((value & CTL_SRST) !== 0) {
      this.transfer = { kind: 'none' };
      this.status = ST_BSY;
    }
  }

  private reset(): void {
    this.transfer = { kind: 'none' };
    this.error = 1;
    this.count = 1;
    this.lba0 = 1;
    this.lba1 = 0;
    this.lba2 = 0;
    this.device = 0;
    this.status = ST_DRDY | ST_DSC;
    this.heads = this.geometry.heads;
    this.sectorsPerTrack = this.geometry.sectorsPerTrack;
  }

  private setIrq(on: boolean): void {
    if (on && (this.control & CTL_NIEN) !== 0) return;
    if (on === this.irqPending) return;
    this.irqPending = on;
    this.onIrq?.(on);
  }

  // ---- commands ----

  private command(cmd: number): void {
    this.error = 0;
    this.transfer = { kind: 'none' };
    if (cmd === 0xec) return this.identify();
    if (cmd === 0x20 || cmd === 0x21) return this.startRead();
    if (cmd === 0x30 || cmd === 0x31) return this.startWrite();
    if (cmd === 0x40 || cmd === 0x41) return this.verify();
    if (cmd === 0x91) {
      // INITIALIZE DEVICE PARAMETERS: heads from the device register, sectors per track from the count.
      if (this.count === 0) return this.abort();
      this.heads = (this.device & 0x0f) + 1;
      this.sectorsPerTrack = this.count;
      return this.complete();
    }
    if (cmd === 0x90) {
      // EXECUTE DEVICE DIAGNOSTIC: code 01h (device 0 passed, device 1 absent) and the signature.
      this.reset();
      this.error = 1;
      return this.setIrq(true);
    }
    if ((cmd & 0xf0) === 0x10 || (cmd & 0xf0) === 0x70 || cmd === 0xe7 || (cmd >= 0xe0 && cmd <= 0xe3)) return this.complete();
    if (cmd === 0xe5) {
      this.count = 0xff; // CHECK POWER MODE: active or idle
      return this.complete();
    }
    if (cmd === 0xef) {
      // SET FEATURES: transfer mode (03h) and write cache on/off (02h/82h) are accepted; nothing changes timing.
      if (this.features === 0x03 || this.features === 0x02 || this.features === 0x82) return this.complete();
      return this.abort();
    }
    this.abort();
  }

  private complete(): void {
    this.status = ST_DRDY | ST_DSC;
    this.setIrq(true);
  }

  private abort(): void {
    this.error = ER_ABRT;
    this.status = ST_DRDY | ST_DSC | ST_ERR;
    this.setIrq(true);
  }

  private fail(errorBits: number): void {
    this.transfer = { kind: 'none' };
    this.error = errorBits;
    this.status = ST_DRDY | ST_DSC | ST_ERR;
    this.setIrq(true);
  }

  /** Sector count register: 0 means 256 sectors. */
  private sectorCount(): number {
    return this.count === 0 ? 256 : this.count;
  }

  /** The address in the task file as an LBA, or -1 when a CHS address lies outside the current translation. */
  private taskFileLba(): number {
    if ((this.device & DEV_LBA) !== 0) {
      return ((this.device & 0x0f) << 24) | (this.lba2 << 16) | (this.lba1 << 8) | this.lba0;
    }
    const cylinder = (this.lba2 << 8) | this.lba1;
    const head = this.device & 0x0f;
    const sector = this.lba0;
    if (sector === 0 || sector > this.sectorsPerTrack || head >= this.heads) return -1;
    return (cylinder * this.heads + head) * this.sectorsPerTrack + sector - 1;
  }

  /** Writes `lba` back into the task file in the current addressing mode (the registers track the transfer). */
  private setTaskFileLba(lba: number): void {
    if ((this.device & DEV_LBA) !== 0) {
      this.lba0 = lba & 0xff;
      this.lba1 = (lba >>> 8) & 0xff;
      this.lba2 = (lba >>> 16) & 0xff;
      this.device = (this.device & 0xf0) | ((lba >>> 24) & 0x0f);
      return;
    }
    const sector = (lba % this.sectorsPerTrack) + 1;
    const track = Math.floor(lba / this.sectorsPerTrack);
    const cylinder = Math.floor(track / this.heads);
    this.lba0 = sector;
    this.lba1 = cylinder & 0xff;
    this.lba2 = (cylinder >>> 8) & 0xff;
    this.device = (this.device & 0xf0) | (track % this.heads);
  }

  /**
   * The first sector of a command, or -1 (after reporting IDNF) when it does not exist. A transfer that runs off
   * the end of the disk starts anyway and fails with IDNF at the first missing sector, as a real drive does.
   */
  private firstSector(): number {
    const lba = this.taskFileLba();
    if (lba < 0 || lba >= this.totalSectors) {
      this.fail(ER_IDNF);
      return -1;
    }
    return lba;
  }

  private startRead(): void {
    const lba = this.firstSector();
    if (lba < 0) return;
    this.transfer = { kind: 'in', buffer: this.readSector(lba), pos: 0, lba, remaining: this.sectorCount() };
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.setIrq(true); // PIO data-in: an interrupt for every sector that becomes ready
  }

  private startWrite(): void {
    const lba = this.firstSector();
    if (lba < 0) return;
    this.transfer = { kind: 'out', buffer: new Uint8Array(SECTOR_SIZE), pos: 0, lba, remaining: this.sectorCount() };
    this.status = ST_DRDY | ST_DSC | ST_DRQ; // PIO data-out: no interrupt before the first sector
  }

  private verify(): void {
    const n = this.sectorCount();
    const lba = this.firstSector();
    if (lba < 0) return;
    if (lba + n > this.totalSectors) {
      this.setTaskFileLba(this.totalSectors);
      return this.fail(ER_IDNF);
    }
    this.setTaskFileLba(lba + n - 1);
    this.count = 0;
    this.complete();
  }

  private identify(): void {
    const w = new Uint16Array(256);
    const g = this.geometry;
    w[0] = this.removable ? 0x0080 : 0x0040; // bit 7 removable media, bit 6 fixed device
    w[1] = g.cylinders;
    w[3] = g.heads;
    w[6] = g.sectorsPerTrack;
    putString(w, 10, 20, 'RS00000001');
    putString(w, 23, 8, '1.0');
    putString(w, 27, 40, this.model);
    w[47] = 0x8000; // READ/WRITE MULTIPLE not supported (0 sectors per block)
    w[49] = 0x0200; // LBA supported
    w[53] = 0x0001; // words 54–58 valid
    w[54] = g.cylinders;
    w[55] = this.heads;
    w[56] = this.sectorsPerTrack;
    const chsCapacity = Math.min(g.cylinders * this.heads * this.sectorsPerTrack, 0xffffffff);
    w[57] = chsCapacity & 0xffff;
    w[58] = chsCapacity >>> 16;
    w[60] = this.totalSectors & 0xffff;
    w[61] = this.totalSectors >>> 16;
    w[80] = 0x007e; // ATA-1 to ATA-6
    w[83] = 0x4000; // bit 14 must be one; no 48-bit addressing
    const bytes = new Uint8Array(SECTOR_SIZE);
    for (let i = 0; i < 256; i++) {
      bytes[2 * i] = w[i] & 0xff;
      bytes[2 * i + 1] = w[i] >>> 8;
    }
    this.transfer = { kind: 'in', buffer: bytes, pos: 0, lba: -1, remaining: 1 };
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.setIrq(true);
  }

  // ---- data port ----

  private readData(size: number): number {
    const t = this.transfer;
    if (t.kind !== 'in') return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    let v = 0;
    for (let i = 0; i < size; i++) v += t.buffer[t.pos + i] * 2 ** (8 * i);
    t.pos += size;
    if (t.pos >= SECTOR_SIZE) this.sectorDone(t);
    return v;
  }

  /**
   * REP INS from the data port (io-bus.ts portInBlock): the rest of the current sector at most, as readData would
   * give it element by element; the sector's end (its interrupt) ends the run. Elements that would straddle the
   * sector's end (a width change mid-sector) are left to readData.
   */
  portInBlock(port: number, size: number, count: number, into: Uint8Array, at: number, step: number): number {
    const t = this.transfer;
    if (port !== this.base + REG_DATA || t.kind !== 'in' || (SECTOR_SIZE - t.pos) % size !== 0) return 0;
    const n = Math.min(count, (SECTOR_SIZE - t.pos) / size);
    const b = t.buffer;
    for (let k = 0, p = t.pos; k < n; k++, at += step) for (let j = 0; j < size; j++) into[at + j] = b[p++];
    t.pos += n * size;
    if (t.pos >= SECTOR_SIZE) this.sectorDone(t);
    return n;
  }

  private writeData(value: number, size: number): void {
    const t = this.transfer;
    if (t.kind !== 'out') return;
    for (let i = 0; i < size && t.pos < SECTOR_SIZE; i++) t.buffer[t.pos++] = (value >>> (8 * i)) & 0xff;
    if (t.pos >= SECTOR_SIZE) {
      this.writeSector(t.lba, t.buffer);
      this.sectorDone(t);
    }
  }

  /** One sector has crossed the data port: go on with the next, or finish the command. */
  private sectorDone(t: Transfer & { kind: 'in' | 'out' }): void {
    t.remaining--;
    if (t.lba < 0) {
      // IDENTIFY: one block, then the command is over.
      this.transfer = { kind: 'none' };
      this.status = ST_DRDY | ST_DSC;
      return;
    }
    this.setTaskFileLba(t.lba);
    this.count = t.remaining & 0xff;
    if (t.remaining === 0) {
      this.transfer = { kind: 'none' };
      this.status = ST_DRDY | ST_DSC;
      if (t.kind === 'out') this.setIrq(true); // data-out: the interrupt comes after the last sector is written
      return;
    }
    const next = t.lba + 1;
    if (next >= this.totalSectors) {
      this.setTaskFileLba(next);
      return this.fail(ER_IDNF);
    }
    t.lba = next;
    t.pos = 0;
    t.buffer = t.kind === 'in' ? this.readSector(next) : new Uint8Array(SECTOR_SIZE);
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.setIrq(true);
  }
}

/** ATA strings: two characters per word, the first in the high byte, padded with spaces. */
function putString(words: Uint16Array, first: number, length: number, text: string): void {
  const padded = text.padEnd(length, ' ').slice(0, length);
  for (let i = 0; i < length; i += 2) words[first + i / 2] = (padded.charCodeAt(i) << 8) | padded.charCodeAt(i + 1);
}
