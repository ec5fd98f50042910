// C values (debug-adapter/c/value.ts) on a real CPU: formatting by type, bitfields, and edits of values in
// memory, in registers of the innermost frame, in registers an outer frame's callee saved, and of values that
// have no storage.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../engine/machine/machine';
import { peekLinear } from '../../engine/cpu/protect/peek';
import type { CType, Place } from '../../engine/machine/loaders/dwarf';
import { CValue, decodeFloat, type CMemory } from '../../debug-adapter/c/value';

const int: CType = { kind: 'base', name: 'int', size: 4, encoding: 'signed' };
const u8: CType = { kind: 'typedef', name: 'u8', target: { kind: 'base', name: 'unsigned char', size: 1, encoding: 'unsigned char' } };
const schar: CType = { kind: 'base', name: 'char', size: 1, encoding: 'signed char' };
const bool: CType = { kind: 'base', name: '_Bool', size: 1, encoding: 'bool' };
const color: CType = { kind: 'enum', name: 'color', size: 4, signed: false, values: [{ name: 'RED', value: 0 }, { name: 'BLUE', value: 7 }] };
const packed: CType = {
  kind: 'struct', name: 'bits', size: 2, incomplete: false,
  members: [
    { name: 'lo', type: u8, offset: 0, bitSize: 3, bitOffset: 0 },
    { name: 'mid', type: { kind: 'base', name: 'int', size: 4, encoding: 'signed' }, offset: 0, bitSize: 6, bitOffset: 3 },
    { name: 'hi', type: u8, offset: 1, bitSize: 7, bitOffset: 9 },
  ],
};

function setup(top = true, savedAt: (number | undefined)[] = []) {
  const m = new Machine({ memoryMB: 1 });
  const cpu = m.cpu;
  const regs = [0x11, 0x22, 0x33, 0x44, 0x8000, 0x9000, 0x66, 0x77];
  const mem: CMemory = {
    byte: (a) => peekLinear(cpu, a, 1),
    reg: (n) => (top ? cpu.regs[n] >>> 0 : regs[n]),
    savedAt: (n) => savedAt[n],
    top,
    symbolAt: (a) => (a === 0x1000 ? 'handler' : undefined),
  };
  const at = (place: Place, type: CType, name = 'v') => new CValue(type, place, mem, name);
  return { cpu, at, mem };
}

describe('C values', () => {
  it('format integers, chars, bools, enums, floats and pointers as C', () => {
    const { at } = setup();
    const bytes = (b: number[], t: CType) => at({ kind: 'bytes', bytes: new Uint8Array(b) }, t).display();
    expect(bytes([0xfe, 0xff, 0xff, 0xff], int)).toBe('-2');
    expect(bytes([0x41], schar)).toBe("65 'A'");
    expect(bytes([0x0a], u8)).toBe("10 '\\n'");
    expect(bytes([1], bool)).toBe('true');
    expect(bytes([7, 0, 0, 0], color)).toBe('BLUE');
    expect(bytes([9, 0, 0, 0], color)).toBe('9');
    expect(bytes([0, 0, 0xc0, 0x3f], { kind: 'base', name: 'float', size: 4, encoding: 'float' })).toBe('1.5');
    // x87 extended (long double): 1.0 is mantissa 0x8000000000000000, exponent 0x3fff.
    expect(decodeFloat(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f, 0, 0]))).toBe(1);
    expect(decodeFloat(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0xc0, 0, 0]))).toBe(-3);
    // Floats print the shortest decimal of their own format; a long double all the digits its 64 bits need.
    expect(bytes([0xcd, 0xcc, 0xcc, 0x3d], { kind: 'base', name: 'float', size: 4, encoding: 'float' })).toBe('0.1');
    expect(bytes([0, 0, 0, 0x40], { kind: 'base', name: 'float', size: 4, encoding: 'float' })).toBe('2.0');
    const ld: CType = { kind: 'base', name: 'long double', size: 12, encoding: 'float' };
    expect(bytes([0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40, 0, 0], ld)).toBe('3.1415926535897932385');
    expect(bytes([0xcd, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xfb, 0x3f, 0, 0], ld)).toBe('0.1');
    expect(bytes([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f, 0, 0], ld)).toBe('inf');
    const fnptr: CType = { kind: 'pointer', size: 4, target: { kind: 'function', returns: { kind: 'void' }, params: [], variadic: false } };
    expect(bytes([0, 0x10, 0, 0], fnptr)).toBe('0x00001000 <handler>');
    expect(bytes([0, 0, 0, 0], fnptr)).toBe('0x0');
    expect(at({ kind: 'optimized', why: 'x' }, int).display()).toBe('<optimized out>');
  });

  it('read and write bitfields without touching their neighbours', () => {
    const { at, cpu } = setup();
    const s = at({ kind: 'memory', addr: 0x500 }, packed, 's');
    const [lo, mid, hi] = (packed as CType & { kind: 'struct' }).members.map((m) => s.member(m));
    lo.assign('5')(cpu);
    mid.assign('-3')(cpu);
    hi.assign('0x55')(cpu);
    expect(peekLinear(cpu, 0x500, 2)).toBe(5 | ((-3 & 0x3f) << 3) | (0x55 << 9));
    expect(lo.display()).toBe("5 '\\005'");
    expect(mid.display()).toBe('-3');
    expect(hi.display()).toBe("85 'U'");
    lo.assign('0')(cpu);
    expect(mid.display()).toBe('-3');
    expect(hi.display()).toBe("85 'U'");
  });

  it('write a variable in a register of the innermost frame, and of an outer frame through its saved slot', () => {
    const top = setup(true);
    const inEbx = top.at({ kind: 'register', reg: 3 }, int, 'x');
    inEbx.assign('-7')(top.cpu);
    expect(top.cpu.regs[3]).toBe(-7);
    const lowByte = top.at({ kind: 'register', reg: 1 }, u8, 'c');
    top.cpu.regs[1] = 0x12345678;
    lowByte.assign('0xaa')(top.cpu);
    expect(top.cpu.regs[1] >>> 0).toBe(0x123456aa);

    const outer = setup(false, [undefined, undefined, undefined, 0x600]);
    const saved = outer.at({ kind: 'register', reg: 3 }, int, 'y');
    saved.assign('1234')(outer.cpu);
    expect(peekLinear(outer.cpu, 0x600, 4)).toBe(1234);
    expect(() => outer.at({ kind: 'register', reg: 6 }, int, 'z').assign('1')).toThrow(/did not save/);
    expect(() => outer.at({ kind: 'value', value: 3 }, int, 'k').assign('1')).toThrow(/no storage/);
    expect(() => outer.at({ kind: 'optimized', why: '' }, int, 'o').assign('1')).toThrow(/optimized out/);
    expect(() => top.at({ kind: 'memory', addr: 0x500 }, packed, 's').assign('1')).toThrow(/members one by one/);
  });
});
