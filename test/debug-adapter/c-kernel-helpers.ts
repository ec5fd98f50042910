// Builds examples/c-kernel with Debian's gcc -m32 at a given optimisation level (once per level and test
// process) and small DAP helpers for the C kernel tests.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ROOT } from './dap-client';

export const KERNEL_DIR = path.join(ROOT, 'examples/c-kernel');
export const KERNEL_SOURCE = path.join(KERNEL_DIR, 'kernel.c');

export function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
    execFileSync('ld', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export function hasClang(): boolean {
  try {
    execFileSync('clang', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const built = new Map<string, string>();
export function buildKernel(opt: '-O0' | '-O2', cc: 'gcc' | 'clang' = 'gcc'): string {
  const have = built.get(cc + opt);
  if (have) return have;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ringside-ckernel-')), `kernel-${cc}${opt}.elf`);
  execFileSync('sh', [path.join(KERNEL_DIR, 'build.sh'), out, opt], { stdio: 'pipe', env: { ...process.env, CC: cc } });
  built.set(cc + opt, out);
  return out;
}

/** The line of the first source line containing `text`. */
export function lineOf(text: string): number {
  const lines = fs.readFileSync(KERNEL_SOURCE, 'utf8').split('\n');
  const k = lines.findIndex((l) => l.includes(text));
  if (k < 0) throw new Error(`no line with ${text}`);
  return k + 1;
}

export async function frames(dc: DebugClient): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

export async function scopeOf(dc: DebugClient, name: string, frame = 0): Promise<DebugProtocol.Variable[]> {
  const st = await frames(dc);
  const sc = await dc.scopesRequest({ frameId: st[frame].id });
  const s = sc.body.scopes.find((x) => x.name === name);
  if (!s) throw new Error(`no scope ${name} in ${sc.body.scopes.map((x) => x.name).join(', ')}`);
  return (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
}

export async function scopeNames(dc: DebugClient, frame = 0): Promise<string[]> {
  const st = await frames(dc);
  return (await dc.scopesRequest({ frameId: st[frame].id })).body.scopes.map((s) => s.name);
}

export async function evaluate(dc: DebugClient, expression: string, frameId?: number): Promise<DebugProtocol.EvaluateResponse['body']> {
  return (await dc.evaluateRequest({ expression, context: 'watch', frameId })).body;
}

export async function stepAndWait(dc: DebugClient, kind: 'next' | 'stepIn' | 'stepOut' | 'continue'): Promise<DebugProtocol.StoppedEvent> {
  const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  if (kind === 'next') await dc.nextRequest({ threadId: 1 });
  else if (kind === 'stepIn') await dc.stepInRequest({ threadId: 1 });
  else if (kind === 'stepOut') await dc.stepOutRequest({ threadId: 1 });
  else await dc.continueRequest({ threadId: 1 });
  return stop;
}
