// The image builders themselves: each gives an image (or says which tool is absent), the same bytes when built
// again from scratch, and the multiboot kernel committed beside its source is what nasm makes of it.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { haveCommand } from '../debian';
import { grubFloppy, memtestFloppy, syslinuxFloppy, MULTIBOOT_KERNEL, MULTIBOOT_SOURCE, type GuestImage } from './index';

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Builds twice, the second time after deleting the cached image: both must be the same bytes. */
function buildTwice(build: () => GuestImage): { first: string; again: string } | string {
  const a = build();
  if (a.path === null) return a.reason;
  const first = sha(a.path);
  rmSync(a.path);
  const b = build();
  if (b.path === null) return b.reason;
  return { first, again: sha(b.path) };
}

describe('real-guest image builders', () => {
  it('multiboot-marker.bin is built from multiboot-marker.asm', (ctx) => {
    if (!haveCommand('nasm')) return ctx.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ringside-mb-'));
    try {
      const out = path.join(dir, 'k.bin');
      expect(spawnSync('nasm', ['-f', 'bin', MULTIBOOT_SOURCE, '-o', out]).status).toBe(0);
      expect(sha(out)).toBe(sha(MULTIBOOT_KERNEL));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const builders: [string, () => GuestImage, number][] = [
    ['GRUB, serial by unit', () => grubFloppy('unit'), 1_474_560],
    ['GRUB, serial by port', () => grubFloppy('port'), 1_474_560],
    ['memtest86+ floppy', () => memtestFloppy(), 1_474_560],
    ['SYSLINUX, multiboot default', () => syslinuxFloppy('multiboot'), 1_474_560],
    ['SYSLINUX, memtest default', () => syslinuxFloppy('memtest'), 1_474_560],
  ];
  for (const [name, build, size] of builders) {
    it(`${name}: a boot sector, repeatable bytes`, (ctx) => {
      const r = buildTwice(build);
      if (typeof r === 'string') return ctx.skip(r);
      expect(r.again).toBe(r.first);
      const img = build();
      const bytes = readFileSync(img.path!);
      expect(bytes.length).toBe(size);
      expect(bytes[510]).toBe(0x55);
      expect(bytes[511]).toBe(0xaa);
    });
  }

  it('the SYSLINUX image holds its configuration and files', (ctx) => {
    const img = syslinuxFloppy('memtest');
    if (img.path === null || !haveCommand('mtype')) return ctx.skip(img.reason ?? 'mtools absent');
    const cfg = spawnSync('mtype', ['-i', img.path, '::/syslinux.cfg'], { encoding: 'utf8' });
    expect(cfg.stdout).toContain('DEFAULT memtest');
    expect(cfg.stdout).toContain('KERNEL mboot.c32');
    const dir = spawnSync('mdir', ['-a', '-b', '-i', img.path, '::/'], { encoding: 'utf8' }).stdout.toUpperCase();
    for (const f of ['LDLINUX.SYS', 'LDLINUX.C32', 'KERNEL.BIN', 'MEMTEST.BIN', 'MBOOT.C32', 'LIBCOM32.C32']) expect(dir).toContain(f);
  });
});
