// The lockstep compares the CPU after every instruction, but memory, devices and output bytes only at checkpoints
// (every `memoryEvery` instructions, default 65,536): a difference found there is located at its exact instruction
// by replaying both machines from the image (engine/monitor/lockstep.ts, locate). Planted differences — made in
// the monitored machine after a chosen instruction, again on every replay — must be reported after exactly that
// instruction, whatever the checkpoint interval.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockstep, lockstepAsync } from '../../../engine/monitor/lockstep';
import type { Machine } from '../../../engine/machine/machine';

const BENCH_LOOP = readFileSync(join(__dirname, '../../../examples/bench-loop/bench-loop.bin'));
/** A byte bench-loop never touches (its code at 0x7C00, data at 0x10000, stack below 0x90000). */
const UNTOUCHED = 0x300000;

/** After the monitored machine's `at`-th step, `plant` changes it (on the first run and on each replay alike). */
function plantAfter(at: number, plant: (m: Machine) => void): (bare: Machine, monitored: Machine) => void {
  return (_bare, monitored) => {
    const step = monitored.step.bind(monitored);
    let n = 0;
    monitored.step = () => {
      const r = step();
      if (++n === at) plant(monitored);
      return r;
    };
  };
}

describe('lockstep: checkpoint differences located at their exact instruction by replay', () => {
  for (const memoryEvery of [undefined, 4096, 777]) {
    it(`a memory byte the guest never reads, planted after instruction 150,001 (checkpoints every ${memoryEvery ?? 'default'})`, () => {
      const r = lockstep(BENCH_LOOP, { maxInstructions: 300_000, memoryEvery, prepare: plantAfter(150_001, (m) => void (m.mem.u8[UNTOUCHED] ^= 0x5a)) });
      expect(r.divergence).toMatchObject({ step: 150_001, field: `memory[0x${UNTOUCHED.toString(16)}]`, bare: '0x0', monitored: '0x5a' });
      // The machines returned are the replay's, at the divergence.
      expect(r.instructions).toBe(150_001);
      expect(r.monitored.mem.u8[UNTOUCHED]).toBe(0x5a);
    }, 120_000);
  }

  it('a device change (the PIT channel 0 count latch) after instruction 70,000, located across checkpoints', () => {
    const r = lockstep(BENCH_LOOP, {
      maxInstructions: 200_000,
      prepare: plantAfter(70_000, (m) => void m.io.out(0x43, 0x00, 1)), // latch command: guest-visible at the next read
    });
    expect(r.divergence?.step).toBe(70_000);
    expect(r.divergence?.field).toBe('device pit');
  }, 120_000);

  it('a register change is caught after the instruction itself, with no replay', () => {
    const r = lockstep(BENCH_LOOP, { maxInstructions: 300_000, prepare: plantAfter(123_457, (m) => void (m.cpu.regs[5] ^= 0x100)) });
    expect(r.divergence).toMatchObject({ step: 123_457, field: 'EBP' });
  }, 120_000);

  it('lockstepAsync, comparing in pieces between event-loop turns, finds the same instruction', async () => {
    const r = await lockstepAsync(BENCH_LOOP, { maxInstructions: 300_000, prepare: plantAfter(150_001, (m) => void (m.mem.u8[UNTOUCHED] ^= 0x5a)) }, 10_007);
    expect(r.divergence).toMatchObject({ step: 150_001, field: `memory[0x${UNTOUCHED.toString(16)}]` });
  }, 120_000);

  it('an unplanted run has no divergence, to its limit', () => {
    const r = lockstep(BENCH_LOOP, { maxInstructions: 300_000 });
    expect(r.divergence).toBeNull();
    expect(r.stop).toBe('limit');
    expect(r.instructions).toBe(300_000);
  }, 120_000);
});
