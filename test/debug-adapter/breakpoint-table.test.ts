// The breakpoint table's lookups: a stop looks only at the breakpoints of its own address (indexed, and the index
// follows every change), a source line lands on the first line at or after it with code, function names resolve.
import { describe, expect, it } from 'vitest';
import { BreakpointTable } from '../../debug-adapter/breakpoints';
import type { EvalContext } from '../../debug-adapter/expression/evaluate';

const ctx = { lookup: () => undefined } as unknown as EvalContext;

describe('BreakpointTable', () => {
  it('decides a stop from the breakpoints at that address only, across groups, and after a group changes', () => {
    const t = new BreakpointTable();
    const [a] = t.setInstruction([{ address: 0x100 }, { address: 0x200 }]);
    const [f] = t.setFunction([{ name: 'main' }], [{ name: 'main', addr: 0x100 } as never]);
    expect(t.decide(0x100, ctx).ids).toEqual([a.id, f.id]);
    expect(t.decide(0x300, ctx).stop).toBe(false);
    t.setInstruction([{ address: 0x300 }]);
    expect(t.decide(0x100, ctx).ids).toEqual([f.id]);
    expect(t.decide(0x300, ctx).stop).toBe(true);
  });

  it('shares one parse among breakpoints with the same condition, and keeps hit counts apart', () => {
    const t = new BreakpointTable();
    const [x, y] = t.setInstruction([{ address: 1, hitCondition: '2' }, { address: 2, hitCondition: '2' }]);
    expect(t.decide(1, ctx).stop).toBe(false);
    expect(t.decide(1, ctx).ids).toEqual([x.id]);
    expect(t.decide(2, ctx).stop).toBe(false);
    expect(y.hits).toBe(1);
    const [c1, c2] = t.setInstruction([{ address: 1, condition: '1 == 1' }, { address: 2, condition: '1 == 1' }]);
    expect(c1.condition).toBe(c2.condition);
  });

  it('places a source line on the first line at or after it that has code, lowest address first', () => {
    const t = new BreakpointTable();
    const rows = [
      { file: 'a.asm', line: 9, addr: 0x30 },
      { file: 'a.asm', line: 5, addr: 0x20 },
      { file: 'a.asm', line: 5, addr: 0x10 },
      { file: 'b.asm', line: 6, addr: 0x40 },
    ];
    const got = t.setSource('a.asm', [{ line: 1 }, { line: 5 }, { line: 6 }, { line: 10 }], rows as never);
    expect(got.map((e) => [e.line, e.address])).toEqual([[5, 0x10], [5, 0x10], [9, 0x30], [10, -1]]);
  });
});
