// Runs the example guests through the CLI as a user would (`ringside run IMAGE --json`). Each guest checks
// itself (it prints `FAIL: …` and exits with 1 when a claim it makes does not hold), and its whole output must
// equal examples/NAME/expected-output.txt, recorded on Bochs, an independent x86 implementation
// (examples/run-on-bochs.sh): the same lines, the same error codes, the same faulting addresses.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES_DIR, listExamples } from './example-folders';

const ROOT = path.resolve(EXAMPLES_DIR, '..');
const CLI = path.join(ROOT, 'bin', 'ringside.js');
const BUNDLE = path.join(ROOT, 'dist', 'cli.js');

/** A bound on each run, so that a guest that loses its way ends as `limit` instead of hanging the suite. */
const DEFAULT_MAX_INSTRUCTIONS = 5_000_000;
const MAX_INSTRUCTIONS: Record<string, number> = { 'bench-loop': 60_000_000 };

interface RunSummary {
  stop: string;
  exitCode: number;
  instructions: number;
}

interface GuestRun {
  status: number | null;
  output: string;
  summary: RunSummary;
  stderr: string;
}

/** `ringside run examples/NAME/NAME.bin --json`; the guest's output is stdout without the JSON line. */
function runExample(name: string, maxInstructions: number): GuestRun {
  const image = path.join('examples', name, `${name}.bin`);
  const args = [CLI, 'run', image, '--json', '--max-instructions', String(maxInstructions)];
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
  const lines = (result.stdout ?? '').trimEnd().split('\n');
  const last = lines.pop() ?? '';
  let summary: RunSummary;
  try {
    summary = JSON.parse(last) as RunSummary;
  } catch {
    throw new Error(`no JSON summary as the last line of stdout:\n${result.stdout}\n${result.stderr}`);
  }
  return { status: result.status, output: lines.length ? lines.join('\n') + '\n' : '', summary, stderr: result.stderr };
}

describe('example guests run through `ringside run`', () => {
  it('the CLI bundle is built (npm test builds it first)', () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\``).toBe(true);
  });

  for (const example of listExamples()) {
    it(`${example.name} prints its expected output and exits with 0`, () => {
      const run = runExample(example.name, MAX_INSTRUCTIONS[example.name] ?? DEFAULT_MAX_INSTRUCTIONS);
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
});
