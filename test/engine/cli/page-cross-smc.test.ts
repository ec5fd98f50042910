// Issue 17's reproducer through the command line, as the tester ran it: `ringside run` must exit 34 (the value
// the guest stored into the instruction on the next page), bare and monitored, 16- and 32-bit.

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
