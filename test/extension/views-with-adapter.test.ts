// The extension's views against the real debug adapter: a session on the committed fixture (fixtures/gdt.bin, a
// boot sector that enters protected mode), with the adapter started as the extension starts it (its own Node
// process). The `ringside/segmentMap` answer must draw, and every `ringside/event` must be accepted by the
// timeline: this is the contract of debug-adapter/protocol-types.ts seen from the extension's side.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENT_MAP_REQUEST, TRACE_EVENT, type SegmentMapResponseBody } from '../../debug-adapter/protocol-types';
import { renderSegmentMap } from '../../extension/segment-map-html';
import { TimelineModel, toTraceLine } from '../../extension/timeline-model';
import { launchHintsFromSource } from '../../extension/nasm-source-config';

const root = join(__dirname, '..', '..');
const image = join(__dirname, 'fixtures', 'gdt.bin');
let adapter: string;
let dc: DebugClient | undefined;

beforeAll(async () => {
  adapter = join(mkdtempSync(join(tmpdir(), 'ringside-adapter-')), 'adapter.js');
  await build({ entryPoints: [join(root, 'debug-adapter/main.ts')], outfile: adapter, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
});

afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

async function start(config: Record<string, unknown>): Promise<DebugClient> {
  const client = new DebugClient(process.execPath, adapter, 'ringside', { cwd: root }, true);
  client.defaultTimeout = 15_000;
  await client.start();
  await client.initializeRequest({ adapterID: 'ringside', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const stopped = client.waitForEvent('stopped');
  const launched = client.launch(config);
  await client.waitForEvent('initialized');
  await client.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == FS && selector == 0x10' }] });
  await client.configurationDoneRequest();
  await launched;
  await stopped;
  return client;
}

describe('views fed by the real adapter', () => {
  it('draws the segment map at a stop and takes every trace event into the timeline', async () => {
    // The configuration F5 makes for the fixture's source, plus the trace kinds the timeline shows.
    const hints = launchHintsFromSource(readFileSync(join(__dirname, 'fixtures', 'gdt.asm'), 'utf8'));
    expect(hints).toEqual({ format: 'boot' });
    const received: unknown[] = [];
    dc = await start({ type: 'ringside', request: 'launch', name: 'fixture', program: image, ...hints, stopOnEntry: true, monitor: false, trace: ['segment-load', 'mode-change'] });
    dc.on(TRACE_EVENT, (e: DebugProtocol.Event) => received.push(e.body));

    // Continue to the FS load by `pop fs`, the last load before the fixture's faulting `mov ss, ax`.
    const stop = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await stop;

    const map = (await dc.customRequest(SEGMENT_MAP_REQUEST)).body as SegmentMapResponseBody;
    expect(map.mode).toBe('protected');
    expect(map.registers.map((r) => r.name)).toEqual(expect.arrayContaining(['CS', 'SS', 'DS', 'ES', 'FS', 'GS']));
    const ds = map.registers.find((r) => r.name === 'DS')!;
    expect(ds.selector).toBe(0x10);
    expect(ds.cache).toMatchObject({ base: 0, limit: 0xffffffff, s: true, p: true });
    expect(map.gdt.length).toBeGreaterThanOrEqual(6);
    const html = renderSegmentMap(map);
    expect(html).toContain('data-register="DS"');
    expect(html).toContain('index 2 GDT RPL 0');
    expect(html).toContain('code, execute/read');

    const timeline = new TimelineModel(1000);
    expect(received.length).toBeGreaterThan(0);
    for (const body of received) expect(timeline.add(body), JSON.stringify(body)).toBe(true);
    const lines = timeline.entries.map(toTraceLine);
    expect(lines).toContainEqual(expect.stringMatching(/^mode-change real -> protected at 0000:00007c[0-9a-f]{2}$/));
    expect(lines).toContainEqual(expect.stringMatching(/^segment-load DS 0x0000 -> 0x0010 base=0x00000000 limit=0xffffffff .* cause=mov at 0008:0000[0-9a-f]{4}$/));
  });
});
