// A monitor entry's two switches (deprivileged CPU → guest's view → deprivileged CPU) leave the code epoch alone:
// the run loop's links, remembered jump targets and block successors, and a translated block that called an
// SBE-bound instruction, stay valid across an entry that changes nothing they assume (engine/cpu/code-assumptions.ts).
// An entry that does change it (here: one that leaves direct execution, so the CPU then holds the guest's own view
// at CPL 0) moves the epoch. Lockstep proves both runs are the guest's as bare.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PROGRAM_BASE, programFromSlots, TABLES } from '../../../engine/monitor/random-program';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const ITERATIONS = 5_000;

// Ring 0: every iteration loads DS (SBE-bound, emulated: an LDT selector, which in-place.ts leaves to the monitor) and
// stores the MSW (SMSW: SBE-bound, inside a translated block).
const trapLoop = programFromSlots([
  [0xb9, ...encode.le32(ITERATIONS)], // mov ecx, ITERATIONS
  // LOOP, not DEC + JNZ: a block's trace goes on at a usually taken Jcc's target (jit/compile.ts), which would put
  // `mov ax` into the block after `smsw` and leave no block to chain to; a LOOP's trace goes on after it.
  [0x66, 0xb8, 0x14, 0x00, 0x8e, 0xd8, 0x0f, 0x01, 0xe0, 0xe2, 0xf5], // .l: mov ax, 0x14; mov ds, ax; smsw eax; loop .l
]).image;

// LGDT with a limit of 7 (CS 0x08 then lies beyond it: the monitor cannot run the guest deprivileged), then the
// runtime's own table again.
const leaving = programFromSlots([
  encode.storeSs16(TABLES.SCRATCH, 7),
  encode.storeSs(TABLES.SCRATCH + 2, 0x10400),
  encode.lgdt(TABLES.SCRATCH),
  encode.lgdt(TABLES.GDTR_A),
]).image;

describe('the code epoch across monitor entries', () => {
  it('stays where it was over entries that change nothing the run loop assumes, and the run is the bare one', () => {
    const m = new Machine({ memoryMB: 16 });
    const monitor = attachMonitor(m, { sbe: 'auto' });
    m.load(trapLoop, LOAD);
    m.run(1_000); // past the runtime's set-up and the first iterations
    const epoch = m.cpu.codeEpoch;
    const entries = monitor.counters.totalTraps;
    const chained = m.cpu.chainedBlockRuns;
    expect(m.run(100_000).reason).toBe('exit');
    expect(monitor.counters.panics).toBe(0);
    const made = monitor.counters.totalTraps - entries;
    // Both bound instructions of every iteration after the first 1 000 instructions (250 iterations of 4).
    expect(made).toBeGreaterThan(2 * (ITERATIONS - 250) - 20);
    // Before: every switch moved the epoch, two per entry.
    expect(m.cpu.codeEpoch - epoch).toBeLessThan(50);
    expect(m.cpu.chainedBlockRuns - chained).toBeGreaterThan(ITERATIONS / 2);
    const r = lockstep(trapLoop, { load: LOAD, maxInstructions: 100_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
  });

  it('moves when an entry leaves direct execution, with SBE off (no rescan drops the decoded code then)', () => {
    const m = new Machine({ memoryMB: 16 });
    const monitor = attachMonitor(m, { sbe: 'off' });
    m.load(leaving, LOAD);
    let left = 0;
    for (let k = 0; k < 10_000 && !m.cpu.halted; k++) {
      const direct = monitor.state === 'direct';
      const epoch = m.cpu.codeEpoch;
      m.step();
      if (direct && monitor.state === 'emulated') {
        left++;
        expect(monitor.emulatedBecause).toMatch(/beyond the guest's GDT limit/);
        expect(m.cpu.codeEpoch).not.toBe(epoch);
      }
    }
    expect(left).toBe(1);
    expect(monitor.state).toBe('direct'); // engaged again after the second LGDT
    const r = lockstep(leaving, { load: LOAD, maxInstructions: 10_000, sbe: 'off' });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
  });
});
