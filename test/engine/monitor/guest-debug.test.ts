// The guest's own debugging under the monitor: TF single-stepping and DR0–DR3 instruction breakpoints while the
// guest runs deprivileged. The monitor reflects each #DB into the guest's IDT as bare hardware delivers it; the
// lockstep compares every instruction (the runtime's #DB handler records vector and DR6 and resumes at the next slot).
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PROGRAM_BASE, programFromSlots, slotAddress } from '../../../engine/monitor/random-program';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };

function same(body: number[][]) {
  const r = lockstep(programFromSlots(body).image, { load: LOAD, memoryMB: 4, memoryEvery: 1, maxInstructions: 50_000 });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.stop).toBe('exit');
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  return r;
}

// pushfd; or dword [esp], 0x100 (TF); popfd — TF takes effect after the next instruction (SDM 3A §17.3.1.4).
// While TF is set, every instruction traps and the handler resumes at the next slot: one instruction per slot.
const SET_TF = [0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d];
const CLEAR_TF = [[0x6a, 0x02], [0x9d]]; // push 2; popfd (its own trap comes after it)

describe("the guest's own debugging under the monitor", () => {
  it('TF single-steps deprivileged code: each #DB reflected, in both rings, without leaving direct execution', () => {
    const body: number[][] = [
      SET_TF,
      [0x40], // inc eax: a single-step trap
      [0x40],
      [0x6a, 0x10],
      [0x1f], // pop ds: SBE-trapped and emulated, then its single-step trap
      [0x0f, 0xa2], // cpuid (emulated)
      [0xfa], // cli (#GP at CPL 3 for ring-0 code: emulated)
      [0xfb],
      ...CLEAR_TF,
      encode.toRing3(slotAddress(11)),
      SET_TF, // slot 11: in ring 3
      [0x43],
      [0x6a, 0x23],
      [0x1f],
      ...CLEAR_TF,
      encode.toRing0(),
    ];
    const r = same(body);
    expect(r.monitor.counters.traps.get('debug') ?? 0).toBeGreaterThan(8);
    expect(r.monitor.counters.disengagements).toBe(0);
    expect(r.monitored.mem.peek(0x10384, 4)).toBe(1); // the runtime's last_vector: #DB
  });

  it('a DR0 instruction breakpoint fires on deprivileged code as on bare hardware', () => {
    const target = slotAddress(4);
    const body: number[][] = [
      [0xb8, ...encode.le32(target), 0x0f, 0x23, 0xc0], // mov eax, target; mov dr0, eax
      [0xb8, ...encode.le32(0x00000001), 0x0f, 0x23, 0xf8], // mov eax, 1 (L0, execute, 1 byte); mov dr7, eax
      [0x90],
      [0x90],
      [0x41, 0x41], // the breakpoint: #DB fault before it (the handler resumes at the next slot)
      [0x42],
      [0x31, 0xc0, 0x0f, 0x23, 0xf8], // xor eax, eax; mov dr7, eax
    ];
    const r = same(body);
    expect(r.monitor.counters.traps.get('debug') ?? 0).toBeGreaterThanOrEqual(1);
    expect(r.monitored.mem.peek(0x10384, 4)).toBe(1); // the runtime's last_vector: #DB
  });

  it('a DR1 data breakpoint on a store (deprivileged, then SBE-emulated code) traps after it as on bare hardware', () => {
    const watched = 0x40010;
    const body: number[][] = [
      [0xb8, ...encode.le32(watched), 0x0f, 0x23, 0xc8], // mov eax, watched; mov dr1, eax
      [0xb8, ...encode.le32(0x00d00004), 0x0f, 0x23, 0xf8], // L1, R/W1 = 01 (writes), LEN1 = 11 (4 bytes); mov dr7, eax
      encode.storeSs(watched, 0x1234), // a store the real CPU does: #DB trap after it
      [0x90],
      encode.storeSs(watched + 2, 0x5678), // overlaps the watched dword
      [0x90],
      [0x36, 0xff, 0x35, ...encode.le32(watched), 0x1f], // push dword [ss:watched]; pop ds (a read: no trap; the pop faults)
      [0x31, 0xc0, 0x0f, 0x23, 0xf8], // xor eax, eax; mov dr7, eax
    ];
    const r = same(body);
    expect(r.monitor.counters.traps.get('debug') ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('an I/O breakpoint (CR4.DE) on an emulated OUT traps after it as on bare hardware', () => {
    const body: number[][] = [
      [0x0f, 0x20, 0xe0, 0x0c, 0x08, 0x0f, 0x22, 0xe0], // mov eax, cr4; or al, 8 (DE); mov cr4, eax
      [0xb8, ...encode.le32(0x80), 0x0f, 0x23, 0xc0], // mov eax, 0x80; mov dr0, eax
      [0xb8, ...encode.le32(0x00020001), 0x0f, 0x23, 0xf8], // L0, R/W0 = 10 (I/O), LEN0 = 1 byte; mov dr7, eax
      [0xe6, 0x80], // out 0x80, al: #GP at the real CPL 3, emulated; its #DB trap after it
      [0x90],
      [0x31, 0xc0, 0x0f, 0x23, 0xf8], // xor eax, eax; mov dr7, eax
    ];
    const r = same(body);
    expect(r.monitor.counters.traps.get('debug') ?? 0).toBe(1);
    expect(r.monitored.mem.peek(0x10384, 4)).toBe(1); // the runtime's last_vector: #DB
  });
});
