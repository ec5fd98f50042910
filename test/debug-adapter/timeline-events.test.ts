// The Event Timeline gets its events without `trace`, a bounded number per slice with a summary of the rest,
// while the Debug Console gets trace lines only for the kinds `trace` names.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { TimelineFeed, type TimelineOverflow } from '../../debug-adapter/timeline-feed';
import type { EventMap, EventName } from '../../engine/events';
import { buildOnce, FIXTURES, launchStopped, startClient } from './dap-client';
import { openRuntime, outcome, started } from './runtime-harness';

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
    // The loads are all alike after the first: the rest are repeats, counted.
    expect(summaries[0].body.summary).toMatch(/^… \d+ more segment-load events not listed \(\d+ of them repeating listed ones; the last: segment-load DS /);
    // Every load is either listed or counted, and the client got far fewer messages than the guest made loads.
    const listed = loads.length - summaries.length;
    const counted = summaries.reduce((n, e) => n + (e.body.detail.notListed as number), 0);
    expect(listed + counted).toBe(LOADS);
    expect(events.length).toBeLessThan(LOADS / 20);
    // No trace lines: `trace` was not given.
    expect(console).not.toMatch(/^segment-load /m);
  }, 60000);

  it('an idle real-mode loop of interrupts lists each load once per window, and its pushes are no descriptor writes', async () => {
    // intloop.bin: 65536 × (INT 50h, IRET to it) in real mode, the stack and the vector table under the GDTR of reset.
    const rt = openRuntime(path.join(FIXTURES, 'intloop.bin'), { monitor: false });
    const listed: { kind: EventName; e: EventMap[EventName] }[] = [];
    const summaries: TimelineOverflow[] = [];
    rt.on('timeline', (kind: EventName, e: EventMap[EventName]) => listed.push({ kind, e }));
    rt.on('timeline-overflow', (o: TimelineOverflow) => summaries.push(o));
    await started(rt);
    expect((await outcome(rt, () => rt.continue())).end?.exitCode).toBe(0);
    // In real mode no descriptor table is in use: not one of the stores is a descriptor write.
    expect(listed.filter((l) => l.kind === 'descriptor-write')).toEqual([]);
    expect(summaries.filter((o) => o.kind === 'descriptor-write')).toEqual([]);
    // The loop's loads of CS (at the INT and at the IRET, both 0 -> 0) are two distinct events: each window lists
    // them once and counts their repeats, and every window with repeats ends in a summary.
    const inLoop = (e: EventMap[EventName]): boolean => {
      const l = e as EventMap['segment-load'];
      return (l.cause === 'interrupt' || l.cause === 'iret') && l.cs === 0 && l.eip >= 0x7c00 && l.eip < 0x7c20;
    };
    const loopListed = listed.filter((l) => l.kind === 'segment-load' && inLoop(l.e)).length;
    const loadSummaries = summaries.filter((o) => o.kind === 'segment-load');
    expect(loopListed).toBeGreaterThanOrEqual(2);
    expect(loopListed).toBeLessThanOrEqual(2 * (loadSummaries.length + 1));
    expect(loadSummaries.every((o) => o.repeats > 0)).toBe(true);
    // Every load is listed or counted: the loop's 2 × 65536 and the firmware's before it.
    const loads = listed.filter((l) => l.kind === 'segment-load').length + loadSummaries.reduce((n, o) => n + o.count, 0);
    expect(loads).toBeGreaterThan(2 * 65536);
    rt.dispose();
  }, 60000);

  it('write Debug Console lines only for the traced kinds', async () => {
    const { events, console } = await runCollecting({ program: path.join(FIXTURES, 'basics.bin'), trace: ['port-io'] });
    expect(events.some((e) => e.body.kind === 'segment-load')).toBe(true);
    expect(console).toMatch(/^port-io /m);
    expect(console).not.toMatch(/^segment-load /m);
  }, 60000);
});

describe('TimelineFeed', () => {
  const e = (n: number) => ({ n }) as unknown as EventMap[EventName];

  it('lists the first distinct events of each kind in a window, counts the rest, and ends the window when its time is up', () => {
    const sent: string[] = [];
    const over: TimelineOverflow[] = [];
    let now = 0;
    const feed = new TimelineFeed(new Set<EventName>(['segment-load', 'cpu-exception']), (k, x) => sent.push(`${k} ${JSON.stringify(x)}`), (o) => over.push(o), {
      perKind: 3,
      windowMs: 1000,
      now: () => now,
    });
    for (let i = 0; i < 5; i++) feed.offer('segment-load', e(i));
    // The flood of segment loads does not use up the budget of the rare kind; port-io is not wanted.
    feed.offer('cpu-exception', e(9));
    feed.offer('port-io', e(10));
    expect(sent).toEqual(['segment-load {"n":0}', 'segment-load {"n":1}', 'segment-load {"n":2}', 'cpu-exception {"n":9}']);
    // Slices end within the window: no summary yet, the budget stays spent.
    now = 500;
    feed.endSlice();
    feed.offer('segment-load', e(11));
    expect(over).toEqual([]);
    now = 1000;
    feed.endSlice();
    expect(over).toEqual([{ kind: 'segment-load', count: 3, repeats: 0, last: e(11) }]);
    feed.offer('segment-load', e(12));
    expect(sent).toHaveLength(5);
  });

  it('counts an event equal to one listed in the window as a repeat, and lists it again in the next window', () => {
    const sent: number[] = [];
    const over: TimelineOverflow[] = [];
    const feed = new TimelineFeed(new Set<EventName>(['segment-load']), (_k, x) => sent.push((x as unknown as { n: number }).n), (o) => over.push(o), { perKind: 64, now: () => 0 });
    for (let i = 0; i < 1000; i++) feed.offer('segment-load', e(i % 2));
    expect(sent).toEqual([0, 1]);
    feed.endWindow();
    expect(over).toEqual([{ kind: 'segment-load', count: 998, repeats: 998, last: e(1) }]);
    feed.offer('segment-load', e(1));
    expect(sent).toEqual([0, 1, 1]);
  });

  it('stops comparing after its bound: later events are counted without a look, new or not', () => {
    const sent: number[] = [];
    const over: TimelineOverflow[] = [];
    const feed = new TimelineFeed(new Set<EventName>(['segment-load']), (_k, x) => sent.push((x as unknown as { n: number }).n), (o) => over.push(o), { perKind: 8, comparedPerKind: 10, now: () => 0 });
    for (let i = 0; i < 10; i++) feed.offer('segment-load', e(0));
    feed.offer('segment-load', e(7));
    expect(sent).toEqual([0]);
    feed.endWindow();
    expect(over).toEqual([{ kind: 'segment-load', count: 10, repeats: 9, last: e(7) }]);
  });
});
