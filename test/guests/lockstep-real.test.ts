// The monitor's transparency on real boot code (model.md §4; issue 16), built from Debian packages by
// test/guests/images: GRUB 2 (grub-pc-bin) and SYSLINUX (mboot.c32) multiboot-loading the small kernel, compared
// bare and monitored after every instruction to the kernel's exit (GRUB: LZMA decompression, module loading, the
// serial terminal, the TSC calibration polling PIT channel 2 through port 0x61, the multiboot load); memtest86+ for
// its first tens of millions of instructions; every example guest to its end. The lockstep compares registers,
// flags, segment caches, control and table registers, the instruction count, every port read and every interrupt
// acknowledgement, memory every 4096 instructions, and the output.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../engine/monitor/lockstep';
import { listExamples } from '../examples/example-folders';
import { grubFloppy, memtestFloppy, MULTIBOOT_MARKER, syslinuxFloppy, type GuestImage } from './images';

/**
 * Comparing tens of millions of instructions one by one takes many minutes on CI's 2 cores (GRUB: 53 M), so the
 * real guests run here with RINGSIDE_GUESTS_LONG=1; without it they say they skipped and why. The example guests
 * always run (bench-loop's 50 M-instruction loop with the long ones).
 */
const LONG = process.env.RINGSIDE_GUESTS_LONG === '1';
const LONG_SKIP = ' — skipped: minutes of lockstep; run with RINGSIDE_GUESTS_LONG=1';
/** memtest86+ runs until a user stops it: this many of its instructions are compared (its setup and first tests). */
const MEMTEST_INSTRUCTIONS = Number(process.env.RINGSIDE_MEMTEST_INSTRUCTIONS ?? 20_000_000);

function compare(image: GuestImage, maxInstructions: number, memoryMB = 32) {
  const r = lockstep(readFileSync(image.path!), { load: { format: 'boot' }, memoryMB, maxInstructions });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  expect(r.monitor.counters.engagements).toBeGreaterThan(0);
  return r;
}

describe('lockstep on real guests: 0 divergences', () => {
  const grub = grubFloppy('unit');
  it.skipIf(grub.path === null || !LONG)(`GRUB 2 (floppy, multiboot) to its kernel${grub.reason ? ` — skipped: ${grub.reason}` : LONG ? '' : LONG_SKIP}`, () => {
    const r = compare(grub, 200_000_000);
    expect(r.stop).toBe('exit');
    expect(r.monitored.consoleText()).toContain(MULTIBOOT_MARKER);
    expect(r.instructions).toBeGreaterThan(10_000_000);
    // GRUB ran deprivileged: its PUSHF/POPF and port reads completed in place (engine/monitor/in-place.ts).
    expect(r.monitor.counters.inPlace.get('pushf') ?? 0).toBeGreaterThan(100_000);
  });

  const syslinux = syslinuxFloppy('multiboot');
  it.skipIf(syslinux.path === null || !LONG)(`SYSLINUX (mboot.c32) to the multiboot kernel${syslinux.reason ? ` — skipped: ${syslinux.reason}` : LONG ? '' : LONG_SKIP}`, () => {
    const r = compare(syslinux, 200_000_000);
    expect(r.stop).toBe('exit');
    expect(r.monitored.consoleText()).toContain(MULTIBOOT_MARKER);
  });

  const memtest = memtestFloppy();
  it.skipIf(memtest.path === null || !LONG)(`memtest86+ (its first ${MEMTEST_INSTRUCTIONS} instructions)${memtest.reason ? ` — skipped: ${memtest.reason}` : LONG ? '' : LONG_SKIP}`, () => {
    const r = compare(memtest, MEMTEST_INSTRUCTIONS);
    expect(r.stop).toBe('limit');
  });

  for (const example of listExamples()) {
    it.skipIf(example.name === 'bench-loop' && !LONG)(`example ${example.name} to its end${example.name === 'bench-loop' && !LONG ? LONG_SKIP : ''}`, () => {
      const r = lockstep(readFileSync(example.bin), { memoryMB: example.name === 'paging' ? 16 : 4, maxInstructions: 60_000_000 });
      if (r.divergence) throw new Error(describeDivergence(r.divergence));
      expect(r.stop).toBe('exit');
      expect(r.monitored.consoleText()).toBe(readFileSync(example.expectedOutput, 'utf8'));
    });
  }
});
