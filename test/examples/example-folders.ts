// The example guests under examples/: one folder per example holding NAME.asm, NAME.bin, README.md and
// expected-output.txt, plus the shared include folder that every example assembles against.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const EXAMPLES_DIR = path.resolve(__dirname, '..', '..', 'examples');
/** Macros and routines shared by the examples (`%include "guest.inc"`); not an example itself. */
export const INCLUDE_DIR = path.join(EXAMPLES_DIR, 'include');

export interface ExampleFolder {
  name: string;
  dir: string;
  asm: string;
  bin: string;
  readme: string;
  /** What the guest prints through port 0xE9 up to its final `ok`, recorded on Bochs (examples/run-on-bochs.sh). */
  expectedOutput: string;
}

/** Examples written in C (built by their own build.sh with gcc), checked by test/examples/c-kernel.test.ts. */
export const C_EXAMPLES = ['c-kernel'];

export function listExamples(): ExampleFolder[] {
  return readdirSync(EXAMPLES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && path.join(EXAMPLES_DIR, entry.name) !== INCLUDE_DIR && !C_EXAMPLES.includes(entry.name))
    .map((entry) => {
      const dir = path.join(EXAMPLES_DIR, entry.name);
      return {
        name: entry.name,
        dir,
        asm: path.join(dir, `${entry.name}.asm`),
        bin: path.join(dir, `${entry.name}.bin`),
        readme: path.join(dir, 'README.md'),
        expectedOutput: path.join(dir, 'expected-output.txt'),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function nasmAvailable(): boolean {
  const probe = spawnSync('nasm', ['-v'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** Assembles one example the way its README says (flat binary, shared include folder on the path). */
export function assemble(example: ExampleFolder, output: string): void {
  const result = spawnSync('nasm', ['-f', 'bin', '-i', INCLUDE_DIR + path.sep, example.asm, '-o', output], {
    cwd: example.dir,
    encoding: 'utf8',
  });
  if (result.status !== 0 || !existsSync(output)) {
    throw new Error(`nasm failed on ${example.asm}:\n${result.stderr || result.error?.message}`);
  }
  // A warning (a truncated constant, an operand out of range) means the image is not what the source says.
  if (result.stderr.trim() !== '') {
    throw new Error(`nasm warned on ${example.asm}:\n${result.stderr}`);
  }
}
