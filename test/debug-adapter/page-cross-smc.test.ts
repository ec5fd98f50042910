// Issue 17, item 1, under the debugger: continuing and stepping must not change what the guest does. The guest
// rewrites the instruction at the start of the next page after falling through into it once (test/engine/cpu/
// page-cross-programs.ts); both ways it must exit with the value it stored, 34.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, launchStopped, startClient } from './dap-client';
import { pageCrossSmc, PAGE_CROSS_SMC_EXIT } from '../engine/cpu/page-cross-programs';

let dc: DebugClient | undefined;
let image: string;
beforeAll(() => {
  buildOnce();
  image = path.join(mkdtempSync(path.join(tmpdir(), 'ringside-dap-smc-')), 'smc16.bin');
  writeFileSync(image, pageCrossSmc(16));
}, 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

async function exitCode(monitor: boolean, how: 'continue' | 'step'): Promise<number | undefined> {
  const c = await startClient();
  dc = c;
  let exited: number | undefined;
  const done = (c.waitForEvent('exited', 20000) as Promise<DebugProtocol.ExitedEvent>).then((e) => (exited = e.body.exitCode));
  await launchStopped(c, { program: image, format: 'bin', monitor });
  if (how === 'continue') {
    await c.continueRequest({ threadId: 1 });
  } else {
    // The guest runs 21 instructions; each step either stops again or ends the session.
    for (let k = 0; k < 100 && exited === undefined; k++) {
      const stopped = c.waitForEvent('stopped');
      await c.nextRequest({ threadId: 1, granularity: 'instruction' });
      await Promise.race([stopped, done]);
    }
  }
  await done;
  return exited;
}

describe('self-modifying code across a page boundary under the adapter', () => {
  for (const monitor of [false, true]) {
    it(`continue and instruction steps both end with exit code ${PAGE_CROSS_SMC_EXIT} (${monitor ? 'monitored' : 'bare'})`, async () => {
      expect(await exitCode(monitor, 'continue')).toBe(PAGE_CROSS_SMC_EXIT);
      expect(await exitCode(monitor, 'step')).toBe(PAGE_CROSS_SMC_EXIT);
    }, 60000);
  }
});
