// bin/v8-flags.js: the processes bin/ringside.js starts (`ringside run`, `ringside dap`) run under V8's larger
// interrupt budget, so that V8 optimises fewer of the engine's lukewarm functions in a short run. A probe function's
// loop, run by a preloaded script when the process exits, tells the budget in effect: V8 marks it for optimisation
// after a few thousand iterations at V8's default budget, after about 20 000 at eight times that.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LAUNCHER = resolve(__dirname, '../../bin/ringside.js');
const { V8_FLAGS } = require('../../bin/v8-flags.js') as { V8_FLAGS: string[] };

/**
 * Runs `probe`'s loop 8 000 times when the process exits and prints whether V8 has marked it for optimisation (or
 * optimised it) by then (%GetOptimizationStatus bits: optimised 16, marked 256, marked concurrently 512, being
 * optimised concurrently 1024).
 */
const PROBE = `
function probe(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + i * 3) | 0; return s; }
process.on('exit', () => {
  for (let k = 0; k < 8; k++) probe(1000);
  process.stdout.write('\\nprobe ' + ((%GetOptimizationStatus(probe) & (16 | 256 | 512 | 1024)) !== 0 ? 'marked' : 'cold') + '\\n');
});
`;

let dir = '';
let preload = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ringside-v8-flags-'));
  preload = join(dir, 'probe.js');
  writeFileSync(preload, PROBE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the probe says in `node --allow-natives-syntax -r probe ARGS`. */
function probeIn(args: string[]): string | undefined {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-r', preload, ...args], { encoding: 'utf8', input: '', timeout: 60_000 });
  return /probe (\w+)/.exec(r.stdout)?.[1];
}

describe("the launcher's V8 flags", () => {
  it('sets a larger interrupt budget than V8 starts with', () => {
    const budget = V8_FLAGS.find((f) => f.startsWith('--interrupt-budget='));
    expect(Number(budget?.split('=')[1])).toBeGreaterThanOrEqual(4 * 67_584);
  });

  it('are in effect in `ringside run`, `ringside --version` and `ringside dap`; a plain node marks the probe', () => {
    expect(probeIn(['-e', ''])).toBe('marked');
    expect(probeIn([LAUNCHER, '--version'])).toBe('cold');
    expect(probeIn([LAUNCHER, 'run', resolve(__dirname, '../../bench/cold-code.bin'), '--format', 'boot', '--serial', 'off'])).toBe('cold');
    expect(probeIn([LAUNCHER, 'dap'])).toBe('cold');
  });
});
