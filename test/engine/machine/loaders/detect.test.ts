import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../../../engine/machine/loaders';
import { fixture } from './fixtures';

function bootSector(size = 512): Uint8Array {
  const b = new Uint8Array(size);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

describe('detectFormat', () => {
  it('tells ELF from Multiboot ELF by the header in the first 8 KiB', () => {
    expect(detectFormat(fixture('elf', 'hello.elf'))).toBe('elf');
    expect(detectFormat(fixture('elf', 'multiboot.elf'))).toBe('multiboot');
  });

  it('recognises a non-ELF Multiboot image only with the a.out kludge flag', () => {
    expect(detectFormat(fixture('elf', 'multiboot-aout.bin'))).toBe('multiboot');
    const noKludge = new Uint8Array(64);
    const v = new DataView(noKludge.buffer);
    v.setUint32(0, 0x1badb002, true);
    v.setUint32(4, 0x3, true);
    v.setUint32(8, (-(0x1badb002 + 3)) >>> 0, true);
    expect(detectFormat(noKludge)).toBe('bin');
  });

  it('ignores a Multiboot header whose checksum is wrong', () => {
    const img = fixture('elf', 'multiboot-aout.bin').slice();
    img[8] ^= 1;
    expect(detectFormat(img)).toBe('bin');
  });

  it('takes exactly 64 or 128 KiB as a ROM', () => {
    expect(detectFormat(new Uint8Array(0x10000))).toBe('rom');
    expect(detectFormat(new Uint8Array(0x20000))).toBe('rom');
    expect(detectFormat(new Uint8Array(0x10000 + 512))).toBe('bin');
  });

  it('takes a signed sector or a whole-sector disk image as boot', () => {
    expect(detectFormat(bootSector())).toBe('boot');
    expect(detectFormat(bootSector(1474560))).toBe('boot');
    expect(detectFormat(bootSector(4096))).toBe('boot');
    expect(detectFormat(bootSector(513))).toBe('bin');
    expect(detectFormat(new Uint8Array(512))).toBe('bin');
  });

  it('falls back to a flat binary', () => {
    expect(detectFormat(new Uint8Array([0xf4]))).toBe('bin');
  });
});
