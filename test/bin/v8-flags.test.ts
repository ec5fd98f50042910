// bin/v8-flags.js: the processes bin/ringside.js starts (`ringside run`, `ringside dap`) run under V8's larger
// interrupt budget and wasm tiering budget, so that V8 optimises fewer of the engine's lukewarm functions and
// recompiles fewer wasm blocks in a short run. A preloaded probe tells the budgets in effect when the process exits:
// a JS function's loop, which V8 marks for optimisation after about 3 000 iterations at its default budget and after
// about 10 000 at four times that, and a wasm function's loop, which V8 recompiles with TurboFan after 20 calls
// of 10 000 iterations at its default tiering budget and not at sixteen times that.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LAUNCHER = resolve(__dirname, '../../bin/ringside.js');
const { V8_FLAGS } = require('../../bin/v8-flags.js') as { V8_FLAGS: string[] };

/**
 * At exit: `probe`'s loop 6 000 times, then whether V8 has marked it for optimisation or optimised it
 * (%GetOptimizationStatus bits: optimised 16, marked 256, marked concurrently 512, being optimised concurrently
 * 1024); a wasm function `f(n)` (a loop of n passes) called 20 times with 10 000, then whether V8 has recompiled it
 * with TurboFan (waiting up to 2 s for the background compile).
 */
const PROBE = `
function probe(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + i * 3) | 0; return s; }
const WASM = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0,
  10, 27, 1, 25, 1, 1, 127, 3, 64, 32, 1, 32, 0, 106, 33, 1, 32, 0, 65, 1, 107, 34, 0, 13, 0, 11, 32, 1, 11]);
process.on('exit', () => {
  for (let k = 0; k < 6; k++) probe(1000);
  const js = (%GetOptimizationStatus(probe) & (16 | 256 | 512 | 1024)) !== 0 ? 'marked' : 'cold';
  const f = new WebAssembly.Instance(new WebAssembly.Module(WASM)).exports.f;
  for (let k = 0; k < 20; k++) f(10000);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let t = 0; t < 200 && !%IsTurboFanFunction(f); t++) Atomics.wait(nap, 0, 0, 10);
  const wasm = %IsTurboFanFunction(f) ? 'turbofan' : 'liftoff';
  process.stdout.write('\\nprobe ' + JSON.stringify({ js, wasm }) + '\\n');
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
function probeIn(args: string[]): unknown {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-r', preload, ...args], { encoding: 'utf8', input: '', timeout: 60_000 });
  const line = /probe (\{.*\})/.exec(r.stdout)?.[1];
  return line === undefined ? r.stderr : JSON.parse(line);
}

const flag = (name: string): number => Number(V8_FLAGS.find((f) => f.startsWith(`--${name}=`))?.split('=')[1]);

describe("the launcher's V8 flags", () => {
  it('raise the interrupt budget and the wasm tiering budget above what V8 starts with', () => {
    expect(flag('interrupt-budget')).toBeGreaterThanOrEqual(4 * 67_584);
    expect(flag('wasm-tiering-budget')).toBeGreaterThanOrEqual(4 * 1_800_000);
  });

  it('are in effect in `ringside run`, `ringside --version` and `ringside dap`; a plain node optimises the probes', () => {
    expect(probeIn(['-e', ''])).toEqual({ js: 'marked', wasm: 'turbofan' });
    const tuned = { js: 'cold', wasm: 'liftoff' };
    expect(probeIn([LAUNCHER, '--version'])).toEqual(tuned);
    expect(probeIn([LAUNCHER, 'run', resolve(__dirname, '../../bench/cold-code.bin'), '--format', 'boot', '--serial', 'off'])).toEqual(tuned);
    expect(probeIn([LAUNCHER, 'dap'])).toEqual(tuned);
  });
});
