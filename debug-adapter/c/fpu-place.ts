// C values the compiler keeps in x87 registers (gcc -mfpmath=387 at -O1 and above): DWARF numbers ST0–ST7 as
// registers 11–18 on i386 (System V i386 ABI, DWARF register mapping), stack-relative as ST(i) is. A variable of
// type float or double held there reads as the register's value converted to its type (round to nearest, as gdb
// does); a long double reads the 80 bits themselves. Edits go the other way: the typed bytes widened to extended.

import { DOUBLE, FpEnv, SINGLE, type F80 } from '../../engine/cpu/fpu/float80';
import { fromReal, toReal } from '../../engine/cpu/fpu/convert';
import { f80FromBytes, f80ToBytes } from '../../engine/cpu/fpu/decimal';

const DWARF_ST0 = 11;

/** i of ST(i) for a DWARF register number, or undefined when it is no x87 stack register. */
export function fpuStackIndex(dwarfReg: number): number | undefined {
  return dwarfReg >= DWARF_ST0 && dwarfReg < DWARF_ST0 + 8 ? dwarfReg - DWARF_ST0 : undefined;
}

const env = (): FpEnv => new FpEnv().reset(0, 64, 0x3f);

/** The bytes of a value of `size` bytes held in an x87 register: float (4), double (8), long double (10, 12, 16). */
export function bytesFromFpu(v: F80, size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (size === 4 || size === 8) {
    const bits = toReal(env(), v, size === 4 ? SINGLE : DOUBLE) ?? 0n;
    const dv = new DataView(out.buffer);
    if (size === 4) dv.setUint32(0, Number(bits), true);
    else dv.setBigUint64(0, bits, true);
    return out;
  }
  out.set(f80ToBytes(v).subarray(0, Math.min(10, size)));
  return out;
}

/** The extended value for a float, double or long double's bytes (exact: widening loses nothing). */
export function fpuFromBytes(b: Uint8Array): F80 {
  if (b.length >= 10) return f80FromBytes(b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 4) return fromReal(env(), BigInt(dv.getUint32(0, true)), SINGLE, false);
  if (b.length === 8) return fromReal(env(), dv.getBigUint64(0, true), DOUBLE, false);
  throw new RangeError(`a ${b.length}-byte value cannot live in an x87 register`);
}
