// SYSLINUX boot images (syslinux, mtools, dosfstools): a FAT file system made with mkfs.fat, SYSLINUX installed in
// its boot sector and ldlinux.sys/ldlinux.c32 by `syslinux --install` (the mtools build: no root, no loop device),
// and a syslinux.cfg whose default entry boots at once, with its console on COM1 as well as the screen.
//
// A 1.44 MB image is a floppy (BIOS drive 00h); a larger one, for a Linux kernel and initramfs, is an unpartitioned
// hard disk (drive 80h) that SYSLINUX boots the same way.
import { copyFileSync, writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { cachedImage, missingFile, missingTool, run, skipped, toolVersion, type GuestImage } from './build-cache';
import { MULTIBOOT_KERNEL } from './multiboot-kernel';
import { MEMTEST_BIN } from './memtest';

export const SYSLINUX_MODULES = '/usr/lib/syslinux/modules/bios';
/** The command line SYSLINUX's mboot.c32 passes to the multiboot kernel (after the kernel's own name). */
export const SYSLINUX_KERNEL_CMDLINE = 'from-syslinux';

export interface SyslinuxEntry {
  label: string;
  /** The syslinux.cfg lines of the entry after its LABEL line (KERNEL/LINUX, APPEND, INITRD). */
  lines: readonly string[];
}

export interface SyslinuxImageOptions {
  /** Cache name of the image. */
  name: string;
  entries: readonly SyslinuxEntry[];
  /** The label booted without a prompt. */
  defaultLabel: string;
  /** Files copied to the root directory: name on the image → host path. */
  files: Readonly<Record<string, string>>;
  /** Size of the FAT image in KiB (1440: a floppy). */
  sizeKiB?: number;
}

export const MULTIBOOT_ENTRY: SyslinuxEntry = { label: 'multiboot', lines: ['KERNEL mboot.c32', `APPEND kernel.bin ${SYSLINUX_KERNEL_CMDLINE}`] };
export const MEMTEST_ENTRY: SyslinuxEntry = { label: 'memtest', lines: ['LINUX memtest.bin'] };

export function syslinuxConfig(entries: readonly SyslinuxEntry[], defaultLabel: string): string {
  const lines = ['SERIAL 0 115200', `DEFAULT ${defaultLabel}`, 'PROMPT 0', 'TIMEOUT 0'];
  for (const e of entries) lines.push(`LABEL ${e.label}`, ...e.lines.map((l) => `  ${l}`));
  return lines.join('\n') + '\n';
}

/** Any SYSLINUX image: the entries, the files, the size. */
export function syslinuxImage(options: SyslinuxImageOptions): GuestImage {
  const absent =
    missingTool(['syslinux'], 'syslinux') ??
    missingTool(['mkfs.fat'], 'dosfstools') ??
    missingTool(['mcopy'], 'mtools') ??
    missingFile([path.join(SYSLINUX_MODULES, 'mboot.c32'), path.join(SYSLINUX_MODULES, 'libcom32.c32')], 'syslinux-common') ??
    missingFile(Object.values(options.files), 'the file to put on the image');
  if (absent !== null) return skipped(absent);
  const sizeKiB = options.sizeKiB ?? 1440;
  const config = syslinuxConfig(options.entries, options.defaultLabel);
  const names = Object.keys(options.files).sort();
  const image = cachedImage(
    options.name,
    {
      text: [config, String(sizeKiB), names.join(','), toolVersion('syslinux'), toolVersion('mkfs.fat', ['--help']), toolVersion('mcopy')],
      files: names.map((n) => options.files[n]),
    },
    (scratch) => {
      const out = path.join(scratch, 'syslinux.img');
      // --invariant and a fixed volume id: mkfs.fat writes no random or time-based values.
      run('mkfs.fat', ['-C', '--invariant', '-i', '52494e47', '-n', 'RINGSIDE', out, String(sizeKiB)], scratch);
      run('syslinux', ['--install', out], scratch);
      const cfg = path.join(scratch, 'syslinux.cfg');
      writeFileSync(cfg, config);
      const copies = [cfg];
      for (const n of names) {
        const copy = path.join(scratch, n);
        copyFileSync(options.files[n], copy);
        copies.push(copy);
      }
      for (const f of copies) utimesSync(f, 0, 0);
      run('mcopy', ['-m', '-i', out, ...copies, '::/'], scratch);
      return out;
    },
  );
  return { path: image };
}

/** The SYSLINUX floppy with entries for the multiboot kernel (through mboot.c32) and memtest86+; `defaultLabel` boots. */
export function syslinuxFloppy(defaultLabel: 'multiboot' | 'memtest'): GuestImage {
  return syslinuxImage({
    name: `syslinux-${defaultLabel}`,
    entries: [MULTIBOOT_ENTRY, MEMTEST_ENTRY],
    defaultLabel,
    files: {
      'kernel.bin': MULTIBOOT_KERNEL,
      'memtest.bin': MEMTEST_BIN,
      'mboot.c32': path.join(SYSLINUX_MODULES, 'mboot.c32'),
      'libcom32.c32': path.join(SYSLINUX_MODULES, 'libcom32.c32'),
    },
  });
}
