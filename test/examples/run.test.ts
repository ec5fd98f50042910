// Runs the example guests through the CLI as a user would (`ringside run IMAGE --json`). Each guest checks
// itself (it prints `FAIL: …` and exits with 1 when a claim it makes does not hold), and its whole output must
// equal examples/NAME/expected-output.txt, recorded on Bochs, an independent x86 implementation
// (examples/run-on-bochs.sh): the same lines, the same error codes, the same faulting addresses.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLE, runExample } from './cli-run';
import { listExamples } from './example-folders';

/** A bound on each run, so that a guest that loses its way ends as `limit` instead of hanging the suite. */
const DEFAULT_MAX_INSTRUCTIONS = 5_000_000;
const MAX_INSTRUCTIONS: Record<string, number> = { 'bench-loop': 60_000_000 };

describe('example guests run through `ringside run`', () => {
  it('the CLI bundle is built (npm test builds it first)', () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\``).toBe(true);
  });

  // Bare, and under the monitor, which must be invisible to the guest (design/model.md §4): same output, same end.
  for (const [mode, extra] of [['bare', []], ['--monitor', ['--monitor']]] as const) {
    for (const example of listExamples()) {
      it(`${example.name} (${mode}) prints its expected output and exits with 0`, () => {
        const run = runExample(example.name, MAX_INSTRUCTIONS[example.name] ?? DEFAULT_MAX_INSTRUCTIONS, [...extra]);
        const context = `guest output:\n${run.output}\nstderr:\n${run.stderr}`;
        expect(run.output, context).toBe(readFileSync(example.expectedOutput, 'utf8'));
        expect(run.summary.stop, context).toBe('exit');
        expect(run.summary.exitCode, context).toBe(0);
        expect(run.status, context).toBe(0);
        if (example.name === 'bench-loop') {
          // Its README promises 50,000,000 loop instructions plus a few hundred of setup and output.
          expect(run.summary.instructions).toBeGreaterThanOrEqual(50_000_000);
          expect(run.summary.instructions).toBeLessThan(50_001_000);
        }
      });
    }
  }
});
