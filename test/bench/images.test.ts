// The benchmark guests (bench/*.asm) are guest programs like the examples: each committed image must be exactly
// what its source assembles to (where nasm is installed), and each must still pass its own check — a benchmark
// that times a wrong CPU would time nothing. (This check found paging-loop.bin stale against its source.)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Machine } from '../../engine/machine/machine';
import { INCLUDE_DIR, nasmAvailable } from '../examples/example-folders';

const BENCH_DIR = path.join(__dirname, '../../bench');
const sources = readdirSync(BENCH_DIR).filter((f) => f.endsWith('.asm'));
const hasNasm = nasmAvailable();
if (!hasNasm) console.warn('nasm is not installed: skipping the checks that bench/*.bin match their .asm sources');
const scratch = mkdtempSync(path.join(tmpdir(), 'ringside-bench-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('benchmark guests', () => {
  it('are present', () => {
    expect(sources).toEqual(expect.arrayContaining(['branchy-loop.asm', 'paging-loop.asm', 'x87-loop.asm']));
  });

  for (const source of sources) {
    const name = source.replace(/\.asm$/, '');
    const bin = path.join(BENCH_DIR, `${name}.bin`);

    it.skipIf(!hasNasm)(`${name}: image matches its source`, () => {
      const out = path.join(scratch, `${name}.bin`);
      const r = spawnSync('nasm', ['-f', 'bin', '-i', INCLUDE_DIR + path.sep, source, '-o', out], { cwd: BENCH_DIR, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.trim(), 'nasm warned').toBe('');
      expect(readFileSync(out).equals(readFileSync(bin)), `${bin} is stale against ${source}`).toBe(true);
    });

    it(`${name}: passes its own check against the model (exit code 0)`, () => {
      const m = new Machine({ memoryMB: 16 });
      m.load(readFileSync(bin));
      const r = m.run(200_000_000);
      expect(r.reason).toBe('exit');
      expect(m.exitCode, m.consoleText()).toBe(0);
      expect(m.consoleText()).not.toContain('FAIL');
    }, 60_000);
  }

  it('x87-loop: its check fails without an FPU (on a 486sx every x87 instruction does nothing)', () => {
    const m = new Machine({ memoryMB: 16, model: '486sx' });
    m.load(readFileSync(path.join(BENCH_DIR, 'x87-loop.bin')));
    expect(m.run(10_000_000).reason).toBe('exit');
    expect(m.exitCode).toBe(1);
  });
});
