// Reverse execution on real guests built from Debian packages (test/guests/images): from seeded random stop points
// in their first instructions, stepping back N and forward N gives back the very machine of each moment — every
// register, segment cache, FPU register, memory page, device — bare and under the monitor
// (test/debug-adapter/step-identity.ts). An image whose tools are absent is skipped with the reason.
import { describe, it } from 'vitest';
import { expectStepBackForwardIdentity } from '../debug-adapter/step-identity';
import { grubFloppy, memtestFloppy, syslinuxFloppy, type GuestImage } from './images';

const guests: [string, () => GuestImage][] = [
  ['GRUB 2 from a floppy', () => grubFloppy('unit')],
  ['SYSLINUX (mboot.c32) from a floppy', () => syslinuxFloppy('multiboot')],
  ['memtest86+ from a floppy', () => memtestFloppy()],
];

describe('reverse execution on real guests: step back N, forward N, the same machine', () => {
  for (const [name, build] of guests) {
    for (const monitor of [false, true]) {
      it(`${name}, ${monitor ? 'monitored' : 'bare'}`, async (ctx) => {
        const image = build();
        if (image.path === null) {
          ctx.skip(image.reason);
          return;
        }
        await expectStepBackForwardIdentity(image.path, {
          attributes: { monitor, format: 'boot', memoryMB: 32 },
          seed: name.length * 17 + (monitor ? 3 : 0),
          // Monitored boot code runs about a tenth as fast: its points lie earlier.
          within: monitor ? 600_000 : 3_000_000,
          points: 1,
          maxSteps: 12,
        });
      }, 180_000);
    }
  }
});
