// A GRUB 2 boot floppy made with grub-mkimage (grub-pc-bin): boot.img in sector 0, core.img from sector 1 (boot.img
// loads sector 1 by default and core.img's first sector carries the block list of the rest, which grub-mkimage
// fills in), the configuration embedded in core.img and the multiboot kernel in a memdisk. GRUB never reads a
// file system, so the image needs no grub-install and no root.
//
// The embedded configuration runs under GRUB's rescue parser: it opens the serial terminal (by BIOS unit number,
// which GRUB looks up in the BIOS data area's COM table, or by I/O port), echoes GRUB_SERIAL_MARKER, then loads
// and boots the multiboot kernel, which prints its own marker.
import { copyFileSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { cachedImage, missingFile, missingTool, run, skipped, toolVersion, type GuestImage } from './build-cache';
import { MULTIBOOT_KERNEL } from './multiboot-kernel';

export const GRUB_DIR = '/usr/lib/grub/i386-pc';
/** GRUB echoes this through its terminals once the serial one is open. */
export const GRUB_SERIAL_MARKER = 'RINGSIDE-GRUB-SERIAL';
/** The command line GRUB passes to the multiboot kernel. */
export const GRUB_KERNEL_CMDLINE = 'from-grub';
const FLOPPY_BYTES = 1_474_560;
const MODULES = ['biosdisk', 'memdisk', 'tar', 'serial', 'terminal', 'echo', 'multiboot'];

export type GrubSerial = 'unit' | 'port';

export function grubConfig(serial: GrubSerial): string {
  const open = serial === 'unit' ? 'serial --unit=0 --speed=115200' : 'serial --port=0x3f8 --speed=115200';
  return [
    open,
    'terminal_input serial console',
    'terminal_output serial console',
    `echo ${GRUB_SERIAL_MARKER}`,
    `multiboot (memdisk)/kernel.bin ${GRUB_KERNEL_CMDLINE}`,
    'boot',
    '',
  ].join('\n');
}

/** The GRUB floppy whose serial terminal is opened by `serial` (`--unit=0` or `--port=0x3f8`). */
export function grubFloppy(serial: GrubSerial): GuestImage {
  const absent =
    missingTool(['grub-mkimage'], 'grub-common') ??
    missingFile([path.join(GRUB_DIR, 'boot.img'), path.join(GRUB_DIR, 'multiboot.mod')], 'grub-pc-bin') ??
    missingTool(['tar'], 'tar');
  if (absent !== null) return skipped(absent);
  const config = grubConfig(serial);
  const image = cachedImage(
    `grub-${serial}`,
    { text: [config, MODULES.join(' '), toolVersion('grub-mkimage')], files: [MULTIBOOT_KERNEL, path.join(GRUB_DIR, 'boot.img')] },
    (scratch) => {
      const tree = path.join(scratch, 'memdisk');
      mkdirSync(tree);
      copyFileSync(MULTIBOOT_KERNEL, path.join(tree, 'kernel.bin'));
      run('tar', ['--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', '../memdisk.tar', 'kernel.bin'], tree);
      writeFileSync(path.join(scratch, 'early.cfg'), config);
      run('grub-mkimage', ['-O', 'i386-pc', '-o', 'core.img', '-c', 'early.cfg', '-m', 'memdisk.tar', '-p', '(memdisk)', ...MODULES], scratch);
      const boot = readFileSync(path.join(GRUB_DIR, 'boot.img'));
      const core = readFileSync(path.join(scratch, 'core.img'));
      if (boot.length !== 512 || 512 + core.length > FLOPPY_BYTES) throw new Error(`grub images do not fit a floppy (boot ${boot.length}, core ${core.length})`);
      const floppy = Buffer.alloc(FLOPPY_BYTES);
      boot.copy(floppy, 0);
      core.copy(floppy, 512);
      const out = path.join(scratch, 'grub.img');
      writeFileSync(out, floppy);
      return out;
    },
  );
  return { path: image };
}
