// memtest86+ (Debian's memtest86+ package) booted from a floppy made of memtest86+ia32.bin: after a budget of
// instructions its screen shows its banner, the memory size, a test running, and a clock that is right — the
// CPU clock it measured is the virtual one (INSTRUCTIONS_PER_SECOND: about 9.5 MHz) and its elapsed time moves on
// with guest time, as the instruction count says. Bare and under the monitor.
import { describe, expect, it } from 'vitest';
import { memtestFloppy } from './images';
import { MODES, runGuest, type GuestRun } from './run-guest';
import { readMemtestScreen } from './memtest-screen';

const INSTRUCTIONS_PER_SECOND = 9_545_456;
const SHORT = 40_000_000;
const LONG = 80_000_000;

function guestSeconds(r: GuestRun): number {
  return (r.summary.instructions + r.summary.idleInstructions) / INSTRUCTIONS_PER_SECOND;
}

describe('memtest86+', () => {
  for (const mode of MODES) {
    it(`boots from its floppy, tests memory and keeps the right time (${mode})`, async (ctx) => {
      const image = memtestFloppy();
      if (image.path === null) return ctx.skip(image.reason);
      const short = await runGuest(image.path, ['--format', 'boot', '--max-instructions', String(SHORT), '--screen'], mode, 'memtest-40M');
      const long = await runGuest(image.path, ['--format', 'boot', '--max-instructions', String(LONG), '--screen'], mode);
      expect(short.summary.stop).toBe('limit');
      const a = readMemtestScreen(short.stdout);
      const b = readMemtestScreen(long.stdout);
      expect(a.banner, short.stdout).toBe(true);
      expect(a.memoryMB).toBe(16);
      expect(short.stdout).toMatch(/Test #\d+|Testing:/);
      // The measured clock is the virtual CPU's, within the rounding memtest applies.
      expect(a.clockMHz).toBeGreaterThanOrEqual(8);
      expect(a.clockMHz).toBeLessThanOrEqual(11);
      // Elapsed time: never more than the guest time that passed, and not frozen between the two budgets.
      expect(a.elapsedSeconds, short.stdout).not.toBeNull();
      expect(a.elapsedSeconds!).toBeLessThanOrEqual(Math.ceil(guestSeconds(short)));
      expect(b.elapsedSeconds!).toBeLessThanOrEqual(Math.ceil(guestSeconds(long)));
      expect(b.elapsedSeconds!).toBeGreaterThan(a.elapsedSeconds!);
    });
  }
});
