// Under the monitor a filter stop lands where it lands bare: a guest store to its GDT is handled by the monitor at
// the next instruction boundary, and the stop its events ask for must be taken there, before the next instruction.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, launchStopped, ROOT, startClient } from './dap-client';

const IMAGE = path.join(ROOT, 'examples/descriptor-cache/descriptor-cache.bin');

let dc: DebugClient | undefined;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

interface StopPlace {
  description: string | undefined;
  text: string;
  ip: string | undefined;
  line: number;
  eip: string;
}

/** The stops of the cache-inconsistent filter (DS) in one run, each with where the guest stands. */
async function inconsistentStops(monitor: boolean): Promise<StopPlace[]> {
  const client = await startClient();
  dc = client;
  await launchStopped(client, { program: IMAGE, monitor });
  await client.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'cache-inconsistent', condition: 'reg == DS' }] });
  const places: StopPlace[] = [];
  for (let k = 0; k < 3; k++) {
    const stop = client.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await client.continueRequest({ threadId: 1 });
    const s = await stop;
    const frame = (await client.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    places.push({
      description: s.body.description,
      text: (await client.exceptionInfoRequest({ threadId: 1 })).body.description ?? '',
      ip: frame.instructionPointerReference,
      line: frame.line,
      eip: (await client.evaluateRequest({ expression: 'eip', context: 'watch' })).body.result,
    });
  }
  dc = undefined;
  await client.stop();
  return places;
}

describe('filter stops under the monitor', () => {
  it('cache-inconsistent stops at the same place as bare', async () => {
    const bare = await inconsistentStops(false);
    const monitored = await inconsistentStops(true);
    expect(bare.map((p) => p.description)).toEqual(['cache-inconsistent', 'cache-inconsistent', 'cache-inconsistent']);
    expect(monitored).toEqual(bare);
  }, 30000);
});
