// The image-loader fuzzer in the suite: its valid seed images load and run; a brief fixed-seed run of mutated
// images ends every time in a one-line ImageError or a normal run; a planted exception is reported. Longer runs:
// `ringside fuzz images --runs N --seed S` (README, Reliability).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fuzzImages } from '../../../engine/fuzz/image-fuzz';
import { seedImages } from '../../../engine/fuzz/seed-images';
import { Machine } from '../../../engine/machine/machine';

afterEach(() => vi.restoreAllMocks());

describe('image-loader fuzzer', () => {
  it('starts from a valid image of every format, each of which runs to its own exit code', () => {
    const expected: Record<string, [string, number, boolean]> = {
      bin: ['bin', 9, false],
      elf: ['elf', 5, true],
      'multiboot-elf': ['multiboot', 5, true],
      'multiboot-aout': ['multiboot', 6, false],
      rom: ['rom', 7, false],
      boot: ['boot', 8, false],
    };
    for (const s of seedImages()) {
      const m = new Machine({ memoryMB: 16 });
      const loaded = m.load(s.bytes);
      const [format, code, lines] = expected[s.name];
      expect([s.name, loaded.format, m.run(200_000).reason, m.exitCode]).toEqual([s.name, format, 'exit', code]);
      expect(loaded.lines.length > 0, s.name).toBe(lines);
    }
  });

  it('a brief run with a fixed seed: every mutated image is refused with one line or runs', () => {
    const r = fuzzImages({ runs: 60, seed: 1 });
    expect(r.findings.map((f) => `${f.kind} seed ${f.seed} (${f.base}): ${f.summary}\n${f.detail}`)).toEqual([]);
    expect(r.runs).toBe(60);
    expect(r.rejected).toBeGreaterThan(0);
    expect(r.ran).toBeGreaterThan(0);
    expect(Object.keys(r.byBase).sort()).toEqual(['bin', 'boot', 'elf', 'multiboot-aout', 'multiboot-elf', 'rom']);
  }, 120_000);

  it('reports an exception other than ImageError as a crash, with the seed and the image', () => {
    vi.spyOn(Machine.prototype, 'run').mockImplementation(() => {
      throw new RangeError('planted');
    });
    const r = fuzzImages({ runs: 20, seed: 1 });
    expect(r.crashes).toBeGreaterThan(0);
    expect(r.findings[0]).toMatchObject({ kind: 'crash', summary: 'RangeError: planted' });
    expect(r.findings[0].image).toBeInstanceOf(Uint8Array);
  });
});
