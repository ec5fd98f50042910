// Issue 17's reproducer through the command line, as the tester ran it: `ringside run` must exit 34 (the value
// the guest stored into the instruction on the next page), bare and monitored, 16- and 32-bit; and
// `ringside lockstep --free-run`, which compares running freely with stepping, must find them equal.

import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageCrossSmc, PAGE_CROSS_SMC_EXIT } from '../cpu/page-cross-programs';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'ringside.js');
let dir: string;

beforeAll(() => {
  spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'ringside-smc-'));
  for (const bits of [16, 32] as const) writeFileSync(join(dir, `smc${bits}.bin`), pageCrossSmc(bits));
});

describe('ringside run on self-modifying code across a page boundary', () => {
  for (const bits of [16, 32] as const) {
    for (const monitor of [[], ['--monitor']]) {
      it(`exits ${PAGE_CROSS_SMC_EXIT} (${bits}-bit${monitor.length ? ', monitored' : ''})`, () => {
        const mode = bits === 32 ? ['--mode', 'protected'] : [];
        const r = spawnSync(process.execPath, [bin, 'run', join(dir, `smc${bits}.bin`), '--format', 'bin', ...mode, ...monitor], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(PAGE_CROSS_SMC_EXIT);
      });
    }
  }
});

describe('ringside lockstep --free-run', () => {
  const lockstep = (args: string[]) => spawnSync(process.execPath, [bin, 'lockstep', ...args], { encoding: 'utf8', timeout: 60_000 });

  for (const bits of [16, 32] as const) {
    it(`compares the reproducer running freely and stepping, bare and monitored (${bits}-bit)`, () => {
      const mode = bits === 32 ? ['--mode', 'protected'] : [];
      const r = lockstep([join(dir, `smc${bits}.bin`), '--format', 'bin', ...mode, '--free-run']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[1]).toMatch(/free run vs steps \(bare\): 21 instructions, \d+ comparisons, 0 output bytes, stop exit, no divergence$/);
      expect(lines[2]).toMatch(/free run vs steps \(monitored\): 21 instructions, .* no divergence$/);
    });
  }

  it('reports each comparison as JSON with --json, and rejects an empty slice', () => {
    const r = lockstep([join(root, 'examples', 'hello', 'hello.bin'), '--free-run', '--slice', '100', '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.compare ?? 'bare vs monitored')).toEqual(['bare vs monitored', 'free run vs steps, bare', 'free run vs steps, monitored']);
    expect(rows[1]).toMatchObject({ stop: 'exit', outputBytes: 26, divergence: null });
    const bad = lockstep([join(root, 'examples', 'hello', 'hello.bin'), '--free-run', '--slice', '0']);
    expect([bad.status, bad.stderr.trim()]).toEqual([1, 'ringside: option --slice: a slice runs at least 1 instruction']);
  });
});
