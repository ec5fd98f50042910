// Under the monitor a filter stop lands where it lands bare: a guest store to its GDT is handled by the monitor at
// the next instruction boundary, and the stop its events ask for must be taken there, before the next instruction —
// also when the user steps instruction by instruction.
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
  reason: string;
  description: string | undefined;
  text: string;
  ip: string | undefined;
  line: number;
  eip: string;
}

async function placeOf(c: DebugClient, s: DebugProtocol.StoppedEvent): Promise<StopPlace> {
  const frame = (await c.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
  return {
    reason: s.body.reason,
    description: s.body.description,
    text: s.body.reason === 'exception' ? ((await c.exceptionInfoRequest({ threadId: 1 })).body.description ?? '') : '',
    ip: frame.instructionPointerReference,
    line: frame.line,
    eip: (await c.evaluateRequest({ expression: 'eip', context: 'watch' })).body.result,
  };
}

/** Stops and where the guest stands at each, for `count` requests made by `go` after `arm` set the filters. */
async function stops(monitor: boolean, arm: (c: DebugClient) => Promise<unknown>, go: (c: DebugClient) => Promise<unknown>, count: number): Promise<StopPlace[]> {
  const client = await startClient();
  dc = client;
  await launchStopped(client, { program: IMAGE, monitor });
  await arm(client);
  const places: StopPlace[] = [];
  for (let k = 0; k < count; k++) {
    const stop = client.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await go(client);
    places.push(await placeOf(client, await stop));
  }
  dc = undefined;
  await client.stop();
  return places;
}

const dsInconsistent = (c: DebugClient) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'cache-inconsistent', condition: 'reg == DS' }] });

describe('filter stops under the monitor', () => {
  it('cache-inconsistent stops at the same place as bare', async () => {
    const go = (c: DebugClient) => c.continueRequest({ threadId: 1 });
    const bare = await stops(false, dsInconsistent, go, 3);
    const monitored = await stops(true, dsInconsistent, go, 3);
    expect(bare.map((p) => p.description)).toEqual(['cache-inconsistent', 'cache-inconsistent', 'cache-inconsistent']);
    expect(monitored).toEqual(bare);
  }, 30000);

  it('stepping over the GDT rewrite reports the cache-inconsistent stops on the same steps as bare', async () => {
    // From DS's load from entry 3, instruction by instruction across the two stores that rewrite the entry.
    const arm = async (c: DebugClient) => {
      await c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS && selector == 0x18' }] });
      const loaded = c.waitForEvent('stopped');
      await c.continueRequest({ threadId: 1 });
      await loaded;
      await dsInconsistent(c);
    };
    const go = (c: DebugClient) => c.nextRequest({ threadId: 1, granularity: 'instruction' });
    const bare = await stops(false, arm, go, 12);
    const monitored = await stops(true, arm, go, 12);
    expect(bare.filter((p) => p.description === 'cache-inconsistent').map((p) => p.text)).toEqual([
      "DS's cache no longer matches its descriptor (limit)",
      "DS's cache no longer matches its descriptor (base, limit)",
    ]);
    expect(monitored).toEqual(bare);
  }, 30000);
});
