// The I/O APIC (82093AA) through IOREGSEL/IOWIN at 0xFEC00000, and its coexistence with the 8259 pair through the
// interrupt router and the IMCR (MP specification §3.6.2): PIC mode, virtual wire through LINT0 or an ExtINT
// input, and symmetric I/O mode.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';

const IOAPIC = 0xfec00000;
const LAPIC = 0xfee00000;

function machine() {
  const m = new Machine({ memoryMB: 4 });
  const reg = (index: number) => (m.mem.write32(IOAPIC, index), m.mem.read32(IOAPIC + 0x10) >>> 0);
  const setReg = (index: number, value: number) => (m.mem.write32(IOAPIC, index), m.mem.write32(IOAPIC + 0x10, value));
  const route = (pin: number, low: number, high = 0) => (setReg(0x10 + pin * 2 + 1, high), setReg(0x10 + pin * 2, low));
  const lapic = m.devices.lapic!;
  m.mem.write32(LAPIC + 0xf0, 0x1ff); // software-enable the local APIC
  const irq = (n: number, level: boolean) => m.devices.interrupts.setIrq(n, level);
  const symmetric = () => (m.io.out(0x22, 0x70, 1), m.io.out(0x23, 1, 1));
  return { m, reg, setReg, route, lapic, irq, symmetric };
}

describe('I/O APIC registers', () => {
  it('has ID 1, version 11h with 24 entries, and every entry masked after reset', () => {
    const { reg } = machine();
    expect(reg(0)).toBe(0x01000000);
    expect(reg(1)).toBe(0x00170011);
    for (let pin = 0; pin < 24; pin++) expect(reg(0x10 + pin * 2)).toBe(0x10000);
  });

  it('IOREGSEL selects, IOWIN reads and writes; remote IRR and delivery status are read-only; the version is too', () => {
    const { reg, setReg, m } = machine();
    setReg(0x10 + 5 * 2, 0xffffffff);
    expect(reg(0x10 + 5 * 2)).toBe(0x1afff);
    setReg(0x10 + 5 * 2 + 1, 0xffffffff);
    expect(reg(0x10 + 5 * 2 + 1)).toBe(0xff000000);
    setReg(1, 0);
    expect(reg(1)).toBe(0x00170011);
    setReg(0, 0x0f000000);
    expect(reg(0)).toBe(0x0f000000);
    m.mem.write8(IOAPIC, 0x12); // a byte store to IOREGSEL
    expect(m.mem.read32(IOAPIC)).toBe(0x12);
  });
});

describe('I/O APIC delivery', () => {
  it('an edge-triggered input sends one message per rising edge; IRQ 0 arrives on input 2, IRQ 4 on input 4', () => {
    const { route, lapic, irq } = machine();
    route(2, 0x30);
    route(4, 0x34);
    irq(0, true);
    expect(lapic.irr.has(0x30)).toBe(true);
    lapic.acknowledge();
    irq(0, true); // no new edge
    expect(lapic.irr.has(0x30)).toBe(false);
    irq(0, false);
    irq(0, true);
    expect(lapic.irr.has(0x30)).toBe(true);
    irq(4, true);
    expect(lapic.irr.has(0x34)).toBe(true);
    expect(lapic.tmr.has(0x34)).toBe(false);
  });

  it('a masked input sends nothing, and an edge that came while masked is lost', () => {
    const { route, lapic, irq } = machine();
    route(3, 0x10000 | 0x33);
    irq(3, true);
    route(3, 0x33);
    expect(lapic.irr.has(0x33)).toBe(false);
  });

  it('a level-triggered input sets remote IRR, sends nothing more until the EOI, and sends again if still asserted', () => {
    const { m, route, reg, lapic, irq } = machine();
    route(9, 0x8000 | 0x39); // level, active high
    irq(9, true);
    expect(lapic.irr.has(0x39)).toBe(true);
    expect(lapic.tmr.has(0x39)).toBe(true);
    expect(reg(0x10 + 9 * 2) & 0x4000).toBe(0x4000);
    expect(m.devices.interrupts.acknowledge()).toBe(0x39);
    irq(9, false);
    irq(9, true); // remote IRR still set: nothing
    expect(lapic.irr.has(0x39)).toBe(false);
    m.mem.write32(LAPIC + 0xb0, 0); // EOI: remote IRR clears, the line is still high → again
    expect(lapic.irr.has(0x39)).toBe(true);
    m.devices.interrupts.acknowledge();
    irq(9, false);
    m.mem.write32(LAPIC + 0xb0, 0);
    expect(reg(0x10 + 9 * 2) & 0x4000).toBe(0);
    expect(lapic.irr.has(0x39)).toBe(false);
  });

  it('a destination that names no processor drops the message; logical destinations use LDR', () => {
    const { m, route, lapic, irq } = machine();
    route(5, 0x35, 0x02000000); // physical APIC 2
    irq(5, true);
    expect(lapic.irr.has(0x35)).toBe(false);
    m.mem.write32(LAPIC + 0xd0, 0x01000000);
    route(6, 0x800 | 0x36, 0x01000000); // logical, flat: bit 0
    irq(6, true);
    expect(lapic.irr.has(0x36)).toBe(true);
  });
});

describe('the 8259 pair beside the APICs', () => {
  const picUnmaskIrq1 = (m: Machine) => m.io.out(0x21, 0xfd, 1);

  it('in PIC mode (the power-on state) the 8259 reaches the CPU with the local APIC disabled or not', () => {
    const { m, irq } = machine();
    picUnmaskIrq1(m);
    irq(1, true);
    expect(m.cpu.intrLine).toBe(true);
    expect(m.devices.interrupts.acknowledge()).toBe(0x09);
  });

  it('the IMCR reads back; in symmetric mode the 8259 is cut off unless LINT0 is ExtINT (virtual wire)', () => {
    const { m, irq, symmetric } = machine();
    symmetric();
    m.io.out(0x22, 0x70, 1);
    expect(m.io.in(0x23, 1)).toBe(1);
    picUnmaskIrq1(m);
    irq(1, true);
    expect(m.cpu.intrLine).toBe(false);
    m.mem.write32(LAPIC + 0x350, 0x700); // LINT0: ExtINT, unmasked
    expect(m.cpu.intrLine).toBe(true);
    expect(m.devices.interrupts.acknowledge()).toBe(0x09); // the vector comes from the 8259
  });

  it('an I/O APIC input 0 programmed ExtINT also carries the 8259 in symmetric mode', () => {
    const { m, irq, symmetric, route } = machine();
    symmetric();
    picUnmaskIrq1(m);
    irq(1, true);
    expect(m.cpu.intrLine).toBe(false);
    route(0, 0x700);
    expect(m.cpu.intrLine).toBe(true);
    expect(m.devices.interrupts.acknowledge()).toBe(0x09);
  });

  it('the local APIC answers the INTA cycle before the 8259 when both request', () => {
    const { m, irq, lapic } = machine();
    picUnmaskIrq1(m);
    irq(1, true);
    lapic.accept(0x80, false);
    expect(m.devices.interrupts.acknowledge()).toBe(0x80);
    expect(m.devices.interrupts.acknowledge()).toBe(0x09);
  });

  it('globally disabling the APIC (IA32_APIC_BASE bit 11) hides its registers and lets the 8259 through', () => {
    const { m, irq, symmetric } = machine();
    symmetric();
    picUnmaskIrq1(m);
    irq(1, true);
    expect(m.cpu.intrLine).toBe(false);
    m.cpu.apicBase = 0xfee00100;
    m.cpu.onApicBaseWrite?.(m.cpu.apicBase);
    expect(m.cpu.intrLine).toBe(true);
    expect(m.mem.read32(LAPIC + 0x30) >>> 0).toBe(0xffffffff);
  });
});
