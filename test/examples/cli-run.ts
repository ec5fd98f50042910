// Runs `ringside run` on an example image the way a user would, from the repository root.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXAMPLES_DIR } from './example-folders';

export const ROOT = path.resolve(EXAMPLES_DIR, '..');
export const CLI = path.join(ROOT, 'bin', 'ringside.js');
export const BUNDLE = path.join(ROOT, 'dist', 'cli.js');

export interface RunSummary {
  stop: string;
  exitCode: number;
  instructions: number;
}

export interface GuestRun {
  status: number | null;
  /** The guest's port 0xE9 output: stdout without the JSON line. */
  output: string;
  summary: RunSummary;
  stderr: string;
}

function cliArgs(name: string, maxInstructions: number, extra: string[]): string[] {
  const image = path.join('examples', name, `${name}.bin`);
  return [CLI, 'run', image, '--max-instructions', String(maxInstructions), ...extra];
}

/** `ringside run examples/NAME/NAME.bin --json [extra]`. */
export function runExample(name: string, maxInstructions: number, extra: string[] = []): GuestRun {
  const result = spawnSync(process.execPath, cliArgs(name, maxInstructions, ['--json', ...extra]), {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 110_000,
  });
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

/**
 * `ringside run examples/NAME/NAME.bin --trace EVENTS [extra]` with stdout and stderr going to one file, so that the
 * trace lines stand between the guest's lines in the order they happened. Returns that file's lines.
 */
export function traceExample(name: string, events: string[], extra: string[] = [], maxInstructions = 5_000_000): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringside-trace-'));
  const file = path.join(dir, 'out.txt');
  const fd = openSync(file, 'w');
  try {
    const result = spawnSync(process.execPath, cliArgs(name, maxInstructions, ['--trace', events.join(','), ...extra]), {
      cwd: ROOT,
      stdio: ['ignore', fd, fd],
      timeout: 110_000,
    });
    if (result.status !== 0) throw new Error(`ringside run ${name} ended with ${result.status}:\n${readFileSync(file, 'utf8')}`);
  } finally {
    closeSync(fd);
  }
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  rmSync(dir, { recursive: true, force: true });
  return lines;
}
