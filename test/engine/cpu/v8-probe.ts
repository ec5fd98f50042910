// Runs a probe of the engine's behaviour under V8 (optimisation status, field representations) in a child node with
// V8's natives syntax: `source` (TypeScript, importing the engine's own modules by absolute path) is bundled and run;
// its last line of output is JSON, returned parsed. Whatever it writes to stderr is returned too (a failed probe), and
// its whole output with `flags` given to node (V8's tracing flags).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

export function runV8Probe(source: string, flags: string[] = []): { result: unknown; stderr: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-v8-'));
  try {
    const entry = join(dir, 'probe.ts');
    const out = join(dir, 'probe.js');
    writeFileSync(entry, source);
    buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'silent' });
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', ...flags, out], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const last = r.stdout.trim().split('\n').pop();
    return { result: last ? JSON.parse(last) : null, stderr: r.stderr, stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
