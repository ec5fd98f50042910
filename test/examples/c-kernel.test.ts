// examples/c-kernel: the committed kernel.elf is what build.sh makes from kernel.c (where the same gcc is
// installed: other gcc versions emit other code), it runs to its expected output bare and under the monitor,
// and its launch.json is a valid Ringside launch configuration.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLaunchSettings } from '../../debug-adapter/launch-config';
import { CLI, ROOT } from './cli-run';
import { EXAMPLES_DIR } from './example-folders';

const DIR = path.join(EXAMPLES_DIR, 'c-kernel');
const ELF = path.join(DIR, 'kernel.elf');
const scratch = mkdtempSync(path.join(tmpdir(), 'ringside-c-kernel-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The gcc that built the committed image, from its DW_AT_producer ("GNU C17 12.2.0 -m32 …"). */
function producerVersion(): string | undefined {
  return /GNU C\d+ (\d+\.\d+\.\d+)/.exec(readFileSync(ELF).toString('latin1'))?.[1];
}

function localGccVersion(): string | undefined {
  try {
    return execFileSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

describe('examples/c-kernel', () => {
  const local = localGccVersion();
  it.skipIf(local === undefined || local !== producerVersion())('kernel.elf matches kernel.c built by build.sh', () => {
    const out = path.join(scratch, 'kernel.elf');
    execFileSync('sh', [path.join(DIR, 'build.sh'), out], { stdio: 'pipe' });
    expect(readFileSync(out).equals(readFileSync(ELF)), 'examples/c-kernel/kernel.elf is stale: run sh examples/c-kernel/build.sh').toBe(true);
  });

  for (const extra of [[], ['--monitor']]) {
    it(`runs to its expected output ${extra.length ? 'under the monitor' : 'bare'}`, () => {
      const r = spawnSync(process.execPath, [CLI, 'run', 'examples/c-kernel/kernel.elf', '--max-instructions', '100000', ...extra], { cwd: ROOT, encoding: 'utf8' });
      expect(r.stdout).toBe(readFileSync(path.join(DIR, 'expected-output.txt'), 'utf8'));
      expect(r.status).toBe(0);
    });
  }

  it('launch.json is a valid launch configuration and the README says how to run it', () => {
    const config = JSON.parse(readFileSync(path.join(DIR, 'launch.json'), 'utf8')).configurations[0];
    const settings = readLaunchSettings({ ...config, program: config.program.replace('${workspaceFolder}', ROOT) });
    expect(settings.program).toBe(ELF);
    expect(readFileSync(path.join(DIR, 'README.md'), 'utf8')).toContain('npx ringside run examples/c-kernel/kernel.elf');
  });
});
