// The multiboot kernel the bootloader images start (multiboot-marker.asm): its marker line, what it prints before
// it, and its built image, committed beside the source (rebuilt from the source when nasm is here).
import path from 'node:path';
import { IMAGES_DIR } from './build-cache';

export const MULTIBOOT_KERNEL = path.join(IMAGES_DIR, 'multiboot-marker.bin');
export const MULTIBOOT_SOURCE = path.join(IMAGES_DIR, 'multiboot-marker.asm');
/** The kernel's last line: the loader handed over a valid multiboot magic and information block. */
export const MULTIBOOT_MARKER = 'RINGSIDE-MULTIBOOT-OK';

/** The kernel's report line, e.g. `… magic ok loader=GRUB 2.06 cmdline=from-grub mem_upper=15360 KiB`. */
export function multibootReport(output: string): { loader?: string; cmdline?: string; memUpperKiB?: number } | null {
  const m = /ringside multiboot kernel: magic ok(?: loader=(.*?))?(?: cmdline=(.*?))?(?: mem_upper=(\d+) KiB)?\r?\n/.exec(output);
  if (m === null) return null;
  return { loader: m[1], cmdline: m[2], memUpperKiB: m[3] === undefined ? undefined : Number(m[3]) };
}
