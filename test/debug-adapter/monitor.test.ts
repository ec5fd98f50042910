// examples/seed-sequence under the monitor through the adapter: between the inconsistent return sequence and the
// reloads, the virtual GDT entries of DS…GS hold the stale caches and are marked inaccessible.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, launchStopped, named, ROOT, scopeVariables, startClient } from './dap-client';

const IMAGE = path.join(ROOT, 'examples/seed-sequence/seed-sequence.bin');

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

describe('seed-sequence under the monitor', () => {
  it('shows the virtual GDT marked inaccessible between the sequences, the monitor state, and runs to exit 0', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: IMAGE, monitor: true });
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'monitor-trap', condition: 'instruction == "int 0x30"' }] });
    const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    expect((await stop).body.description).toBe('monitor-trap');
    expect((await dc.exceptionInfoRequest({ threadId: 1 })).body.description).toBe('monitor trap: gp');

    const monitor = await scopeVariables(dc, 'Monitor');
    expect(named(monitor, 'on').value).toBe('true');
    expect(named(monitor, 'state').value).toMatch(/^direct/);
    expect(Number(named(monitor, 'traps').value)).toBeGreaterThan(0);
    expect(named(monitor, 'marked entries').value).toBe('GDT[3] GDT[4] GDT[5] GDT[6]');
    expect(named(monitor, 'last return').value).toBe('inconsistent, wrote DS ES FS GS, marked GDT[3] GDT[4] GDT[5] GDT[6]');

    const tables = await scopeVariables(dc, 'Descriptor Tables');
    const vgdt = named(tables, 'Virtual GDT');
    expect(vgdt.indexedVariables).toBeGreaterThan(7);
    const entries = (await dc.variablesRequest({ variablesReference: vgdt.variablesReference, start: 3, count: 4 })).body.variables;
    expect(entries.map((e) => e.name)).toEqual(['[3]', '[4]', '[5]', '[6]']);
    for (const e of entries) expect(e.value).toContain('marked inaccessible');

    // The guest's view: CPL 0 and the guest's GDTR, although the CPU runs it at CPL 3 on the virtual GDT.
    const control = await scopeVariables(dc, 'Control');
    expect(named(control, 'CPL').value).toBe('0');
    const ds = named(await scopeVariables(dc, 'Segments'), 'DS');
    const dsKids = await children(dc, ds);
    expect(named(dsKids, 'consistent').value).toBe('false');
    expect(named(dsKids, 'virtual entry').value).toMatch(/base=0x00020000.*marked inaccessible/);
    // A bad value is refused before the monitor is asked to change anything (edits themselves: edit-under-monitor.test.ts).
    await expect(dc.setVariableRequest({ variablesReference: ds.variablesReference, name: 'selector', value: 'ds!' })).rejects.toThrow(/is not a number/);
    await expect(dc.setVariableRequest({ variablesReference: ds.variablesReference, name: 'selector', value: '0x10000' })).rejects.toThrow(/from 0 to 0xffff/);
    expect(named(await children(dc, named(await scopeVariables(dc, 'Segments'), 'DS')), 'selector').value).toBe('0x0018');
    expect(named(await scopeVariables(dc, 'Monitor'), 'state').value).toMatch(/^direct/);
    const map = (await dc.customRequest('ringside/segmentMap', {})).body;
    expect(map.monitor).toBe(true);
    expect(map.virtualGdt.length).toBe(vgdt.indexedVariables);

    await dc.setExceptionBreakpointsRequest({ filters: [] });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(0);
  });
});
