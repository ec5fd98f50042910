// 8042 keyboard controller (0x60/0x64) and port 92h, through the port bus.
import { describe, expect, it } from 'vitest';
import { KeyboardController } from '../../../engine/devices/keyboard-controller';
import { SystemPortA } from '../../../engine/devices/system-port-a';
import { Rig } from './rig';

function setup() {
  const rig = new Rig();
  const a20: boolean[] = [];
  let resets = 0;
  const kbc = new KeyboardController({
    setIrq: (n, level) => rig.irq(n)(level),
    setA20: (on) => a20.push(on),
    resetCpu: () => resets++,
  });
  kbc.attach(rig.io);
  const readData = () => rig.in(0x60);
  return { rig, kbc, a20, resets: () => resets, readData };
}

describe('8042 keyboard controller', () => {
  it('writes the output port with D1h: bit 1 is the A20 gate; D0h reads it back', () => {
    const { rig, kbc, a20, readData } = setup();
    expect(kbc.a20).toBe(true);
    rig.out(0x64, 0xd1);
    rig.out(0x60, 0xdd); // A20 off, reset line high
    expect(a20).toEqual([false]);
    rig.out(0x64, 0xd0);
    expect(rig.in(0x64) & 0x01).toBe(0x01);
    expect(readData() & 0x03).toBe(0x01);
    rig.out(0x64, 0xd1);
    rig.out(0x60, 0xdf);
    expect(a20).toEqual([false, true]);
  });

  it('resets the CPU on the FEh pulse and when the output port reset bit is written 0', () => {
    const { rig, resets } = setup();
    rig.out(0x64, 0xfe);
    expect(resets()).toBe(1);
    rig.out(0x64, 0xff); // pulses no line
    expect(resets()).toBe(1);
    rig.out(0x64, 0xd1);
    rig.out(0x60, 0xde);
    expect(resets()).toBe(2);
  });

  it('answers the self tests and reads and writes the command byte; IRQ 1 follows a full output buffer', () => {
    const { rig, readData } = setup();
    rig.out(0x64, 0xaa);
    expect(rig.in(0x64) & 0x09).toBe(0x09); // OBF, last write was a command
    expect(rig.levels.get(1)).toBe(true);
    expect(readData()).toBe(0x55);
    expect(rig.levels.get(1)).toBe(false);
    expect(rig.in(0x64) & 0x01).toBe(0);
    rig.out(0x64, 0x60);
    rig.out(0x60, 0x64); // command byte: IRQ 1 off, system flag, translation
    rig.out(0x64, 0x20);
    expect(rig.levels.get(1)).toBe(false);
    expect(readData()).toBe(0x64);
    expect(rig.in(0x64) & 0x04).toBe(0x04); // system flag
    rig.out(0x64, 0xab);
    expect(readData()).toBe(0x00);
  });

  it('passes keyboard commands to the keyboard: reset, echo, LEDs, identify; unknown ones get FEh', () => {
    const { rig, readData } = setup();
    rig.out(0x60, 0xff);
    expect([readData(), readData()]).toEqual([0xfa, 0xaa]);
    rig.out(0x60, 0xee);
    expect(readData()).toBe(0xee);
    rig.out(0x60, 0xed);
    expect(readData()).toBe(0xfa);
    rig.out(0x60, 0x07);
    expect(readData()).toBe(0xfa);
    rig.out(0x60, 0x12);
    expect(readData()).toBe(0xfe);
    // Each queued byte makes its own IRQ 1 edge as the previous one is read.
    rig.out(0x60, 0xf2);
    readData();
    readData();
    readData();
    expect(rig.rises(1).length).toBe(9); // FA AA, EE, FA, FA, FE, FA AB 41
  });

  it('ignores controller commands it does not know; an empty buffer reads as the last byte', () => {
    const { rig, readData } = setup();
    rig.out(0x64, 0xaa);
    expect(readData()).toBe(0x55);
    rig.out(0x64, 0x03);
    rig.out(0x64, 0xc8);
    expect(rig.in(0x64) & 0x01).toBe(0);
    expect(readData()).toBe(0x55);
  });

  it('delivers host scan codes with IRQ 1, and none while the keyboard is disabled', () => {
    const { rig, kbc, readData } = setup();
    kbc.keyboardInput([0x1e, 0x9e]);
    expect(rig.levels.get(1)).toBe(true);
    expect([readData(), readData()]).toEqual([0x1e, 0x9e]);
    rig.out(0x64, 0xad);
    kbc.keyboardInput([0x1e]);
    expect(rig.in(0x64) & 0x01).toBe(0);
  });

  it('restores a snapshot', () => {
    const { rig, kbc, readData } = setup();
    rig.out(0x64, 0xd1);
    const snap = kbc.snapshot();
    rig.out(0x60, 0xdd);
    kbc.restore(snap);
    expect(kbc.a20).toBe(true);
    rig.out(0x60, 0xdd); // the pending D1h argument came back too
    expect(kbc.a20).toBe(false);
    expect(readData()).toBe(0);
  });
});

describe('port 92h', () => {
  it('drives the fast A20 gate from bit 1 and resets the CPU when bit 0 goes from 0 to 1', () => {
    const rig = new Rig();
    const a20: boolean[] = [];
    let resets = 0;
    const port = new SystemPortA((on) => a20.push(on), () => resets++);
    port.attach(rig.io);
    rig.out(0x92, 0x02);
    expect(a20).toEqual([true]);
    expect(rig.in(0x92)).toBe(0x02);
    rig.out(0x92, 0x03);
    expect(resets).toBe(1);
    rig.out(0x92, 0x03); // already 1: no new pulse
    expect(resets).toBe(1);
    rig.out(0x92, 0xf0); // undefined bits are dropped
    expect(rig.in(0x92)).toBe(0x00);
    expect(a20).toEqual([true, false]);
  });
});
