import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../../../engine/bus/memory';
import { ImageError, loadImage } from '../../../../engine/machine/loaders';

const MiB = 0x100000;
const code = new Uint8Array([0xb0, 0x41, 0xe6, 0xe9, 0xf4]);

describe('flat binary', () => {
  it('goes to 0x7C00 and starts there in real mode with CS = 0 and a stack below it', () => {
    const mem = new PhysicalMemory(MiB);
    const img = loadImage(mem, code, { format: 'bin' });
    expect(mem.readBytes(0x7c00, code.length)).toEqual(code);
    expect(img.start).toEqual({ kind: 'real', cs: 0, ip: 0x7c00, ss: 0, sp: 0x7000 });
    expect(img.segments).toEqual([{ addr: 0x7c00, size: 5, name: 'binary' }]);
  });

  it('splits an entry above 64 KiB into segment and offset', () => {
    const mem = new PhysicalMemory(MiB);
    const img = loadImage(mem, code, { format: 'bin', loadAddress: 0x23450, entry: 0x23452 });
    expect(img.start).toMatchObject({ kind: 'real', cs: 0x2345, ip: 2 });
    expect(mem.peek(0x23450, 1)).toBe(0xb0);
  });

  it('moves the stack when the image covers 0x6000-0x7000', () => {
    const mem = new PhysicalMemory(MiB);
    const img = loadImage(mem, new Uint8Array(0x2000), { format: 'bin', loadAddress: 0x5000 });
    expect(img.start).toMatchObject({ ss: 0x9000, sp: 0xfc00 });
  });

  it('starts flat 32-bit at the entry in protected mode', () => {
    const mem = new PhysicalMemory(2 * MiB);
    const img = loadImage(mem, code, { format: 'bin', loadAddress: MiB, mode: 'protected' });
    expect(img.start).toEqual({ kind: 'flat32', eip: MiB, esp: 0x90000 });
  });

  it('rejects an image that does not fit, an unreachable real-mode entry and an empty file', () => {
    const mem = new PhysicalMemory(MiB);
    expect(() => loadImage(mem, code, { format: 'bin', loadAddress: MiB - 2 })).toThrow(/lies outside the 1 MiB/);
    const big = new PhysicalMemory(4 * MiB);
    expect(() => loadImage(big, code, { format: 'bin', loadAddress: 0x200000 })).toThrow(ImageError);
    expect(() => loadImage(mem, new Uint8Array(0), { format: 'bin' })).toThrow(/empty/);
    expect(() => loadImage(mem, code, { format: 'bin', loadAddress: -1 })).toThrow(/not a 32-bit address/);
  });
});

describe('ROM image', () => {
  function rom(size: number): Uint8Array {
    const r = new Uint8Array(size);
    for (let i = 0; i < size; i++) r[i] = (i * 7) & 0xff;
    return r;
  }

  for (const size of [0x10000, 0x20000]) {
    it(`maps ${size / 1024} KiB so its last byte is at 0xFFFFF and 0xFFFFFFFF, read-only`, () => {
      const mem = new PhysicalMemory(16 * MiB);
      const r = rom(size);
      const img = loadImage(mem, r, {});
      expect(img.format).toBe('rom');
      expect(img.start).toEqual({ kind: 'reset' });
      expect(mem.readBytes(MiB - size, size)).toEqual(r);
      expect(mem.readBytes(0x1_0000_0000 - size, size)).toEqual(r);
      expect(mem.peek(0xfffff, 1)).toBe(r[size - 1]);
      expect(mem.peek(0xfffffff0, 1)).toBe(r[size - 16]);
      mem.write8(0xffff0, r[size - 16] ^ 0xff);
      expect(mem.read8(0xffff0)).toBe(r[size - 16]);
      expect(img.segments.map((s) => s.addr)).toEqual([MiB - size, 0x1_0000_0000 - size]);
    });
  }

  it('rejects a wrong size given with --format rom, and too little memory', () => {
    const mem = new PhysicalMemory(16 * MiB);
    expect(() => loadImage(mem, new Uint8Array(0x8000), { format: 'rom' })).toThrow(/64 KiB or 128 KiB, this one is 32768 bytes/);
    expect(() => loadImage(new PhysicalMemory(512 * 1024), rom(0x10000), { format: 'rom' })).toThrow(/at least 1 MiB/);
  });
});
