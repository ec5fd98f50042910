// PCI configuration mechanism #1 at 0CF8h/0CFCh: a scan of bus 0 as an OS does it finds the 440FX host bridge,
// the PIIX3 ISA bridge and its IDE function in compatibility mode; byte, word and dword accesses; absent
// functions read all ones; read-only fields stay; the reset control register at 0CF9h.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';

function machine() {
  const m = new Machine({ memoryMB: 4 });
  const address = (dev: number, fn: number, reg: number) => (0x80000000 | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
  const read = (dev: number, fn: number, reg: number, size = 4) => {
    m.io.out(0xcf8, address(dev, fn, reg), 4);
    return m.io.in(0xcfc + (reg & 3), size);
  };
  const write = (dev: number, fn: number, reg: number, value: number, size = 4) => {
    m.io.out(0xcf8, address(dev, fn, reg), 4);
    m.io.out(0xcfc + (reg & 3), value, size);
  };
  return { m, read, write };
}

describe('PCI configuration mechanism #1', () => {
  it('a bus-0 scan finds 8086:1237, 8086:7000 (multi-function) and 8086:7010 with their class codes, nothing else', () => {
    const { read } = machine();
    const found: string[] = [];
    for (let dev = 0; dev < 32; dev++) {
      for (let fn = 0; fn < 8; fn++) {
        const id = read(dev, fn, 0);
        if (id === 0xffffffff) {
          if (fn === 0) break;
          continue;
        }
        const cls = read(dev, fn, 8) >>> 8;
        found.push(`${dev}.${fn} ${(id & 0xffff).toString(16)}:${(id >>> 16).toString(16)} ${cls.toString(16).padStart(6, '0')}`);
        if (fn === 0 && (read(dev, 0, 0x0e, 1) & 0x80) === 0) break;
      }
    }
    expect(found).toEqual(['0.0 8086:1237 060000', '1.0 8086:7000 060100', '1.1 8086:7010 010180']);
  });

  it('the IDE function is in compatibility mode: prog-if 80h, BARs 0-4 read 0 even after a sizing write, IRQ 14, decode enabled', () => {
    const { read, write } = machine();
    expect(read(1, 1, 0x09, 1)).toBe(0x80); // bits 0 and 2 clear: both channels legacy
    for (let bar = 0x10; bar <= 0x20; bar += 4) {
      write(1, 1, bar, 0xffffffff);
      expect(read(1, 1, bar)).toBe(0);
    }
    expect(read(1, 1, 0x3c, 1)).toBe(14);
    expect(read(1, 1, 0x04, 2) & 1).toBe(1); // I/O space enabled
    expect(read(1, 1, 0x40, 2)).toBe(0x8000);
    expect(read(1, 1, 0x42, 2)).toBe(0x8000);
  });

  it('byte, word and dword accesses see the same bytes; ids are read-only; the interrupt line is writable', () => {
    const { read, write } = machine();
    expect(read(0, 0, 0, 1)).toBe(0x86);
    expect(read(0, 0, 1, 1)).toBe(0x80);
    expect(read(0, 0, 2, 2)).toBe(0x1237);
    expect(read(0, 0, 0, 2)).toBe(0x8086);
    write(0, 0, 0, 0x12345678);
    expect(read(0, 0, 0)).toBe(0x12378086);
    write(1, 0, 0x3c, 0x0b, 1);
    expect(read(1, 0, 0x3c, 1)).toBe(0x0b);
    write(1, 0, 0x60, 0x0a, 1); // PIRQA → IRQ 10, routing enabled
    expect(read(1, 0, 0x60, 1)).toBe(0x0a);
  });

  it('with the enable bit clear or at an absent function, CONFIG_DATA reads all ones; CONFIG_ADDRESS reads back', () => {
    const { m, read } = machine();
    m.io.out(0xcf8, 0x00000000, 4);
    expect(m.io.in(0xcfc, 4)).toBe(0xffffffff);
    expect(m.io.in(0xcf8, 4)).toBe(0);
    expect(read(5, 0, 0)).toBe(0xffffffff);
    expect(read(0, 3, 0, 2)).toBe(0xffff);
    m.io.out(0xcf8, 0x80000804, 4);
    expect(m.io.in(0xcf8, 4)).toBe(0x80000804);
  });

  it('writing 06h to the reset control register at 0CF9h resets the CPU', () => {
    const { m } = machine();
    m.load(new Uint8Array([0xb0, 0x06, 0xba, 0xf9, 0x0c, 0xee, 0xf4]), { format: 'bin' });
    m.run(100);
    expect(m.resets).toBe(1);
  });

  it('is part of machine snapshots', () => {
    const { m, read, write } = machine();
    write(1, 0, 0x60, 0x05, 1);
    const snap = m.snapshot();
    write(1, 0, 0x60, 0x80, 1);
    m.restore(snap);
    expect(read(1, 0, 0x60, 1)).toBe(0x05);
  });
});
