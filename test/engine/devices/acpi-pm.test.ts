// ACPI power-off: PM1a_CNT at 604h with SLP_TYP = 5 (the DSDT's \_S5) and SLP_EN ends the run as `halt`; the
// PM1 registers read as the FADT promises (SCI_EN set, no status).
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';

describe('ACPI PM1 registers and soft-off', () => {
  it('SCI_EN reads 1 (no SMI command port: always in ACPI mode); PM1_EN is read-write; PM1_STS is write-1-to-clear', () => {
    const m = new Machine({ memoryMB: 4 });
    expect(m.io.in(0x604, 2) & 1).toBe(1);
    m.io.out(0x602, 0x0120, 2);
    expect(m.io.in(0x602, 2)).toBe(0x0120);
    expect(m.io.in(0x600, 2)).toBe(0);
  });

  it('a guest writing SLP_TYP 5 with SLP_EN stops the run with halt, and it stays off', () => {
    const m = new Machine({ memoryMB: 4 });
    // mov dx, 0x604 / mov ax, 0x3400 (SLP_EN | 5 << 10) / out dx, ax / jmp $
    m.load(new Uint8Array([0xba, 0x04, 0x06, 0xb8, 0x00, 0x34, 0xef, 0xeb, 0xfe]), { format: 'bin' });
    const r = m.run(1000);
    expect(r.reason).toBe('halt');
    expect(r.instructions).toBe(3);
    expect(m.poweredOff).toBe(true);
    expect(m.run(1000).reason).toBe('halt');
    expect(m.step()).toBe('halt');
  });

  it('another sleep type, or SLP_TYP 5 without SLP_EN, does nothing', () => {
    const m = new Machine({ memoryMB: 4 });
    m.io.out(0x604, 0x1400, 2); // SLP_TYP 5 alone
    m.io.out(0x605, 0x24, 1); // SLP_EN with SLP_TYP 1
    expect(m.poweredOff).toBe(false);
    m.io.out(0x605, 0x34, 1); // a byte write of the high half with S5 works too
    expect(m.poweredOff).toBe(true);
  });
});
