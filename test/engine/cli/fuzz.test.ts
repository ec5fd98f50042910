// `ringside fuzz guest|images`: the fuzzers from the command line, as the README's Reliability section runs them.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'ringside.js');
const fuzz = (args: string[]) => spawnSync(process.execPath, [bin, 'fuzz', ...args], { encoding: 'utf8', timeout: 120_000 });

beforeAll(() => {
  spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
});

describe('ringside fuzz', () => {
  it('guest: runs the programs of the seeds asked for and sums them up on one line, exit code 0', () => {
    const r = fuzz(['guest', '--runs', '2', '--seed', '106', '--instructions', '1000']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^guest fuzzer: 2 programs \(.*\), \d+ instructions compared, 0 crashes, 0 disagreements, 0 slow, [\d.]+ s\n$/);
  });

  it('images: --json gives the figures as one object', () => {
    const r = fuzz(['images', '--runs', '12', '--seed', '5', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runs: 12, crashes: 0, badMessages: 0, slow: 0, findings: 0 });
  });

  it('says how to use it', () => {
    expect(fuzz(['--help'])).toMatchObject({ status: 0, stdout: expect.stringContaining('--runs N') });
    const r = fuzz(['monsters']);
    expect([r.status, r.stderr]).toEqual([1, 'ringside: fuzz needs one target: guest or images\n']);
  });
});
