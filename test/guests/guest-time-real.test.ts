// Guest time on the real guests (issue 16): each runs bare and monitored, with every listener off and all of them on
// (every event, breakpoints, a logpoint, data watches: test/engine/monitor/guest-timeline.ts), in the CLI's slices
// and in odd ones as the debug adapter's, and must write every byte (port E9h and COM1) at the same instruction count
// and end at the same count. GRUB 2 and SYSLINUX multiboot-load our kernel to its exit, memtest86+ runs its first
// 20 M instructions, our C kernel echoes a typed line; the examples are determinism.test.ts's, and Debian's Linux is
// compared bare against monitored (listeners off: each boot takes minutes) in linux.test.ts.
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
  ['SYSLINUX (mboot.c32) to the multiboot kernel', () => syslinuxFloppy('multiboot'), { load: BOOT, memoryMB: 32, limit: 200_000_000 }, 'exit'],
  ['memtest86+, its first 20 M instructions', () => memtestFloppy(), { load: BOOT, memoryMB: 32, limit: 20_000_000 }, 'limit'],
  [
    'the C kernel (486 build) echoing a line typed on the keyboard',
    () => buildKernel('i486', 'ckernel-guest-time'),
    { load: {}, memoryMB: 16, limit: 100_000_000, keys: keysForText('hello ring\n') },
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
