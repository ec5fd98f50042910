import { describe, expect, it } from 'vitest';
import { describeEvent, formatAddress, summaryText, TimelineModel, toTraceLine } from '../../extension/timeline-model';

const load = (n: number) => ({ kind: 'segment-load', summary: `DS load ${n}`, cs: 8, eip: 0x1000 + n, detail: { register: 'DS', selector: 0x10 } });

describe('TimelineModel', () => {
  it('keeps events in arrival order with their sequence numbers', () => {
    const m = new TimelineModel(10);
    m.add(load(1));
    m.add(load(2));
    expect(m.entries.map((e) => [e.seq, e.event.summary])).toEqual([[1, 'DS load 1'], [2, 'DS load 2']]);
  });

  it('drops the oldest entries beyond the cap and counts them', () => {
    const m = new TimelineModel(3);
    for (let i = 1; i <= 5; i++) m.add(load(i));
    expect(m.entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(m.dropped).toBe(2);
    m.setMaxEntries(1);
    expect(m.entries.map((e) => e.seq)).toEqual([5]);
    m.clear();
    expect(m.entries).toHaveLength(0);
  });

  it('lists an event with an ordinal once, and marks the ones after the stopped moment as later (after a travel back)', () => {
    const m = new TimelineModel(10);
    const ev = (n: number) => ({ ...load(n), detail: { ordinal: n } });
    for (const n of [1, 2, 3]) m.add(ev(n));
    // Travelled back to just after event 1, then ran forward: events 2 and 3 come again and are not listed twice.
    m.present = 1;
    expect(m.entries.map((e) => m.isLater(e))).toEqual([false, true, true]);
    for (const n of [2, 3, 4]) expect(m.add(ev(n))).toBe(true);
    expect(m.entries.map((e) => e.event.detail.ordinal)).toEqual([1, 2, 3, 4]);
    m.present = 4;
    expect(m.entries.some((e) => m.isLater(e))).toBe(false);
    // Events without an ordinal (the monitor's own) are always listed and never later.
    m.add(load(9));
    expect(m.entries).toHaveLength(5);
    expect(m.isLater(m.entries[4])).toBe(false);
  });

  it('refuses bodies that are not trace events', () => {
    const m = new TimelineModel(3);
    expect(m.add({ kind: 'not-an-event' })).toBe(false);
    expect(m.add(null)).toBe(false);
    expect(m.add('segment-load')).toBe(false);
    expect(m.add({ kind: 'triple-fault' })).toBe(true);
    expect(m.entries[0].event).toEqual({ kind: 'triple-fault', summary: 'triple-fault', cs: 0, eip: 0, detail: {} });
  });
});

describe('event wording', () => {
  it('prints CS:EIP as trace lines do', () => {
    expect(formatAddress(0x8, 0x1234)).toBe('0008:00001234');
    expect(formatAddress(0xf000, 0xfff0)).toBe('f000:0000fff0');
  });
  it('writes an event as a trace line, whether or not its summary repeats the kind', () => {
    const event = { kind: 'segment-load' as const, summary: 'DS 0x0010 -> 0x0018 cause=mov', cs: 8, eip: 0x1234, detail: {} };
    expect(toTraceLine({ seq: 1, event })).toBe('segment-load DS 0x0010 -> 0x0018 cause=mov at 0008:00001234');
    expect(toTraceLine({ seq: 1, event: { ...event, summary: 'segment-load DS 0x0010 -> 0x0018 cause=mov' } })).toBe('segment-load DS 0x0010 -> 0x0018 cause=mov at 0008:00001234');
    // The engine's own trace line, sent as the summary, is not doubled.
    const engineLine = 'segment-load DS 0x0010 -> 0x0018 base=0x00000000 limit=0xffffffff ar=0xc093 cause=mov at 0008:00001234';
    expect(toTraceLine({ seq: 1, event: { ...event, summary: engineLine } })).toBe(engineLine);
    expect(toTraceLine({ seq: 1, event: { ...event, kind: 'triple-fault', summary: 'triple-fault' } })).toBe('triple-fault at 0008:00001234');
  });
  it('shows a summary without the event name or address repeated', () => {
    expect(summaryText({ kind: 'mode-change', summary: 'mode-change real -> protected at 0000:00007c11', cs: 0, eip: 0x7c11, detail: {} })).toBe('real -> protected');
    expect(summaryText({ kind: 'mode-change', summary: 'real -> protected', cs: 0, eip: 0x7c11, detail: {} })).toBe('real -> protected');
  });
  it('describes an event with its fields', () => {
    const text = describeEvent({ seq: 4, event: { kind: 'cpu-exception', summary: '#GP(0x0010)', cs: 8, eip: 0x20, detail: { vector: 13, rule: 'a|b' } } });
    expect(text).toContain('# cpu-exception #4');
    expect(text).toContain('at `0008:00000020`');
    expect(text).toContain('| vector | `13` |');
    expect(text).toContain('| rule | `a\\|b` |');
  });
});
