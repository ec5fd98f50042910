// Issue 17, item 2, end to end: a guest JMPs to a TSS whose EFLAGS image has every reserved bit set (0xFFC0802A).
// Bare and monitored, the new task must see EFLAGS = 0x00000002 (SDM 1 §3.4.3), and lockstep must find the two
// machines identical after every instruction.

import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, makeDescriptor, PROGRAM_BASE, programFromSlots, slotAddress } from '../../../engine/monitor/random-program';

const NEW_TSS = 0x14000;
const TSS_SEL = 0x40; // GDT A's first scratch entry

/** jmp 0x40:0 into a task at slot 1 whose TSS image holds `eflags`; slot 1 reads EFLAGS into EAX
 * (pushfd; pop eax), slot 2 copies it to EBX. */
function taskSwitchProgram(eflags: number): Uint8Array {
  const body = [[0xea, ...encode.le32(0), ...encode.le16(TSS_SEL)], [0x9c, 0x58], [0x89, 0xc3]];
  const p = programFromSlots(body, { a: [makeDescriptor(NEW_TSS, 0x67, 0x89, false)] });
  const image = new Uint8Array(NEW_TSS + 0x68 - PROGRAM_BASE);
  image.set(p.image);
  const put32 = (off: number, v: number): void => image.set(encode.le32(v >>> 0), NEW_TSS - PROGRAM_BASE + off);
  put32(0x20, slotAddress(1)); // EIP
  put32(0x24, eflags);
  put32(0x38, 0x70000); // ESP
  for (let s = 0; s < 6; s++) put32(0x48 + 4 * s, 0x10); // ES CS SS DS FS GS: flat data …
  put32(0x4c, 0x08); // … and flat code
  return image;
}

describe('a task switch to a TSS whose EFLAGS image sets reserved bits', () => {
  it('loads 0x00000002 bare and monitored, with no divergence in lockstep', () => {
    const r = lockstep(taskSwitchProgram(0xffc0802a), {
      load: { format: 'bin', loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' },
      maxInstructions: 5_000,
    });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    // Slot 2 kept in EBX what pushfd; pop eax read in the new task (the exit sequence overwrites EAX).
    expect(r.bare.cpu.regs[3] >>> 0).toBe(0x2);
    expect(r.monitored.cpu.regs[3] >>> 0).toBe(0x2);
    expect(r.monitor.counters.panics).toBe(0);
  });
});
