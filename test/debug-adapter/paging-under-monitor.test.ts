// A paging guest under the monitor (shadow page tables): the adapter shows and uses the guest's paging, not the
// shadow's — memory reads, a data breakpoint set by linear address, the Control scope's CR3 and the Monitor scope's
// shadow-paging row — and the same session bare gives the same answers.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, launchStopped, named, ROOT, scopeVariables, startClient } from './dap-client';

const IMAGE = path.join(ROOT, 'examples/paging/paging.bin');

let dc: DebugClient | undefined;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

async function cont(c: DebugClient): Promise<DebugProtocol.StoppedEvent> {
  const stopped = c.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await c.continueRequest({ threadId: 1 });
  return stopped;
}

async function session(monitor: boolean) {
  const c = await startClient();
  dc = c;
  await launchStopped(c, { program: IMAGE, memoryMB: 16, monitor }, () =>
    c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'cpu-exception', condition: 'vector == 14' }] }),
  );
  // The guest's second #PF (a write at 0x00C01020): by then linear 0x00C00000 maps onto frame 0x00100000.
  await cont(c);
  const second = await cont(c);
  expect(second.body.reason).toBe('exception');
  const cr3 = named(await scopeVariables(c, 'Control'), 'CR3').value;
  const mem = (await c.customRequest('readMemory', { memoryReference: '0x00C00010', count: 4 })) as DebugProtocol.ReadMemoryResponse;
  // A read watch on the linear address: its physical bytes are read back later through the identity map.
  const info = await c.dataBreakpointInfoRequest({ name: '0x00C00010', asAddress: true, bytes: 4 } as DebugProtocol.DataBreakpointInfoArguments);
  const set = await c.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'read' }] });
  await c.setExceptionBreakpointsRequest({ filters: [] });
  const hit = await cont(c);
  const monitorRows = monitor ? await scopeVariables(c, 'Monitor') : [];
  const shadowRows = monitor ? await children(c, named(monitorRows, 'shadow paging')) : [];
  const result = { cr3, data: mem.body?.data, verified: set.body.breakpoints[0].verified, reason: hit.body.reason, text: hit.body.text };
  await c.disconnectRequest({});
  return { result, monitorRows, shadowRows };
}

describe('a paging guest under the monitor, in the debugger', () => {
  it("reads memory, sets data breakpoints and shows CR3 through the guest's paging, as bare", async () => {
    const bare = (await session(false)).result;
    const monitored = await session(true);
    expect(monitored.result).toEqual(bare);
    expect(bare.verified).toBe(true);
    expect(bare.reason).toBe('data breakpoint');
    expect(bare.text).toMatch(/read of 4 byte\(s\).*physical 0x100010/);
    const shadow = named(monitored.monitorRows, 'shadow paging');
    expect(shadow.value).toMatch(/^\d+ pages mapped, window at 0x[0-9a-f]{8}$/);
    const counters = Object.fromEntries(monitored.shadowRows.map((v) => [v.name, Number(v.value)]));
    expect(Object.keys(counters)).toEqual(['fills', 'drops', 'flushes', 'relocations']);
    expect(counters.fills).toBeGreaterThan(3);
  }, 60000);
});
