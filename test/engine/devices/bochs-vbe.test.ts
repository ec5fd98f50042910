// VBE: the firmware's INT 10h 4F00h/4F01h/4F02h/4F03h through a boot-loader-like guest (fixtures/boot/vbe-probe),
// the Bochs VBE registers at 1CEh/1CFh as Linux drives them, the framebuffer at 0xE0000000 and the display
// accessor the screen code reads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';

const probe = new Uint8Array(readFileSync(join(__dirname, '..', '..', 'fixtures', 'boot', 'vbe-probe.bin')));

function dispi(m: Machine) {
  return {
    write: (index: number, value: number) => (m.io.out(0x1ce, index, 2), m.io.out(0x1cf, value, 2)),
    read: (index: number) => (m.io.out(0x1ce, index, 2), m.io.in(0x1cf, 2)),
  };
}

describe('VBE through the firmware', () => {
  it('reports VBE 3.0, 8 MiB and three 32-bpp linear modes, sets 1024x768 and the guest draws into the framebuffer', () => {
    const m = new Machine({ memoryMB: 16 });
    m.load(probe);
    expect(m.run(5_000_000).reason).toBe('exit');
    expect(m.exitCode).toBe(0);
    expect(m.consoleText().split('\r\n')).toEqual([
      '004F VESA 0300 0080',
      '0140 004F 0280x01E0x20 0A00 E0000000 009B', // 640x480x32, pitch 2560
      '0141 004F 0320x0258x20 0C80 E0000000 009B', // 800x600x32
      '0142 004F 0400x0300x20 1000 E0000000 009B', // 1024x768x32
      'S 004F 4142 ', // set: success; current mode 142h with the LFB bit
    ]);
    const mode = m.devices.display.mode();
    expect(mode).toMatchObject({ kind: 'graphics', width: 1024, height: 768, bpp: 32, pitch: 4096 });
    if (mode.kind !== 'graphics') throw new Error('not graphics');
    const px = (x: number, y: number) => new DataView(mode.framebuffer.buffer, mode.framebuffer.byteOffset).getUint32(y * mode.pitch + x * 4, true);
    expect(px(0, 0)).toBe(0x00ff0000);
    expect(px(1023, 767)).toBe(0x0000ff00);
    expect(px(1, 0)).toBe(0);
  });

  it('INT 10h AH=00h back to a text mode turns the framebuffer off', () => {
    const m = new Machine({ memoryMB: 16 });
    m.load(probe);
    m.run(5_000_000);
    expect(m.devices.display.mode().kind).toBe('graphics');
    // What AH=00h does to the device: ENABLE = 0.
    dispi(m).write(4, 0);
    expect(m.devices.display.mode()).toEqual({ kind: 'text', cols: 80, rows: 25 });
  });
});

describe('Bochs VBE registers', () => {
  it('ID reads B0C5h and accepts B0C0h-B0C5h; VIDEO_MEMORY_64K says 8 MiB; GETCAPS reads the maxima', () => {
    const m = new Machine({ memoryMB: 4 });
    const d = dispi(m);
    expect(d.read(0)).toBe(0xb0c5);
    d.write(0, 0xb0c2);
    expect(d.read(0)).toBe(0xb0c2);
    d.write(0, 0x1234);
    expect(d.read(0)).toBe(0xb0c2);
    expect(d.read(10)).toBe(128);
    d.write(4, 0x02);
    expect([d.read(1), d.read(2), d.read(3)]).toEqual([1600, 1200, 32]);
  });

  it('a mode set as Linux bochs drivers do it: geometry while disabled, ENABLE|LFB, virtual width, panning', () => {
    const m = new Machine({ memoryMB: 4 });
    const d = dispi(m);
    d.write(4, 0);
    d.write(1, 800);
    d.write(2, 600);
    d.write(3, 16);
    d.write(4, 0x41);
    expect(d.read(6)).toBe(800);
    expect(d.read(7)).toBe(Math.floor((8 << 20) / 1600));
    d.write(1, 640); // ignored while enabled
    expect(d.read(1)).toBe(800);
    d.write(6, 1024);
    d.write(9, 10);
    const mode = m.devices.display.mode();
    expect(mode).toMatchObject({ kind: 'graphics', width: 800, height: 600, bpp: 16, pitch: 2048 });
    if (mode.kind === 'graphics') expect(mode.framebuffer.byteOffset).toBe(10 * 2048);
  });

  it('the framebuffer is guest memory at 0xE0000000 (bytes and dwords), cleared by ENABLE unless NOCLEARMEM, and in snapshots', () => {
    const m = new Machine({ memoryMB: 4 });
    const d = dispi(m);
    m.mem.write32(0xe0000000, 0x11223344);
    m.mem.write8(0xe0000005, 0x55);
    expect(m.mem.read8(0xe0000001)).toBe(0x33);
    expect(m.mem.read32(0xe0000004) >>> 0).toBe(0x5500);
    const snap = m.snapshot();
    d.write(4, 0x41 | 0x80); // keep memory
    expect(m.mem.read32(0xe0000000) >>> 0).toBe(0x11223344);
    d.write(4, 0);
    d.write(4, 0x41); // clear
    expect(m.mem.read32(0xe0000000)).toBe(0);
    m.restore(snap);
    expect(m.mem.read32(0xe0000000) >>> 0).toBe(0x11223344);
    expect(m.devices.display.mode().kind).toBe('text');
  });
});
