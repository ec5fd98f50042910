// The disk of a boot image as the machine attaches it: an ATA primary master whose geometry and media type tell the
// firmware how to present it. Images of a standard floppy size become a removable disk with that floppy's
// geometry, which the firmware serves as drive 00h; anything else is a hard disk (drive 80h) with 16 heads and 63
// sectors per track. There is no floppy controller model: both go through the same ATA device.

import type { IoBus } from '../bus/io-bus';
import { AtaDisk, defaultHardDiskGeometry, SECTOR_SIZE, type AtaDiskOptions, type DiskGeometry } from './ata';

/** Standard diskette formats by total size in sectors. */
const FLOPPY_GEOMETRIES: ReadonlyMap<number, DiskGeometry> = new Map([
  [320, { cylinders: 40, heads: 1, sectorsPerTrack: 8 }], // 160 KB
  [360, { cylinders: 40, heads: 1, sectorsPerTrack: 9 }], // 180 KB
  [640, { cylinders: 40, heads: 2, sectorsPerTrack: 8 }], // 320 KB
  [720, { cylinders: 40, heads: 2, sectorsPerTrack: 9 }], // 360 KB
  [1440, { cylinders: 80, heads: 2, sectorsPerTrack: 9 }], // 720 KB
  [2400, { cylinders: 80, heads: 2, sectorsPerTrack: 15 }], // 1.2 MB
  [2880, { cylinders: 80, heads: 2, sectorsPerTrack: 18 }], // 1.44 MB
  [5760, { cylinders: 80, heads: 2, sectorsPerTrack: 36 }], // 2.88 MB
]);

export interface BootDiskMedia {
  /** BIOS drive number the firmware will give the disk (and pass in DL to the boot sector). */
  drive: 0x00 | 0x80;
  geometry: DiskGeometry;
  removable: boolean;
}

export function bootDiskMedia(imageBytes: number): BootDiskMedia {
  const sectors = Math.ceil(imageBytes / SECTOR_SIZE);
  const floppy = imageBytes % SECTOR_SIZE === 0 ? FLOPPY_GEOMETRIES.get(sectors) : undefined;
  if (floppy) return { drive: 0x00, geometry: floppy, removable: true };
  return { drive: 0x80, geometry: defaultHardDiskGeometry(sectors), removable: false };
}

/** Creates the ATA disk for a boot image and claims its ports. */
export function attachBootDisk(
  io: IoBus,
  image: Uint8Array,
  options: Pick<AtaDiskOptions, 'writeThrough' | 'onIrq'> = {},
): AtaDisk {
  const media = bootDiskMedia(image.length);
  const disk = new AtaDisk(image, { ...options, geometry: media.geometry, removable: media.removable });
  disk.attach(io);
  return disk;
}
