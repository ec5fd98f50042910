// The random programs' runtime is embedded from its NASM source: the committed bytes match a fresh build.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_BASE64 } from '../../../engine/monitor/random/runtime-image';
import { randomProgram } from '../../../engine/monitor/random-program';

const DIR = join(__dirname, '../../../engine/monitor/random');

describe('random program runtime', () => {
  it('runtime-image.ts and runtime.bin match runtime.asm', (ctx) => {
    const out = join(mkdtempSync(join(tmpdir(), 'ringside-rt-')), 'runtime.bin');
    const r = spawnSync('nasm', ['-f', 'bin', join(DIR, 'runtime.asm'), '-o', out]);
    if (r.error) return ctx.skip();
    expect(r.status, String(r.stderr)).toBe(0);
    const built = readFileSync(out);
    expect(Buffer.from(RUNTIME_BASE64, 'base64').equals(built)).toBe(true);
    expect(readFileSync(join(DIR, 'runtime.bin')).equals(built)).toBe(true);
  });

  it('programs are reproducible from their seed and differ between seeds', () => {
    expect(Buffer.from(randomProgram(7, 50).image).equals(Buffer.from(randomProgram(7, 50).image))).toBe(true);
    expect(Buffer.from(randomProgram(7, 50).image).equals(Buffer.from(randomProgram(8, 50).image))).toBe(false);
  });
});
