// The built-in firmware (bios.asm): its bytes, with the configuration block filled in for the machine at hand.
// The bytes come from bios-image.ts, generated from bios.bin by build-bios.mjs, so bundles need no file next to
// them; a test checks that they equal bios.bin and that bios.bin is what bios.asm assembles to.

import { BIOS_IMAGE } from './bios-image';

/**
 * Signature of the configuration block in bios.asm; the dword after it is the installed RAM in bytes, the next one
 * the flags (CONFIG_PRELOADED).
 */
const CONFIG_SIGNATURE = [0x52, 0x53, 0x43, 0x46]; // 'RSCF'

export const BIOS_SIZE = 0x10000;

let pristine: Uint8Array | null = null;

/** The firmware exactly as assembled (a fresh copy). */
export function rawBiosImage(): Uint8Array {
  if (!pristine) {
    const head = Buffer.from(BIOS_IMAGE.head, 'base64');
    const tail = Buffer.from(BIOS_IMAGE.tail, 'base64');
    pristine = new Uint8Array(head.length + BIOS_IMAGE.fill.length + tail.length);
    pristine.set(head);
    pristine.fill(BIOS_IMAGE.fill.byte, head.length, head.length + BIOS_IMAGE.fill.length);
    pristine.set(tail, head.length + BIOS_IMAGE.fill.length);
  }
  return pristine.slice();
}

export interface FirmwareConfig {
  /** Installed RAM in bytes, reported by INT 15h (E820h, E801h, 88h). */
  memorySize: number;
  /**
   * The loader has put the boot code at 0000:7C00 itself: after POST the firmware jumps there without reading a
   * disk (bios.asm CONFIG_PRELOADED; the Linux loader's way into the kernel's real-mode setup).
   */
  preloadedBoot?: boolean;
}

const CONFIG_PRELOADED = 1;

/** Offset of the configuration block's signature in the image. */
export function configOffset(image: Uint8Array): number {
  for (let o = 0; o + 8 <= image.length; o += 4) {
    if (CONFIG_SIGNATURE.every((b, i) => image[o + i] === b)) return o;
  }
  throw new Error('the firmware image has no configuration block (RSCF)');
}

/** A copy of the firmware with its configuration block filled in. */
export function biosImage(config: FirmwareConfig): Uint8Array {
  const image = rawBiosImage();
  const o = configOffset(image);
  const view = new DataView(image.buffer);
  view.setUint32(o + 4, config.memorySize >>> 0, true);
  view.setUint32(o + 8, config.preloadedBoot === true ? CONFIG_PRELOADED : 0, true);
  return image;
}
