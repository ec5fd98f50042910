// Each example's committed image must be exactly what its source assembles to, and each example folder must be
// complete, so that the guests users run and the sources they read never drift apart.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble, EXAMPLES_DIR, listExamples, nasmAvailable } from './example-folders';

const examples = listExamples();
const hasNasm = nasmAvailable();
if (!hasNasm) {
  console.warn('nasm is not installed: skipping the checks that examples/*/*.bin match their .asm sources');
}
const scratch = mkdtempSync(path.join(tmpdir(), 'ringside-examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Where two images first differ, for a message a person can act on. */
function firstDifference(a: Buffer, b: Buffer): string {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    if (a[i] !== b[i]) return `first difference at offset 0x${i.toString(16)}`;
  }
  return `lengths differ: ${a.length} vs ${b.length}`;
}

describe('example guests', () => {
  it('are present', () => {
    expect(examples.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'hello', 'descriptor-cache', 'exceptions', 'bench-loop', 'rings', 'tasks', 'paging', 'v86', 'timer', 'seed-sequence',
      ]),
    );
  });

  it('are all listed in examples/README.md', () => {
    const index = readFileSync(path.join(EXAMPLES_DIR, 'README.md'), 'utf8');
    for (const example of examples) expect(index, example.name).toContain(`| ${example.name} |`);
  });

  for (const example of examples) {
    describe(example.name, () => {
      it('has its .asm, .bin, README.md and expected-output.txt', () => {
        expect(existsSync(example.asm), example.asm).toBe(true);
        expect(existsSync(example.bin), example.bin).toBe(true);
        expect(existsSync(example.readme), example.readme).toBe(true);
        expect(existsSync(example.expectedOutput), example.expectedOutput).toBe(true);
      });

      it('README says how to run it', () => {
        const readme = readFileSync(example.readme, 'utf8');
        expect(readme).toContain(`npx ringside run examples/${example.name}/${example.name}.bin`);
      });

      it('image is taken as a flat binary, not as a boot sector or a ROM', () => {
        // design/interfaces.md: content detection treats a 0x55AA signature at offset 510 as a boot sector and
        // an image of exactly 64 or 128 KiB as a ROM.
        const image = readFileSync(example.bin);
        const bootSignature = image.length >= 512 && image[510] === 0x55 && image[511] === 0xaa;
        expect(bootSignature).toBe(false);
        expect([0x10000, 0x20000]).not.toContain(image.length);
      });

      it.skipIf(!hasNasm)('image matches its source', () => {
        const built = path.join(scratch, `${example.name}.bin`);
        assemble(example, built);
        const fresh = readFileSync(built);
        const committed = readFileSync(example.bin);
        expect(fresh.equals(committed), `${example.bin} is stale: ${firstDifference(fresh, committed)}`).toBe(true);
      });
    });
  }
});
