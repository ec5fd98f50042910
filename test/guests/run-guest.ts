// Runs a real guest through the CLI (`ringside run … --json`), bare or under the monitor, and records the figures
// the README quotes: instructions and seconds to the guest's end (.guests/figures.jsonl, one JSON object a line).
import { spawn, spawnSync } from 'node:child_process';
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
 * The process timeout is generous: a budget of instructions (--max-instructions) bounds every run. The child runs
 * asynchronously: a test worker blocked for minutes in a synchronous spawn misses vitest's RPC deadline (60 s).
 */
export async function runGuest(image: string, args: readonly string[], mode: Mode, figure?: string, input?: string): Promise<GuestRun> {
  ensureBuilt();
  const argv = [path.join(ROOT, 'bin', 'ringside.js'), 'run', image, ...args, '--json', ...(mode === 'monitor' ? ['--monitor'] : [])];
  const r = await runProcess(argv, input, 1_500_000);
  const out = r.stdout;
  const cut = out.lastIndexOf('{"stop"');
  if (cut < 0) throw new Error(`no JSON summary from ringside (exit ${r.status}, ${r.error ?? ''}): ${r.stderr.slice(-2000)}`);
  const summary = JSON.parse(out.slice(cut)) as RunSummary;
  if (figure !== undefined) {
    mkdirSync(GUESTS_DIR, { recursive: true });
    const record = { guest: figure, mode, stop: summary.stop, instructions: summary.instructions, idle: summary.idleInstructions, seconds: summary.seconds };
    appendFileSync(path.join(GUESTS_DIR, 'figures.jsonl'), JSON.stringify(record) + '\n');
  }
  return { code: r.status, stdout: out.slice(0, cut), stderr: r.stderr, summary };
}

/** Node with `argv`, `input` on its stdin; killed after `timeoutMs`. Output decoded as latin1 (bytes kept). */
function runProcess(argv: string[], input: string | undefined, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: string | undefined;
    const timer = setTimeout(() => {
      error = `killed after ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => (error = e.message));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1'), error });
    });
    child.stdin.on('error', () => undefined); // a guest run that ends before reading all of its input
    child.stdin.end(input ?? '');
  });
}

/** Whether the CLI knows an option (features other branches add: --cpu). */
export function cliHasOption(option: string): boolean {
  ensureBuilt();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'ringside.js'), '--help'], { encoding: 'utf8' });
  return r.stdout.includes(option);
}
