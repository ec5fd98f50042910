// Boots committed two-stage disks through the built-in firmware on the engine's CPU: INT 10h teletype, INT 13h CHS
// and LBA reads, AH=08h geometry, INT 15h E820/E801 and INT 12h (bios-services), then the remaining video,
// keyboard, time, A20 and disk-status services (bios-extras); each exits through port F4h.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../../engine/machine/machine';
import { attachBootDisk, bootDiskMedia } from '../../../../engine/devices/boot-disk';
import type { AtaDisk } from '../../../../engine/devices/ata';
import { pcMemoryMap } from '../../../../engine/machine/loaders';
import { biosImage, rawBiosImage } from '../../../../engine/machine/firmware';

const BOOT = join(__dirname, '..', '..', '..', 'fixtures', 'boot');
const disk = new Uint8Array(readFileSync(join(BOOT, 'bios-services.bin')));
const extras = new Uint8Array(readFileSync(join(BOOT, 'bios-extras.bin')));
const MiB = 0x100000;

const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, '0');

function boot(image: Uint8Array, memoryMB = 16): Machine {
  return bootWithDisk(image, memoryMB).machine;
}

function bootWithDisk(image: Uint8Array, memoryMB = 16): { machine: Machine; disk: AtaDisk | null } {
  const machine = new Machine({ memoryMB });
  const loaded = machine.load(image);
  expect(loaded.format).toBe('boot');
  // Attach the disk unless the machine already did (an ATA status register never reads FFh).
  const disk = machine.io.in(0x1f7, 1) === 0xff ? attachBootDisk(machine.io, loaded.disk!) : null;
  return { machine, disk };
}

/** What bios-services.asm prints, computed from the disk's media and the memory size. */
function expectedOutput(imageBytes: number, memoryMB: number): string {
  const media = bootDiskMedia(imageBytes);
  const g = media.geometry;
  const maxCyl = Math.min(g.cylinders - 1, 1023);
  const cx = ((maxCyl & 0xff) << 8) | ((maxCyl >> 2) & 0xc0) | g.sectorsPerTrack;
  const dx = ((g.heads - 1) << 8) | 1;
  const mem = memoryMB * MiB;
  const e820 = pcMemoryMap(mem)
    .map((r) => `e820 ${hex(r.base, 8)} ${hex(r.length, 8)} ${hex(r.type, 2)}\r\n`)
    .join('');
  const kbBelow16M = Math.min(mem - MiB, 15 * MiB) / 1024;
  const blocksAbove16M = Math.max(0, mem - 16 * MiB) / 65536;
  return (
    `boot dl=${hex(media.drive, 2)}\r\n` +
    'chs ok\r\n' +
    'ext 30 lba ok\r\n' +
    'sector two says hello\r\n' +
    `geom ${hex(cx, 4)} ${hex(dx, 4)}\r\n` +
    e820 +
    `mem 027F ${hex(kbBelow16M, 4)} ${hex(blocksAbove16M, 4)}\r\n` +
    'done\r\n'
  );
}

function screenRow(m: Machine, row: number): string {
  let s = '';
  for (let c = 0; c < 80; c++) s += String.fromCharCode(m.mem.peek(0xb8000 + (row * 80 + c) * 2, 1));
  return s.trimEnd();
}

describe('firmware boot', () => {
  it('boots a hard-disk image (DL = 80h) and serves INT 10h, 13h, 15h and 12h', () => {
    const m = boot(disk);
    const r = m.run(20_000_000);
    expect(m.consoleText()).toBe(expectedOutput(disk.length, 16));
    expect(r.reason).toBe('exit');
    expect(m.exitCode).toBe(0x11);
    expect(screenRow(m, 0)).toBe('boot dl=80');
    expect(screenRow(m, 3)).toBe('sector two says hello');
  });

  it('boots a 1.44 MB floppy image as drive 00h with the floppy geometry, with 64 MiB of memory', () => {
    const floppy = new Uint8Array(1474560);
    floppy.set(disk);
    const m = boot(floppy, 64);
    const r = m.run(20_000_000);
    expect(m.consoleText()).toBe(expectedOutput(floppy.length, 64));
    expect(r.reason).toBe('exit');
  });

  it('reports a disk whose sector 0 lost its signature and halts', () => {
    // Started as a plain ROM, so the disk attached here is the only one (the loader would refuse this image).
    const m = new Machine({ memoryMB: 16 });
    m.load(biosImage({ memorySize: 16 * MiB }), { format: 'rom' });
    const unsigned = disk.slice();
    unsigned[511] = 0;
    attachBootDisk(m.io, unsigned);
    expect(m.run(20_000_000).reason).toBe('halt');
    expect(m.consoleText()).toBe('Ringside BIOS: the boot sector has no 55 AA signature\r\n');
  });

  it('reports a machine without a disk and halts', () => {
    const m = new Machine({ memoryMB: 16 });
    m.load(biosImage({ memorySize: 16 * MiB }), { format: 'rom' });
    expect(m.run(20_000_000).reason).toBe('halt');
    expect(m.consoleText()).toBe('Ringside BIOS: no disk on the ATA primary master\r\n');
  });

  it('serves video, keyboard buffer, time, A20, memory size, configuration and disk status calls', () => {
    const { machine: m, disk: ata } = bootWithDisk(extras);
    const r = m.run(20_000_000);
    const extKb = hex((16 * MiB - MiB) / 1024, 4);
    expect(m.consoleText()).toBe(
      'mode 5003\r\n' + // AH=0Fh: 80 columns, mode 3
        'Xcursor 0A06\r\n' + // one character printed at row 10 column 5
        'cell 1E5A\r\n' + // AH=09h wrote 'Z' in 1Eh, AH=08h read it back
        'scroll 7020\r\n' + // AH=06h blanked the window with attribute 70h
        'histr 4F68\r\n' + // AH=13h wrote "hi" in 4Fh
        'kbd 1E61 1E61\r\n' + // AH=05h stored the key, AH=01h saw it, AH=00h took it
        'time ok\r\n' +
        'a20 0002 01\r\n' + // supported through port 92h, enabled
        `ext ${extKb}\r\n` + // INT 15h AH=88h
        'equip 0220\r\n' + // 80x25 colour, no diskette, no FPU, one serial port (COM1)
        'model FC\r\n' +
        'type 03 00000003 00\r\n' + // hard disk of three sectors; drive 81h does not exist
        'edd 00000003 0200\r\n' +
        'err 04 04 04 0000\r\n' + // sector not found (CHS), remembered by AH=01h, and by LBA with no block moved
        'write ok\r\n',
    );
    expect(r.reason).toBe('exit');
    expect(m.exitCode).toBe(0x22);
    // The last newline scrolled the screen up by one row (it was printed on row 24).
    expect(screenRow(m, 23)).toBe('write ok');
    expect(screenRow(m, 24)).toBe('');
    expect(screenRow(m, 9)).toBe('     Xcursor 0A06');
    expect(m.mem.peek(0xb8000 + 11 * 160 + 1, 1)).toBe(0x1e); // AH=09h's attribute; teletype kept it
    expect(m.mem.peek(0xb8000 + 21 * 160 + 1, 1)).toBe(0x4f); // AH=13h's attribute under the later "edd" line
    if (ata) {
      // The write reached the disk's copy-on-write overlay, not the image the user gave.
      expect([...ata.overlay.keys()]).toEqual([1]);
      expect(ata.readSector(1)[511]).toBe(0xa5);
      expect(ata.image[1023]).toBe(extras[1023]);
    }
  });

  it('runs unpatched as a plain ROM image, taking the memory size from the CMOS (1 MiB when there is none)', () => {
    const m = new Machine({ memoryMB: 16 });
    m.load(rawBiosImage(), { format: 'rom' });
    attachBootDisk(m.io, disk);
    // What the firmware will find: CMOS 30h/31h (KiB above 1 MiB), or an open bus reading FFh.
    const cmos = (reg: number) => (m.io.out(0x70, reg, 1), m.io.in(0x71, 1));
    const kb = cmos(0x30) | (cmos(0x31) << 8);
    const memoryMB = kb === 0xffff ? 1 : 1 + kb / 1024;
    expect(m.run(20_000_000).reason).toBe('exit');
    const e820 = m.consoleText().split('\r\n').filter((l) => l.startsWith('e820'));
    // Without the loader's map, the firmware's fixed one: low RAM, EBDA, BIOS ROM, extended RAM.
    expect(e820).toEqual([
      'e820 00000000 0009FC00 01',
      'e820 0009FC00 00000400 02',
      'e820 000F0000 00010000 02',
      ...(memoryMB > 1 ? [`e820 00100000 ${hex((memoryMB - 1) * MiB, 8)} 01`] : []),
    ]);
  });

  let nasm = true;
  try {
    execFileSync('nasm', ['-v'], { stdio: 'ignore' });
  } catch {
    nasm = false;
    console.warn('firmware boot test: nasm is not installed, so the boot fixtures were NOT checked against their sources');
  }
  for (const [name, bytes] of [
    ['bios-services', disk],
    ['bios-extras', extras],
  ] as const) {
    it.runIf(nasm)(`${name}.bin is what nasm makes of ${name}.asm`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'ringside-boot-'));
      try {
        const out = join(dir, 'b.bin');
        execFileSync('nasm', ['-f', 'bin', '-I', BOOT + '/', '-o', out, join(BOOT, `${name}.asm`)]);
        expect(Buffer.from(readFileSync(out)).equals(Buffer.from(bytes))).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
