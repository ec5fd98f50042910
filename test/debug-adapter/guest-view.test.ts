// The guest view the debugger shows under the monitor: system state from the guest record, the rest from the CPU.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../engine/machine/machine';
import { AR_DB, AR_G, AR_P, AR_S, CR0_PE, CS, DS, ESP } from '../../engine/cpu/cpu';
import { inspectCpu, inspectSegment } from '../../engine/cpu/inspect';
import { guestViewCpu, refreshGuestView, type GuestRecord } from '../../debug-adapter/guest-view';
import { Tlb } from '../../engine/cpu/protect/tlb';
import { cpuContext } from '../../debug-adapter/expression/cpu-values';

function record(m: Machine): GuestRecord {
  const c = m.cpu;
  return {
    cpl: 0, eflags: 0x202, eip: 0x1234, esp: 0x9000, cr0: CR0_PE, cr2: 0, cr3: 0, cr4: 0,
    gdtrBase: 0x500, gdtrLimit: 0x17, idtrBase: 0, idtrLimit: 0x7ff,
    sel: c.segSel.slice(), base: c.segBase.slice(), limit: c.segLimit.slice(), ar: c.segAr.slice(), valid: c.segValid.slice(),
  };
}

describe('guest view', () => {
  it('shows the guest record where the monitor virtualises, and the real CPU elsewhere, without touching it', () => {
    const m = new Machine({ memoryMB: 1 });
    const cpu = m.cpu;
    cpu.regs[0] = 42; // EAX is not virtualised
    cpu.cpl = 3; // the real, deprivileged CPL
    cpu.gdtrBase = 0x100000;
    const g = record(m);
    g.sel[DS] = 0x10;
    g.base[DS] = 0x20000;
    g.ar[CS] = AR_P | AR_S | 0xb | AR_DB | AR_G;
    const view = guestViewCpu(cpu, g);
    const s = inspectCpu(view);
    expect(s.cpl).toBe(0);
    expect(s.mode).toBe('protected');
    expect(s.registers.EAX).toBe(42);
    expect(s.registers.ESP).toBe(0x9000);
    expect(s.registers.EIP).toBe(0x1234);
    expect(s.gdtr.base).toBe(0x500);
    expect(inspectSegment(view, DS).cache.base).toBe(0x20000);
    expect(view.code32).toBe(true);
    expect(cpuContext(view).lookup('ds')).toMatchObject({ name: 'DS', value: 0x10 });
    // The real CPU is unchanged.
    expect(cpu.cpl).toBe(3);
    expect(cpu.gdtrBase).toBe(0x100000);
    expect(cpu.regs[ESP]).not.toBe(0x9000);
    expect(() => {
      (view as { cpl: number }).cpl = 2;
    }).toThrow(TypeError);
  });

  it('is refreshed in place after the guest changed, and translates through the guest TLB when one is given', () => {
    const m = new Machine({ memoryMB: 1 });
    const cpu = m.cpu;
    const g = record(m);
    const view = guestViewCpu(cpu, g);
    // Without a TLB of the guest's own, the view sees the CPU's.
    expect(view.tlb).toBe(cpu.tlb);
    g.base[DS] = 0x40000;
    g.cpl = 2;
    cpu.regs[0] = 7;
    const guestTlb = new Tlb();
    refreshGuestView(view, cpu, g, guestTlb);
    expect(inspectSegment(view, DS).cache.base).toBe(0x40000);
    expect(inspectCpu(view).cpl).toBe(2);
    expect(inspectCpu(view).registers.EAX).toBe(7);
    expect(view.tlb).toBe(guestTlb);
    expect(cpu.tlb === guestTlb).toBe(false); // (not.toBe would deep-compare two 4 MiB TLBs)
    refreshGuestView(view, cpu, g);
    expect(view.tlb).toBe(cpu.tlb);
    expect(() => refreshGuestView(view, new Machine({ memoryMB: 1 }).cpu, g)).toThrow(/not made over this CPU/);
  });
});
