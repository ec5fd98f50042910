// Every captured vector in ../shared/conformance (500 tests of an 80386EX, 19,500 of an 80C286) through the
// conform runner: all must pass, the 286 tests where a 386 differs being skipped with their reason. Ringside's own
// protected-mode vectors (test/fixtures/moo) must pass too. The vectors are never copied into the project; without
// ../shared/conformance that part is skipped with a message.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConformReport, runConformance } from '../../engine/conformance/conform-run';
import { encodeMoo } from './moo-encoder';
import { PROTECTED_VECTORS, PROTECTED_VECTORS_PATH } from './protected-vectors';

const SHARED = join(__dirname, '..', '..', '..', 'shared', 'conformance');
const haveShared = existsSync(SHARED);
if (!haveShared) console.warn(`skipping the SingleStepTests vectors: ${SHARED} is absent`);

/** Failures grouped by file, with the first few reasons: what a reader of a red run needs first. */
function failureSummary(r: ConformReport): string {
  const byFile = new Map<string, string[]>();
  for (const f of r.failures) {
    const list = byFile.get(f.file) ?? [];
    list.push(`#${f.index} ${f.name} [${f.bytes}]: ${f.reason}`);
    byFile.set(f.file, list);
  }
  return [...byFile].map(([file, list]) => `${file}: ${list.length} failed\n  ${list.slice(0, 3).join('\n  ')}`).join('\n');
}

describe.skipIf(!haveShared)('SingleStepTests vectors (../shared/conformance)', () => {
  it('80386EX real mode: every test passes', () => {
    const r = runConformance(join(SHARED, 'sst80386'));
    expect(r.errors).toBe(0);
    expect(r.passed + r.failed + r.skipped).toBe(500);
    expect(failureSummary(r)).toBe('');
    expect(r.failed).toBe(0);
  });

  it('80C286 real mode: every test passes or is skipped as a documented 286/386 difference', () => {
    const r = runConformance(join(SHARED, 'sst80286'));
    expect(r.errors).toBe(0);
    expect(r.files).toHaveLength(325);
    expect(r.passed + r.failed + r.skipped).toBe(19_500);
    expect(failureSummary(r)).toBe('');
    expect(r.failed).toBe(0);
    // Skips are only the README's differences, each recognised from the test itself.
    const reasons = [...r.skipReasons.keys()].join('\n');
    for (const line of reasons.split('\n')) {
      expect(line).toMatch(/ESC|longer than 10 bytes|LOCK|FS|GS|POPF|IRET|SS:FFFF|string instruction at offset FFFF|revoked/);
    }
    expect(r.skipped).toBeLessThan(1000);
  });

  it('80C286 regressions (69 tests Ringside once failed): each passes or is a documented 286/386 difference', () => {
    const r = runConformance(join(SHARED, 'sst80286-regressions'));
    expect(r.errors).toBe(0);
    expect(r.passed + r.failed + r.skipped).toBe(69);
    expect(failureSummary(r)).toBe('');
    expect(r.failed).toBe(0);
    // Each group of the corpus README, recognised from the test itself (engine/conformance/cpu286-differences.ts).
    const byGroup = new Map<string, number>();
    const groups: [string, RegExp][] = [
      ['rep-string', /^REP word string instruction whose (SI|DI) reaches offset FFFF/],
      ['pop-m16', /^POP r\/m16 to a word at offset FFFF/],
      ['aam-0', /^AAM 0: the 286 updates SF, ZF and PF/],
      ['idiv-8', /^IDIV r\/m8 whose quotient lies outside/],
      ['lock-int-6', /^LOCK INT 6/],
      ['ss-as-cs', /holds SS \(0x[0-9a-f]+\) in the return-CS slot/],
      ['c7-reg', /^C7 with reg 7/],
    ];
    for (const [reason, n] of r.skipReasons) {
      const group = groups.find(([, re]) => re.test(reason));
      expect(group, reason).toBeDefined();
      byGroup.set(group![0], (byGroup.get(group![0]) ?? 0) + n);
    }
    expect(Object.fromEntries(byGroup)).toEqual({
      'rep-string': 20, 'pop-m16': 30, 'aam-0': 9, 'idiv-8': 4, 'lock-int-6': 2, 'ss-as-cs': 3, 'c7-reg': 1,
    });
  });
});

describe('Ringside protected-mode vectors (test/fixtures/moo)', () => {
  it('the committed file is what protected-vectors.ts encodes', () => {
    expect(Buffer.from(readFileSync(PROTECTED_VECTORS_PATH)).equals(Buffer.from(encodeMoo(PROTECTED_VECTORS)))).toBe(true);
  });

  it('every vector passes', () => {
    const r = runConformance(PROTECTED_VECTORS_PATH);
    expect(failureSummary(r)).toBe('');
    expect(r.passed).toBe(PROTECTED_VECTORS.tests.length);
  });
});
