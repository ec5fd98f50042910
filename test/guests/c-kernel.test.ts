// Our own C kernel (ckernel/kernel.c), built here with gcc -m32 (gcc-multilib) as a Multiboot ELF, for the 486
// and, with CMOV and the other P6 instructions gcc then emits, for the Pentium Pro. It counts primes, takes PIT and
// keyboard interrupts and echoes a line typed with --keys; checked on port E9h and on its VGA screen, bare and
// under the monitor.
import { describe, expect, it } from 'vitest';
import { buildKernel } from './ckernel/build';
import { cliHasOption, MODES, runGuest } from './run-guest';

const MARKER = 'RINGSIDE-C-KERNEL-OK';

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
