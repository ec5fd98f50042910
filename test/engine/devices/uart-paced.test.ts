// Paced host input on COM1 (--serial-in): a character leaves the host only while the receiver is empty and the
// guest takes receive interrupts, so a guest that boots for a long time before it reads loses nothing.
import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../../engine/devices/uart';
import { INSTRUCTIONS_PER_SECOND } from '../../../engine/machine/scheduler';
import { Rig } from './rig';

const THR = 0x3f8;
const IER = 0x3f9;
const LCR = 0x3fb;
const MCR = 0x3fc;
const LSR = 0x3fd;

function setup() {
  const rig = new Rig();
  const uart = new Uart16550(rig.scheduler, () => undefined, rig.irq(4));
  uart.attach(rig.io);
  rig.out(LCR, 0x80);
  rig.out(THR, 1); // 115200 baud
  rig.out(IER, 0);
  rig.out(LCR, 0x03);
  return { rig, uart };
}

describe('paced serial input', () => {
  it('waits for receive interrupts, then sends each character after the last was read', () => {
    const { rig, uart } = setup();
    uart.receive([0x61, 0x62, 0x63], true);
    rig.advance(INSTRUCTIONS_PER_SECOND); // a second of polling-free boot: nothing arrives, nothing is lost
    expect(rig.in(LSR) & 1).toBe(0);
    expect(uart.bytesWaiting).toBe(3);
    rig.out(IER, 0x01);
    rig.out(MCR, 0x0b); // DTR, RTS, OUT2: the interrupt reaches the PIC
    const got: number[] = [];
    for (let i = 0; i < 200 && got.length < 3; i++) {
      rig.advance(uart.characterTime() * 2);
      expect(rig.in(LSR) & 0x02).toBe(0); // never an overrun
      if (rig.in(LSR) & 1) got.push(rig.in(THR));
    }
    expect(got).toEqual([0x61, 0x62, 0x63]);
    expect(uart.bytesWaiting).toBe(0);
  });

  it('unpaced input keeps arriving at the line rate and overruns a receiver nobody reads', () => {
    const { rig, uart } = setup();
    rig.out(IER, 0x01);
    uart.receive([1, 2, 3], false);
    rig.advance(uart.characterTime() * 4);
    expect(rig.in(LSR) & 0x03).toBe(0x03);
  });
});
