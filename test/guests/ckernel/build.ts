// Builds our C kernel (kernel.c) with gcc -m32 as a Multiboot ELF, for the test files that run it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildDir, haveCommand } from '../debian';

const SOURCE = path.join(__dirname, 'kernel.c');
const LINKER_SCRIPT = path.join(__dirname, 'kernel.ld');

/** The kernel built for `march` into .guests/build/FOLDER (one folder per test file: files build in parallel), or the reason it cannot be. */
export function buildKernel(march: string, folder = 'ckernel'): { path: string } | { path: null; reason: string } {
  if (!haveCommand('gcc')) return { path: null, reason: 'gcc is not installed (Debian package gcc-multilib)' };
  const dir = buildDir(folder);
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `kernel-${march}.elf`);
  const r = spawnSync(
    'gcc',
    ['-m32', `-march=${march}`, '-O2', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-fno-asynchronous-unwind-tables',
      '-nostdlib', '-static', '-no-pie', '-Wall', '-Wextra', '-Werror', '-Wl,--build-id=none', '-Wl,--no-warn-rwx-segments',
      '-T', LINKER_SCRIPT, '-o', out, SOURCE],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    // Without the 32-bit multilib parts gcc -m32 cannot link; that is a missing package, anything else a bug.
    if (/cannot find|gnu\/stubs-32|crt1|No such file/.test(r.stderr)) return { path: null, reason: `gcc -m32 cannot build here: ${r.stderr.split('\n')[0]}` };
    throw new Error(`gcc failed: ${r.stderr}`);
  }
  return existsSync(out) ? { path: out } : { path: null, reason: 'gcc produced nothing' };
}
