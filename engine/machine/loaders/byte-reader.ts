// Bounds-checked little-endian reads from an image file. Every read past the end throws an ImageError that says
// which structure was being read, so a truncated file never turns into an `undefined` deep inside a parser.

import { ImageError, hex } from './image-error';

export class ByteReader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** Names the file or section in error messages, e.g. "ELF file" or ".debug_line". */
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throws unless `size` bytes starting at `offset` lie inside the data. */
  need(offset: number, size: number, field: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new ImageError(
        `${this.what} is truncated: ${field} needs ${size} bytes at offset ${hex(offset)} but the data ends at ${hex(this.bytes.length)}`,
      );
    }
  }

  u8(offset: number, field: string): number {
    this.need(offset, 1, field);
    return this.bytes[offset];
  }

  i8(offset: number, field: string): number {
    this.need(offset, 1, field);
    return this.view.getInt8(offset);
  }

  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.view.getUint32(offset, true);
  }

  /** A 64-bit field as a JS number; throws when it does not fit in 53 bits (no 32-bit image has such values). */
  u64(offset: number, field: string): number {
    this.need(offset, 8, field);
    const lo = this.view.getUint32(offset, true);
    const hi = this.view.getUint32(offset + 4, true);
    if (hi >= 0x200000) throw new ImageError(`${this.what}: ${field} at offset ${hex(offset)} is too large`);
    return hi * 0x1_0000_0000 + lo;
  }

  slice(offset: number, size: number, field: string): Uint8Array {
    this.need(offset, size, field);
    return this.bytes.subarray(offset, offset + size);
  }

  /** A NUL-terminated string starting at `offset` (Latin-1/UTF-8 bytes decoded as UTF-8). */
  cstring(offset: number, field: string): { text: string; next: number } {
    this.need(offset, 1, field);
    let end = offset;
    while (end < this.bytes.length && this.bytes[end] !== 0) end++;
    if (end >= this.bytes.length) {
      throw new ImageError(`${this.what} is truncated: ${field} at offset ${hex(offset)} has no terminating NUL`);
    }
    return { text: utf8.decode(this.bytes.subarray(offset, end)), next: end + 1 };
  }

  /** Unsigned LEB128 (DWARF §7.6). Values beyond 2^53 lose precision but never loop forever. */
  uleb(offset: number, field: string): { value: number; next: number } {
    let value = 0;
    let scale = 1;
    let pos = offset;
    for (;;) {
      const b = this.u8(pos++, field);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return { value, next: pos };
    }
  }

  /** Signed LEB128 (DWARF §7.6). */
  sleb(offset: number, field: string): { value: number; next: number } {
    let value = 0;
    let scale = 1;
    let pos = offset;
    let b: number;
    do {
      b = this.u8(pos++, field);
      value += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    if (b & 0x40) value -= scale;
    return { value, next: pos };
  }
}

const utf8 = new TextDecoder('utf-8');
