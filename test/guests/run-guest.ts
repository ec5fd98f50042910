// Runs a real guest through the CLI (`ringside run … --json`), bare or under the monitor, and records the figures
// the README quotes: instructions and seconds to the guest's end (.guests/figures.jsonl, one JSON object a line).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { GUESTS_DIR, ROOT } from './debian';

export interface RunSummary {
  stop: string;
  exitCode: number;
  instructions: number;
  idleInstructions: number;
  seconds: number;
  keysUnread?: number;
  serialInUnread?: number;
  error?: string;
}

export interface GuestRun {
  code: number | null;
  /** Guest output on stdout (port E9h and --screen), without the JSON line. */
  stdout: string;
  /** COM1 (by default) and Ringside's own messages. */
  stderr: string;
  summary: RunSummary;
}

let built = false;

/** Builds the bundles once per test file (bin/ringside.js runs dist/cli.js). */
export function ensureBuilt(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  built = true;
}

export const MODES = ['bare', 'monitor'] as const;
export type Mode = (typeof MODES)[number];

/**
 * `ringside run IMAGE ARGS --json` (plus --monitor for mode "monitor"); `figure` names the run in figures.jsonl.
 * The process timeout is generous: a budget of instructions (--max-instructions) bounds every run.
 */
export function runGuest(image: string, args: readonly string[], mode: Mode, figure?: string, input?: string): GuestRun {
  ensureBuilt();
  const argv = [path.join(ROOT, 'bin', 'ringside.js'), 'run', image, ...args, '--json', ...(mode === 'monitor' ? ['--monitor'] : [])];
  const r = spawnSync(process.execPath, argv, { encoding: 'latin1', timeout: 1_500_000, input, maxBuffer: 64 << 20 });
  const out = r.stdout ?? '';
  const cut = out.lastIndexOf('{"stop"');
  if (cut < 0) throw new Error(`no JSON summary from ringside (exit ${r.status}, ${r.error?.message ?? ''}): ${r.stderr?.slice(-2000)}`);
  const summary = JSON.parse(out.slice(cut)) as RunSummary;
  if (figure !== undefined) {
    mkdirSync(GUESTS_DIR, { recursive: true });
    const record = { guest: figure, mode, stop: summary.stop, instructions: summary.instructions, idle: summary.idleInstructions, seconds: summary.seconds };
    appendFileSync(path.join(GUESTS_DIR, 'figures.jsonl'), JSON.stringify(record) + '\n');
  }
  return { code: r.status, stdout: out.slice(0, cut), stderr: r.stderr ?? '', summary };
}

/** Whether the CLI knows an option (features other branches add: --cpu). */
export function cliHasOption(option: string): boolean {
  ensureBuilt();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'ringside.js'), '--help'], { encoding: 'utf8' });
  return r.stdout.includes(option);
}
