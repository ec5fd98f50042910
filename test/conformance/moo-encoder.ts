// Writes MOO files (doc/moo_format_v1.md of dbalsom/moo): used by the reader's tests and to build Ringside's own
// protected-mode vectors under test/fixtures/moo/. Registers are given by name; the chunk's bitmask and value
// order follow from the layout (REGS16_ORDER / REGS32_ORDER). Ringside's `GDTR` / `IDTR` chunks (u32 base, u16
// limit) go inside INIT when given. The HASH of a test is the SHA-1 of its other subchunks unless one is given.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { REGS16_ORDER, REGS32_ORDER } from '../../engine/conformance/moo-types';

export interface VectorState {
  regs: Record<string, number>;
  /** Undefined-register AND masks (RMSK / RM32), final state only. */
  regMask?: Record<string, number>;
  ram?: [number, number][];
  gdtr?: { base: number; limit: number };
  idtr?: { base: number; limit: number };
}

export interface VectorTest {
  name: string;
  bytes: number[];
  initial: VectorState;
  final: VectorState;
  exception?: { vector: number; flagAddress: number };
  hash?: string;
  /** Extra subchunks (for testing that readers skip what they do not know). */
  extraChunks?: { type: string; payload: Uint8Array }[];
}

export interface VectorFile {
  cpuId: string;
  width: 16 | 32;
  mnemonic?: string;
  opcode?: number;
  /** Overrides the header's test count (to build a corrupt file). */
  headerCount?: number;
  fileMask?: Record<string, number>;
  tests: VectorTest[];
  gzip?: boolean;
}

class ByteWriter {
  private parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v).u8(v >>> 8); }
  u32(v: number): this { return this.u16(v).u16(v >>> 16); }
  u64(v: bigint): this { return this.u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n)); }
  ascii(s: string, len: number): this {
    for (let i = 0; i < len; i++) this.u8(i < s.length ? s.charCodeAt(i) : 0x20);
    return this;
  }
  bytes(b: ArrayLike<number>): this { for (let i = 0; i < b.length; i++) this.u8(b[i]); return this; }
  done(): Uint8Array { return Uint8Array.from(this.parts); }
}

export function chunk(type: string, payload: Uint8Array): Uint8Array {
  if (type.length !== 4) throw new Error(`chunk type must be 4 characters: '${type}'`);
  return new ByteWriter().ascii(type, 4).u32(payload.length).bytes(payload).done();
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function registers(type: string, width: 16 | 32, regs: Record<string, number>): Uint8Array {
  const order: readonly string[] = width === 16 ? REGS16_ORDER : REGS32_ORDER;
  for (const name of Object.keys(regs)) {
    if (!order.includes(name)) throw new Error(`'${name}' is not a ${width}-bit MOO register`);
  }
  let mask = 0;
  const w = new ByteWriter();
  order.forEach((name, bit) => {
    if (regs[name] === undefined) return;
    mask |= 1 << bit;
  });
  if (width === 16) w.u16(mask); else w.u32(mask);
  for (const name of order) {
    if (regs[name] === undefined) continue;
    if (width === 16) w.u16(regs[name]); else w.u32(regs[name]);
  }
  return chunk(type, w.done());
}

function tableRegister(type: string, t: { base: number; limit: number }): Uint8Array {
  return chunk(type, new ByteWriter().u32(t.base).u16(t.limit).done());
}

function state(type: string, width: 16 | 32, s: VectorState): Uint8Array {
  const parts = [registers(width === 16 ? 'REGS' : 'RG32', width, s.regs)];
  if (s.regMask) parts.push(registers(width === 16 ? 'RMSK' : 'RM32', width, s.regMask));
  const ram = new ByteWriter().u32(s.ram?.length ?? 0);
  for (const [a, v] of s.ram ?? []) ram.u32(a).u8(v);
  parts.push(chunk('RAM ', ram.done()));
  if (s.gdtr) parts.push(tableRegister('GDTR', s.gdtr));
  if (s.idtr) parts.push(tableRegister('IDTR', s.idtr));
  return chunk(type, concat(parts));
}

function testChunk(index: number, width: 16 | 32, t: VectorTest): Uint8Array {
  const name = new ByteWriter().u32(t.name.length).ascii(t.name, t.name.length).done();
  const parts = [
    chunk('NAME', name),
    chunk('BYTS', new ByteWriter().u32(t.bytes.length).bytes(t.bytes).done()),
    state('INIT', width, t.initial),
    state('FINA', width, t.final),
    chunk('CYCL', new ByteWriter().u32(0).done()),
  ];
  if (t.exception) parts.push(chunk('EXCP', new ByteWriter().u8(t.exception.vector).u32(t.exception.flagAddress).done()));
  for (const extra of t.extraChunks ?? []) parts.push(chunk(extra.type, extra.payload));
  const body = concat(parts);
  const hash = t.hash ?? createHash('sha1').update(body).digest('hex');
  const hashBytes = Uint8Array.from(hash.match(/../g)!.map((h) => parseInt(h, 16)));
  return chunk('TEST', concat([new ByteWriter().u32(index).done(), body, chunk('HASH', hashBytes)]));
}

/** The MOO file's bytes (gzipped when `gzip` is set). */
export function encodeMoo(f: VectorFile): Uint8Array {
  const count = f.tests.length;
  const header = chunk('MOO ', new ByteWriter().u8(1).u8(1).u16(0).u32(f.headerCount ?? count).ascii(f.cpuId, 4).done());
  const meta = chunk('META', new ByteWriter()
    .u8(1).u8(0).u8(f.width === 32 ? 7 : 6).u32(f.opcode ?? 0xffffffff).ascii(f.mnemonic ?? 'mixed', 8)
    .u32(count).u64(0n).u8(f.width === 32 && f.tests.some((t) => (t.initial.regs.cr0 ?? 0) & 1) ? 1 : 0).u8(0).u16(0)
    .done());
  const parts = [header, meta];
  if (f.fileMask) parts.push(registers(f.width === 16 ? 'RMSK' : 'RM32', f.width, f.fileMask));
  f.tests.forEach((t, i) => parts.push(testChunk(i, f.width, t)));
  const bytes = concat(parts);
  return f.gzip ? new Uint8Array(gzipSync(bytes)) : bytes;
}
