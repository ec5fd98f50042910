// Reads MOO test files (doc/moo_format_v1.md of dbalsom/moo) into the structures of moo-types.ts.
//
// Every chunk is `ASCII_ID type, u32 length, payload`; the reader always advances by the length field and skips
// chunk types it does not know (the format requires both, so that later revisions can add fields and chunks).
// Bad input — truncation, a length running past its parent, a wrong magic — raises MooFormatError naming the
// offset, never a RangeError from a typed array.
//
// Ringside adds two optional chunks inside `INIT` for its own protected-mode vectors, which other readers skip:
// `GDTR` and `IDTR`, each `u32 base, u16 limit` (see test/conformance/moo-encoder.ts and the conform runner).

import { gunzipSync } from 'node:zlib';
import {
  MooEffectiveAddress, MooException, MooFile, MooMeta, MooRegisters, MooState, MooTableRegister, MooTest,
  REGS16_ORDER, REGS32_ORDER,
} from './moo-types';

export class MooFormatError extends Error {}

const GZIP_MAGIC0 = 0x1f;
const GZIP_MAGIC1 = 0x8b;

/** A bounds-checked little-endian view of one chunk payload. */
class Cursor {
  pos: number;
  constructor(private readonly view: DataView, readonly start: number, readonly end: number) {
    this.pos = start;
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new MooFormatError(`truncated ${what} at offset ${this.pos} (needs ${n} bytes, ${this.end - this.pos} left)`);
    }
  }
  u8(what: string): number { this.need(1, what); return this.view.getUint8(this.pos++); }
  u16(what: string): number { this.need(2, what); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(what: string): bigint { this.need(8, what); const v = this.view.getBigUint64(this.pos, true); this.pos += 8; return v; }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = new Uint8Array(this.view.buffer, this.view.byteOffset + this.pos, n).slice();
    this.pos += n;
    return out;
  }
  ascii(n: number, what: string): string {
    return String.fromCharCode(...this.bytes(n, what));
  }
  /** The chunks inside [start, end): type and a cursor over each payload. */
  *chunks(): Generator<{ type: string; body: Cursor }> {
    while (this.pos < this.end) {
      const at = this.pos;
      const type = this.ascii(4, 'chunk type');
      const length = this.u32(`length of chunk '${type}'`);
      if (this.pos + length > this.end) {
        throw new MooFormatError(`chunk '${type}' at offset ${at} claims ${length} bytes, only ${this.end - this.pos} remain`);
      }
      const body = new Cursor(this.view, this.pos, this.pos + length);
      this.pos += length;
      yield { type, body };
    }
  }
}

/** Decompresses when the bytes are gzip (.MOO.gz), else returns them as they are. */
export function unpackMoo(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC0 && bytes[1] === GZIP_MAGIC1) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new MooFormatError(`corrupt gzip data: ${(e as Error).message}`);
    }
  }
  return bytes;
}

/** Parses a whole MOO file (gzipped or not). */
export function readMoo(raw: Uint8Array): MooFile {
  const bytes = unpackMoo(raw);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'MOO ') {
    throw new MooFormatError("not a MOO file: it does not start with a 'MOO ' chunk");
  }
  const top = new Cursor(view, 0, bytes.byteLength);
  const chunks = top.chunks();
  const first = chunks.next();
  if (first.done || first.value.type !== 'MOO ') {
    throw new MooFormatError("not a MOO file: it does not start with a 'MOO ' chunk");
  }
  const head = first.value.body;
  const major = head.u8('major version');
  const minor = head.u8('minor version');
  head.u16('reserved');
  const count = head.u32('test count');
  const cpuId = head.ascii(4, 'CPU id').trimEnd();
  if (major !== 1) throw new MooFormatError(`MOO major version ${major} is not supported (only 1.x)`);

  const file: MooFile = { version: { major, minor }, count, cpuId, meta: null, fileMask: null, tests: [] };
  for (const { type, body } of chunks) {
    if (type === 'META') file.meta = readMeta(body);
    else if (type === 'RMSK') file.fileMask = readRegisters(body, 16);
    else if (type === 'RM32') file.fileMask = readRegisters(body, 32);
    else if (type === 'TEST') file.tests.push(readTest(body));
  }
  if (file.tests.length !== count) {
    throw new MooFormatError(`header announces ${count} tests, the file holds ${file.tests.length}`);
  }
  return file;
}

function readMeta(c: Cursor): MooMeta {
  const major = c.u8('META major');
  const minor = c.u8('META minor');
  const cpuType = c.u8('META cpu_type');
  const opcode = c.u32('META opcode');
  const mnemonic = c.ascii(8, 'META mnemonic').trimEnd();
  const testCount = c.u32('META test_ct');
  const seed = c.u64('META seed');
  const cpuMode = c.pos < c.end ? c.u8('META cpu_mode') : 0;
  return { setVersion: { major, minor }, cpuType, opcode, mnemonic, testCount, seed, cpuMode };
}

function readRegisters(c: Cursor, width: 16 | 32): MooRegisters {
  const order = width === 16 ? REGS16_ORDER : REGS32_ORDER;
  const mask = width === 16 ? c.u16('register mask') : c.u32('register mask');
  const values = new Map<string, number>();
  for (let bit = 0; bit < 32; bit++) {
    if (((mask >>> bit) & 1) === 0) continue;
    if (bit >= order.length) throw new MooFormatError(`register mask bit ${bit} names no register (mask 0x${mask.toString(16)})`);
    values.set(order[bit], width === 16 ? c.u16(order[bit]) : c.u32(order[bit]));
  }
  return { width, values };
}

function readTableRegister(c: Cursor, what: string): MooTableRegister {
  return { base: c.u32(`${what} base`), limit: c.u16(`${what} limit`) };
}

function readEa(c: Cursor): MooEffectiveAddress {
  return {
    segment: c.u8('EA32 segment'),
    selector: c.u16('EA32 selector'),
    base: c.u32('EA32 base'),
    limit: c.u32('EA32 limit'),
    offset: c.u32('EA32 offset'),
    linear: c.u32('EA32 linear address'),
    physical: c.u32('EA32 physical address'),
  };
}

function readState(c: Cursor): MooState {
  const s: MooState = { regs: null, regMask: null, ram: [], queue: null, ea: null, gdtr: null, idtr: null };
  for (const { type, body } of c.chunks()) {
    switch (type) {
      case 'REGS': s.regs = readRegisters(body, 16); break;
      case 'RG32': s.regs = readRegisters(body, 32); break;
      case 'RMSK': s.regMask = readRegisters(body, 16); break;
      case 'RM32': s.regMask = readRegisters(body, 32); break;
      case 'RAM ': {
        const n = body.u32('RAM entry count');
        for (let i = 0; i < n; i++) s.ram.push({ address: body.u32('RAM address'), value: body.u8('RAM value') });
        break;
      }
      case 'QUEU': s.queue = body.bytes(body.u32('queue length'), 'queue bytes'); break;
      case 'EA32': s.ea = readEa(body); break;
      case 'GDTR': s.gdtr = readTableRegister(body, 'GDTR'); break;
      case 'IDTR': s.idtr = readTableRegister(body, 'IDTR'); break;
      default: break; // unknown subchunk: skipped by its length, as the format requires
    }
  }
  return s;
}

const EMPTY_STATE = (): MooState => ({ regs: null, regMask: null, ram: [], queue: null, ea: null, gdtr: null, idtr: null });

function readTest(c: Cursor): MooTest {
  const t: MooTest = {
    index: c.u32('test index'), name: '', bytes: new Uint8Array(0), initial: EMPTY_STATE(), final: EMPTY_STATE(),
    exception: null, hash: null, cycleCount: 0,
  };
  let sawInit = false;
  for (const { type, body } of c.chunks()) {
    switch (type) {
      case 'NAME': t.name = body.ascii(body.u32('name length'), 'name'); break;
      case 'BYTS': t.bytes = body.bytes(body.u32('byte count'), 'instruction bytes'); break;
      case 'INIT': t.initial = readState(body); sawInit = true; break;
      case 'FINA': t.final = readState(body); break;
      case 'CYCL': t.cycleCount = body.u32('cycle count'); break;
      case 'EXCP': t.exception = readException(body); break;
      case 'HASH': t.hash = toHex(body.bytes(20, 'hash')); break;
      default: break;
    }
  }
  if (!sawInit || !t.initial.regs) throw new MooFormatError(`test ${t.index} has no initial register state`);
  return t;
}

function readException(c: Cursor): MooException {
  return { vector: c.u8('exception number'), flagAddress: c.u32('exception flag address') };
}

function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
