// The consistency story the examples tell (design/model.md §2), as `ringside run --trace` shows it: each guest
// line marks a step, and the cache-inconsistent / cache-consistent events between two steps must be exactly
// the ones that step causes. Only the data segment registers are followed here; CS and SS change with every
// mode and privilege switch and are the engine's own tests' business.
import { describe, expect, it } from 'vitest';
import { traceExample } from './cli-run';

const CONSISTENCY_EVENTS = ['cache-inconsistent', 'cache-consistent', 'mode-change'];
const DATA_SEGMENT_EVENT = /^cache-(in)?consistent (DS|ES|FS|GS)\b/;

/** The lines from the first one starting with `from` up to (not including) the next one starting with `to`. */
function between(lines: string[], from: string, to: string): string[] {
  const start = lines.findIndex((l) => l.startsWith(from));
  if (start < 0) throw new Error(`no line starting with "${from}" in:\n${lines.join('\n')}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith(to));
  if (end < 0) throw new Error(`no line starting with "${to}" after "${from}" in:\n${lines.join('\n')}`);
  return lines.slice(start + 1, end);
}

/** Data segment consistency events without their `at CS:EIP` tail. */
function dataSegmentEvents(lines: string[]): string[] {
  return lines.filter((l) => DATA_SEGMENT_EVENT.test(l)).map((l) => l.replace(/ at [0-9a-f]{4}:[0-9a-f]{8}$/, ''));
}

describe('descriptor-cache under --trace', () => {
  const lines = traceExample('descriptor-cache', CONSISTENCY_EVENTS);

  it('DS becomes inconsistent as its descriptor is rewritten (limit dword first, then base)', () => {
    expect(dataSegmentEvents(between(lines, '[2]', '[3]'))).toEqual([
      'cache-inconsistent DS differs=limit cause=descriptor-write',
      'cache-inconsistent DS differs=base,limit cause=descriptor-write',
    ]);
  });

  it('DS stays inconsistent while the stale cache is used, and the reload makes it consistent', () => {
    expect(dataSegmentEvents(between(lines, '[3]', '[4]'))).toEqual([]);
    expect(dataSegmentEvents(between(lines, '[4]', '[5]'))).toEqual(['cache-consistent DS cause=segment-load']);
  });

  it('clearing CR0.PE leaves DS inconsistent until a real-mode load', () => {
    const step = between(lines, '[5]', '[6]');
    expect(step).toContainEqual(expect.stringMatching(/^mode-change protected -> real /));
    expect(dataSegmentEvents(step).filter((l) => / DS\b/.test(l))).toEqual([
      'cache-inconsistent DS differs=base cause=mode-change',
      'cache-consistent DS cause=segment-load',
    ]);
  });
});

describe('seed-sequence under --trace', () => {
  const lines = traceExample('seed-sequence', CONSISTENCY_EVENTS);

  it('rewriting the four descriptors makes DS, ES, FS, GS inconsistent, each with what differs', () => {
    expect(dataSegmentEvents(between(lines, '[1]', '[2]'))).toEqual([
      'cache-inconsistent DS differs=base cause=descriptor-write',
      'cache-inconsistent ES differs=base cause=descriptor-write',
      'cache-inconsistent FS differs=base,limit cause=descriptor-write',
      'cache-inconsistent GS differs=base cause=descriptor-write',
    ]);
  });

  it('the interrupt and the use of the stale caches change nothing', () => {
    expect(dataSegmentEvents(between(lines, '[2]', '[4]'))).toEqual([]);
  });

  it('each reload makes exactly its register consistent, one at a time', () => {
    expect(dataSegmentEvents(between(lines, '[4]', '[5]'))).toEqual(['cache-consistent DS cause=segment-load']);
    expect(dataSegmentEvents(between(lines, '[5]', '    ES reloaded'))).toEqual(['cache-consistent ES cause=segment-load']);
    expect(dataSegmentEvents(between(lines, '    ES reloaded', '    FS reloaded'))).toEqual([
      'cache-consistent FS cause=segment-load',
    ]);
    expect(dataSegmentEvents(between(lines, '    FS reloaded', '    GS reloaded'))).toEqual([
      'cache-consistent GS cause=segment-load',
    ]);
    expect(dataSegmentEvents(between(lines, '    GS reloaded', '[6]'))).toEqual([]);
  });

  it('two registers sharing a selector are tracked apart', () => {
    const rewrite = dataSegmentEvents(between(lines, '[6]', '[7]'));
    expect(rewrite.slice(0, 2).sort()).toEqual([
      'cache-inconsistent DS differs=base cause=descriptor-write',
      'cache-inconsistent ES differs=base cause=descriptor-write',
    ]);
    expect(rewrite.slice(2)).toEqual(['cache-consistent ES cause=segment-load']);
    expect(dataSegmentEvents(between(lines, '[7]', '    INT 0x30 taken'))).toEqual(['cache-consistent DS cause=segment-load']);
  });

  it('ring 3 starts with every data segment consistent', () => {
    expect(dataSegmentEvents(between(lines, '[8]', 'ok'))).toEqual([]);
  });
});

// Issue 5's story, as `ringside run --monitor --trace monitor-trap,sbe-change,cache-inconsistent,cache-consistent`
// tells it (design/model.md §3): the interrupt taken while the data segment caches are stale returns through the
// inconsistent path, each reload traps and is emulated, consistency brings the ordinary return back, and ring 3
// turns SBE off.
describe('seed-sequence under --monitor --trace', () => {
  const lines = traceExample('seed-sequence', ['monitor-trap', 'sbe-change', 'cache-inconsistent', 'cache-consistent'], [
    '--monitor',
  ]);
  const trapOf = (instruction: RegExp, step: string[]): string | undefined =>
    step.find((l) => l.startsWith('monitor-trap ') && instruction.test(l));

  it('the interrupt with all four caches stale returns through the inconsistent path', () => {
    const trap = trapOf(/instruction="int 0x30"/, between(lines, '[2]', '[3]'));
    expect(trap).toMatch(/return=inconsistent \(DS,ES,FS,GS cache written/);
  });

  it('each reload traps and is emulated, and only that register becomes consistent', () => {
    const reloads: [string, string, string][] = [
      ['ds', '[4]', '[5]'],
      ['es', '[5]', '    ES reloaded'],
      ['fs', '    ES reloaded', '    FS reloaded'],
      ['gs', '    FS reloaded', '    GS reloaded'],
    ];
    for (const [reg, from, to] of reloads) {
      const step = between(lines, from, to);
      expect(trapOf(new RegExp(`instruction="mov ${reg}, `), step), `reload of ${reg}`).toBeDefined();
      expect(dataSegmentEvents(step)).toEqual([`cache-consistent ${reg.toUpperCase()} cause=segment-load`]);
    }
  });

  it('with all four consistent again the interrupt returns by the ordinary path', () => {
    expect(trapOf(/instruction="int 0x30"/, between(lines, '    GS reloaded', '[6]'))).toMatch(/return=consistent/);
  });

  it('DS and ES sharing selector 0x38 with different caches both go through the inconsistent path', () => {
    const trap = trapOf(/instruction="int 0x30"/, between(lines, '[7]', '    INT 0x30 taken'));
    expect(trap).toMatch(/return=inconsistent \(DS,ES cache written/);
  });

  it('ring 3 with RPL 3 selectors, DPL 3 descriptors and consistent caches turns SBE off', () => {
    expect(between(lines, '[8]', 'ok')).toContainEqual(expect.stringMatching(/^sbe-change off /));
  });
});
