// A C value of the stopped program: a type from DWARF and a place (memory, a register of its frame, a computed
// value, pieces). It is a Composite of the expression language, so `gdt[3].base_low`, comparisons and arithmetic
// work on it, and it formats itself as C does (integers in decimal, chars with their character, enums by name,
// floats from their bytes, pointers in hex with what they point to). Edits are GuestEdits: memory through
// writeLinearBytes, registers of the top frame through setGeneralRegister, registers of outer frames through
// the stack slot the callee saved them in.

import type { Cpu } from '../../engine/cpu/cpu';
import { peekLinear } from '../../engine/cpu/protect/peek';
import { setGeneralRegister, writeLinearBytes } from '../../engine/cpu/debug-edit';
import { sizeOf, stripType, typeName, type CType, type Member, type Place } from '../../engine/machine/loaders/dwarf';
import type { Composite, Value } from '../expression/evaluate';
import { ExpressionError } from '../expression/parse';
import { parseTypedNumber, type GuestEdit } from '../scopes/variable-store';
import type { F80 } from '../../engine/cpu/fpu/float80';
import { f80FromBytes, f80ToDecimal } from '../../engine/cpu/fpu/decimal';
import { setFpuStackRegister } from '../../engine/cpu/fpu/debug-edit';
import { bytesFromFpu, fpuFromBytes, fpuStackIndex } from './fpu-place';

/** What a value needs from its frame and the guest. */
export interface CMemory {
  /** Reads one byte at a linear address (-1 where unmapped). */
  byte(addr: number): number;
  /** A register of the value's frame (DWARF numbering), undefined when unknown there. */
  reg(n: number): number | undefined;
  /** Where the frame's value of a register is saved on the stack (outer frames), undefined when in the register. */
  savedAt(n: number): number | undefined;
  /** ST(i) of the frame (DWARF registers 11–18), undefined when empty, absent or not known in an outer frame. */
  fpu?(i: number): F80 | undefined;
  /** True for the innermost frame, whose registers are the CPU's. */
  readonly top: boolean;
  /** The name of the function or object at an address, for pointers. */
  symbolAt(addr: number): string | undefined;
}

const MAX_SHOWN = 10;
const MAX_STRING = 64;

export function isCValue(v: unknown): v is CValue {
  return v instanceof CValue;
}

export class CValue implements Composite {
  readonly kind = 'composite' as const;

  constructor(
    readonly type: CType,
    readonly place: Place,
    readonly mem: CMemory,
    /** The expression this value is (`gdt[3].base_low`): its name in messages and its evaluateName. */
    readonly name: string,
    /** Bitfields: the lowest bit's offset from the place's first byte, and the width. */
    readonly bits?: { shift: number; size: number },
  ) {}

  get address(): number | undefined {
    return this.place.kind === 'memory' && !this.bits ? this.place.addr >>> 0 : undefined;
  }

  get size(): number {
    return this.bits ? Math.ceil((this.bits.shift + this.bits.size) / 8) : sizeOf(this.type);
  }

  /** The value's bytes, or null when it is optimized out or its memory is not mapped. */
  bytes(): Uint8Array | null {
    return placeBytes(this.place, this.size, this.mem);
  }

  /** Why bytes() is null, for the display. */
  unavailable(): string {
    if (this.place.kind === 'optimized') return '<optimized out>';
    if (this.place.kind === 'memory') return `<unreadable at 0x${(this.place.addr >>> 0).toString(16)}>`;
    return '<not available>';
  }

  /** The number a scalar stands for (a pointer's address, an array's first element's address); undefined for aggregates. */
  get value(): number | undefined {
    const t = stripType(this.type);
    if (t.kind === 'array') return this.address;
    if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'void') return undefined;
    if (t.kind === 'function') return this.address;
    return this.scalar();
  }

  scalar(): number | undefined {
    const b = this.bytes();
    if (!b) return undefined;
    const t = stripType(this.type);
    if (this.bits) {
      let raw = 0;
      for (let k = b.length - 1; k >= 0; k--) raw = raw * 256 + b[k];
      let v = Math.floor(raw / 2 ** this.bits.shift) % 2 ** this.bits.size;
      if (isSigned(t) && v >= 2 ** (this.bits.size - 1)) v -= 2 ** this.bits.size;
      return v;
    }
    if (t.kind === 'base' && t.encoding === 'float') return decodeFloat(b);
    return decodeInt(b, isSigned(t));
  }

  display(): string {
    return formatC(this, 0);
  }

  field(name: string): Value | undefined {
    const t = stripType(this.type);
    if (t.kind === 'pointer') {
      const target = this.deref();
      return target ? target.field(name) : undefined;
    }
    if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
    const m = findMember(t.members, name);
    return m ? this.member(m.member, m.offset) : undefined;
  }

  fieldNames(): string[] {
    const t = stripType(this.type);
    if (t.kind === 'struct' || t.kind === 'union') return t.members.map((m) => m.name);
    return [];
  }

  entry(i: number): Value | undefined {
    const t = stripType(this.type);
    if (t.kind === 'array') {
      if (t.count !== undefined && (i < 0 || i >= t.count)) return undefined;
      const size = sizeOf(t.element);
      return new CValue(t.element, subPlace(this.place, i * size, this.mem), this.mem, `${this.name}[${i}]`);
    }
    if (t.kind === 'pointer') {
      const base = this.scalar();
      if (base === undefined) return undefined;
      const size = sizeOf(t.target) || 1;
      return new CValue(t.target, { kind: 'memory', addr: (base + i * size) >>> 0 }, this.mem, `${this.name}[${i}]`);
    }
    return undefined;
  }

  member(m: Member, baseOffset = 0): CValue {
    const name = `${this.name}.${m.name}`;
    if (m.bitSize !== undefined && m.bitOffset !== undefined) {
      const bit = m.bitOffset + baseOffset * 8;
      return new CValue(m.type, subPlace(this.place, Math.floor(bit / 8), this.mem), this.mem, name, { shift: bit % 8, size: m.bitSize });
    }
    return new CValue(m.type, subPlace(this.place, baseOffset + m.offset, this.mem), this.mem, name);
  }

  /** `*p`: the pointed-to value, or undefined when this is no pointer or cannot be read. */
  deref(): CValue | undefined {
    const t = stripType(this.type);
    if (t.kind === 'array') return this.entry(0) as CValue | undefined;
    if (t.kind !== 'pointer') return undefined;
    const addr = this.scalar();
    if (addr === undefined) return undefined;
    return new CValue(t.target, { kind: 'memory', addr: addr >>> 0 }, this.mem, `*${this.name}`);
  }

  /** A change to this value from text typed into the Variables pane or setExpression. */
  assign(text: string): GuestEdit {
    const t = stripType(this.type);
    if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'array' || t.kind === 'function' || t.kind === 'void') {
      throw new RangeError(`${this.name} is ${typeName(this.type)}: set its members one by one`);
    }
    const bytes = encodeValue(t, text, this.bits ? this.bits.size : this.size);
    return this.writeBytes(bytes);
  }

  /** A GuestEdit that stores a number (used by assignments from expressions). */
  writeBytes(valueBytes: Uint8Array): GuestEdit {
    const place = this.place;
    const bits = this.bits;
    const size = this.size;
    const mem = this.mem;
    const merge = (old: Uint8Array): Uint8Array => {
      if (!bits) return valueBytes;
      let raw = 0;
      for (let k = old.length - 1; k >= 0; k--) raw = raw * 256 + old[k];
      let v = 0;
      for (let k = valueBytes.length - 1; k >= 0; k--) v = v * 256 + valueBytes[k];
      const unit = 2 ** bits.shift;
      const field = 2 ** bits.size;
      const cleared = raw - (Math.floor(raw / unit) % field) * unit;
      const next = cleared + (v % field) * unit;
      return encodeInt(next, old.length);
    };
    if (place.kind === 'memory') {
      return (cpu) => {
        const old = bits ? readBytes(cpu, place.addr, size) : valueBytes;
        if (!old) throw new RangeError(`memory at 0x${place.addr.toString(16)} is not mapped`);
        const out = merge(old);
        if (writeLinearBytes(cpu, place.addr >>> 0, out) < out.length) throw new RangeError(`memory at 0x${place.addr.toString(16)} is not mapped`);
      };
    }
    if (place.kind === 'register' && fpuStackIndex(place.reg) !== undefined) {
      const st = fpuStackIndex(place.reg) as number;
      if (!mem.top) throw new RangeError(`${this.name} lives in ST(${st}) of an outer frame, which no call keeps (the x87 stack is empty at every call)`);
      if (bits) throw new RangeError(`${this.name}: a bitfield cannot live in an x87 register`);
      return (cpu) => setFpuStackRegister(cpu, st, fpuFromBytes(valueBytes));
    }
    if (place.kind === 'register') {
      const reg = place.reg;
      if (reg > 7) throw new RangeError(`${this.name} lives in DWARF register ${reg}, which cannot be changed here`);
      const saved = mem.savedAt(reg);
      if (!mem.top) {
        if (saved === undefined) throw new RangeError(`${this.name} lives in a register this frame did not save; change it in the innermost frame`);
        return (cpu) => {
          const old = readBytes(cpu, saved, 4);
          if (!old) throw new RangeError('the saved register is not mapped');
          const out = new Uint8Array(old);
          out.set(merge(old.subarray(0, size)).subarray(0, size));
          writeLinearBytes(cpu, saved, out);
        };
      }
      return (cpu) => {
        const old = encodeInt(cpu.regs[reg] >>> 0, 4);
        const out = new Uint8Array(old);
        out.set(merge(old.subarray(0, size)).subarray(0, Math.min(size, 4)));
        setGeneralRegister(cpu, reg, decodeInt(out, false));
      };
    }
    throw new RangeError(`${this.name} has no storage to change (${place.kind === 'optimized' ? 'optimized out' : 'a computed value'})`);
  }
}

function findMember(members: Member[], name: string): { member: Member; offset: number } | undefined {
  for (const m of members) if (m.name === name) return { member: m, offset: 0 };
  // Anonymous struct and union members hold their own members at their offset (C11 §6.7.2.1).
  for (const m of members) {
    const t = stripType(m.type);
    if (m.name === '' && (t.kind === 'struct' || t.kind === 'union')) {
      const inner = findMember(t.members, name);
      if (inner) return { member: inner.member, offset: inner.offset + m.offset };
    }
  }
  return undefined;
}

export function isSigned(t: CType): boolean {
  const s = stripType(t);
  if (s.kind === 'base') return s.encoding === 'signed' || s.encoding === 'signed char' || (s.encoding === 'float');
  if (s.kind === 'enum') return s.signed;
  return false;
}

function readBytes(cpu: Cpu, addr: number, size: number): Uint8Array | null {
  const out = new Uint8Array(size);
  for (let k = 0; k < size; k++) {
    const b = peekLinear(cpu, (addr + k) | 0, 1);
    if (b < 0) return null;
    out[k] = b;
  }
  return out;
}

export function placeBytes(place: Place, size: number, mem: CMemory): Uint8Array | null {
  switch (place.kind) {
    case 'memory': {
      const out = new Uint8Array(size);
      for (let k = 0; k < size; k++) {
        const b = mem.byte((place.addr + k) >>> 0);
        if (b < 0) return null;
        out[k] = b;
      }
      return out;
    }
    case 'register': {
      const st = fpuStackIndex(place.reg);
      if (st !== undefined) {
        const f = mem.fpu?.(st);
        return f ? bytesFromFpu(f, size) : null;
      }
      const v = mem.reg(place.reg);
      if (v === undefined) return null;
      return encodeInt(v >>> 0, 4).subarray(0, Math.min(size, 4)).slice();
    }
    case 'value':
      return encodeInt(place.value >>> 0, Math.max(size, 4)).subarray(0, size).slice();
    case 'bytes': {
      const out = new Uint8Array(size);
      out.set(place.bytes.subarray(0, size));
      return out;
    }
    case 'pieces': {
      const out = new Uint8Array(size);
      let at = 0;
      for (const p of place.pieces) {
        const b = placeBytes(p.place, p.size, mem);
        if (!b) return null;
        out.set(b.subarray(0, Math.max(0, Math.min(p.size, size - at))), at);
        at += p.size;
      }
      return out;
    }
    case 'optimized':
      return null;
  }
}

/** The place `offset` bytes into another (members and elements). */
export function subPlace(place: Place, offset: number, mem: CMemory): Place {
  if (offset === 0) return place;
  switch (place.kind) {
    case 'memory':
      return { kind: 'memory', addr: (place.addr + offset) >>> 0 };
    case 'optimized':
      return place;
    default: {
      const all = placeBytes(place, offset + 16, mem);
      return all ? { kind: 'bytes', bytes: all.slice(offset) } : { kind: 'optimized', why: 'not available' };
    }
  }
}

export function decodeInt(b: Uint8Array, signed: boolean): number {
  let v = 0;
  const n = Math.min(b.length, 8);
  for (let k = n - 1; k >= 0; k--) v = v * 256 + b[k];
  if (signed && n > 0 && b[n - 1] & 0x80) v -= 2 ** (8 * n);
  return v;
}

export function encodeInt(v: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = v < 0 ? 2 ** (8 * Math.min(size, 6)) + v : v;
  for (let k = 0; k < size; k++) {
    out[k] = x % 256;
    x = Math.floor(x / 256);
  }
  if (v < 0) for (let k = 6; k < size; k++) out[k] = 0xff;
  return out;
}

/** IEEE 754 single and double, and the x87's 80-bit extended format (long double, 10 bytes in 12 or 16). */
export function decodeFloat(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 4) return dv.getFloat32(0, true);
  if (b.length === 8) return dv.getFloat64(0, true);
  if (b.length >= 10) {
    const mant = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
    const se = dv.getUint16(8, true);
    const sign = se & 0x8000 ? -1 : 1;
    const exp = se & 0x7fff;
    if (exp === 0x7fff) return mant % 2 ** 63 === 0 ? sign * Infinity : NaN;
    return sign * mant * 2 ** (exp - 16383 - 63);
  }
  return NaN;
}

function encodeValue(t: CType, text: string, size: number): Uint8Array {
  const s = text.trim();
  if (t.kind === 'enum') {
    const e = t.values.find((v) => v.name === s);
    if (e) return encodeInt(e.value, size);
  }
  if (t.kind === 'base' && t.encoding === 'float') {
    const v = Number(s);
    if (!Number.isFinite(v) && !/^[-+]?(inf|infinity|nan)$/i.test(s)) throw new RangeError(`"${text}" is not a number`);
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    if (size === 4) dv.setFloat32(0, v, true);
    else if (size === 8) dv.setFloat64(0, v, true);
    else throw new RangeError('long double values cannot be typed in yet');
    return out;
  }
  const ch = /^'(\\?.)'$/.exec(s);
  if (ch) return encodeInt(ch[1].length === 2 ? ({ n: 10, t: 9, r: 13, '0': 0, '\\': 92 } as Record<string, number>)[ch[1][1]] ?? ch[1].charCodeAt(1) : ch[1].charCodeAt(0), Math.max(size, 1));
  return encodeInt(parseTypedNumber(s), Math.ceil(size));
}

// ---------------------------------------------------------------- formatting

function charText(code: number): string {
  const c = code & 0xff;
  const named: Record<number, string> = { 0: '\\0', 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };
  if (named[c] !== undefined) return named[c];
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return `\\${c.toString(8).padStart(3, '0')}`;
}

function isCharType(t: CType): boolean {
  const s = stripType(t);
  return s.kind === 'base' && s.size === 1 && (s.encoding === 'signed char' || s.encoding === 'unsigned char');
}

/** A C string at an address, up to MAX_STRING characters. */
function cString(mem: CMemory, addr: number): string | undefined {
  let out = '';
  for (let k = 0; k < MAX_STRING; k++) {
    const b = mem.byte((addr + k) >>> 0);
    if (b < 0) return k === 0 ? undefined : `"${out}"...`;
    if (b === 0) return `"${out}"`;
    out += b === 34 ? '\\"' : charText(b);
  }
  return `"${out}"...`;
}

export const hexAddress = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

function formatNumberOf(t: CType, v: number): string {
  const s = stripType(t);
  if (s.kind === 'base') {
    if (s.encoding === 'bool') return v === 0 ? 'false' : v === 1 ? 'true' : String(v);
    if (s.encoding === 'float') return Number.isInteger(v) && Math.abs(v) < 1e16 ? v.toFixed(1) : String(v);
    if (isCharType(s)) return `${v} '${charText(v)}'`;
    return String(v);
  }
  if (s.kind === 'enum') {
    const e = s.values.find((x) => x.value === v);
    return e ? e.name : String(v);
  }
  return String(v);
}

export function formatC(v: CValue, depth: number): string {
  const t = stripType(v.type);
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'base':
    case 'enum': {
      const n = v.scalar();
      if (n === undefined) return v.unavailable();
      if (t.kind === 'base' && t.encoding === 'float' && !v.bits) return floatText(v.bytes() as Uint8Array);
      return formatNumberOf(t, n);
    }
    case 'pointer': {
      const n = v.scalar();
      if (n === undefined) return v.unavailable();
      if (n === 0) return '0x0';
      const target = stripType(t.target);
      if (target.kind === 'function') {
        const sym = v.mem.symbolAt(n);
        return `${hexAddress(n)}${sym ? ` <${sym}>` : ''}`;
      }
      if (isCharType(target)) {
        const s = cString(v.mem, n);
        return s ? `${hexAddress(n)} ${s}` : hexAddress(n);
      }
      return hexAddress(n);
    }
    case 'function': {
      const a = v.address;
      const sym = a !== undefined ? v.mem.symbolAt(a) : undefined;
      return `{${typeName(v.type)}} ${a !== undefined ? hexAddress(a) : ''}${sym ? ` <${sym}>` : ''}`;
    }
    case 'array': {
      if (depth > 1) return '{...}';
      const b = v.bytes();
      if (!b) return v.unavailable();
      if (isCharType(t.element)) {
        const end = b.indexOf(0);
        const text = Array.from(end < 0 ? b : b.subarray(0, end), (c) => (c === 34 ? '\\"' : charText(c))).join('');
        return `"${text.length > MAX_STRING ? text.slice(0, MAX_STRING) + '"...' : text + '"'}`;
      }
      const count = t.count ?? 0;
      const parts: string[] = [];
      for (let i = 0; i < Math.min(count, MAX_SHOWN); i++) parts.push(formatC(v.entry(i) as CValue, depth + 1));
      return `{${parts.join(', ')}${count > MAX_SHOWN ? ', ...' : ''}}`;
    }
    case 'struct':
    case 'union': {
      if (t.incomplete) return '<incomplete type>';
      if (depth > 1) return '{...}';
      if (!v.bytes()) return v.unavailable();
      return `{${t.members.map((m) => `${m.name} = ${formatC(v.member(m), depth + 1)}`).join(', ')}}`;
    }
    default:
      return '?';
  }
}

/**
 * A float, double or long double from its bytes: the shortest decimal that reads back as the same value of its own
 * format (so a float 0.1f shows 0.1, and a long double all the digits its 64 bits need), integers with `.0`.
 */
function floatText(b: Uint8Array): string {
  let text: string;
  if (b.length >= 10) text = f80ToDecimal(f80FromBytes(b));
  else if (b.length === 4) {
    const v = decodeFloat(b);
    text = String(v);
    for (let p = 1; p <= 9 && Number.isFinite(v); p++) {
      const t = v.toPrecision(p);
      if (Math.fround(Number(t)) === v) {
        text = String(Number(t));
        break;
      }
    }
  } else text = String(decodeFloat(b));
  if (text === 'Infinity' || text === '-Infinity') return text.replace('Infinity', 'inf');
  if (text === 'NaN') return 'nan';
  return /^-?\d+$/.test(text) && text.length < 17 ? `${text}.0` : text;
}

/** A number as a C value of a type (casts): the value's bytes at no place. */
export function valueOfType(type: CType, n: number, mem: CMemory, name: string): CValue {
  const s = stripType(type);
  const size = sizeOf(type);
  let bytes: Uint8Array;
  if (s.kind === 'base' && s.encoding === 'float') {
    bytes = new Uint8Array(size);
    const dv = new DataView(bytes.buffer);
    if (size === 4) dv.setFloat32(0, n, true);
    else dv.setFloat64(0, n, true);
  } else {
    if (!Number.isFinite(n)) throw new ExpressionError(`${n} is not an integer`);
    bytes = encodeInt(Math.trunc(n), Math.max(size, 1));
  }
  return new CValue(type, { kind: 'bytes', bytes }, mem, name);
}
