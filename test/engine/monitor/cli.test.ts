// The CLI's monitor options and the lockstep command, through the built bin/ringside.js.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../../..');
const BIN = join(ROOT, 'bin/ringside.js');
const SEED = join(ROOT, 'examples/seed-sequence/seed-sequence.bin');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });

describe('ringside run --monitor', () => {
  it('runs the seed under the monitor and traces its story', () => {
    const r = run('run', SEED, '--monitor', '--trace', 'monitor-trap,sbe-change,cache-inconsistent,cache-consistent', '--json');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\nok\n');
    expect(r.stderr).toMatch(/monitor-trap reason=gp instruction="int 0x30" at 0008:[0-9a-f]{8} return=inconsistent \(DS,ES,FS,GS cache written/);
    expect(r.stderr).toMatch(/sbe-change off condition="all selectors RPL 3/);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.stop).toBe('exit');
    expect(summary.monitor.returnsInconsistent).toBeGreaterThan(0);
    expect(summary.monitor.traps.sbe).toBeGreaterThan(10);
  });

  it('every example prints its expected output under --monitor too', () => {
    const { readdirSync, existsSync, readFileSync } = require('node:fs') as typeof import('node:fs');
    const examples = join(ROOT, 'examples');
    let checked = 0;
    for (const name of readdirSync(examples)) {
      const image = join(examples, name, `${name}.bin`);
      const expected = join(examples, name, 'expected-output.txt');
      if (!existsSync(image) || !existsSync(expected)) continue;
      const r = run('run', image, '--monitor', );
      expect(r.stdout, name).toBe(readFileSync(expected, 'utf8'));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('--sbe on keeps SBE on; without --monitor there is no monitor to report; a bad value is an error', () => {
    const on = run('run', SEED, '--monitor', '--sbe', 'on', '--trace', 'sbe-change');
    expect(on.status).toBe(0);
    expect(on.stderr).not.toContain('sbe-change off');
    const alone = run('run', SEED, '--sbe', 'on', '--trace', 'monitor-trap,sbe-change', '--json');
    expect(alone.status).toBe(0);
    expect(alone.stderr).not.toContain('monitor-trap');
    expect(JSON.parse(alone.stdout.trim().split('\n').pop()!).monitor).toBeUndefined();
    const bad = run('run', SEED, '--monitor', '--sbe', 'sometimes');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('expected on|off|auto');
  });
});

describe('ringside lockstep', () => {
  it('compares an example bare and monitored without divergence', () => {
    const r = run('lockstep', SEED);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seed-sequence.bin: \d+ instructions compared, stop exit, \d+ monitor traps, no divergence/);
  });

  it('runs generated programs, and reports a divergence (exit 4) with SBE forced off', () => {
    const ok = run('lockstep', '--random', '2', '--instructions', '3000');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('2 programs');
    const off = run('lockstep', '--random', '3', '--instructions', '3000', '--sbe', 'off');
    expect(off.status).toBe(4);
    expect(off.stderr).toMatch(/first divergence after \d+ guest instructions/);
    expect(off.stderr).toContain('<-- differs');
  });

  it('rejects bad input with a clear message', () => {
    const missing = run('lockstep', 'no-such-image.bin');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot read image');
  });
});
