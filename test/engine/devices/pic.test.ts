// 8259A pair, register level through the port bus (8259A data sheet: ICW1–4, OCW1–3, INTA, cascade).
import { describe, expect, it } from 'vitest';
import { PicPair } from '../../../engine/devices/pic-pair';
import { Rig } from './rig';

function setup(program = true) {
  const rig = new Rig();
  let intr = false;
  const pic = new PicPair((level) => (intr = level));
  pic.attach(rig.io);
  if (program) {
    // As the timer example programs it: IRQ 0–7 → 20h–27h, IRQ 8–15 → 28h–2Fh, all unmasked.
    rig.out(0x20, 0x11);
    rig.out(0xa0, 0x11);
    rig.out(0x21, 0x20, 0x04, 0x01, 0x00);
    rig.out(0xa1, 0x28, 0x02, 0x01, 0x00);
  }
  return { rig, pic, intr: () => intr };
}

const readIsr = (rig: Rig, port: number) => (rig.out(port, 0x0b), rig.in(port));
const readIrr = (rig: Rig, port: number) => (rig.out(port, 0x0a), rig.in(port));

describe('8259A PIC pair', () => {
  it('starts initialised with every line masked, so nothing reaches the CPU', () => {
    const { rig, pic, intr } = setup(false);
    expect(rig.in(0x21)).toBe(0xff);
    expect(rig.in(0xa1)).toBe(0xff);
    pic.setIrq(3, true);
    expect(intr()).toBe(false);
    expect(readIrr(rig, 0x20)).toBe(0x08); // requested, but masked
  });

  it('raises INTR on an edge, answers INTA with ICW2 + level, moves the bit from IRR to ISR', () => {
    const { rig, pic, intr } = setup();
    pic.setIrq(3, true);
    expect(intr()).toBe(true);
    expect(readIrr(rig, 0x20)).toBe(0x08);
    expect(pic.acknowledge()).toBe(0x23);
    expect(intr()).toBe(false);
    expect(readIrr(rig, 0x20)).toBe(0x00);
    expect(readIsr(rig, 0x20)).toBe(0x08);
    rig.out(0x20, 0x20); // non-specific EOI
    expect(readIsr(rig, 0x20)).toBe(0x00);
    // Edge triggered: the line is still high, which is no new request.
    expect(intr()).toBe(false);
    pic.setIrq(3, false);
    pic.setIrq(3, true);
    expect(intr()).toBe(true);
  });

  it('serves the highest priority first and holds lower levels while a higher one is in service', () => {
    const { rig, pic, intr } = setup();
    pic.setIrq(5, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x21);
    expect(intr()).toBe(false); // IRQ 5 waits behind IRQ 1 in service
    pic.setIrq(0, true);
    expect(intr()).toBe(true); // IRQ 0 outranks it and nests
    expect(pic.acknowledge()).toBe(0x20);
    expect(readIsr(rig, 0x20)).toBe(0x03);
    rig.out(0x20, 0x20); // non-specific EOI ends the highest in service: IRQ 0
    expect(readIsr(rig, 0x20)).toBe(0x02);
    expect(intr()).toBe(false);
    rig.out(0x20, 0x61); // specific EOI for IRQ 1
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('masks through OCW1 and reads the mask back', () => {
    const { rig, pic, intr } = setup();
    rig.out(0x21, 0xfe);
    expect(rig.in(0x21)).toBe(0xfe);
    pic.setIrq(4, true);
    expect(intr()).toBe(false);
    rig.out(0x21, 0x10);
    expect(intr()).toBe(false);
    rig.out(0x21, 0x00);
    expect(intr()).toBe(true); // the latched request shows once unmasked
  });

  it('cascades IRQ 8–15 through the master IR2: the slave supplies the vector, both chips keep it in service', () => {
    const { rig, pic, intr } = setup();
    pic.setIrq(9, true);
    expect(intr()).toBe(true);
    expect(readIrr(rig, 0x20)).toBe(0x04);
    expect(pic.acknowledge()).toBe(0x29);
    expect(readIsr(rig, 0x20)).toBe(0x04);
    expect(readIsr(rig, 0xa0)).toBe(0x02);
    rig.out(0xa0, 0x20);
    rig.out(0x20, 0x20);
    expect(readIsr(rig, 0x20)).toBe(0);
    expect(readIsr(rig, 0xa0)).toBe(0);
  });

  it('answers a request that vanished before INTA with the spurious IR7 vector and sets no ISR bit', () => {
    const { rig, pic } = setup();
    pic.setIrq(4, true);
    pic.setIrq(4, false);
    expect(pic.acknowledge()).toBe(0x27);
    expect(readIsr(rig, 0x20)).toBe(0);
  });

  it('withdraws the master IR2 request with the slave request it carried (a spurious IR7 from the master)', () => {
    const { rig, pic, intr } = setup();
    pic.setIrq(10, true);
    expect(intr()).toBe(true);
    rig.out(0xa1, 0xff); // masked on the slave after it reached the master: the slave's INT output drops
    expect(intr()).toBe(false);
    expect(pic.acknowledge()).toBe(0x27);
    expect(readIsr(rig, 0x20)).toBe(0x00);
    expect(readIsr(rig, 0xa0)).toBe(0x00);
  });

  it('re-requests in level-triggered mode while the line stays high', () => {
    const { rig, pic, intr } = setup(false);
    rig.out(0x20, 0x19); // ICW1 with LTIM
    rig.out(0x21, 0x40, 0x04, 0x01, 0x00);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x46);
    expect(intr()).toBe(false);
    rig.out(0x20, 0x20);
    expect(intr()).toBe(true);
  });

  it('does not set ISR in automatic EOI mode, and rotates priorities when asked', () => {
    const { rig, pic, intr } = setup(false);
    rig.out(0x20, 0x11);
    rig.out(0x21, 0x50, 0x04, 0x03, 0x00); // ICW4: 8086 mode with AEOI
    rig.out(0x20, 0x80); // rotate in automatic EOI mode
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x51);
    expect(readIsr(rig, 0x20)).toBe(0);
    // IRQ 1 is now the lowest priority: IRQ 2 ... IRQ 0 come first.
    pic.setIrq(0, true);
    pic.setIrq(1, false);
    pic.setIrq(1, true);
    pic.setIrq(3, true);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x53);
  });

  it('rotates on non-specific EOI and sets priority through OCW2', () => {
    const { rig, pic } = setup();
    pic.setIrq(2 + 0, false);
    rig.out(0x20, 0xc4); // set priority: IRQ 4 lowest, so IRQ 5 is highest
    pic.setIrq(3, true);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x26);
    rig.out(0x20, 0xa0); // rotate on non-specific EOI: IRQ 6 becomes lowest, IRQ 7 highest
    expect(pic.acknowledge()).toBe(0x23);
    rig.out(0x20, 0xe3); // rotate on specific EOI of IRQ 3
    expect(readIsr(rig, 0x20)).toBe(0);
    pic.setIrq(4, true);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x24); // IRQ 3 lowest → IRQ 4 highest
  });

  it('lets lower levels in while the routine masks its own in special mask mode', () => {
    const { rig, pic, intr } = setup();
    pic.setIrq(2 + 1, true);
    expect(pic.acknowledge()).toBe(0x23);
    pic.setIrq(6, true);
    expect(intr()).toBe(false);
    rig.out(0x21, 0x08); // mask IRQ 3 (in service)
    rig.out(0x20, 0x68); // OCW3: set special mask mode
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x26);
    rig.out(0x20, 0x48); // reset special mask mode
    expect(pic.master.specialMask).toBe(false);
  });

  it('answers the poll command with the highest request and acknowledges it', () => {
    const { rig, pic, intr } = setup();
    pic.setIrq(5, true);
    rig.out(0x20, 0x0c); // OCW3 poll
    expect(rig.in(0x20)).toBe(0x85);
    expect(intr()).toBe(false);
    expect(readIsr(rig, 0x20)).toBe(0x20);
    rig.out(0x20, 0x0c);
    expect(rig.in(0x20)).toBe(0x00); // nothing else pending
  });

  it('reports whether an IRQ could reach the CPU (mask, priority, cascade)', () => {
    const { rig, pic } = setup();
    expect(pic.wouldDeliver(0)).toBe(true);
    rig.out(0x21, 0x01);
    expect(pic.wouldDeliver(0)).toBe(false);
    pic.setIrq(1, true);
    pic.acknowledge();
    expect(pic.wouldDeliver(3)).toBe(false); // IRQ 1 in service
    expect(pic.wouldDeliver(9)).toBe(false); // behind IR2, which IRQ 1 outranks
    rig.out(0x20, 0x20);
    expect(pic.wouldDeliver(9)).toBe(true);
    rig.out(0x21, 0x04);
    expect(pic.wouldDeliver(9)).toBe(false);
  });

  describe('programmed wrongly', () => {
    it('without ICW4 runs in MCS-80/85 mode: the vector is the low byte of the CALL address', () => {
      const { rig, pic } = setup(false);
      rig.out(0x20, 0x14 | 0xa0); // ICW1: no IC4, cascade, interval 4, A7–A5 = 101
      rig.out(0x21, 0x12, 0x04); // ICW2, ICW3; ICW4 is not expected
      rig.out(0x21, 0x00); // so this is OCW1
      expect(rig.in(0x21)).toBe(0x00);
      pic.setIrq(3, true);
      expect(pic.acknowledge()).toBe(0xa0 | (3 << 2));
    });

    it('passes no request while the initialisation sequence is unfinished, and takes data writes as ICWs', () => {
      const { rig, pic, intr } = setup();
      rig.out(0x20, 0x11);
      pic.setIrq(0, true);
      expect(intr()).toBe(false);
      rig.out(0x21, 0x30); // ICW2
      rig.out(0x21, 0x04); // ICW3
      expect(intr()).toBe(false);
      rig.out(0x21, 0x01); // ICW4: done; IMR was cleared by ICW1
      expect(intr()).toBe(true);
      expect(pic.acknowledge()).toBe(0x30);
    });

    it('ignores EOIs with nothing in service, no-op OCW2s and reads it does not implement', () => {
      const { rig, pic } = setup();
      rig.out(0x20, 0x20);
      rig.out(0x20, 0x67);
      rig.out(0x20, 0x40); // OCW2 "no operation"
      rig.out(0xa0, 0x20);
      expect(readIsr(rig, 0x20)).toBe(0);
      expect(rig.in(0x20)).toBe(0); // IRR still selected from the last OCW3
      expect(pic.acknowledge()).toBe(0x27); // INTA with nothing pending: spurious IR7, no exception
    });

    it('clears a pending request when reinitialised (edge sense reset)', () => {
      const { rig, pic, intr } = setup();
      pic.setIrq(2 + 2, true);
      expect(intr()).toBe(true);
      rig.out(0x20, 0x11);
      rig.out(0x21, 0x20, 0x04, 0x01);
      expect(intr()).toBe(false);
      expect(readIrr(rig, 0x20)).toBe(0);
    });
  });

  it('restores a snapshot, driving INTR to match', () => {
    const { pic, intr } = setup();
    pic.setIrq(5, true);
    const snap = pic.snapshot();
    pic.acknowledge();
    expect(intr()).toBe(false);
    pic.restore(snap);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
  });
});
