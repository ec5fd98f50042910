import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../engine/bus/io-bus';
import { AtaDisk, ER_ABRT, ER_IDNF, ST_DRQ, ST_DRDY, ST_ERR } from '../../../engine/devices/ata';
import { attachBootDisk, bootDiskMedia } from '../../../engine/devices/boot-disk';

const SECTORS = 40;

function image(sectors = SECTORS): Uint8Array {
  const img = new Uint8Array(sectors * 512);
  // Each sector starts with its own number so a misplaced read shows.
  for (let s = 0; s < sectors; s++) for (let i = 0; i < 512; i++) img[s * 512 + i] = i < 2 ? (s >> (8 * i)) & 0xff : (s + i) & 0xff;
  return img;
}

function setup(opts: ConstructorParameters<typeof AtaDisk>[1] = {}, img = image()) {
  const io = new IoBus();
  const irqs: boolean[] = [];
  const disk = new AtaDisk(img, { onIrq: (on) => irqs.push(on), ...opts });
  disk.attach(io);
  return { io, disk, irqs, img };
}

function selectLba(io: IoBus, lba: number, count: number): void {
  io.out(0x1f6, 0xe0 | ((lba >>> 24) & 0x0f), 1);
  io.out(0x1f2, count, 1);
  io.out(0x1f3, lba & 0xff, 1);
  io.out(0x1f4, (lba >>> 8) & 0xff, 1);
  io.out(0x1f5, (lba >>> 16) & 0xff, 1);
}

function readBlock(io: IoBus): Uint8Array {
  const out = new Uint8Array(512);
  for (let i = 0; i < 256; i++) {
    const w = io.in(0x1f0, 2);
    out[2 * i] = w & 0xff;
    out[2 * i + 1] = w >>> 8;
  }
  return out;
}

describe('ATA disk (PIO)', () => {
  it('answers IDENTIFY DEVICE with geometry, capacity, LBA support and the model string', () => {
    const { io } = setup();
    io.out(0x1f6, 0xa0, 1);
    io.out(0x1f7, 0xec, 1);
    expect(io.in(0x1f7, 1) & (ST_DRQ | ST_DRDY | ST_ERR)).toBe(ST_DRQ | ST_DRDY);
    const id = readBlock(io);
    const word = (i: number) => id[2 * i] | (id[2 * i + 1] << 8);
    expect(word(0) & 0x80).toBe(0);
    expect([word(1), word(3), word(6)]).toEqual([1, 16, 63]);
    expect(word(60) | (word(61) << 16)).toBe(SECTORS);
    expect(word(49) & 0x200).toBe(0x200);
    let model = '';
    for (let i = 27; i < 47; i++) model += String.fromCharCode(word(i) >> 8, word(i) & 0xff);
    expect(model.trim()).toBe('RINGSIDE HARD DISK');
    expect(io.in(0x1f7, 1) & ST_DRQ).toBe(0); // the block is over
  });

  it('reads several sectors by LBA28, raising IRQ 14 for each and tracking the address', () => {
    const { io, irqs, img } = setup();
    selectLba(io, 5, 3);
    io.out(0x1f7, 0x20, 1);
    for (let s = 5; s < 8; s++) {
      expect(irqs.at(-1)).toBe(true);
      expect(io.in(0x1f7, 1) & ST_DRQ).toBe(ST_DRQ); // reading status acknowledges the interrupt
      expect(irqs.at(-1)).toBe(false);
      expect(readBlock(io)).toEqual(img.subarray(s * 512, s * 512 + 512));
    }
    expect(io.in(0x1f7, 1)).toBe(ST_DRDY | 0x10);
    expect(io.in(0x1f3, 1)).toBe(7); // last sector transferred
    expect(io.in(0x1f2, 1)).toBe(0);
  });

  it('reads runs of the data port for REP INS (inBlock) as single reads would, ending each run at its sector', () => {
    for (const size of [2, 4]) {
      const single = setup();
      const runs = setup();
      for (const { io } of [single, runs]) {
        selectLba(io, 5, 3);
        io.out(0x1f7, 0x20, 1);
      }
      const a = new Uint8Array(3 * 512);
      const b = new Uint8Array(3 * 512);
      for (let k = 0; k < a.length; k += size) {
        const v = single.io.in(0x1f0, size);
        for (let j = 0; j < size; j++) a[k + j] = v >>> (8 * j);
      }
      const lengths: number[] = [];
      for (let at = 0; at < b.length; ) {
        const n = runs.io.inBlock(0x1f0, size, 100, b, at, size);
        lengths.push(n);
        at += n * size;
      }
      expect(b).toEqual(a);
      expect(b).toEqual(single.img.subarray(5 * 512, 8 * 512));
      // Runs of 100 elements, each cut at its sector's end, where the next sector's interrupt is raised.
      const perSector = 512 / size;
      expect(lengths.slice(0, 2)).toEqual([100, perSector - 100 > 100 ? 100 : perSector - 100]);
      expect(runs.irqs).toEqual(single.irqs);
      expect([runs.io.in(0x1f7, 1), runs.io.in(0x1f3, 1), runs.io.in(0x1f2, 1)]).toEqual([single.io.in(0x1f7, 1), single.io.in(0x1f3, 1), single.io.in(0x1f2, 1)]);
    }
  });

  it('leaves REP INS to single reads where they are observed, or where no transfer is in progress', () => {
    const { io } = setup();
    const into = new Uint8Array(512);
    selectLba(io, 5, 1);
    io.out(0x1f7, 0x20, 1);
    expect(io.inBlock(0x1f7, 1, 4, into, 0, 1)).toBe(0); // not the data port
    io.onPortIo = () => undefined;
    expect(io.inBlock(0x1f0, 2, 4, into, 0, 2)).toBe(0);
    io.onPortIo = null;
    const plain = io.in;
    io.in = (port: number, size: number) => plain.call(io, port, size);
    expect(io.inBlock(0x1f0, 2, 4, into, 0, 2)).toBe(0);
    io.in = plain;
    expect(io.inBlock(0x1f0, 2, 4, into, 0, 2)).toBe(4);
    expect(io.inBlock(0x1f0, 2, 1000, into, 8, 2)).toBe(252); // the rest of the sector
    expect(io.inBlock(0x1f0, 2, 4, into, 0, 2)).toBe(0); // the command is over
  });

  it('reads by CHS with the current translation, and 32-bit data port accesses work', () => {
    const { io, img } = setup({ geometry: { cylinders: 2, heads: 2, sectorsPerTrack: 10 } });
    // C=1 H=0 S=3 -> LBA (1*2+0)*10 + 2 = 22
    io.out(0x1f6, 0xa0 | 0, 1);
    io.out(0x1f2, 1, 1);
    io.out(0x1f3, 3, 1);
    io.out(0x1f4, 1, 1);
    io.out(0x1f5, 0, 1);
    io.out(0x1f7, 0x20, 1);
    const out = new Uint8Array(512);
    const v = new DataView(out.buffer);
    for (let i = 0; i < 128; i++) v.setUint32(4 * i, io.in(0x1f0, 4), true);
    expect(out).toEqual(img.subarray(22 * 512, 23 * 512));
    // Sector 0 is not a CHS sector number.
    io.out(0x1f3, 0, 1);
    io.out(0x1f7, 0x20, 1);
    expect(io.in(0x1f7, 1) & ST_ERR).toBe(ST_ERR);
    expect(io.in(0x1f1, 1)).toBe(ER_IDNF);
  });

  it('writes to a copy-on-write overlay, leaving the image alone, and reads the new data back', () => {
    const { io, disk, img, irqs } = setup();
    const before = img.slice();
    selectLba(io, 2, 1);
    io.out(0x1f7, 0x30, 1);
    expect(irqs).toEqual([]); // no interrupt before the first data-out block
    for (let i = 0; i < 256; i++) io.out(0x1f0, 0xbeef, 2);
    expect(irqs.at(-1)).toBe(true);
    expect(io.in(0x1f7, 1) & (ST_ERR | ST_DRQ)).toBe(0);
    expect(img).toEqual(before);
    selectLba(io, 2, 1);
    io.out(0x1f7, 0x20, 1);
    const back = readBlock(io);
    expect(back[0]).toBe(0xef);
    expect(back[511]).toBe(0xbe);
    expect([...disk.overlay.keys()]).toEqual([2]);
  });

  it('writes through to the image when asked', () => {
    const { io, img } = setup({ writeThrough: true });
    selectLba(io, 1, 1);
    io.out(0x1f7, 0x30, 1);
    for (let i = 0; i < 256; i++) io.out(0x1f0, 0x1234, 2);
    expect(img[512]).toBe(0x34);
    expect(img[1023]).toBe(0x12);
  });

  it('reports IDNF past the end, and mid-transfer when a read runs off the disk', () => {
    const { io } = setup();
    selectLba(io, SECTORS, 1);
    io.out(0x1f7, 0x20, 1);
    expect(io.in(0x1f7, 1) & ST_ERR).toBe(ST_ERR);
    expect(io.in(0x1f1, 1)).toBe(ER_IDNF);

    selectLba(io, SECTORS - 1, 2);
    io.out(0x1f7, 0x20, 1);
    expect(io.in(0x1f7, 1) & ST_DRQ).toBe(ST_DRQ);
    readBlock(io);
    expect(io.in(0x1f7, 1) & ST_ERR).toBe(ST_ERR);
    expect(io.in(0x1f1, 1)).toBe(ER_IDNF);
  });

  it('aborts unknown commands, honours nIEN, and a software reset restores the signature', () => {
    const { io, irqs } = setup();
    io.out(0x3f6, 0x02, 1); // nIEN
    io.out(0x1f7, 0xa1, 1); // IDENTIFY PACKET DEVICE: not a packet device
    expect(io.in(0x3f6, 1) & ST_ERR).toBe(ST_ERR);
    expect(io.in(0x1f1, 1)).toBe(ER_ABRT);
    expect(irqs).toEqual([]);
    io.out(0x3f6, 0x06, 1);
    io.out(0x3f6, 0x02, 1);
    expect([io.in(0x1f1, 1), io.in(0x1f2, 1), io.in(0x1f3, 1), io.in(0x1f4, 1), io.in(0x1f5, 1)]).toEqual([1, 1, 1, 0, 0]);
    expect(io.in(0x1f7, 1)).toBe(ST_DRDY | 0x10);
  });

  it('answers for an absent device 1 with status 0 and ignores its commands', () => {
    const { io } = setup();
    io.out(0x1f6, 0xb0, 1);
    expect(io.in(0x1f7, 1)).toBe(0);
    io.out(0x1f7, 0xec, 1);
    expect(io.in(0x1f7, 1)).toBe(0);
    io.out(0x1f6, 0xa0, 1);
    expect(io.in(0x1f7, 1) & ST_DRQ).toBe(0);
  });

  it('changes the CHS translation with INITIALIZE DEVICE PARAMETERS', () => {
    const { io, img } = setup();
    io.out(0x1f6, 0xa0 | 3, 1); // 4 heads
    io.out(0x1f2, 5, 1); // 5 sectors per track
    io.out(0x1f7, 0x91, 1);
    expect(io.in(0x1f7, 1) & ST_ERR).toBe(0);
    io.out(0x1f6, 0xa0 | 1, 1); // C=1 H=1 S=2 -> (1*4+1)*5+1 = 26
    io.out(0x1f2, 1, 1);
    io.out(0x1f3, 2, 1);
    io.out(0x1f4, 1, 1);
    io.out(0x1f5, 0, 1);
    io.out(0x1f7, 0x20, 1);
    expect(readBlock(io)).toEqual(img.subarray(26 * 512, 27 * 512));
  });
});

describe('ATA snapshots', () => {
  it('restores the task file, a transfer in progress and the written sectors', () => {
    const { io, disk, img } = setup();
    selectLba(io, 3, 2);
    io.out(0x1f7, 0x20, 1);
    for (let i = 0; i < 10; i++) io.in(0x1f0, 2); // part of the first sector
    const snap = disk.snapshot();
    const rest = new Uint8Array(1004);
    for (let i = 0; i < 502; i++) {
      const w = io.in(0x1f0, 2);
      rest[2 * i] = w & 0xff;
      rest[2 * i + 1] = w >>> 8;
    }
    selectLba(io, 0, 1);
    io.out(0x1f7, 0x30, 1);
    for (let i = 0; i < 256; i++) io.out(0x1f0, 0x7777, 2);
    expect(disk.overlay.size).toBe(1);

    disk.restore(snap);
    expect(disk.overlay.size).toBe(0);
    expect(io.in(0x1f7, 1) & ST_DRQ).toBe(ST_DRQ);
    const again = new Uint8Array(1004);
    for (let i = 0; i < 502; i++) {
      const w = io.in(0x1f0, 2);
      again[2 * i] = w & 0xff;
      again[2 * i + 1] = w >>> 8;
    }
    expect(again).toEqual(rest);
    expect(again.subarray(0, 492)).toEqual(img.subarray(3 * 512 + 20, 4 * 512));
    expect(disk.readSector(0)).toEqual(img.subarray(0, 512));
  });
});

describe('boot disk media', () => {
  it('makes standard floppy sizes removable drive 00h and anything else hard disk 80h', () => {
    expect(bootDiskMedia(1474560)).toEqual({ drive: 0, removable: true, geometry: { cylinders: 80, heads: 2, sectorsPerTrack: 18 } });
    expect(bootDiskMedia(368640).geometry).toEqual({ cylinders: 40, heads: 2, sectorsPerTrack: 9 });
    expect(bootDiskMedia(512)).toEqual({ drive: 0x80, removable: false, geometry: { cylinders: 1, heads: 16, sectorsPerTrack: 63 } });
    expect(bootDiskMedia(10 * 1024 * 1024).geometry.cylinders).toBe(21);
  });

  it('attaches the disk on the primary channel with the removable bit in IDENTIFY', () => {
    const io = new IoBus();
    attachBootDisk(io, new Uint8Array(1474560));
    io.out(0x1f7, 0xec, 1);
    expect(io.in(0x1f0, 2) & 0x80).toBe(0x80);
  });
});
