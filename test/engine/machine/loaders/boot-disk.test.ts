import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../../../engine/bus/memory';
import { loadImage } from '../../../../engine/machine/loaders';
import { configOffset, rawBiosImage } from '../../../../engine/machine/firmware';

const MiB = 0x100000;

function disk(size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = (i * 13 + 5) & 0xff;
  d[510] = 0x55;
  d[511] = 0xaa;
  return d;
}

describe('boot image', () => {
  it('maps the firmware at 0xF0000 and below 4 GiB, starts from reset and hands the disk over', () => {
    const mem = new PhysicalMemory(32 * MiB);
    const d = disk(1024);
    const img = loadImage(mem, d, {});
    expect(img.format).toBe('boot');
    expect(img.start).toEqual({ kind: 'reset' });
    expect(img.disk).toEqual(d);
    const bios = rawBiosImage();
    // The reset vector holds a far jump into the F000 segment.
    expect(mem.peek(0xffff0, 1)).toBe(0xea);
    expect(mem.peek(0xfffffff0, 1)).toBe(0xea);
    expect(mem.peek(0xffff3, 2)).toBe(0xf000);
    expect(mem.readBytes(0xf0000, 16)).toEqual(bios.subarray(0, 16));
    // The configuration block carries the memory size.
    expect(mem.peek(0xf0000 + configOffset(bios) + 4, 4)).toBe(32 * MiB);
    expect(img.segments.map((s) => s.addr)).toEqual([0xf0000, 0xffff0000, 32 * MiB - 0x10000]);
    expect(img.segments[2].name).toBe('ACPI tables');
  });

  it('pads a partial last sector with zeros', () => {
    const d = disk(700);
    const img = loadImage(new PhysicalMemory(16 * MiB), d, { format: 'boot' });
    expect(img.disk!.length).toBe(1024);
    expect(img.disk!.subarray(0, 700)).toEqual(d);
    expect(img.disk!.subarray(700).every((b) => b === 0)).toBe(true);
  });

  it('refuses a sector without the 55 AA signature and a file shorter than a sector', () => {
    const mem = new PhysicalMemory(16 * MiB);
    expect(() => loadImage(mem, new Uint8Array(512), { format: 'boot' })).toThrow(/lacks the 0x55 0xAA signature/);
    expect(() => loadImage(mem, new Uint8Array(100), { format: 'boot' })).toThrow(/at least one 512-byte sector/);
  });
});
