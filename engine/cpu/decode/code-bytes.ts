// Which bytes of each page of RAM hold cached decoded instructions, so that a store to a code page drops the page's
// decoded instructions (and the blocks built from them) only when it changed one of those bytes.
//
// Boot code often keeps its variables in the page its code is in: GRUB's LZMA decoder (core.img, 0x8800–0x8CFF)
// stores to 0x8200 and 0x9000 hundreds of times a second. When any store to a code page dropped the whole page, the
// decoder's instructions were decoded again 2 937 times in one boot and its blocks never reached the hot threshold
// (issue 13). A decoded instruction depends on its own bytes only (the mode it was decoded in is part of which
// cache holds it), so a store that misses all of them leaves every decoded instruction right, and with them the
// links, targets and blocks made of them: self-modifying code is still seen at the next instruction, because a
// store to a byte of any cached instruction drops the page as before, and bytes not yet decoded are read when they
// are fetched.

import { PAGE_SHIFT } from '../../bus/memory';

/** 32-bit words of one page's bitmap (a bit per byte of a 4 KiB page). */
const WORDS = (1 << PAGE_SHIFT) >>> 5;

export class CodeBytes {
  /** Per page: bit b of word w set when byte w·32+b is part of a cached decoded instruction. */
  private readonly pages: (Int32Array | undefined)[];

  constructor(pages: number) {
    this.pages = new Array(pages);
  }

  /** Marks `len` bytes from physical address `phys` (within one page) as decoded. */
  mark(phys: number, len: number): void {
    const page = phys >>> PAGE_SHIFT;
    let bits = this.pages[page];
    if (bits === undefined) {
      bits = new Int32Array(WORDS);
      this.pages[page] = bits;
    }
    const off = phys & ((1 << PAGE_SHIFT) - 1);
    for (let b = off; b < off + len; b++) bits[b >>> 5] |= 1 << (b & 31);
  }

  /**
   * Whether a store of `size` bytes from physical address `addr` changed a decoded byte of page `page` (the part of
   * the store outside that page is not looked at).
   */
  touches(page: number, addr: number, size: number): boolean {
    const bits = this.pages[page];
    if (bits === undefined) return false;
    const pageStart = page << PAGE_SHIFT;
    const from = Math.max(addr, pageStart) - pageStart;
    const to = Math.min(addr + size, pageStart + (1 << PAGE_SHIFT)) - pageStart; // exclusive
    for (let b = from; b < to; ) {
      const word = bits[b >>> 5];
      if (word === 0) {
        b = (b | 31) + 1; // the rest of this word's bytes: none decoded
        continue;
      }
      if ((word & (1 << (b & 31))) !== 0) return true;
      b++;
    }
    return false;
  }

  /** Forgets `len` bytes from physical address `phys` (within one page): their decoded instructions were dropped. */
  clearRange(phys: number, len: number): void {
    const bits = this.pages[phys >>> PAGE_SHIFT];
    if (bits === undefined) return;
    const off = phys & ((1 << PAGE_SHIFT) - 1);
    for (let b = off; b < off + len; b++) bits[b >>> 5] &= ~(1 << (b & 31));
  }

  /** Forgets the page's decoded bytes (its decoded instructions were dropped). */
  clear(page: number): void {
    this.pages[page] = undefined;
  }
}
