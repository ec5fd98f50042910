// memtest86+ from Debian's memtest86+ package. Its memtest86+ia32.bin is both a Linux boot-protocol image ("HdrS"
// setup header, loadable by SYSLINUX's LINUX or --format linux) and, from its first sector, a floppy boot sector that
// loads the rest from drive 0 with INT 13h: padded to 1.44 MB it is a boot floppy of its own.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cachedImage, missingFile, skipped, type GuestImage } from './build-cache';

/** The 32-bit BIOS build (the 64-bit one needs long mode). */
export const MEMTEST_BIN = '/boot/memtest86+ia32.bin';
const FLOPPY_BYTES = 1_474_560;

/** memtest86+ia32.bin itself, when installed. */
export function memtestBinary(): GuestImage {
  const absent = missingFile([MEMTEST_BIN], 'memtest86+');
  return absent !== null ? skipped(absent) : { path: MEMTEST_BIN };
}

/** memtest86+ as a boot floppy: the binary padded with zeros to 1.44 MB. */
export function memtestFloppy(): GuestImage {
  const absent = missingFile([MEMTEST_BIN], 'memtest86+');
  if (absent !== null) return skipped(absent);
  const image = cachedImage('memtest-floppy', { text: ['pad to 1.44 MB'], files: [MEMTEST_BIN] }, (scratch) => {
    const bin = readFileSync(MEMTEST_BIN);
    if (bin.length > FLOPPY_BYTES) throw new Error(`${MEMTEST_BIN} is larger than a floppy`);
    const floppy = Buffer.alloc(FLOPPY_BYTES);
    bin.copy(floppy);
    const out = path.join(scratch, 'memtest.img');
    writeFileSync(out, floppy);
    return out;
  });
  return { path: image };
}
