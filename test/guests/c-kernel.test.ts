// Our own C kernel (ckernel/kernel.c), built here with gcc -m32 (gcc-multilib) as a Multiboot ELF, for the 486
// and, with CMOV and the other P6 instructions gcc then emits, for the Pentium Pro. It counts primes, takes PIT and
// keyboard interrupts and echoes a line typed with --keys; checked on port E9h and on its VGA screen, bare and
// under the monitor.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildDir, haveCommand } from './debian';
import { cliHasOption, MODES, runGuest } from './run-guest';

const SOURCE = path.join(__dirname, 'ckernel', 'kernel.c');
const LINKER_SCRIPT = path.join(__dirname, 'ckernel', 'kernel.ld');
const MARKER = 'RINGSIDE-C-KERNEL-OK';

/** The kernel built for `march`, or the reason it cannot be. */
function buildKernel(march: string): { path: string } | { path: null; reason: string } {
  if (!haveCommand('gcc')) return { path: null, reason: 'gcc is not installed (Debian package gcc-multilib)' };
  const dir = buildDir('ckernel');
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

describe('C kernel (gcc -m32)', () => {
  for (const mode of MODES) {
    it(`486 build: primes, interrupts and a line typed with --keys (${mode})`, async (ctx) => {
      const kernel = buildKernel('i486');
      if (kernel.path === null) return ctx.skip(kernel.reason);
      const r = await runGuest(kernel.path, ['--keys', 'hello ring\\n', '--max-instructions', '100000000', '--serial', 'off', '--screen'], mode, 'c-kernel-486');
      expect(r.summary.stop, r.stderr).toBe('exit');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('ringside C kernel: magic ok primes<1000=168\n');
      expect(r.stdout).toContain('typed: hello ring ticks>0: yes\n');
      expect(r.stdout).toContain(MARKER);
      // The same text on its VGA screen, as --screen prints it after the run (after the port E9h text).
      const screen = r.stdout.slice(r.stdout.indexOf(MARKER + '\n') + MARKER.length + 1);
      expect(screen.startsWith('ringside C kernel: magic ok primes<1000=168\ntype a line: hello ring\ntyped: hello ring ticks>0: yes\n')).toBe(true);
      expect(r.summary.keysUnread).toBe(0);
    });

    it(`Pentium Pro build (CMOV) on --cpu pentium-pro (${mode})`, async (ctx) => {
      if (!cliHasOption('--cpu')) return ctx.skip('this build has no --cpu option (the CPU models are not merged)');
      const kernel = buildKernel('pentiumpro');
      if (kernel.path === null) return ctx.skip(kernel.reason);
      const r = await runGuest(kernel.path, ['--cpu', 'pentium-pro', '--keys', 'p6\\n', '--max-instructions', '100000000', '--serial', 'off'], mode, 'c-kernel-p6');
      expect(r.summary.stop, r.stderr).toBe('exit');
      expect(r.stdout).toContain('typed: p6 ticks>0: yes\n');
      expect(r.stdout).toContain(MARKER);
    });
  }
});
