// The CPU modules import each other in a cycle (cpu.ts → ops → protect → cpu.ts). Each protect module must still
// load when it is the first one imported, i.e. no module may use another's exports while the cycle is loading.
import { describe, expect, it, vi } from 'vitest';

const MODULES = [
  'code-segment',
  'consistency',
  'consistency-events',
  'descriptor',
  'descriptor-table',
  'far-call',
  'far-jmp',
  'far-ret',
  'interrupt',
  'iret',
  'outer-return',
  'peek',
  'segment-load',
  'segment-query',
  'stack-frame',
  'system-segment-load',
  'system-target',
  'task-switch',
  'call-gate',
  'inner-stack',
  'transfer-rules',
];

describe('protect modules load in any order', () => {
  for (const name of MODULES) {
    it(`${name} loads first`, async () => {
      vi.resetModules();
      const mod = await import(`../../../../engine/cpu/protect/${name}.ts`);
      expect(Object.keys(mod).length).toBeGreaterThan(0);
      // Constants read while the cycle was loading would be undefined here: check values that depend on them.
      const { cacheDifferences } = await import('../../../../engine/cpu/protect/consistency');
      const a = { base: 0, limit: 0xffff, ar: 0x93, valid: true };
      expect(cacheDifferences(3, a, { ...a, ar: 0xf3 })).toEqual(['dpl']);
      const { FAR_JMP_RULES } = await import('../../../../engine/cpu/protect/far-jmp');
      expect(FAR_JMP_RULES.dpl.id).toBe('far-jmp.nonconforming.dpl');
    });
  }
  it('inspect and the system ops load first', async () => {
    vi.resetModules();
    expect(Object.keys(await import('../../../../engine/cpu/inspect')).length).toBeGreaterThan(0);
    vi.resetModules();
    expect(Object.keys(await import('../../../../engine/cpu/ops/system')).length).toBeGreaterThan(0);
  });
});
