// Under the monitor the debugger shows the guest, exactly as bare (interfaces.md, wave 2): stepping the rings
// example instruction by instruction from its entry into ring 3 and back, every stop's call stack (frames, their
// CS:EIP), Registers, Segments and Control scopes are the same bare and monitored — never the deprivileged CPU's
// CS RPL 3, virtual GDT or real CPL.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { buildOnce, launchStopped, ROOT, startClient } from './dap-client';

const IMAGE = path.join(ROOT, 'examples/rings/rings.bin');
/** The example reaches ring 3 after 804 instructions; the steps go past it into ring-3 code and back through a gate. */
const STEPS = 900;
const SCOPES = ['Registers', 'Segments', 'Control'];

let dc: DebugClient | undefined;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

async function view(c: DebugClient): Promise<string> {
  const st = await c.stackTraceRequest({ threadId: 1 });
  const frames = st.body.stackFrames.map((f) => `${f.name} ${f.instructionPointerReference ?? ''}`);
  const sc = await c.scopesRequest({ frameId: st.body.stackFrames[0].id });
  const parts = [frames.join(' | ')];
  for (const name of SCOPES) {
    const s = sc.body.scopes.find((x) => x.name === name);
    if (!s) throw new Error(`no scope ${name}`);
    const vars = (await c.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
    parts.push(`${name}: ${vars.map((v) => `${v.name}=${v.value}`).join(' ')}`);
  }
  return parts.join('\n');
}

async function walk(monitor: boolean): Promise<string[]> {
  const client = await startClient();
  dc = client;
  await launchStopped(client, { program: IMAGE, monitor });
  const views: string[] = [await view(client)];
  for (let k = 0; k < STEPS; k++) {
    const stopped = client.waitForEvent('stopped');
    await client.stepInRequest({ threadId: 1, granularity: 'instruction' });
    await stopped;
    // The whole view every 10 steps and around the ring change; the call stack at every step.
    views.push(k % 10 === 0 || (k > 790 && k < 830) ? await view(client) : (await client.stackTraceRequest({ threadId: 1 })).body.stackFrames.map((f) => `${f.name} ${f.instructionPointerReference ?? ''}`).join(' | '));
  }
  dc = undefined;
  await client.stop();
  return views;
}

describe('the adapter shows the guest under the monitor', () => {
  it('stack, Registers, Segments and Control are the same bare and monitored at every step', async () => {
    const bare = await walk(false);
    const mon = await walk(true);
    expect(bare.some((v) => v.includes('CPL=3'))).toBe(true);
    for (let k = 0; k < bare.length; k++) expect(mon[k], `step ${k}`).toBe(bare[k]);
  }, 240_000);
});
