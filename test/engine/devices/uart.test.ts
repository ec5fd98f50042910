// 16550A UART as COM1 (0x3F8–0x3FF, IRQ 4) through the port bus, on a clock the test moves.
import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../../engine/devices/uart';
import { Rig } from './rig';

const THR = 0x3f8;
const IER = 0x3f9;
const IIR = 0x3fa;
const FCR = 0x3fa;
const LCR = 0x3fb;
const MCR = 0x3fc;
const LSR = 0x3fd;
const MSR = 0x3fe;
const SCR = 0x3ff;

function setup() {
  const rig = new Rig();
  const sent: number[] = [];
  const uart = new Uart16550(rig.scheduler, (b) => sent.push(b), rig.irq(4));
  uart.attach(rig.io);
  return { rig, uart, sent };
}

/** 115200 baud 8N1: one character is 10 bits × 16 × 1 / 1.8432 MHz, in instructions. */
function fast(rig: Rig): void {
  rig.out(LCR, 0x80);
  rig.out(THR, 1);
  rig.out(IER, 0);
  rig.out(LCR, 0x03);
}

describe('16550A UART', () => {
  it('sends THR writes to the host at once; THR stays empty', () => {
    const { rig, sent } = setup();
    expect(rig.in(LSR)).toBe(0x60);
    for (const c of 'ok\n') rig.out(THR, c.charCodeAt(0));
    expect(Buffer.from(sent).toString()).toBe('ok\n');
    expect(rig.in(LSR) & 0x60).toBe(0x60);
  });

  it('keeps the divisor behind DLAB and has a scratch register', () => {
    const { rig, uart } = setup();
    rig.out(LCR, 0x83);
    rig.out(THR, 0x34);
    rig.out(IER, 0x12);
    expect([rig.in(THR), rig.in(IER)]).toEqual([0x34, 0x12]);
    expect(uart.divisor).toBe(0x1234);
    rig.out(LCR, 0x03);
    expect(rig.in(IER)).toBe(0x00);
    rig.out(SCR, 0x5a);
    expect(rig.in(SCR)).toBe(0x5a);
    expect(rig.in(LCR)).toBe(0x03);
  });

  it('receives host bytes one character time apart and raises RDA through OUT2 on IRQ 4', () => {
    const { rig, uart } = setup();
    fast(rig);
    const ct = uart.characterTime();
    expect(ct).toBe(Math.round((10 * 16 * 9_545_456) / 1_843_200));
    rig.out(IER, 0x01);
    rig.out(MCR, 0x0b); // DTR, RTS, OUT2
    uart.receive([0x41, 0x42]);
    rig.advance(ct - 1);
    expect(rig.in(LSR) & 0x01).toBe(0);
    rig.advance(1);
    expect(rig.in(LSR) & 0x01).toBe(1);
    expect(rig.levels.get(4)).toBe(true);
    expect(rig.in(IIR)).toBe(0x04);
    expect(rig.in(THR)).toBe(0x41);
    expect(rig.levels.get(4)).toBe(false);
    expect(rig.in(IIR)).toBe(0x01);
    rig.advance(ct);
    expect(rig.in(THR)).toBe(0x42);
  });

  it('gives no IRQ without OUT2, though IIR shows the interrupt', () => {
    const { rig, uart } = setup();
    fast(rig);
    rig.out(IER, 0x01);
    uart.receive([0x41]);
    rig.advance(uart.characterTime());
    expect(rig.in(IIR)).toBe(0x04);
    expect(rig.levels.get(4)).toBeUndefined();
  });

  it('raises THRE when ETBEI is enabled with THR empty; reading IIR clears it and a THR write brings it back', () => {
    const { rig } = setup();
    rig.out(MCR, 0x08);
    rig.out(IER, 0x02);
    expect(rig.levels.get(4)).toBe(true);
    expect(rig.in(IIR)).toBe(0x02);
    expect(rig.levels.get(4)).toBe(false);
    expect(rig.in(IIR)).toBe(0x01);
    rig.out(THR, 0x21);
    expect(rig.in(IIR)).toBe(0x02);
    // A handler that writes THR without reading IIR first still sees a new edge for the next byte.
    expect(rig.levels.get(4)).toBe(false);
    rig.out(IER, 0x00);
    rig.out(IER, 0x02);
    const before = rig.rises(4).length;
    rig.out(THR, 0x22);
    expect(rig.rises(4).length).toBe(before + 1);
  });

  it('uses the FIFO trigger level for RDA and the character timeout below it', () => {
    const { rig, uart } = setup();
    fast(rig);
    rig.out(FCR, 0x47); // FIFOs on and cleared, trigger level 4
    rig.out(IER, 0x01);
    const ct = uart.characterTime();
    uart.receive([1, 2, 3]);
    rig.advance(3 * ct);
    expect(rig.in(IIR)).toBe(0xc1); // 3 < 4: nothing yet; FIFO bits set
    rig.advance(4 * ct);
    expect(rig.in(IIR)).toBe(0xcc); // character timeout
    expect(rig.in(THR)).toBe(1);
    expect(rig.in(IIR)).toBe(0xc1); // reading cleared the timeout
    uart.receive([4, 5, 6]);
    rig.advance(3 * ct);
    expect(rig.in(IIR)).toBe(0xc4); // 5 bytes ≥ 4
  });

  it('flags an overrun without FIFOs and reports it as a line status interrupt', () => {
    const { rig, uart } = setup();
    fast(rig);
    rig.out(IER, 0x05);
    uart.receive([1, 2]);
    rig.advance(2 * uart.characterTime());
    expect(rig.in(IIR)).toBe(0x06);
    expect(rig.in(LSR) & 0x03).toBe(0x03); // DR, OE
    expect(rig.in(LSR) & 0x02).toBe(0); // reading LSR cleared OE
    expect(rig.in(THR)).toBe(2); // the holding register has the later byte
  });

  it('loops THR back to RBR and MCR to MSR in loopback mode, with no IRQ and nothing sent', () => {
    const { rig, sent } = setup();
    rig.out(MCR, 0x10 | 0x08 | 0x01);
    rig.out(IER, 0x01);
    rig.out(THR, 0x99);
    expect(sent).toEqual([]);
    expect(rig.in(LSR) & 0x01).toBe(1);
    expect(rig.in(THR)).toBe(0x99);
    expect(rig.levels.get(4)).toBeUndefined();
    expect(rig.in(MSR) & 0xf0).toBe(0x20 | 0x80); // DSR from DTR, DCD from OUT2
    rig.out(MCR, 0x00);
    expect(rig.in(MSR)).toBe(0xb0 | 0x01); // the host's CTS, DSR, DCD; only CTS changed
    expect(rig.in(MSR)).toBe(0xb0);
  });

  it('with a divisor of 0 sends nothing and receives nothing until a valid divisor is set', () => {
    const { rig, uart, sent } = setup();
    rig.out(FCR, 0x01);
    rig.out(LCR, 0x80);
    rig.out(THR, 0);
    rig.out(IER, 0);
    rig.out(LCR, 0x03);
    expect(uart.characterTime()).toBe(0);
    rig.out(THR, 0x31);
    rig.out(THR, 0x32);
    expect(sent).toEqual([]);
    expect(rig.in(LSR) & 0x60).toBe(0);
    uart.receive([7]);
    rig.advance(10_000_000);
    expect(rig.in(LSR) & 0x01).toBe(0);
    rig.out(LCR, 0x80);
    rig.out(THR, 12);
    rig.out(LCR, 0x03);
    expect(sent).toEqual([0x31, 0x32]);
    rig.advance(uart.characterTime());
    expect(rig.in(THR)).toBe(7);
  });

  it('ignores writes to LSR and MSR', () => {
    const { rig } = setup();
    rig.out(LSR, 0x1f);
    rig.out(MSR, 0x0f);
    expect(rig.in(LSR)).toBe(0x60);
    expect(rig.in(MSR) & 0x0f).toBe(0);
  });

  it('restores a snapshot, host bytes in flight included', () => {
    const { rig, uart } = setup();
    fast(rig);
    rig.out(FCR, 0x01);
    uart.receive([1, 2, 3]);
    rig.advance(uart.characterTime());
    const snap = uart.snapshot();
    const timers = rig.scheduler.snapshot();
    const t = rig.time;
    rig.advance(5 * uart.characterTime());
    rig.in(THR);
    rig.time = t;
    uart.restore(snap);
    rig.scheduler.restore(timers);
    rig.advance(2 * uart.characterTime());
    expect([rig.in(THR), rig.in(THR), rig.in(THR)]).toEqual([1, 2, 3]);
  });
});
