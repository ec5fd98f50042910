// Reverse execution's promise on every example guest, bare and under the monitor: from seeded random stop points,
// stepping back N instructions and forward N gives back an identical machine (test/debug-adapter/step-identity.ts).
import { describe, it } from 'vitest';
import path from 'node:path';
import { C_EXAMPLES, EXAMPLES_DIR, listExamples } from '../examples/example-folders';
import { expectStepBackForwardIdentity } from './step-identity';

describe('step back N, forward N: the same machine', () => {
  const guests = [
    ...listExamples().map((e) => ({ name: e.name, bin: e.bin })),
    ...C_EXAMPLES.map((name) => ({ name, bin: path.join(EXAMPLES_DIR, name, 'kernel.elf') })),
  ];
  for (const example of guests) {
    for (const monitor of [false, true]) {
      it(`${example.name}${monitor ? ', under the monitor' : ', bare'}`, async () => {
        await expectStepBackForwardIdentity(example.bin, {
          attributes: { monitor, memoryMB: example.name === 'paging' ? 16 : 4 },
          seed: example.name.length * 31 + (monitor ? 7 : 0),
          within: 200_000,
          points: 1,
          maxSteps: 24,
        });
      }, 60_000);
    }
  }
});
