// Guest time under the debugger is the CLI's (interfaces.md, wave 2): the adapter runs in slices sized by the wall
// clock, with its listeners on, but a run stopped by `maxInstructions` has printed exactly what `ringside run
// --max-instructions` prints at the same count, bare and monitored, with a logpoint and a data breakpoint armed
// that never stop the run. The counts cut pit-delay's output inside its REP OUTSB strings, whose iterations each
// count one.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, ROOT, startClient } from './dap-client';

const IMAGE = path.join(ROOT, 'examples/pit-delay/pit-delay.bin');
const LIMITS = [340, 60_000, 147_500];

let dc: DebugClient | undefined;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

function cliOutput(limit: number, monitor: boolean): string {
  const args = [path.join(ROOT, 'bin/ringside.js'), 'run', IMAGE, '--max-instructions', String(limit)];
  if (monitor) args.push('--monitor');
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'latin1' }).stdout;
}

async function adapterOutput(limit: number, monitor: boolean): Promise<string> {
  const c = await startClient();
  dc = c;
  let out = '';
  c.on('output', (e: DebugProtocol.OutputEvent) => {
    if (e.body.category === 'stdout') out += e.body.output;
  });
  await c.initializeRequest({ adapterID: 'ringside', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const terminated = c.waitForEvent('terminated', 60_000);
  const launched = c.launchRequest({ program: IMAGE, monitor, maxInstructions: limit, stopOnEntry: false } as DebugProtocol.LaunchRequestArguments);
  await c.waitForEvent('initialized');
  // A logpoint at the entry (it logs and runs on) and a data breakpoint on bytes nothing writes (1 MiB).
  await c.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x7c00', logMessage: 'entry' }] });
  await c.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: 'mem:1048576:4', accessType: 'write' }] });
  await c.configurationDoneRequest();
  await launched;
  await terminated;
  dc = undefined;
  await c.stop();
  return out;
}

describe('the adapter keeps the CLI\'s guest time', () => {
  for (const monitor of [false, true]) {
    it(`pit-delay stopped by maxInstructions prints what the CLI prints (${monitor ? 'monitored' : 'bare'})`, async () => {
      for (const limit of LIMITS) {
        const cli = cliOutput(limit, monitor);
        expect(cli.length).toBeGreaterThan(0);
        expect(await adapterOutput(limit, monitor), `maxInstructions ${limit}`).toBe(cli);
      }
    }, 300_000);
  }
});
