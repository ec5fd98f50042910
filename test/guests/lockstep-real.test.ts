// The monitor's transparency on real boot code (model.md §4; issue 16), built from Debian packages by
// test/guests/images: GRUB 2 (grub-pc-bin) and SYSLINUX (mboot.c32) multiboot-loading the small kernel, compared
// bare and monitored after every instruction to the kernel's exit (GRUB: LZMA decompression, module loading, the
// serial terminal, the TSC calibration polling PIT channel 2 through port 0x61, the multiboot load); memtest86+ for
// its first tens of millions of instructions; every example guest to its end. The lockstep compares registers,
// flags, segment caches, control and table registers, the instruction count, every port read and every interrupt
// acknowledgement and the amount printed after every instruction; memory, devices and the output bytes every
// 65,536 instructions and at the end, a difference there located at its exact instruction by replay.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstepAsync } from '../../engine/monitor/lockstep';
import { listExamples } from '../examples/example-folders';
import { grubFloppy, memtestFloppy, MULTIBOOT_MARKER, syslinuxFloppy, type GuestImage } from './images';

/**
 * All of them run in `npm test`: the lockstep compares the CPU after every instruction without allocating and
 * memory, devices and output at checkpoints, located exactly by replay (engine/monitor/lockstep.ts), so GRUB's 53 M
 * instructions take about 36 s of CPU here (it did not finish in 18 minutes when every instruction built two state
 * objects), SYSLINUX 18 s, memtest86+'s 20 M 12 s.
 */
/** memtest86+ runs until a user stops it: this many of its instructions are compared (its setup and first tests). */
const MEMTEST_INSTRUCTIONS = Number(process.env.RINGSIDE_MEMTEST_INSTRUCTIONS ?? 20_000_000);

/** Compared in pieces of 10^6 instructions, returning to the event loop between them (the worker's RPC answers). */
async function compare(image: GuestImage, maxInstructions: number, memoryMB = 32) {
  const r = await lockstepAsync(readFileSync(image.path!), { load: { format: 'boot' }, memoryMB, maxInstructions });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  expect(r.monitor.counters.engagements).toBeGreaterThan(0);
  return r;
}

describe('lockstep on real guests: 0 divergences', () => {
  const grub = grubFloppy('unit');
  it.skipIf(grub.path === null)(`GRUB 2 (floppy, multiboot) to its kernel${grub.reason ? ` — skipped: ${grub.reason}` : ''}`, async () => {
    const r = await compare(grub, 200_000_000);
    expect(r.stop).toBe('exit');
    expect(r.monitored.consoleText()).toContain(MULTIBOOT_MARKER);
    expect(r.instructions).toBeGreaterThan(10_000_000);
    // GRUB ran deprivileged: its PUSHF/POPF and port reads completed in place (engine/monitor/in-place.ts).
    expect(r.monitor.counters.inPlace.get('pushf') ?? 0).toBeGreaterThan(100_000);
  });

  const syslinux = syslinuxFloppy('multiboot');
  it.skipIf(syslinux.path === null)(`SYSLINUX (mboot.c32) to the multiboot kernel${syslinux.reason ? ` — skipped: ${syslinux.reason}` : ''}`, async () => {
    const r = await compare(syslinux, 200_000_000);
    expect(r.stop).toBe('exit');
    expect(r.monitored.consoleText()).toContain(MULTIBOOT_MARKER);
  });

  const memtest = memtestFloppy();
  it.skipIf(memtest.path === null)(`memtest86+ (its first ${MEMTEST_INSTRUCTIONS} instructions)${memtest.reason ? ` — skipped: ${memtest.reason}` : ''}`, async () => {
    const r = await compare(memtest, MEMTEST_INSTRUCTIONS);
    expect(r.stop).toBe('limit');
  });

  for (const example of listExamples()) {
    it(`example ${example.name} to its end`, async () => {
      const r = await lockstepAsync(readFileSync(example.bin), { memoryMB: example.name === 'paging' ? 16 : 4, maxInstructions: 60_000_000 });
      if (r.divergence) throw new Error(describeDivergence(r.divergence));
      expect(r.stop).toBe('exit');
      expect(r.monitored.consoleText()).toBe(readFileSync(example.expectedOutput, 'utf8'));
    });
  }
});
