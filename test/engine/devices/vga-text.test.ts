// Text screen at 0xB8000 as the debugger reads it, and the CRTC cursor and status registers.
import { describe, expect, it } from 'vitest';
import { CrtController, cp437, screenText } from '../../../engine/devices/vga-text';
import { PhysicalMemory } from '../../../engine/bus/memory';
import { Rig } from './rig';

describe('VGA text', () => {
  it('reads 25 rows of 80 characters, ignoring attributes', () => {
    const mem = new PhysicalMemory(1 << 20);
    const put = (row: number, col: number, text: string) => {
      for (let i = 0; i < text.length; i++) {
        mem.write8(0xb8000 + (row * 80 + col + i) * 2, text.charCodeAt(i));
        mem.write8(0xb8000 + (row * 80 + col + i) * 2 + 1, 0x4f);
      }
    };
    put(0, 0, 'hello');
    put(24, 75, 'end!!');
    const rows = screenText(mem);
    expect(rows.length).toBe(25);
    expect(rows.every((r) => r.length === 80)).toBe(true);
    expect(rows[0].trimEnd()).toBe('hello');
    expect(rows[24].slice(75)).toBe('end!!');
    expect(rows[12]).toBe(' '.repeat(80)); // zero bytes show as blanks
    expect(screenText(mem, 80 * 24)[0].slice(75)).toBe('end!!'); // from a start address
  });

  it('maps code page 437', () => {
    expect(cp437(0x41)).toBe('A');
    expect(cp437(0x01)).toBe('☺');
    expect(cp437(0xb0)).toBe('░');
    expect(cp437(0xc9)).toBe('╔');
    expect(cp437(0xe1)).toBe('ß');
    expect(cp437(0xff)).toBe('\u00a0');
    expect(new Set(Array.from({ length: 256 }, (_, i) => cp437(i))).size).toBe(255); // only 00h and 20h share
  });

  it('keeps the CRTC cursor and start registers behind 3D4h/3D5h', () => {
    const rig = new Rig();
    const crtc = new CrtController(() => rig.time);
    crtc.attach(rig.io);
    rig.out(0x3d4, 0x0e);
    rig.out(0x3d5, 0x01);
    rig.out(0x3d4, 0x0f);
    rig.out(0x3d5, 0x45); // cell 0x145 = row 4, column 5
    expect(crtc.cursor()).toEqual({ row: 4, column: 5 });
    expect(rig.in(0x3d5)).toBe(0x45);
    expect(rig.in(0x3d4)).toBe(0x0f);
    rig.out(0x3d4, 0x0a);
    rig.out(0x3d5, 0x20); // cursor off
    expect(crtc.cursor()).toBeNull();
    rig.out(0x3d4, 0x40); // no such register
    rig.out(0x3d5, 0x12);
    expect(rig.in(0x3d5)).toBe(0xff);
  });

  it('reports vertical retrace from virtual time, 70 frames a second', () => {
    const rig = new Rig();
    new CrtController(() => rig.time).attach(rig.io);
    const frame = Math.round(9_545_456 / 70);
    const retrace: boolean[] = [];
    for (let t = 0; t < 2 * frame; t += Math.floor(frame / 20)) {
      rig.time = t;
      retrace.push((rig.in(0x3da) & 0x08) !== 0);
    }
    expect(retrace.filter(Boolean).length).toBeGreaterThan(0);
    expect(retrace.filter((r) => !r).length).toBeGreaterThan(30);
    rig.time = frame - 10;
    expect(rig.in(0x3da) & 0x09).toBe(0x09);
  });
});
