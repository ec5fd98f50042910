// The committed vectors are what gen.c produces: rebuilt with gcc and rerun with the same seed on a host whose CPU
// is the one that wrote them (another vendor's x87 may differ in its transcendentals, so the check is skipped there).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FIXTURES, parseVectors } from './host-vectors';

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const committed = gunzipSync(readFileSync(join(FIXTURES, 'vectors.bin.gz')));

describe.skipIf(!hasGcc() || process.arch !== 'x64')('x87 vector generator', () => {
  it('regenerates the committed vectors from seed 0x87, 300 per operation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'x87gen-'));
    try {
      const exe = join(dir, 'gen');
      execFileSync('gcc', ['-O1', '-o', exe, join(FIXTURES, 'gen.c')]);
      const fresh = execFileSync(exe, ['0x87', '300'], { maxBuffer: 64 << 20 });
      const a = parseVectors(committed), b = parseVectors(fresh);
      expect(b.ops).toEqual(a.ops);
      if (a.brand !== b.brand) return; // written on another CPU: only the operation list can be compared
      expect(Buffer.compare(fresh, committed)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
