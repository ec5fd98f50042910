// Free running against stepping on real guests (issue 17, item 3), bare and monitored: the multiboot kernel to its
// exit, and GRUB 2 (grub-pc-bin, serial terminal: its output is compared byte by byte) and memtest86+ booted from
// floppies by the built-in firmware, for RINGSIDE_FREE_RUN_INSTRUCTIONS instructions each (default 2,000,000).
// An image whose tools are absent is skipped with the reason.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FREE_RUN_LABELS, freeRunCompare } from '../../engine/monitor/free-run';
import { describeDivergence } from '../../engine/monitor/lockstep';
import { grubFloppy, memtestFloppy, MULTIBOOT_KERNEL, type GuestImage } from './images';

const INSTRUCTIONS = Number(process.env.RINGSIDE_FREE_RUN_INSTRUCTIONS ?? 2_000_000);

const guests: [string, () => GuestImage, number][] = [
  ['the multiboot kernel', () => ({ path: MULTIBOOT_KERNEL }), 10_000_000],
  ['GRUB 2 from a floppy', () => grubFloppy('unit'), INSTRUCTIONS],
  ['memtest86+ from a floppy', () => memtestFloppy(), INSTRUCTIONS],
];

describe('free run vs steps on real guests', () => {
  for (const [name, build, instructions] of guests) {
    for (const monitored of [false, true]) {
      it(`${name}, ${monitored ? 'monitored' : 'bare'}: no divergence`, (ctx) => {
        const image = build();
        if (image.path === null) {
          ctx.skip(image.reason);
          return;
        }
        const r = freeRunCompare(readFileSync(image.path), { monitored, memoryMB: 64, maxInstructions: instructions });
        if (r.divergence) throw new Error(describeDivergence(r.divergence, FREE_RUN_LABELS));
        expect(r.comparisons).toBeGreaterThan(1);
        if (name === 'the multiboot kernel') expect([r.stop, r.outputBytes > 0]).toEqual(['exit', true]);
      });
    }
  }
});
