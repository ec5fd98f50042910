// The guest-code fuzzer in the suite: a brief fixed-seed run (seeds 106–109; seed 108's program ran stale code
// before issue 17's fix, so this run would have caught it) must find nothing, and planted faults must be reported
// with their seed and image. Longer runs: `ringside fuzz guest --runs N --seed S` (README, Reliability).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fuzzGuests } from '../../../engine/fuzz/guest-fuzz';
import { guestProgram } from '../../../engine/fuzz/guest-programs';
import { Machine } from '../../../engine/machine/machine';
import { PROGRAM_BASE } from '../../../engine/monitor/random-program';

afterEach(() => vi.restoreAllMocks());

describe('guest-code fuzzer', () => {
  it('a brief run with a fixed seed: bare, monitored, stepped and free-running machines agree, nothing crashes', () => {
    const r = fuzzGuests({ runs: 4, seed: 106 });
    expect(r.findings.map((f) => `${f.kind} seed ${f.seed} ${f.comparison}: ${f.summary}\n${f.detail}`)).toEqual([]);
    expect(r.runs).toBe(4);
    expect(r.instructions).toBeGreaterThan(10_000);
  }, 120_000);

  it('programs are reproducible from their seed, and every kind occurs', () => {
    expect(guestProgram(108).image).toEqual(guestProgram(108).image);
    const kinds = new Set(Array.from({ length: 24 }, (_, k) => guestProgram(k + 1).kind));
    expect([...kinds].sort()).toEqual(['raw16', 'raw32', 'system']);
    const p = guestProgram(108);
    expect([p.kind, p.load.loadAddress]).toEqual(['system', PROGRAM_BASE]);
  });

  it('reports a free-running machine that differs from the stepped one as a disagreement, with its seed', () => {
    const original = Machine.prototype.runSlice;
    vi.spyOn(Machine.prototype, 'runSlice').mockImplementation(function (this: Machine, budget: number) {
      const r = original.call(this, budget);
      this.cpu.regs[5] ^= 0x100; // a planted bug: every free slice flips a bit of EBP
      return r;
    });
    const r = fuzzGuests({ runs: 1, seed: 106, instructions: 500 });
    expect(r.disagreements).toBeGreaterThan(0);
    expect(r.findings[0]).toMatchObject({ kind: 'disagreement', seed: 106, summary: expect.stringMatching(/^EBP after \d+ instructions$/) });
    expect(r.findings[0].program.image.length).toBeGreaterThan(0);
  });

  it('reports an exception from the engine as a crash instead of dying', () => {
    vi.spyOn(Machine.prototype, 'step').mockImplementation(() => {
      throw new TypeError('planted');
    });
    const r = fuzzGuests({ runs: 1, seed: 1, instructions: 100 });
    expect(r.crashes).toBeGreaterThan(0);
    expect(r.findings[0]).toMatchObject({ kind: 'crash', seed: 1, summary: 'TypeError: planted' });
  });
});
