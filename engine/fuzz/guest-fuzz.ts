// The guest-code fuzzer (issue 17): each run takes one generated program (guest-programs.ts) and compares four
// machines that must agree — bare and monitored, each stepped and running freely in slices of random length —
// through the lockstep harness (stepped bare against stepped monitored, after every instruction) and the free-run
// comparison (free against stepped, bare and monitored). A divergence is a disagreement; any exception other than
// the guest's own faults is a crash; a run over the wall-clock bound is reported as slow. Each finding carries
// the seed and the image, so `ringside lockstep` can replay it.

import { freeRunCompare } from '../monitor/free-run';
import { describeDivergence, lockstep, type Divergence } from '../monitor/lockstep';
import { FREE_RUN_LABELS } from '../monitor/free-run';
import { guestProgram, type GuestProgram } from './guest-programs';
import { Rng } from '../monitor/random-program';

export interface GuestFuzzOptions {
  /** Programs to run (seeds seed … seed + runs − 1). */
  runs: number;
  seed: number;
  /** Instructions per comparison (the per-run budget). */
  instructions?: number;
  /** Stop starting runs after this many seconds. */
  seconds?: number;
  /** A run that takes longer than this (wall clock) is reported. */
  slowSeconds?: number;
  /** Called after each run (progress lines). */
  onRun?: (seed: number, program: GuestProgram, findings: GuestFinding[]) => void;
}

export interface GuestFinding {
  kind: 'disagreement' | 'crash' | 'slow';
  seed: number;
  program: GuestProgram;
  /** Which comparison: bare vs monitored, free vs stepped (bare or monitored). */
  comparison: string;
  /** One line: the differing field, the exception, or the time taken. */
  summary: string;
  /** The divergence with both states, or the stack. */
  detail: string;
}

export interface GuestFuzzReport {
  runs: number;
  instructions: number;
  crashes: number;
  disagreements: number;
  slow: number;
  byKind: Record<string, number>;
  findings: GuestFinding[];
  seconds: number;
}

type Check = { name: string; run: () => { divergence: Divergence | null; instructions: number }; labels: [string, string] };

/** Runs the fuzzer; bounded by `runs` and `seconds`. */
export function fuzzGuests(options: GuestFuzzOptions): GuestFuzzReport {
  const budget = options.instructions ?? 3000;
  const slowMs = (options.slowSeconds ?? 20) * 1000;
  const t0 = Date.now();
  const report: GuestFuzzReport = { runs: 0, instructions: 0, crashes: 0, disagreements: 0, slow: 0, byKind: {}, findings: [], seconds: 0 };
  for (let n = 0; n < options.runs; n++) {
    if (options.seconds !== undefined && Date.now() - t0 > options.seconds * 1000) break;
    const seed = options.seed + n;
    const program = guestProgram(seed);
    const slices = new Rng(seed ^ 0x5bd1e995);
    // Slices of every length: a few instructions (budgets ending inside blocks and chains), thousands, and the
    // whole budget at once (long chains of linked instructions, as `ringside run` has).
    const slice = (): number => [1 + slices.below(64), 1 + slices.below(20_000), 1 << 16][slices.below(3)];
    const memoryMB = 4;
    const checks: Check[] = [
      {
        name: 'bare vs monitored, stepped',
        labels: ['bare', 'monitored'],
        run: () => lockstep(program.image, { load: program.load, memoryMB, maxInstructions: budget }),
      },
      ...[false, true].map((monitored): Check => ({
        name: `free vs stepped, ${monitored ? 'monitored' : 'bare'}`,
        labels: FREE_RUN_LABELS,
        run: () => freeRunCompare(program.image, { load: program.load, memoryMB, maxInstructions: budget, monitored, slice }),
      })),
    ];
    const found: GuestFinding[] = [];
    const started = Date.now();
    for (const check of checks) {
      try {
        const r = check.run();
        report.instructions += r.instructions;
        if (r.divergence !== null) {
          found.push({
            kind: 'disagreement',
            seed,
            program,
            comparison: check.name,
            summary: `${r.divergence.field} after ${r.divergence.step} instructions`,
            detail: describeDivergence(r.divergence, check.labels),
          });
        }
      } catch (e) {
        const err = e as Error;
        found.push({ kind: 'crash', seed, program, comparison: check.name, summary: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, detail: String(err?.stack ?? e) });
      }
    }
    const took = Date.now() - started;
    if (took > slowMs) {
      found.push({ kind: 'slow', seed, program, comparison: 'all', summary: `took ${(took / 1000).toFixed(1)} s (bound ${slowMs / 1000} s)`, detail: '' });
    }
    report.runs++;
    report.byKind[program.kind] = (report.byKind[program.kind] ?? 0) + 1;
    for (const f of found) {
      if (f.kind === 'crash') report.crashes++;
      else if (f.kind === 'disagreement') report.disagreements++;
      else report.slow++;
    }
    report.findings.push(...found);
    options.onRun?.(seed, program, found);
  }
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}
