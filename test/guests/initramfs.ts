// A Linux initramfs for the real-guest tests, written here as a cpio "newc" archive (the format the kernel unpacks:
// Documentation/driver-api/early-userspace/buffer-format.rst): busybox-static (i386) as /bin/busybox, a /dev/console
// node so /init has a console before any file system is mounted, and an /init script that prints LINUX_MARKER and
// halts — or, with `ringside.shell` on the kernel command line, first runs an interactive shell on the console.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { i386PackageRoot, ROOT } from './debian';

/** /init prints this once it runs: the kernel booted, unpacked the initramfs and started user space. */
export const LINUX_MARKER = 'RINGSIDE-LINUX-INIT-OK';
/** The kernel's line after `halt -f` (kernel/reboot.c). */
export const LINUX_HALTED = 'reboot: System halted';

export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo ${LINUX_MARKER} kernel $(uname -r) on $(uname -m)
if grep -q ringside.shell /proc/cmdline; then
  echo RINGSIDE-LINUX-SHELL
  sh
fi
halt -f
`;

interface Entry {
  name: string;
  mode: number;
  data?: Uint8Array;
  rdevMajor?: number;
  rdevMinor?: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** One newc record: the 110-byte ASCII header, the name with its NUL, the data, each padded to 4 bytes. */
function record(e: Entry, ino: number): Buffer {
  const data = e.data ?? new Uint8Array(0);
  const name = Buffer.from(e.name + '\0');
  const fields = [
    ino, // c_ino
    e.mode, // c_mode
    0, // c_uid
    0, // c_gid
    (e.mode & S_IFDIR) === S_IFDIR ? 2 : 1, // c_nlink
    0, // c_mtime: fixed, so the archive is the same on every build
    data.length, // c_filesize
    0, // c_devmajor
    0, // c_devminor
    e.rdevMajor ?? 0, // c_rdevmajor
    e.rdevMinor ?? 0, // c_rdevminor
    name.length, // c_namesize
    0, // c_check
  ];
  const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'latin1');
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const head = Buffer.concat([header, name]);
  return Buffer.concat([head, pad(head.length), Buffer.from(data), pad(data.length)]);
}

export function cpioNewc(entries: readonly Entry[]): Buffer {
  const parts = entries.map((e, i) => record(e, i + 1));
  parts.push(record({ name: 'TRAILER!!!', mode: 0 }, 0));
  return Buffer.concat(parts);
}

/** The busybox initramfs, or null with the reason when busybox-static:i386 is not unpacked. */
export function busyboxInitramfs(): { bytes: Buffer } | { bytes: null; reason: string } {
  const root = i386PackageRoot('busybox-static');
  if (root === null) return { bytes: null, reason: 'busybox-static:i386 is not unpacked (run scripts/install-guest-tools.sh)' };
  const busybox = readFileSync(path.join(root, 'bin', 'busybox'));
  return {
    bytes: cpioNewc([
      { name: 'bin', mode: S_IFDIR | 0o755 },
      { name: 'dev', mode: S_IFDIR | 0o755 },
      { name: 'proc', mode: S_IFDIR | 0o755 },
      { name: 'sys', mode: S_IFDIR | 0o755 },
      { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
      { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
      { name: 'bin/sh', mode: S_IFLNK | 0o777, data: Buffer.from('busybox') },
      { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(INIT_SCRIPT) },
    ]),
  };
}

/** The Debian 12 i386 kernel (linux-image-*-686-unsigned), or null with the reason. */
export function debianKernel(): { path: string } | { path: null; reason: string } {
  const pkg = readI386PackageNames().find((n) => /^linux-image-.*-686-unsigned$/.test(n));
  if (pkg === undefined) return { path: null, reason: 'no linux-image-*-686-unsigned in scripts/debian-i386-packages.txt' };
  const root = i386PackageRoot(pkg);
  if (root === null) return { path: null, reason: `${pkg}:i386 is not unpacked (run scripts/install-guest-tools.sh)` };
  const version = pkg.replace(/^linux-image-/, '').replace(/-unsigned$/, '');
  return { path: path.join(root, 'boot', `vmlinuz-${version}`) };
}

function readI386PackageNames(): string[] {
  const list = readFileSync(path.join(ROOT, 'scripts', 'debian-i386-packages.txt'), 'utf8');
  return list
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/:i386$/, ''));
}
