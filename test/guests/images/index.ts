// Builders of the real-guest images (GRUB, SYSLINUX, memtest86+) and the multiboot kernel they start. Each returns
// `{ path }` or `{ path: null, reason }` when a tool or package is absent; images are cached in .guests/build.
export { type GuestImage } from './build-cache';
export { MULTIBOOT_KERNEL, MULTIBOOT_SOURCE, MULTIBOOT_MARKER, multibootReport } from './multiboot-kernel';
export { grubFloppy, grubConfig, GRUB_SERIAL_MARKER, GRUB_KERNEL_CMDLINE, type GrubSerial } from './grub';
export { memtestFloppy, memtestBinary, MEMTEST_BIN } from './memtest';
export {
  syslinuxFloppy,
  syslinuxImage,
  syslinuxConfig,
  MULTIBOOT_ENTRY,
  MEMTEST_ENTRY,
  SYSLINUX_MODULES,
  SYSLINUX_KERNEL_CMDLINE,
  type SyslinuxEntry,
  type SyslinuxImageOptions,
} from './syslinux';
