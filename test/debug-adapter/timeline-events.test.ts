// The Event Timeline gets its events without `trace`, a bounded number per slice with a summary of the rest,
// while the Debug Console gets trace lines only for the kinds `trace` names.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { TimelineFeed, type TimelineOverflow } from '../../debug-adapter/timeline-feed';
import type { EventMap, EventName } from '../../engine/events';
import { buildOnce, FIXTURES, launchStopped, startClient } from './dap-client';

let dc: DebugClient | undefined;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

/** Runs `program` from its entry stop to its end, collecting the timeline events and the Debug Console text. */
async function runCollecting(args: Record<string, unknown>): Promise<{ events: DebugProtocol.Event[]; console: string }> {
  const client = (dc = await startClient());
  const events: DebugProtocol.Event[] = [];
  const text: string[] = [];
  client.on('ringside/event', (e: DebugProtocol.Event) => events.push(e));
  client.on('output', (e: DebugProtocol.OutputEvent) => text.push(e.body.output));
  await launchStopped(client, args);
  const exited = client.waitForEvent('exited', 60000) as Promise<DebugProtocol.ExitedEvent>;
  await client.continueRequest({ threadId: 1 });
  expect((await exited).body.exitCode).toBe(0);
  return { events, console: text.join('') };
}

const LOADS = 4 * 65536;

describe('Event Timeline events', () => {
  it('are sent without `trace`, at most a bounded number per slice, with the rest counted in summaries', async () => {
    const { events, console } = await runCollecting({ program: path.join(FIXTURES, 'segloads.bin') });
    const loads = events.filter((e) => e.body.kind === 'segment-load');
    const summaries = loads.filter((e) => typeof e.body.detail.notListed === 'number');
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries[0].body.summary).toMatch(/^… \d+ more segment-load events not listed \(the last: segment-load DS /);
    // Every load is either listed or counted, and the client got far fewer messages than the guest made loads.
    const listed = loads.length - summaries.length;
    const counted = summaries.reduce((n, e) => n + (e.body.detail.notListed as number), 0);
    expect(listed + counted).toBe(LOADS);
    expect(events.length).toBeLessThan(LOADS / 20);
    // No trace lines: `trace` was not given.
    expect(console).not.toMatch(/^segment-load /m);
  }, 60000);

  it('write Debug Console lines only for the traced kinds', async () => {
    const { events, console } = await runCollecting({ program: path.join(FIXTURES, 'basics.bin'), trace: ['port-io'] });
    expect(events.some((e) => e.body.kind === 'segment-load')).toBe(true);
    expect(console).toMatch(/^port-io /m);
    expect(console).not.toMatch(/^segment-load /m);
  }, 60000);
});

describe('TimelineFeed', () => {
  it('passes the first events of each kind in a slice, then one summary per kind, and starts over after the slice', () => {
    const sent: string[] = [];
    const over: TimelineOverflow[] = [];
    const feed = new TimelineFeed(new Set<EventName>(['segment-load', 'cpu-exception']), (k) => sent.push(k), (o) => over.push(o), 3);
    const e = (n: number) => ({ n }) as unknown as EventMap[EventName];
    for (let i = 0; i < 5; i++) feed.offer('segment-load', e(i));
    // The flood of segment loads does not use up the budget of the rare kind.
    feed.offer('cpu-exception', e(9));
    feed.offer('port-io', e(10));
    expect(sent).toEqual(['segment-load', 'segment-load', 'segment-load', 'cpu-exception']);
    expect(over).toEqual([]);
    feed.endSlice();
    expect(over).toEqual([{ kind: 'segment-load', count: 2, last: e(4) }]);
    feed.offer('segment-load', e(11));
    expect(sent).toHaveLength(5);
  });
});
