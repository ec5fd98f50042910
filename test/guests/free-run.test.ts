// Free running against stepping on a real guest (issue 17, item 3): Debian's memtest86+ (package memtest86+,
// /boot/memtest86+ia32.bin) booted by the built-in firmware, bare and monitored, for
// RINGSIDE_FREE_RUN_INSTRUCTIONS instructions (default 2,000,000). Skips, saying why, when the image is absent.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FREE_RUN_LABELS, freeRunCompare } from '../../engine/monitor/free-run';
import { describeDivergence } from '../../engine/monitor/lockstep';

const MEMTEST = '/boot/memtest86+ia32.bin';
const INSTRUCTIONS = Number(process.env.RINGSIDE_FREE_RUN_INSTRUCTIONS ?? 2_000_000);

describe.skipIf(!existsSync(MEMTEST))(`free run vs steps on ${MEMTEST}`, () => {
  for (const monitored of [false, true]) {
    it(`${INSTRUCTIONS} instructions ${monitored ? 'monitored' : 'bare'}, no divergence`, () => {
      const r = freeRunCompare(readFileSync(MEMTEST), { monitored, memoryMB: 64, maxInstructions: INSTRUCTIONS });
      if (r.divergence) throw new Error(describeDivergence(r.divergence, FREE_RUN_LABELS));
      expect(r.instructions).toBe(INSTRUCTIONS);
    });
  }
});

it.skipIf(existsSync(MEMTEST))(`free run vs steps on a real guest: skipped, ${MEMTEST} is absent (apt-get install memtest86+)`, () => {});
