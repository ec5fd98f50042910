// The walk-through on examples/descriptor-cache: stop on the DS load by a filter condition, see the cache,
// catch the GDT rewrite with a data breakpoint on the entry, see DS inconsistent, catch the #GP with its rule.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, launchStopped, named, ROOT, scopeVariables, startClient } from './dap-client';

const IMAGE = path.join(ROOT, 'examples/descriptor-cache/descriptor-cache.bin');

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

async function continueToStop(): Promise<DebugProtocol.StoppedEvent> {
  const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await dc.continueRequest({ threadId: 1 });
  return stop;
}

describe('example guests under the debugger', () => {
  it('segment-load stop, data breakpoint on the GDT entry, inconsistent DS, #GP explained', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: IMAGE });
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS && selector == 0x18' }] });
    const s1 = await continueToStop();
    expect(s1.body.reason).toBe('exception');
    expect((await dc.exceptionInfoRequest({ threadId: 1 })).body.description).toContain('DS loaded: 0x0010 -> 0x0018');

    let ds = named(await scopeVariables(dc, 'Segments'), 'DS');
    expect(ds.value).toBe('0x0018');
    let dsKids = await children(dc, ds);
    const cache = await children(dc, named(dsKids, 'cache'));
    expect(named(cache, 'base').value).toBe('0x00020000');
    expect(named(cache, 'limit').value).toBe('0x0000ffff');
    expect(named(dsKids, 'consistent').value).toBe('true');

    // "Break on Value Change" on GDT entry 3.
    const tables = await scopeVariables(dc, 'Descriptor Tables');
    const gdt = named(tables, 'GDT');
    expect(gdt.indexedVariables).toBeGreaterThan(3);
    const page = (await dc.variablesRequest({ variablesReference: gdt.variablesReference, filter: 'indexed', start: 3, count: 1 })).body.variables;
    expect(page.map((v) => v.name)).toEqual(['[3]']);
    expect(page[0].memoryReference).toMatch(/^0x[0-9a-f]{8}$/);
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: gdt.variablesReference, name: '[3]' });
    expect(info.body.accessTypes).toContain('write');
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    expect(set.body.breakpoints[0].verified).toBe(true);
    const s2 = await continueToStop();
    expect(s2.body.reason).toBe('data breakpoint');
    // The first of the two stores is done; step over the second (instruction granularity).
    const step = dc.waitForEvent('stopped');
    await dc.nextRequest({ threadId: 1, granularity: 'instruction' });
    await step;
    ds = named(await scopeVariables(dc, 'Segments'), 'DS');
    expect(ds.value).toBe('0x0018');
    expect(ds.type).toBe('segment register, inconsistent: base, limit');
    dsKids = await children(dc, ds);
    expect(named(dsKids, 'consistent').value).toBe('false');
    expect(named(dsKids, 'differs').value).toMatch(/base.*limit/);
    expect(named(dsKids, 'table entry').value).toContain('base=0x00030000');
    expect((await dc.evaluateRequest({ expression: 'gdt[3].base', context: 'repl' })).body.result).toBe('0x30000');
    expect((await dc.evaluateRequest({ expression: 'info caches', context: 'repl' })).body.result).toMatch(/DS +0x0018 cache: base=0x00020000.*\n.*base=0x00030000.*\n.*INCONSISTENT/);

    // The #GP of step 5, with the failed check in the SDM's words and the decoded error code.
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'cpu-exception', condition: 'vector == 13' }] });
    const s3 = await continueToStop();
    expect(s3.body.description).toBe('cpu-exception');
    const gp = (await dc.exceptionInfoRequest({ threadId: 1 })).body;
    expect(gp.description).toContain('#GP(0x0000): offset lies outside the segment limit');
    expect(gp.details?.message).toContain('access.limit');
    expect(gp.details?.message).toContain('SDM 3A §5.3');
    const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frames.some((f) => f.name.startsWith('[exception #GP'))).toBe(true);
    expect(frames.every((f) => f.source !== undefined && f.instructionPointerReference !== undefined)).toBe(true);

    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest();
    await terminated;
  });

  it('descriptor-write and cache-inconsistent filters stop on the rewrite and name the differing fields', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: IMAGE });
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS && selector == 0x18' }] });
    await continueToStop();
    await dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [
        { filterId: 'descriptor-write', condition: 'table == "GDT" && index == 3' },
        { filterId: 'cache-inconsistent', condition: 'reg == DS' },
      ],
    });
    const w = await continueToStop();
    expect(w.body.description).toBe('descriptor-write');
    expect((await dc.exceptionInfoRequest({ threadId: 1 })).body.description).toBe('GDT[3] written');
    // The same store made DS inconsistent (the low dword holds limit[15:0]): that stop comes next, at the same
    // place, before the guest runs on.
    const eip = (await dc.evaluateRequest({ expression: 'eip', context: 'watch' })).body.result;
    const inc = await continueToStop();
    expect(inc.body.description).toBe('cache-inconsistent');
    expect((await dc.evaluateRequest({ expression: 'eip', context: 'watch' })).body.result).toBe(eip);
    expect((await dc.exceptionInfoRequest({ threadId: 1 })).body.description).toMatch(/DS's cache no longer matches its descriptor \(limit\)/);
    // The high dword changes the base too.
    expect((await continueToStop()).body.description).toBe('descriptor-write');
    const again = await continueToStop();
    expect(again.body.description).toBe('cache-inconsistent');
    const info = (await dc.exceptionInfoRequest({ threadId: 1 })).body;
    expect(info.description).toMatch(/DS's cache no longer matches its descriptor \(base, limit\)/);
    const ds = named(await scopeVariables(dc, 'Segments'), 'DS');
    expect(named(await children(dc, ds), 'consistent').value).toBe('false');

    // Writing the entry's fields back from the Variables pane makes DS consistent again.
    const gdt = named(await scopeVariables(dc, 'Descriptor Tables'), 'GDT');
    const entry = (await dc.variablesRequest({ variablesReference: gdt.variablesReference, start: 3, count: 1 })).body.variables[0];
    const fields = await children(dc, entry);
    expect(named(fields, 'base').value).toBe('0x00030000');
    await dc.setVariableRequest({ variablesReference: entry.variablesReference, name: 'base', value: '0x20000' });
    const r = await dc.setVariableRequest({ variablesReference: entry.variablesReference, name: 'limit', value: '0xffff' });
    expect(r.body.value).toBe('0x0000ffff');
    await expect(dc.setVariableRequest({ variablesReference: entry.variablesReference, name: 'limit', value: '0x200000' })).rejects.toThrow(/needs g = 1/);
    expect((await dc.evaluateRequest({ expression: 'ds.consistent', context: 'watch' })).body.result).toBe('true');
  });

  it('explains a fault of examples/exceptions with its rule and decoded error code, filtered by condition', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: path.join(ROOT, 'examples/exceptions/exceptions.bin') });
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'cpu-exception', condition: 'vector == 13 && errorCode == 0x18' }] });
    const s = await continueToStop();
    expect(s.body.description).toBe('cpu-exception');
    const info = (await dc.exceptionInfoRequest({ threadId: 1 })).body;
    expect(info.description).toBe('#GP(0x0018): the segment is not a data or readable code segment — DS load: selector 0x0018 names a code execute-only');
    expect(info.details?.message).toContain('error code: 0x0018: index 3 in the GDT (EXT=0, IDT=0, TI=0)');
    expect(info.details?.message).toContain('[segment-load.data.type]');
  });
});
