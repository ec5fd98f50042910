// MC146818A RTC and CMOS RAM at 0x70/0x71, on a clock the test moves (9 545 456 instructions per second).
import { describe, expect, it } from 'vitest';
import { CmosRtc, DEFAULT_RTC_START } from '../../../engine/devices/cmos-rtc';
import { INSTRUCTIONS_PER_SECOND as SECOND } from '../../../engine/machine/scheduler';
import { Rig } from './rig';

const MiB = 0x100000;

function setup(memorySize = 16 * MiB, startTime?: number) {
  const rig = new Rig();
  const cmos = new CmosRtc(rig.scheduler, rig.irq(8), { memorySize, startTime });
  cmos.attach(rig.io);
  const read = (reg: number) => (rig.out(0x70, reg), rig.in(0x71));
  const write = (reg: number, v: number) => {
    rig.out(0x70, reg);
    rig.out(0x71, v);
  };
  return { rig, cmos, read, write };
}

const TIME_REGS = [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32];

describe('CMOS / RTC', () => {
  it('starts at the fixed default time, 2024-01-01 00:00:00 (a Monday), in BCD and 24-hour form', () => {
    const { read } = setup();
    expect(DEFAULT_RTC_START).toBe(1704067200);
    expect(TIME_REGS.map(read)).toEqual([0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x24, 0x20]);
    expect(read(0x0a)).toBe(0x26);
    expect(read(0x0b)).toBe(0x02);
    expect(read(0x0d)).toBe(0x80);
  });

  it('advances with virtual time only', () => {
    const { rig, read } = setup(16 * MiB, Date.UTC(1999, 11, 31, 23, 59, 58) / 1000);
    expect(TIME_REGS.map(read)).toEqual([0x58, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19]);
    rig.advanceTo(2 * SECOND - 1);
    expect(read(0x00)).toBe(0x59);
    rig.advanceTo(2 * SECOND);
    expect(TIME_REGS.map(read)).toEqual([0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20]);
  });

  it('gives binary values and 12-hour hours with the PM bit as register B asks', () => {
    const { read, write } = setup(16 * MiB, Date.UTC(2024, 4, 17, 13, 45, 30) / 1000);
    write(0x0b, 0x04); // binary, 12-hour
    expect([read(0x00), read(0x02), read(0x04), read(0x09)]).toEqual([30, 45, 0x80 | 1, 24]);
    write(0x0b, 0x00); // BCD, 12-hour
    expect(read(0x04)).toBe(0x81);
    write(0x0b, 0x02);
    expect(read(0x04)).toBe(0x13);
  });

  it('sets the time from guest writes and stops counting while SET is on', () => {
    const { rig, read, write } = setup();
    write(0x0b, 0x82); // SET
    write(0x04, 0x17);
    write(0x02, 0x30);
    write(0x00, 0x05);
    write(0x09, 0x31);
    rig.advanceTo(5 * SECOND);
    expect([read(0x00), read(0x02), read(0x04), read(0x09)]).toEqual([0x05, 0x30, 0x17, 0x31]);
    write(0x0b, 0x02);
    rig.advanceTo(7 * SECOND);
    expect(read(0x00)).toBe(0x07);
    write(0x06, 0x05); // the guest's idea of the weekday is kept
    expect(read(0x06)).toBe(0x05);
  });

  it('raises UIP in the last 244 µs before each update', () => {
    const { rig, read } = setup();
    rig.advanceTo(SECOND - 2400);
    expect(read(0x0a) & 0x80).toBe(0);
    rig.advanceTo(SECOND - 2000);
    expect(read(0x0a) & 0x80).toBe(0x80);
    rig.advanceTo(SECOND);
    expect(read(0x0a) & 0x80).toBe(0);
  });

  it('interrupts periodically on IRQ 8 with PIE; reading C acknowledges, and no edge comes until it is read', () => {
    const { rig, read, write } = setup();
    write(0x0b, 0x42); // PIE, 24-hour; rate 6 = 1024 Hz
    rig.advanceTo(SECOND / 100);
    const rises = rig.rises(8);
    expect(rises).toEqual([Math.ceil(SECOND / 1024)]); // held high until C is read
    expect(read(0x0c)).toBe(0xc0); // IRQF | PF
    expect(rig.levels.get(8)).toBe(false);
    expect(read(0x0c)).toBe(0x00);
    rig.advanceTo(SECOND / 100 + SECOND / 1024 + 1);
    expect(rig.rises(8).length).toBe(2);
  });

  it('interrupts on the update with UIE and on the alarm with AIE', () => {
    const { rig, read, write } = setup();
    write(0x01, 0x03); // alarm at hh:mm:03 with don't-care hours and minutes
    write(0x03, 0xc0);
    write(0x05, 0xff);
    write(0x0b, 0x22); // AIE
    rig.advanceTo(2 * SECOND + 5);
    expect(rig.rises(8)).toEqual([]);
    rig.advanceTo(3 * SECOND);
    expect(rig.rises(8)).toEqual([3 * SECOND]);
    expect(read(0x0c)).toBe(0xf0); // IRQF | AF | UF, and PF, which the 1024 Hz rate sets even without PIE
    write(0x0b, 0x12); // UIE
    rig.advanceTo(4 * SECOND);
    expect(rig.rises(8)).toEqual([3 * SECOND, 4 * SECOND]);
    expect(read(0x0c)).toBe(0xd0); // IRQF | UF | PF
  });

  it('holds the clock while the divider is in reset and updates 500 ms after release', () => {
    const { rig, read, write } = setup();
    write(0x0a, 0x66);
    rig.advanceTo(10 * SECOND);
    expect(read(0x00)).toBe(0x00);
    write(0x0a, 0x26);
    rig.advanceTo(10 * SECOND + SECOND / 2);
    expect(read(0x00)).toBe(0x01);
  });

  it('reports memory sizes: 640 KiB base, KiB above 1 MiB, 64 KiB blocks above 16 MiB, and a checksum', () => {
    const small = setup(16 * MiB);
    const word = (r: (reg: number) => number, reg: number) => r(reg) | (r(reg + 1) << 8);
    expect(word(small.read, 0x15)).toBe(640);
    expect(word(small.read, 0x17)).toBe(15 * 1024);
    expect(word(small.read, 0x30)).toBe(15 * 1024);
    expect(word(small.read, 0x34)).toBe(0);
    const big = setup(256 * MiB);
    expect(word(big.read, 0x30)).toBe(0xfc00); // capped at 63 MiB
    expect(word(big.read, 0x34)).toBe((240 * MiB) / 0x10000);
    let sum = 0;
    for (let r = 0x10; r <= 0x2d; r++) sum += big.read(r);
    expect((big.read(0x2e) << 8) | big.read(0x2f)).toBe(sum);
  });

  it('takes bit 7 of the index as the NMI mask; the index port reads FFh; C and D ignore writes', () => {
    const { rig, cmos, read, write } = setup();
    rig.out(0x70, 0x8f);
    expect(cmos.nmiMasked).toBe(true);
    expect(rig.in(0x70)).toBe(0xff);
    rig.out(0x71, 0x0a); // shutdown status byte, written through the masked index
    rig.out(0x70, 0x0f);
    expect(cmos.nmiMasked).toBe(false);
    expect(rig.in(0x71)).toBe(0x0a);
    write(0x0d, 0x00);
    write(0x0c, 0xff);
    expect(read(0x0d)).toBe(0x80);
    expect(read(0x0c)).toBe(0x00);
    expect(read(0x7f)).toBe(0x00); // plain CMOS RAM
  });

  it('normalises impossible dates written by the guest instead of failing', () => {
    const { read, write } = setup();
    write(0x0b, 0x06); // binary
    write(0x08, 13); // month 13 → January of the next year
    expect([read(0x08), read(0x09)]).toEqual([1, 25]);
    write(0x07, 0);
    expect(read(0x07)).toBe(31); // day 0 → the last day of the previous month
  });

  it('restores a snapshot', () => {
    const { rig, cmos, read, write } = setup();
    rig.advanceTo(5 * SECOND);
    const snap = cmos.snapshot();
    write(0x0b, 0x86);
    write(0x00, 42);
    rig.advanceTo(9 * SECOND);
    rig.time = 5 * SECOND;
    cmos.restore(snap);
    expect(read(0x00)).toBe(0x05);
    expect(read(0x0b)).toBe(0x02);
  });
});
