// Starting the real adapter (`node bin/ringside.js dap` over stdio) for a test, and small helpers on top of
// DebugClient from @vscode/debugadapter-testsupport.
import { execFileSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

export const ROOT = path.resolve(__dirname, '../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures/dap');
const ENTRY = path.join(FIXTURES, 'ringside-dap.js');

let built = false;
/**
 * Bundles dist/adapter.js once per test process with the project's build. When another bundle of the build
 * fails (a part of the tree someone is changing), the adapter's own bundle is made alone with the same settings,
 * so these tests always run the adapter built from the current sources.
 */
export function buildOnce(): void {
  if (built) return;
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    buildSync({
      entryPoints: [path.join(ROOT, 'debug-adapter/main.ts')],
      outfile: path.join(ROOT, 'dist/adapter.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: true,
      logLevel: 'silent',
    });
  }
  built = true;
}

export async function startClient(env?: Record<string, string>): Promise<DebugClient> {
  const dc = new DebugClient(process.execPath, ENTRY, 'ringside', { cwd: ROOT, env: env ? { ...process.env, ...env } : undefined }, true);
  dc.defaultTimeout = 10000;
  await dc.start();
  return dc;
}

/** initialize → launch (stop on entry) → configurationDone → the entry stop. */
export async function launchStopped(dc: DebugClient, args: Record<string, unknown>, before?: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  await dc.initializeRequest({ adapterID: 'ringside', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsVariableType: true });
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  const launched = dc.launchRequest({ stopOnEntry: true, monitor: false, ...args } as DebugProtocol.LaunchRequestArguments);
  await dc.waitForEvent('initialized');
  if (before) await before();
  await dc.configurationDoneRequest();
  await launched;
  return stopped;
}

/** Runs a request and resolves with the stopped event it causes (the wait starts before the request goes out). */
export async function stoppedAfter(dc: DebugClient, go: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await go();
  return stop;
}

export async function scopeVariables(dc: DebugClient, scope: string): Promise<DebugProtocol.Variable[]> {
  const st = await dc.stackTraceRequest({ threadId: 1 });
  const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
  const s = sc.body.scopes.find((x) => x.name === scope);
  if (!s) throw new Error(`no scope ${scope}`);
  return (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
}

export async function children(dc: DebugClient, v: DebugProtocol.Variable): Promise<DebugProtocol.Variable[]> {
  return (await dc.variablesRequest({ variablesReference: v.variablesReference })).body.variables;
}

export function named(list: DebugProtocol.Variable[], name: string): DebugProtocol.Variable {
  const v = list.find((x) => x.name === name);
  if (!v) throw new Error(`no variable ${name} in ${list.map((x) => x.name).join(', ')}`);
  return v;
}

/** What a user sees of a moment: guest time, every register, every segment register with its cache. */
export async function momentOf(dc: DebugClient): Promise<{ instructions: number; registers: string[]; segments: string[] }> {
  const control = await scopeVariables(dc, 'Control');
  const registers = (await scopeVariables(dc, 'Registers')).map((v) => `${v.name}=${v.value}`);
  const segments: string[] = [];
  for (const seg of await scopeVariables(dc, 'Segments')) {
    const cache = (await children(dc, seg)).find((c) => c.name === 'cache');
    const fields = cache ? (await children(dc, cache)).map((c) => `${c.name}=${c.value}`).join(' ') : '';
    segments.push(`${seg.name}=${seg.value} ${fields}`);
  }
  return { instructions: Number(named(control, 'instructions').value), registers, segments };
}

/**
 * test/fixtures/boot/screen-io.bin written to `dir` with its command byte set ('k' reads keys, 'v' writes "VGA",
 * 's' reads COM1, 'b' prints through the BIOS and COM1): a boot image for the screen and keyboard tests.
 */
export function screenIoBoot(dir: string, command: string): string {
  const sector = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'boot', 'screen-io.bin'));
  sector[0x1f0] = command.charCodeAt(0);
  const file = path.join(dir, `screen-io-${command}.img`);
  fs.writeFileSync(file, sector);
  return file;
}
