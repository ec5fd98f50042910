// A GRUB 2 floppy image that multiboot-loads a small kernel, built from Debian's grub-pc-bin (grub-mkimage and
// the i386-pc modules) and nasm: boot.img in sector 0, then core.img with a memdisk holding the kernel and its
// grub.cfg. The kernel prints "kernel reached" on port 0xE9 and exits through port 0xF4 with code 0, so a run
// ends by itself once GRUB (decompression, module loading, the multiboot load) has handed over.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildDir, haveCommand } from '../debian';

const GRUB_LIB = '/usr/lib/grub/i386-pc';
const FLOPPY_BYTES = 1_474_560;

const KERNEL_ASM = `; A multiboot kernel (a.out kludge: flat image at 1 MiB) that says so and exits.
        bits 32
        org 0x100000
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000
header: dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
        dd header, 0x100000, end, end, start
start:  mov esi, msg
.next:  lodsb
        test al, al
        jz .done
        out 0xE9, al
        jmp .next
.done:  mov al, 0
        out 0xF4, al
        hlt
msg:    db "kernel reached", 10, 0
end:
`;

/** What the kernel prints once GRUB has loaded and started it. */
export const GRUB_KERNEL_OUTPUT = 'kernel reached\n';

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

/** Why the GRUB image cannot be built here, or null when it can. */
export function grubMissing(): string | null {
  if (!existsSync(path.join(GRUB_LIB, 'boot.img'))) return `${GRUB_LIB}/boot.img missing (apt-get install grub-pc-bin)`;
  if (!haveCommand('grub-mkimage')) return 'grub-mkimage missing (apt-get install grub-common)';
  if (!haveCommand('nasm')) return 'nasm missing';
  if (!haveCommand('tar')) return 'tar missing';
  return null;
}

/** Builds (once per folder) the GRUB floppy image and returns its bytes; null when the tools are missing. */
export function grubFloppy(): Uint8Array | null {
  if (grubMissing() !== null) return null;
  const dir = buildDir('grub');
  const image = path.join(dir, 'grub-floppy.img');
  if (existsSync(image)) return readFileSync(image);
  mkdirSync(path.join(dir, 'memdisk', 'boot'), { recursive: true });
  writeFileSync(path.join(dir, 'kernel.asm'), KERNEL_ASM);
  run('nasm', ['-f', 'bin', 'kernel.asm', '-o', path.join('memdisk', 'boot', 'kernel')], dir);
  writeFileSync(path.join(dir, 'memdisk', 'boot', 'grub.cfg'), 'set timeout=0\nmultiboot /boot/kernel\nboot\n');
  run('tar', ['cf', 'memdisk.tar', '-C', 'memdisk', 'boot'], dir);
  writeFileSync(path.join(dir, 'early.cfg'), 'set root=(memdisk)\nset prefix=(memdisk)/boot\nconfigfile (memdisk)/boot/grub.cfg\n');
  const modules = ['memdisk', 'tar', 'multiboot', 'configfile', 'normal', 'biosdisk'];
  run('grub-mkimage', ['-O', 'i386-pc', '-d', GRUB_LIB, '-o', 'core.img', '-c', 'early.cfg', '-m', 'memdisk.tar', '-p', '(memdisk)/boot', ...modules], dir);
  const boot = readFileSync(path.join(GRUB_LIB, 'boot.img'));
  const core = readFileSync(path.join(dir, 'core.img'));
  const floppy = new Uint8Array(FLOPPY_BYTES);
  floppy.set(boot, 0);
  floppy.set(core, 512);
  writeFileSync(image, floppy);
  return floppy;
}

/** memtest86+'s 32-bit image (it boots from a floppy's first sector), padded to a floppy; null when absent. */
export function memtestFloppy(): Uint8Array | null {
  const file = '/boot/memtest86+ia32.bin';
  if (!existsSync(file)) return null;
  const bin = readFileSync(file);
  const floppy = new Uint8Array(Math.max(FLOPPY_BYTES, bin.length));
  floppy.set(bin, 0);
  return floppy;
}
