// A guest that leaves protected mode and comes back around each BIOS call (SYSLINUX does 136 times to its kernel)
// keeps its decoded protected-mode code under the monitor: leaving drops nothing (a bound instruction runs as a
// bare CPU's while the guest is not deprivileged) and engaging again drops only the pages where code was decoded
// under another scan — here the page of the mode switch itself, which ran both ways. Before, every switch dropped
// every decoded instruction and translated block. Lockstep proves the guest sees what it sees bare, with the entry
// shortcuts and without (the thrown SBE trap too runs the bare handler while the monitor does not run the guest
// deprivileged).
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PROGRAM_BASE, programFromSlots, slotAddress } from '../../../engine/monitor/random-program';
import type { Instr } from '../../../engine/cpu/decode/instr';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const ROUNDS = 100;
const SWITCH_SLOT = 256; // the next page: 16-byte slots from BODY (0x12000)

function jmp(from: number, to: number): number[] {
  return [0xe9, ...encode.le32((to - (from + 5)) >>> 0)];
}

function call(from: number, to: number): number[] {
  return [0xe8, ...encode.le32((to - (from + 5)) >>> 0)];
}

function program(): Uint8Array {
  const slots: number[][] = Array.from({ length: SWITCH_SLOT + 2 }, () => [0x90]);
  const tail = slotAddress(slots.length);
  slots[0] = [0xb9, ...encode.le32(ROUNDS)]; // mov ecx, ROUNDS
  // .l: mov ax, 0x10; mov ds, ax (SBE-bound); call .s; then to the mode switch on the next page
  slots[1] = [0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, ...call(slotAddress(1) + 6, slotAddress(3)), ...jmp(slotAddress(1) + 11, slotAddress(SWITCH_SLOT))];
  // dec ecx; jnz .l; jmp tail
  slots[2] = [0x49, 0x0f, 0x85, ...encode.le32((slotAddress(1) - (slotAddress(2) + 7)) >>> 0), ...jmp(slotAddress(2) + 7, tail)];
  // .s: mov dx, ds (bound while SBE is on; called in both modes, so it runs emulated as decoded under the binding); ret
  slots[3] = [0x66, 0x8c, 0xda, 0xc3];
  // mov eax, cr0; and al, 0xfe; mov cr0, eax (real mode, CS's cache kept); call .s
  slots[SWITCH_SLOT] = [0x0f, 0x20, 0xc0, 0x24, 0xfe, 0x0f, 0x22, 0xc0, ...call(slotAddress(SWITCH_SLOT) + 8, slotAddress(3))];
  // mov eax, cr0; or al, 1; mov cr0, eax; jmp back
  slots[SWITCH_SLOT + 1] = [0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, ...jmp(slotAddress(SWITCH_SLOT + 1) + 8, slotAddress(2))];
  return programFromSlots(slots).image;
}

describe('decoded code across the monitor leaving and engaging again', () => {
  it('keeps the protected-mode page and the switch page decoded once over 100 round trips through real mode, as bare', () => {
    const image = program();
    const m = new Machine({ memoryMB: 16 });
    const monitor = attachMonitor(m, { sbe: 'auto' });
    // Count the monitor's scans of newly decoded instructions on the loop's page (the scan sees every decode).
    const loopPage = slotAddress(1) >>> 12;
    const switchPage = slotAddress(SWITCH_SLOT) >>> 12;
    let loopPageDecodes = 0;
    let switchPageDecodes = 0;
    let scan: ((i: Instr, page: number) => void) | null = null;
    const count = (page: number): void => {
      if (page === loopPage) loopPageDecodes++;
      if (page === switchPage) switchPageDecodes++;
    };
    Object.defineProperty(m.cpu, 'sbeScan', {
      get: () => (scan === null ? null : (i: Instr, page: number) => (count(page), scan!(i, page))),
      set: (f) => (scan = f),
    });
    m.load(image, LOAD);
    expect(m.run(1_000_000).reason).toBe('exit');
    expect(monitor.counters.panics).toBe(0);
    expect(monitor.counters.engagements).toBeGreaterThanOrEqual(ROUNDS);
    expect(monitor.counters.disengagements).toBeGreaterThanOrEqual(ROUNDS);
    // The loop's page holds 10 instructions besides NOPs; before, it was decoded again at every engagement.
    expect(loopPageDecodes).toBeLessThan(ROUNDS / 2);
    // The switch's page runs in both modes: its real-mode decodes are bound too (the binding kept while emulated),
    // so the next engagement does not drop it. Before, it was decoded again at every engagement.
    expect(switchPageDecodes).toBeLessThan(ROUNDS / 2);
    for (const shortcuts of [true, false]) {
      const r = lockstep(image, { load: LOAD, maxInstructions: 1_000_000, shortcuts });
      if (r.divergence) throw new Error(describeDivergence(r.divergence));
      expect(r.stop).toBe('exit');
      expect(r.monitor.counters.engagements).toBeGreaterThanOrEqual(ROUNDS);
    }
  });
});
