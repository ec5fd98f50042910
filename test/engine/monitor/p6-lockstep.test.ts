// The P6 system instructions under the monitor behave as on bare hardware (model.md §4): SYSENTER from ring 3 and
// ring 0, SYSEXIT, RDMSR/WRMSR of the SYSENTER MSRs, RDPMC with and without CR4.PCE, and each of their faults.
// The guest's SYSENTER never reaches ring 0 by itself while deprivileged: the CPU's IA32_SYSENTER_CS holds 0
// there, so it traps and is emulated against the guest's MSR (engine/monitor/guest-state.ts). RDMSR of the
// time-stamp counter while emulated once read one instruction late (the trap had already counted the instruction).

import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PROGRAM_BASE, programFromSlots, randomProgram, slotAddress } from '../../../engine/monitor/random-program';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const STACK3 = 0x88000;
const { le32 } = encode;

const wrmsr = (msr: number, value: number): number[] => [0xb9, ...le32(msr), 0xb8, ...le32(value), 0x0f, 0x30];
const rdmsr = (msr: number): number[] => [0xb9, ...le32(msr), 0x0f, 0x32];
const rdpmc = (counter: number): number[] => [0xb9, ...le32(counter), 0x0f, 0x33];
const sysexitTo = (slot: number): number[] => [0xb9, ...le32(STACK3), 0xba, ...le32(slotAddress(slot)), 0x0f, 0x35];
const SYSENTER = [0x0f, 0x34];
const SYSEXIT = [0x0f, 0x35];

describe('SYSENTER, SYSEXIT, RDMSR, WRMSR and RDPMC under the monitor', () => {
  it('a hand-written tour: every step compared with the bare run', () => {
    const body: number[][] = [
      /* 0 */ wrmsr(0x174, 0x08),
      /* 1 */ wrmsr(0x175, 0x8f000),
      /* 2 */ wrmsr(0x176, slotAddress(5)),
      /* 3 */ sysexitTo(4),
      /* 4 */ SYSENTER, // ring 3 → ring 0 at slot 5
      /* 5 */ rdmsr(0x174),
      /* 6 */ rdpmc(0),
      /* 7 */ encode.toRing3(slotAddress(8)),
      /* 8 */ rdpmc(0), // CR4.PCE = 0 at CPL 3: #GP
      /* 9 */ rdmsr(0x176), // #GP at CPL 3
      /* 10 */ wrmsr(0x174, 0), // #GP at CPL 3
      /* 11 */ SYSEXIT, // #GP at CPL 3
      /* 12 */ encode.toRing0(),
      /* 13 */ [0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x22, 0xe0], // mov eax, cr4; or eax, PCE; mov cr4, eax
      /* 14 */ wrmsr(0x176, slotAddress(18)),
      /* 15 */ encode.toRing3(slotAddress(16)),
      /* 16 */ rdpmc(1), // allowed now
      /* 17 */ SYSENTER, // → slot 18, ring 0
      /* 18 */ wrmsr(0x174, 0x0b), // RPL bits in the MSR
      /* 19 */ sysexitTo(20), // CS = 0x0B + 16 | 3 = 0x1B, SS = 0x23
      /* 20 */ rdpmc(2), // #GP: no counter 2
      /* 21 */ encode.toRing0(),
      /* 22 */ wrmsr(0x174, 0),
      /* 23 */ SYSENTER, // #GP: SYSENTER_CS = 0
      /* 24 */ rdmsr(0x10),
    ];
    const r = lockstep(programFromSlots(body).image, { load: LOAD, memoryMB: 4, memoryEvery: 1, maxInstructions: 10_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
    expect(r.stop).toBe('exit');
    // The tour went where it says: 6 faults delivered to the guest (slots 8–11, 20, 23), the MSRs as written last.
    expect(r.bare.mem.u8[0x10380]).toBe(6);
    expect([r.bare.cpu.sysenterCs, r.bare.cpu.sysenterEsp, r.bare.cpu.sysenterEip]).toEqual([0, 0x8f000, slotAddress(18)]);
    // The monitored side ran the guest deprivileged and trapped on the SYSENTERs (#GP with its MSR at 0).
    expect(r.monitor.counters.engagements).toBeGreaterThan(0);
    expect(r.monitor.counters.traps.get('gp') ?? 0).toBeGreaterThan(6);
  });

  it('generated programs with the P6 slots: no divergence', () => {
    let total = 0;
    for (let seed = 500; seed < 512; seed++) {
      const r = lockstep(randomProgram(seed, 400, { paging: seed % 2 === 0 }).image, { load: LOAD, memoryMB: 4, maxInstructions: 8_000 });
      if (r.divergence) throw new Error(`seed ${seed}: ${describeDivergence(r.divergence)}`);
      expect(r.monitor.counters.panics, `seed ${seed}: ${r.monitor.lastPanic}`).toBe(0);
      total += r.instructions;
    }
    expect(total).toBeGreaterThan(20_000);
  }, 300_000);
});
