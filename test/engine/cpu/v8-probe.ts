// Runs a probe of the engine's behaviour under V8 (optimisation status, field representations) in a child node with
// V8's natives syntax: `source` (TypeScript, importing the engine's own modules by absolute path) is bundled and run;
// its last line of output is JSON, returned parsed. Whatever it writes to stderr is returned too (a failed probe).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

export function runV8Probe(source: string): { result: unknown; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-v8-'));
  try {
    const entry = join(dir, 'probe.ts');
    const out = join(dir, 'probe.js');
    writeFileSync(entry, source);
    buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'silent' });
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', out], { encoding: 'utf8' });
    const last = r.stdout.trim().split('\n').pop();
    return { result: last ? JSON.parse(last) : null, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
