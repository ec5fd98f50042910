import { describe, expect, it } from 'vitest';
import { MISSING_HANDLERS } from '../../../engine/cpu/cpu';
import { TABLE } from '../../../engine/cpu/decode/table';
import { HANDLERS } from '../../../engine/cpu/ops';

describe('instruction table', () => {
  it('has a handler for every row', () => {
    expect(MISSING_HANDLERS).toEqual([]);
  });

  it('registers no handler that the table does not use', () => {
    const used = new Set(TABLE.map((r) => r.handler));
    expect(Object.keys(HANDLERS).filter((h) => !used.has(h))).toEqual([]);
  });

  it('has one row per opcode and group slot', () => {
    const seen = new Set<string>();
    for (const r of TABLE) {
      const key = `${r.op}/${r.reg}`;
      expect(seen.has(key), `duplicate row ${key}`).toBe(false);
      seen.add(key);
    }
  });
});
