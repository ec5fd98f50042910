// Consistency events are judged at instruction boundaries: a privilege change reloads CS and SS (and may null data
// segments) within one instruction, and must not be reported as a passing inconsistency.

import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../../../engine/machine/machine';

const rings = join(__dirname, '..', '..', '..', '..', 'examples', 'rings', 'rings.bin');

describe('consistency events at instruction boundaries', () => {
  let lines: string[] = [];
  beforeAll(() => {
    const m = new Machine({ memoryMB: 4 });
    m.load(readFileSync(rings));
    m.cpu.events.on('cache-inconsistent', (e) => lines.push(`inconsistent ${e.reg} ${e.differs.join(',')} ${e.eip}`));
    m.cpu.events.on('cache-consistent', (e) => lines.push(`consistent ${e.reg} ${e.eip}`));
    lines = [];
    expect(m.run(1e6).reason).toBe('exit');
  });

  it('reports no inconsistency that ends within the same instruction (ring changes through IRET, gates, faults)', () => {
    expect(lines.filter((l) => l.includes('privilege'))).toEqual([]);
    // Every inconsistency that is reported lasts past its instruction: none is followed at once by its own undo.
    for (let k = 0; k + 1 < lines.length; k++) {
      const [kind, reg, , eip] = lines[k].split(' ');
      const [nextKind, nextReg, nextEip] = lines[k + 1].split(' ');
      if (kind === 'inconsistent' && nextKind === 'consistent' && reg === nextReg) expect(nextEip).not.toBe(eip);
    }
  });
});

describe('LDTR and TR outside protected mode', () => {
  it('are consistent in real mode, where LLDT and LTR do not exist (#UD)', async () => {
    const { checkConsistency } = await import('../../../../engine/cpu/protect/consistency');
    const { LDTR, TR } = await import('../../../../engine/cpu/cpu');
    const m = new Machine({ memoryMB: 1 });
    m.load(Uint8Array.from([0xfa, 0xf4]), { format: 'bin' });
    expect(checkConsistency(m.cpu, LDTR)).toMatchObject({ consistent: true, differs: [] });
    expect(checkConsistency(m.cpu, TR)).toMatchObject({ consistent: true, differs: [] });
  });
});
