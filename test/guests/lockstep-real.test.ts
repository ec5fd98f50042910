// The monitor's transparency on real boot code (model.md §4; issue 16): GRUB 2 from Debian's grub-pc-bin,
// multiboot-loading a small kernel, compared bare and monitored after every instruction to its end (about 51
// million instructions: LZMA decompression, module loading, the TSC calibration polling PIT channel 2 through
// port 0x61, the multiboot load); memtest86+ for its first tens of millions of instructions; every example guest to
// its end. The lockstep compares registers, flags, segment caches, control and table registers, the instruction
// count, every port read and every interrupt acknowledgement, memory every 4096 instructions, and the output.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../engine/monitor/lockstep';
import { listExamples } from '../examples/example-folders';
import { GRUB_KERNEL_OUTPUT, grubFloppy, grubMissing, memtestFloppy } from './images/grub';

/** memtest86+ runs until a user stops it: this many of its instructions are compared (its setup and first tests). */
const MEMTEST_INSTRUCTIONS = Number(process.env.RINGSIDE_MEMTEST_INSTRUCTIONS ?? 20_000_000);

describe('lockstep on real guests: 0 divergences', () => {
  it.skipIf(grubMissing() !== null)('GRUB 2 (floppy, multiboot) to its kernel', () => {
    const r = lockstep(grubFloppy()!, { load: { format: 'boot' }, memoryMB: 16, maxInstructions: 100_000_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    expect(r.monitored.consoleText()).toBe(GRUB_KERNEL_OUTPUT);
    expect(r.instructions).toBeGreaterThan(10_000_000);
    expect(r.monitor.counters.panics).toBe(0);
    // GRUB ran deprivileged: its PUSHF/POPF and port reads completed in place, few monitor entries.
    expect(r.monitor.counters.inPlace.get('pushf') ?? 0).toBeGreaterThan(100_000);
  });

  it.skipIf(memtestFloppy() === null)(`memtest86+ (its first ${MEMTEST_INSTRUCTIONS} instructions)`, () => {
    const r = lockstep(memtestFloppy()!, { load: { format: 'boot' }, memoryMB: 32, maxInstructions: MEMTEST_INSTRUCTIONS });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('limit');
    expect(r.monitor.counters.panics).toBe(0);
    expect(r.monitor.counters.engagements).toBeGreaterThan(0);
  });

  for (const example of listExamples()) {
    it(`example ${example.name} to its end`, () => {
      const r = lockstep(readFileSync(example.bin), { memoryMB: example.name === 'paging' ? 16 : 4, maxInstructions: 60_000_000 });
      if (r.divergence) throw new Error(describeDivergence(r.divergence));
      expect(r.stop).toBe('exit');
      expect(r.monitored.consoleText()).toBe(readFileSync(example.expectedOutput, 'utf8'));
    });
  }
});
