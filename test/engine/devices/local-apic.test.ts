// The local APIC register by register, as SDM 3A ch. 11 describes it, through its MMIO window at 0xFEE00000 on a
// whole machine (the CPU's INTR line and NMI, the scheduler's clock). Time moves by setting the instruction count
// and firing the device timers that are due, as the machine's run loop does.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';

const LAPIC = 0xfee00000;

function machine() {
  const m = new Machine({ memoryMB: 4 });
  const read = (offset: number) => m.mem.read32(LAPIC + offset) >>> 0;
  const write = (offset: number, value: number) => m.mem.write32(LAPIC + offset, value);
  const advance = (n: number) => {
    const target = m.cpu.icount + n;
    for (;;) {
      const next = m.scheduler.nextDeadline();
      if (next > target) break;
      m.cpu.icount = Math.max(m.cpu.icount, next);
      m.scheduler.fireDue(m.cpu.icount);
    }
    m.cpu.icount = target;
  };
  const lapic = m.devices.lapic!;
  const enable = () => write(0xf0, 0x1ff);
  return { m, read, write, advance, lapic, enable };
}

describe('local APIC registers', () => {
  it('reports ID 0 and version 14h with six LVT entries; the CPU knows it has an APIC', () => {
    const { m, read } = machine();
    expect(read(0x20)).toBe(0);
    expect(read(0x30)).toBe(0x00050014);
    expect(m.cpu.apicPresent).toBe(true);
  });

  it('starts as after power-on (SDM 3A §11.4.7.1): DFR all ones, SVR FFh (software disabled), every LVT masked', () => {
    const { read } = machine();
    expect(read(0xe0)).toBe(0xffffffff);
    expect(read(0xf0)).toBe(0xff);
    for (const o of [0x320, 0x330, 0x340, 0x350, 0x360, 0x370]) expect(read(o)).toBe(0x10000);
  });

  it('keeps every LVT masked while software-disabled, and masks them all again when SVR bit 8 is cleared', () => {
    const { read, write, enable } = machine();
    write(0x350, 0x700); // LINT0 ExtINT, unmasked
    expect(read(0x350)).toBe(0x10700);
    enable();
    write(0x350, 0x700);
    expect(read(0x350)).toBe(0x700);
    write(0xf0, 0xff);
    expect(read(0x350)).toBe(0x10700);
  });

  it('only writable bits stick: ID bits 24-31, TPR bits 0-7, LDR bits 24-31, DFR model bits 28-31', () => {
    const { read, write } = machine();
    write(0x20, 0xffffffff);
    expect(read(0x20)).toBe(0xff000000);
    write(0x80, 0x1ff);
    expect(read(0x80)).toBe(0xff);
    write(0xd0, 0x12345678);
    expect(read(0xd0)).toBe(0x12000000);
    write(0xe0, 0x00000000);
    expect(read(0xe0)).toBe(0x0fffffff); // cluster model
    write(0x30, 0); // version: read-only
    expect(read(0x30)).toBe(0x00050014);
  });

  it('TPR and PPR gate delivery by priority class; acknowledge moves IRR to ISR; EOI retires the highest ISR bit', () => {
    const { m, read, write, lapic, enable } = machine();
    enable();
    lapic.accept(0x51, false);
    expect(read(0x200 + 0x20)).toBe(1 << 0x11); // IRR word 2, bit 17
    expect(m.cpu.intrLine).toBe(true);
    write(0x80, 0x60); // TPR class 6 ≥ 5: held
    expect(read(0xa0)).toBe(0x60);
    expect(m.cpu.intrLine).toBe(false);
    write(0x80, 0x50); // class 5 is not above class 5: still held
    expect(m.cpu.intrLine).toBe(false);
    write(0x80, 0);
    expect(m.cpu.intrLine).toBe(true);
    expect(m.devices.interrupts.acknowledge()).toBe(0x51);
    expect(read(0x100 + 0x20)).toBe(1 << 0x11); // ISR
    expect(read(0x200 + 0x20)).toBe(0);
    expect(read(0xa0)).toBe(0x50); // PPR = the in-service class
    lapic.accept(0x52, false); // same class as in service: waits
    expect(m.cpu.intrLine).toBe(false);
    lapic.accept(0x61, false); // a higher class interrupts the handler
    expect(m.cpu.intrLine).toBe(true);
    expect(m.devices.interrupts.acknowledge()).toBe(0x61);
    write(0xb0, 0); // EOI for 0x61
    expect(read(0x100 + 0x60)).toBe(0);
    expect(read(0x100 + 0x20)).toBe(1 << 0x11);
    write(0xb0, 0); // EOI for 0x51: 0x52 may come now
    expect(m.cpu.intrLine).toBe(true);
    expect(m.devices.interrupts.acknowledge()).toBe(0x52);
  });

  it('answers the INTA cycle with the spurious vector when the request went away (SDM 3A §11.9)', () => {
    const { m, write, lapic, enable } = machine();
    enable();
    m.io.out(0x22, 0x70, 1);
    m.io.out(0x23, 1, 1); // symmetric I/O mode: the 8259 is not asked
    write(0xf0, 0x1ef);
    lapic.accept(0x40, false);
    write(0x80, 0xf0);
    expect(m.devices.interrupts.acknowledge()).toBe(0xef);
  });

  it('the ICR sends fixed interrupts to itself (shorthand self, all, or its own ID) and drops INIT/SIPI to others', () => {
    const { m, read, write, enable } = machine();
    enable();
    write(0x300, 0x40000 | 0x70); // self
    expect(read(0x230) & (1 << 16)).not.toBe(0);
    write(0x310, 0x00000000);
    write(0x300, 0x71); // physical destination 0 = this APIC
    expect(read(0x230) & (1 << 17)).not.toBe(0);
    write(0x310, 0x01000000);
    write(0x300, 0x72); // APIC 1 does not exist
    expect(read(0x230) & (1 << 18)).toBe(0);
    write(0x300, 0xc0000 | 0x73); // all excluding self
    expect(read(0x230) & (1 << 19)).toBe(0);
    write(0x300, 0x80000 | 0x74); // all including self
    expect(read(0x230) & (1 << 20)).not.toBe(0);
    // INIT then SIPI to APIC 1, as an SMP kernel starts its application processors: nothing happens here.
    const requests = () => JSON.stringify([m.devices.lapic!.snapshot().irr, m.devices.lapic!.snapshot().isr, m.cpu.halted]);
    const before = requests();
    write(0x310, 0x01000000);
    write(0x300, 0x4500);
    write(0x300, 0x4608);
    expect(read(0x300) & (1 << 12)).toBe(0); // delivery status idle
    expect(requests()).toBe(before);
    expect(m.cpu.nmiPending).toBe(false);
    write(0x300, 0x40400); // NMI to self
    expect(m.cpu.nmiPending).toBe(true);
  });

  it('logical destinations match LDR in the flat and the cluster model (SDM 3A §11.6.2.2)', () => {
    const { write, lapic } = machine();
    write(0xd0, 0x04000000);
    expect(lapic.matchesDestination(0x04, true)).toBe(true);
    expect(lapic.matchesDestination(0x0c, true)).toBe(true);
    expect(lapic.matchesDestination(0x08, true)).toBe(false);
    write(0xe0, 0x0fffffff); // cluster
    write(0xd0, 0x21000000); // cluster 2, member bit 0
    expect(lapic.matchesDestination(0x21, true)).toBe(true);
    expect(lapic.matchesDestination(0x11, true)).toBe(false);
    expect(lapic.matchesDestination(0x22, true)).toBe(false);
    expect(lapic.matchesDestination(0xff, true)).toBe(true);
  });

  it('the ESR shows illegal vectors sent and received after a write, and the error LVT fires once', () => {
    const { read, write, lapic, enable } = machine();
    enable();
    write(0x370, 0xfe);
    write(0x300, 0x40005); // self IPI with vector 5
    expect(read(0x280)).toBe(0); // not yet latched
    write(0x280, 0);
    expect(read(0x280)).toBe(0x60);
    expect(lapic.irr.has(0xfe)).toBe(true);
    write(0x280, 0);
    expect(read(0x280)).toBe(0);
  });

  it('TMR marks level-triggered vectors until their EOI', () => {
    const { read, write, lapic, enable } = machine();
    enable();
    lapic.accept(0x90, true);
    expect((read(0x180 + 0x40) >>> 16) & 1).toBe(1);
    lapic.acknowledge();
    write(0xb0, 0);
    expect(read(0x180 + 0x40)).toBe(0);
  });
});

describe('local APIC timer (SDM 3A §11.5.4)', () => {
  const divisors: [number, number][] = [
    [0b0000, 2], [0b0001, 4], [0b0010, 8], [0b0011, 16], [0b1000, 32], [0b1001, 64], [0b1010, 128], [0b1011, 1],
  ];
  for (const [code, div] of divisors) {
    it(`one-shot with divide code ${code.toString(2).padStart(4, '0')} counts down every ${div} bus clocks, fires once at zero`, () => {
      const { read, write, advance, lapic, enable } = machine();
      enable();
      write(0x3e0, code);
      write(0x320, 0x45);
      write(0x380, 100);
      expect(read(0x390)).toBe(100);
      advance(div * 10 + div - 1);
      expect(read(0x390)).toBe(90);
      expect(lapic.irr.has(0x45)).toBe(false);
      advance(div * 90 - (div - 1) - 1);
      expect(lapic.irr.has(0x45)).toBe(false);
      advance(1);
      expect(lapic.irr.has(0x45)).toBe(true);
      expect(read(0x390)).toBe(0);
      lapic.acknowledge();
      advance(div * 1000);
      expect(lapic.irr.has(0x45)).toBe(false); // one-shot: no second interrupt
    });
  }

  it('periodic mode reloads the initial count and fires every period; a masked timer counts without interrupting', () => {
    const { read, write, advance, lapic, enable, m } = machine();
    enable();
    write(0x3e0, 0b1011); // divide by 1
    write(0x320, 0x20046);
    write(0x380, 50);
    let fired = 0;
    for (let k = 0; k < 5; k++) {
      advance(50);
      if (lapic.irr.has(0x46)) fired++;
      m.devices.interrupts.acknowledge();
      write(0xb0, 0);
    }
    expect(fired).toBe(5);
    advance(20);
    expect(read(0x390)).toBe(30);
    write(0x320, 0x30046); // masked, still periodic
    advance(100);
    expect(lapic.irr.has(0x46)).toBe(false);
    expect(read(0x390)).toBe(30);
  });

  it('writing 0 to the initial count stops the timer; changing the divisor keeps the count where it is', () => {
    const { read, write, advance, lapic, enable } = machine();
    enable();
    write(0x3e0, 0b0000); // ÷2
    write(0x320, 0x47);
    write(0x380, 1000);
    advance(200);
    expect(read(0x390)).toBe(900);
    write(0x3e0, 0b0011); // ÷16
    expect(read(0x390)).toBe(900);
    advance(160);
    expect(read(0x390)).toBe(890);
    write(0x380, 0);
    expect(read(0x390)).toBe(0);
    advance(100000);
    expect(lapic.irr.has(0x47)).toBe(false);
  });

  it('a snapshot taken mid-count restores the count and the deadline', () => {
    const { m, read, write, advance, lapic, enable } = machine();
    enable();
    write(0x3e0, 0b1011);
    write(0x320, 0x48);
    write(0x380, 500);
    advance(100);
    const snap = m.snapshot();
    advance(400);
    expect(lapic.irr.has(0x48)).toBe(true);
    m.restore(snap);
    expect(lapic.irr.has(0x48)).toBe(false);
    expect(read(0x390)).toBe(400);
    advance(400);
    expect(lapic.irr.has(0x48)).toBe(true);
  });
});
