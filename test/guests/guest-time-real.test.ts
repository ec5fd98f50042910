// Guest time on the real guests (issue 16): each runs bare and monitored, with every listener off and all of them on
// (every event, breakpoints, a logpoint, data watches: test/engine/monitor/guest-timeline.ts), in the CLI's slices
// and in odd ones as the debug adapter's, and must write every byte (port E9h and COM1) at the same instruction count
// and end at the same count. GRUB 2 (its serial terminal by BIOS unit and by I/O port) and SYSLINUX multiboot-load our
// kernel to its exit, SYSLINUX's LINUX entry starts memtest86+ (its first 40 M instructions), memtest86+ from its own
// floppy runs its first 20 M, our C kernel's 486 and Pentium Pro builds echo a typed line; the examples are
// determinism.test.ts's. Measured (wall time, load average 5-7): GRUB by port 131 s, SYSLINUX to memtest86+ 97 s, the
// Pentium Pro C kernel 1.5 s. Debian's Linux is in linux.test.ts, which compares its bare COM1 shell boot with the
// same boot monitored through the CLI and monitored with every listener on in-process, so the bare boot is run once.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keysForText } from '../../engine/devices/host-keys';
import { realTimeline, type RealGuest, type RealVariant } from '../engine/monitor/guest-timeline';
import { buildKernel } from './ckernel/build';
import { grubFloppy, memtestFloppy, MULTIBOOT_KERNEL, syslinuxFloppy, type GuestImage } from './images';

const CLI_SLICE = 65_536 * 16;
const VARIANTS: RealVariant[] = [
  { monitor: false, listeners: false, slice: CLI_SLICE },
  { monitor: false, listeners: true, slice: CLI_SLICE },
  { monitor: true, listeners: false, slice: CLI_SLICE },
  { monitor: true, listeners: true, slice: CLI_SLICE },
  { monitor: true, listeners: true, slice: 9_973 },
];
const label = (v: RealVariant): string => `${v.monitor ? 'monitored' : 'bare'}, listeners ${v.listeners ? 'on' : 'off'}, slices of ${v.slice}`;

const BOOT = { format: 'boot' as const };
const guests: [string, () => GuestImage, Omit<RealGuest, 'image'>, string][] = [
  ['the multiboot kernel', () => ({ path: MULTIBOOT_KERNEL }), { load: {}, memoryMB: 32, limit: 10_000_000 }, 'exit'],
  ['GRUB 2 to the multiboot kernel', () => grubFloppy('unit'), { load: BOOT, memoryMB: 32, limit: 200_000_000 }, 'exit'],
  ['GRUB 2 (serial terminal by I/O port) to the multiboot kernel', () => grubFloppy('port'), { load: BOOT, memoryMB: 32, limit: 200_000_000 }, 'exit'],
  ['SYSLINUX (mboot.c32) to the multiboot kernel', () => syslinuxFloppy('multiboot'), { load: BOOT, memoryMB: 32, limit: 200_000_000 }, 'exit'],
  ['SYSLINUX (LINUX) to memtest86+, its first 40 M instructions', () => syslinuxFloppy('memtest'), { load: BOOT, memoryMB: 16, limit: 40_000_000 }, 'limit'],
  ['memtest86+, its first 20 M instructions', () => memtestFloppy(), { load: BOOT, memoryMB: 32, limit: 20_000_000 }, 'limit'],
  [
    'the C kernel (486 build) echoing a line typed on the keyboard',
    () => buildKernel('i486', 'ckernel-guest-time'),
    { load: {}, memoryMB: 16, limit: 100_000_000, keys: keysForText('hello ring\n') },
    'exit',
  ],
  [
    'the C kernel (Pentium Pro build, CMOV) echoing a line typed on the keyboard',
    () => buildKernel('pentiumpro', 'ckernel-guest-time'),
    { load: {}, memoryMB: 16, model: 'pentium-pro', limit: 100_000_000, keys: keysForText('p6\n') },
    'exit',
  ],
];

describe('guest time on real guests: the same bare and monitored, with every listener off and on', () => {
  for (const [name, build, guest, stop] of guests) {
    it(`${name}: every output byte and the end at the same instruction count in every variant`, async (ctx) => {
      const image = build();
      if (image.path === null) return ctx.skip(image.reason);
      const g: RealGuest = { ...guest, image: readFileSync(image.path) };
      const base = await realTimeline(g, VARIANTS[0]);
      expect(base.stop).toBe(stop);
      expect(base.bytes.length).toBeGreaterThan(0);
      for (const v of VARIANTS.slice(1)) {
        const t = await realTimeline(g, v);
        expect([t.stop, t.end], label(v)).toEqual([base.stop, base.end]);
        const first = t.bytes.findIndex((line, k) => base.bytes[k] !== line);
        expect(first === -1 ? null : { byte: first, base: base.bytes[first], variant: t.bytes[first] }, label(v)).toBeNull();
        expect(t.bytes.length, label(v)).toBe(base.bytes.length);
      }
    });
  }
});
