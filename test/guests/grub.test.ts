// GRUB 2 (grub-mkimage, grub-pc-bin): the floppy opens its serial terminal by BIOS unit (the COM port table in the
// BIOS data area) and by I/O port, echoes its marker there, then boots our multiboot kernel, which reports GRUB's
// name and command line and exits. Checked on COM1 (stderr) and port E9h (stdout), bare and under the monitor.
import { describe, expect, it } from 'vitest';
import { grubFloppy, GRUB_SERIAL_MARKER, GRUB_KERNEL_CMDLINE, MULTIBOOT_MARKER, multibootReport, type GrubSerial } from './images';
import { runGuest, type Mode } from './run-guest';

const BUDGET = '300000000';
/**
 * GRUB switches between protected and real mode for every BIOS call, which the monitor runs emulated: one GRUB run
 * costs about 20 times its bare time there (README, Real guests), so the monitored run is the `--unit` variant's
 * alone, the one that reads the BIOS data area, to keep the guests project within its time.
 */
const RUNS: [GrubSerial, Mode][] = [['unit', 'bare'], ['unit', 'monitor'], ['port', 'bare']];

describe('GRUB 2', () => {
  for (const [serial, mode] of RUNS) {
    it(`serial by ${serial}, then the multiboot kernel (${mode})`, async (ctx) => {
      const image = grubFloppy(serial);
      if (image.path === null) return ctx.skip(image.reason);
      const r = await runGuest(image.path, ['--format', 'boot', '--max-instructions', BUDGET], mode, `grub-${serial}`);
      expect(r.summary.stop, r.stderr.slice(-1500)).toBe('exit');
      expect(r.code).toBe(0);
      // GRUB's own text on its serial terminal: only there if `serial` found the port.
      expect(r.stderr).toContain(GRUB_SERIAL_MARKER);
      expect(r.stderr).not.toContain('error:');
      const report = multibootReport(r.stderr);
      expect(report?.loader).toMatch(/^GRUB 2\./);
      expect(report?.cmdline).toBe(GRUB_KERNEL_CMDLINE);
      expect(r.stdout).toContain(MULTIBOOT_MARKER);
    });
  }
});
