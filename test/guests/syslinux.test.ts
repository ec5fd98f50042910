// SYSLINUX 6.04 (syslinux, mtools, dosfstools) on a FAT floppy: its default entry starts our multiboot kernel
// through mboot.c32, or memtest86+ through LINUX. Checked on the guests' own output: the kernel's report and
// marker, memtest's screen. Bare and under the monitor.
import { describe, expect, it } from 'vitest';
import { MULTIBOOT_MARKER, multibootReport, syslinuxFloppy, SYSLINUX_KERNEL_CMDLINE } from './images';
import { readMemtestScreen } from './memtest-screen';
import { MODES, runGuest } from './run-guest';

describe('SYSLINUX', () => {
  for (const mode of MODES) {
    it(`starts the multiboot kernel through mboot.c32 (${mode})`, async (ctx) => {
      const image = syslinuxFloppy('multiboot');
      if (image.path === null) return ctx.skip(image.reason);
      const r = await runGuest(image.path, ['--format', 'boot', '--max-instructions', '200000000'], mode, 'syslinux-multiboot');
      expect(r.summary.stop, r.stderr.slice(-1500)).toBe('exit');
      expect(r.stderr).toContain('SYSLINUX 6.04');
      const report = multibootReport(r.stdout);
      expect(report?.loader).toMatch(/^SYSLINUX 6\.04/);
      expect(report?.cmdline).toBe(`kernel.bin ${SYSLINUX_KERNEL_CMDLINE}`);
      expect(r.stdout).toContain(MULTIBOOT_MARKER);
    });

    it(`starts memtest86+ through its LINUX entry (${mode})`, async (ctx) => {
      const image = syslinuxFloppy('memtest');
      if (image.path === null) return ctx.skip(image.reason);
      const r = await runGuest(image.path, ['--format', 'boot', '--max-instructions', '60000000', '--screen'], mode, 'syslinux-memtest-60M');
      expect(r.summary.stop).toBe('limit');
      const screen = readMemtestScreen(r.stdout);
      expect(screen.banner, r.stdout).toBe(true);
      expect(screen.memoryMB).toBe(16);
    });
  }
});
