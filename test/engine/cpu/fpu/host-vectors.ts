// Reads the host-x87 vectors (test/fixtures/x87/gen.c writes them) and runs one on Ringside: the same instruction
// bytes between FRSTOR and FNSAVE, in flat 32-bit protected mode, then compares what the host recorded.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { flat32, runToHalt, type TestMachine } from '../harness';

export const FIXTURES = process.env.X87_FIXTURES ?? join(__dirname, '../../../fixtures/x87');
export const RECORD = 96;

export interface HostOp {
  name: string;
  bytes: number[];
}

export interface VectorFile {
  brand: string;
  ops: HostOp[];
  records: Uint8Array;
  count: number;
}

export function parseVectors(raw: Uint8Array): VectorFile {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (String.fromCharCode(...raw.subarray(0, 4)) !== 'RX87') throw new Error('not an x87 vector file');
  const nops = dv.getUint32(8, true);
  const count = dv.getUint32(12, true);
  const brand = String.fromCharCode(...raw.subarray(16, 64)).replace(/\0.*$/s, '').trim();
  let at = 64;
  const ops: HostOp[] = [];
  for (let k = 0; k < nops; k++) {
    const len = raw[at];
    const bytes = Array.from(raw.subarray(at + 1, at + 1 + len));
    at += 8;
    const nl = raw[at];
    const name = String.fromCharCode(...raw.subarray(at + 1, at + 1 + nl));
    at += 1 + nl;
    ops.push({ name, bytes });
  }
  return { brand, ops, records: raw.subarray(at, at + count * RECORD), count };
}

export function loadVectors(): VectorFile {
  return parseVectors(gunzipSync(readFileSync(join(FIXTURES, 'vectors.bin.gz'))));
}

const CODE = 0x10000, IMAGE = 0x20000, MEM = 0x21000, OUT = 0x22000;

/** A machine whose code is FRSTOR [edi]; push ecx; popfd; <op>; FNSAVE [edx]; pushfd; pop eax; hlt. */
export function opMachine(op: HostOp): TestMachine {
  return flat32([0xdd, 0x27, 0x51, 0x9d, ...op.bytes, 0xdd, 0x32, 0x9c, 0x58, 0xf4], CODE);
}

export interface Outcome {
  sw: number;
  tw: number;
  st: Uint8Array; // ST0..ST2, 30 bytes
  mem: Uint8Array; // 10 bytes
  eflags: number;
}

/** Runs record `rec` (a 96-byte view) on machine `m`. */
export function runVector(m: TestMachine, rec: Uint8Array): Outcome {
  const dv = new DataView(rec.buffer, rec.byteOffset, RECORD);
  const cw = dv.getUint16(2, true), swIn = dv.getUint16(4, true), nvalid = rec[6], flagsIn = rec[7];
  const top = (swIn >> 11) & 7;
  const img = new Uint8Array(108);
  const idv = new DataView(img.buffer);
  idv.setUint16(0, cw, true);
  idv.setUint16(4, swIn, true);
  let tw = 0xffff;
  for (let k = 0; k < nvalid; k++) tw &= ~(3 << (2 * ((top + k) & 7)));
  idv.setUint16(8, tw, true);
  const one = [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f];
  for (let k = 0; k < 8; k++) img.set(k < 3 ? rec.subarray(8 + 10 * k, 18 + 10 * k) : one, 28 + 10 * k);
  const { cpu, mem } = m;
  mem.load(IMAGE, img);
  const memIn = new Uint8Array(16);
  memIn.set(rec.subarray(38, 48));
  mem.load(MEM, memIn);
  mem.load(OUT, new Uint8Array(108));
  cpu.eip = CODE;
  cpu.halted = false;
  cpu.regs[7] = IMAGE;
  cpu.regs[6] = MEM;
  cpu.regs[2] = OUT;
  cpu.regs[1] = 0x2 | flagsIn;
  cpu.regs[4] = 0x90000;
  runToHalt(m, 100);
  if (!cpu.halted) throw new Error(`vector did not reach HLT (eip ${cpu.eip.toString(16)})`);
  const out = mem.readBytes(OUT, 108);
  return {
    sw: out[4] | (out[5] << 8),
    tw: out[8] | (out[9] << 8),
    st: out.slice(28, 58),
    mem: mem.readBytes(MEM, 10),
    eflags: cpu.regs[0] & 0x8d5,
  };
}

export function expected(rec: Uint8Array): Outcome {
  return {
    sw: rec[48] | (rec[49] << 8),
    tw: rec[50] | (rec[51] << 8),
    st: rec.slice(52, 82),
    mem: rec.slice(82, 92),
    eflags: rec[92] | (rec[93] << 8),
  };
}

/** Registers that are not empty after the operation (ST0..ST2), from the tag word and TOP. */
export function liveRegisters(o: Outcome): number[] {
  const top = (o.sw >> 11) & 7;
  return [0, 1, 2].filter((k) => ((o.tw >> (2 * ((top + k) & 7))) & 3) !== 3);
}

export function hex80(b: Uint8Array, k: number): string {
  return Array.from(b.subarray(10 * k, 10 * k + 10)).reverse().map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Distance in units in the last place between two extended values of the same sign (raw bytes). */
export function ulps(a: Uint8Array, b: Uint8Array, k: number): number {
  const val = (x: Uint8Array): bigint => {
    let v = 0n;
    for (let j = 9; j >= 0; j--) v = (v << 8n) | BigInt(x[10 * k + j]);
    const sign = v >> 79n;
    const mag = (((v >> 64n) & 0x7fffn) << 64n) | (v & ((1n << 64n) - 1n));
    return sign ? -mag : mag;
  };
  const d = val(a) - val(b);
  return Number(d < 0n ? -d : d);
}
