// The DAP fuzzer (dap-fuzzer.ts), briefly and with a fixed seed: a few sessions of bad launch attributes, bad
// request arguments and malformed frames. Every request must be answered, nothing may crash or hang, and each
// session must still answer disconnect. Longer runs: node scripts/fuzz-dap.mjs --runs N --seed S.
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnce } from './dap-client';
import { fuzzDap } from './dap-fuzzer';

beforeAll(() => buildOnce(), 60000);

describe('DAP fuzzer', () => {
  it('answers every request of 6 fuzzed sessions (seed 17), with no crash, hang or logged bug', async () => {
    const report = await fuzzDap({ runs: 6, steps: 60, seed: 17, seconds: 90, answerMs: 20000, root: path.resolve(__dirname, '../..') });
    expect(report.crashes).toEqual([]);
    expect(report.hangs).toEqual([]);
    expect(report.bugs).toEqual([]);
    expect(report.runs).toBeGreaterThan(0);
    expect(report.answered).toBe(report.requests);
    // The sessions got somewhere: some launches ran a guest, and the malformed frames were sent.
    expect(report.launchesStarted).toBeGreaterThan(0);
    expect(report.malformedFrames).toBeGreaterThan(0);
  }, 180000);
});
