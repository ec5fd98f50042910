// Shifts and rotates (C0/C1, D0–D3 and SHLD/SHRD) against a one-bit-at-a-time model of the SDM's pseudocode loops:
// every 8-bit value with every count 0…31 and both CF states, 16/32-bit values at counts 0, 1, size−1, size, size+1
// and 31. OF is compared where the SDM defines it (count 1).

import { describe, expect, it } from 'vitest';
import { AF, ARITH, CF, CODE, machineFor, Mismatches, OF, runOnce, szp, ZF } from './alu-exec';

const KINDS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];

interface ShiftResult {
  res: number;
  cf: number;
  /** OF when the SDM defines it (masked count 1), else null. */
  of: number | null;
  /** SF/ZF/PF are defined (shifts, not rotates). */
  szpDefined: boolean;
}

/** The SDM's loops, one bit per iteration, with plain arithmetic. Returns null when the count masks to 0. */
function model(kind: string, v: number, rawCount: number, bits: number, cfIn: number): ShiftResult | null {
  const count = rawCount % 32;
  if (count === 0) return null;
  const top = 2 ** (bits - 1);
  const span = 2 ** bits;
  const msb = (x: number) => (x >= top ? 1 : 0);
  let x = v;
  let cf = cfIn;
  let of: number | null = null;
  switch (kind) {
    case 'rol': {
      for (let k = 0; k < count % bits; k++) x = (x * 2) % span + msb(x);
      cf = x % 2;
      if (count === 1) of = msb(x) ^ cf;
      return { res: x, cf, of, szpDefined: false };
    }
    case 'ror': {
      for (let k = 0; k < count % bits; k++) x = Math.floor(x / 2) + (x % 2) * top;
      cf = msb(x);
      if (count === 1) of = msb(x) ^ (Math.floor(x / (top / 2)) % 2);
      return { res: x, cf, of, szpDefined: false };
    }
    case 'rcl': {
      const n = bits === 32 ? count : count % (bits + 1);
      for (let k = 0; k < n; k++) {
        const out = msb(x);
        x = (x * 2) % span + cf;
        cf = out;
      }
      if (count === 1) of = msb(x) ^ cf;
      return { res: x, cf, of, szpDefined: false };
    }
    case 'rcr': {
      const n = bits === 32 ? count : count % (bits + 1);
      if (count === 1) of = msb(x) ^ cf;
      for (let k = 0; k < n; k++) {
        const out = x % 2;
        x = Math.floor(x / 2) + cf * top;
        cf = out;
      }
      return { res: x, cf, of, szpDefined: false };
    }
    case 'shl':
    case 'sal':
      for (let k = 0; k < count; k++) {
        cf = msb(x);
        x = (x * 2) % span;
      }
      if (count === 1) of = msb(x) ^ cf;
      return { res: x, cf, of, szpDefined: true };
    case 'shr':
      if (count === 1) of = msb(v);
      for (let k = 0; k < count; k++) {
        cf = x % 2;
        x = Math.floor(x / 2);
      }
      return { res: x, cf, of, szpDefined: true };
    default: // sar
      for (let k = 0; k < count; k++) {
        cf = x % 2;
        x = Math.floor(x / 2) + (x >= top ? top : 0);
      }
      if (count === 1) of = 0;
      return { res: x, cf, of, szpDefined: true };
  }
}

/** Runs `kind reg, cl` and checks result and defined flags against the model. */
function checkShift(bad: Mismatches, bits: number, kind: number, values: number[], counts: number[]): void {
  const prefix = bits === 32 ? [0x66] : [];
  const m = machineFor([...prefix, bits === 8 ? 0xd2 : 0xd3, 0xc0 | (kind << 3)]);
  const { cpu } = m;
  for (const cfIn of [0, 1]) {
    for (const v of values) {
      for (const count of counts) {
        cpu.regs[0] = v;
        cpu.regs[1] = count | 0xe0; // CL bits above the 5 the 386 uses
        const before = cfIn | (count % 2 ? OF | AF : ZF); // arbitrary prior flags
        runOnce(m, before);
        const want = model(KINDS[kind], v, count, bits, cfIn);
        const got = bits === 8 ? cpu.regs8[0] : bits === 16 ? cpu.regs16[0] : cpu.regs[0] >>> 0;
        const f = cpu.getEflags();
        const name = `${KINDS[kind]}${bits} ${v} by ${count} cf=${cfIn}`;
        if (want === null) {
          bad.check(`${name} value unchanged`, got, v);
          bad.check(`${name} flags unchanged`, f & ARITH, before);
          continue;
        }
        bad.check(name, got, want.res);
        bad.check(`${name} CF`, f & CF, want.cf);
        if (want.of !== null) bad.check(`${name} OF`, (f & OF) !== 0 ? 1 : 0, want.of);
        if (want.szpDefined) bad.check(`${name} SZP`, f & (ZF | 0x80 | 0x4), szp(want.res, bits));
        else bad.check(`${name} SZP/AF untouched by rotates`, f & (ZF | 0x80 | 0x4 | AF), before & (ZF | 0x80 | 0x4 | AF));
      }
    }
  }
}

const ALL_COUNTS = Array.from({ length: 32 }, (_, k) => k);

describe('shifts and rotates', () => {
  for (let kind = 0; kind < 8; kind++) {
    it(`${KINDS[kind]} r/m8, CL: every value, every count, both CF`, () => {
      const bad = new Mismatches();
      checkShift(bad, 8, kind, Array.from({ length: 256 }, (_, k) => k), ALL_COUNTS);
      expect(bad.count, bad.toString()).toBe(0);
    });
  }

  it('16- and 32-bit operands at counts 0, 1, size−1, size, size+1 and 31', () => {
    const bad = new Mismatches();
    const v16 = [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0x1234, 0xa5a5, 0x4000];
    const v32 = [0, 1, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0x12345678, 0xa5a5a5a5, 0x40000000];
    for (let kind = 0; kind < 8; kind++) {
      checkShift(bad, 16, kind, v16, [0, 1, 2, 15, 16, 17, 18, 31]);
      checkShift(bad, 32, kind, v32, [0, 1, 2, 30, 31, 32, 33]);
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('immediate and by-1 forms, and a memory operand', () => {
    // rol byte [0x2000], 1 ; shl word [0x2002], 4 ; sar al, 9 (masked: 9) ; shr ebx, 33 (masked to 1)
    const m = machineFor([0xd0, 0x06, 0x00, 0x20, 0xc1, 0x26, 0x02, 0x20, 0x04, 0xc0, 0xf8, 0x09, 0x66, 0xc1, 0xeb, 0x21]);
    m.mem.write8(0x2000, 0x81);
    m.mem.write16(0x2002, 0x1234);
    m.cpu.regs[0] = 0x80;
    m.cpu.regs[3] = 0x80000003 | 0;
    m.cpu.eip = CODE;
    m.cpu.run(10);
    expect(m.mem.read8(0x2000)).toBe(0x03);
    expect(m.mem.read16(0x2002)).toBe(0x2340);
    expect(m.cpu.regs8[0]).toBe(0xff);
    expect(m.cpu.regs[3] >>> 0).toBe(0x40000001);
    expect(m.cpu.getEflags() & (CF | OF)).toBe(CF | OF); // shr by 1: CF = old bit 0, OF = old MSB
  });

  it('undefined AF and OF follow the 80286 captures: SHL AF = result bit 4, SHR/SAR AF = 1, OF rule for any count', () => {
    const bad = new Mismatches();
    for (const [kind, name] of [[4, 'shl'], [5, 'shr'], [7, 'sar']] as const) {
      const m = machineFor([0xc0, 0xc0 | (kind << 3), 0x03]); // <kind> al, 3
      for (let v = 0; v < 256; v++) {
        m.cpu.regs[0] = v;
        runOnce(m, kind === 4 ? AF : 0);
        const res = m.cpu.regs8[0];
        const f = m.cpu.getEflags();
        const wantAf = kind === 4 ? res & 0x10 : AF;
        bad.check(`${name} ${v} AF`, f & AF, wantAf);
        // OF: SHL MSB(result) xor CF; SHR the top two result bits xored (0 for counts ≥ 2); SAR 0
        const cf = f & CF;
        const wantOf = kind === 4 ? ((res >> 7) ^ cf) & 1 : kind === 5 ? ((res >> 7) ^ (res >> 6)) & 1 : 0;
        bad.check(`${name} ${v} OF`, (f & OF) !== 0 ? 1 : 0, wantOf);
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });
});

describe('SHLD and SHRD', () => {
  /** Reference with BigInt on the concatenated operands (counts 1 … size). */
  function reference(left: boolean, d: number, s: number, count: number, bits: number): { res: number; cf: number } {
    const B = BigInt;
    const mask = (1n << B(bits)) - 1n;
    if (left) {
      const wide = ((B(d) << B(bits)) | B(s)) << B(count);
      return { res: Number((wide >> B(bits)) & mask), cf: Number((wide >> B(2 * bits)) & 1n) };
    }
    const wide = (B(s) << B(bits)) | B(d);
    return { res: Number((wide >> B(count)) & mask), cf: Number((wide >> B(count - 1)) & 1n) };
  }

  it('register forms with CL and imm8, 16 and 32 bits', () => {
    const bad = new Mismatches();
    const vals = [0, 1, 0x8000, 0xffff, 0x1234, 0x80000000, 0xffffffff, 0x12345678, 0xdeadbeef];
    for (const [bits, prefix] of [[16, []], [32, [0x66]]] as const) {
      for (const left of [true, false]) {
        const byCl = machineFor([...prefix, 0x0f, left ? 0xa5 : 0xad, 0xd8]); // shld/shrd ax, bx, cl
        for (const d0 of vals) {
          for (const s0 of vals) {
            for (let count = 0; count <= bits; count++) {
              if (count === 32) continue;
              const d = bits === 16 ? d0 & 0xffff : d0;
              const s = bits === 16 ? s0 & 0xffff : s0;
              byCl.cpu.regs[0] = d;
              byCl.cpu.regs[3] = s;
              byCl.cpu.regs[1] = count;
              runOnce(byCl, ZF | CF);
              const got = bits === 16 ? byCl.cpu.regs16[0] : byCl.cpu.regs[0] >>> 0;
              const f = byCl.cpu.getEflags();
              const name = `${left ? 'shld' : 'shrd'}${bits} ${d},${s} by ${count}`;
              if (count === 0) {
                bad.check(name, got, d);
                bad.check(`${name} flags`, f & ARITH, ZF | CF);
                continue;
              }
              const want = reference(left, d, s, count, bits);
              bad.check(name, got, want.res);
              bad.check(`${name} CF`, f & CF, want.cf);
              bad.check(`${name} SZP`, f & (ZF | 0x80 | 0x4), szp(want.res, bits));
              if (count === 1) {
                const signChanged = (want.res ^ d) & (bits === 16 ? 0x8000 : 0x80000000);
                bad.check(`${name} OF`, f & OF, signChanged !== 0 ? OF : 0);
              }
            }
          }
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('immediate count form on memory', () => {
    const m = machineFor([0x66, 0x0f, 0xa4, 0x1e, 0x00, 0x20, 0x08]); // shld dword [0x2000], ebx, 8
    m.mem.write32(0x2000, 0x11223344);
    m.cpu.regs[3] = 0xaabbccdd | 0;
    runOnce(m, 0);
    expect(m.mem.read32(0x2000) >>> 0).toBe(0x223344aa);
  });

  it('16-bit counts above 16 shift the pattern d:s:d (documented choice for an undefined case)', () => {
    const m = machineFor([0x0f, 0xa4, 0xd8, 0x14]); // shld ax, bx, 20
    m.cpu.regs[0] = 0x1234;
    m.cpu.regs[3] = 0xabcd;
    runOnce(m, 0);
    expect(m.cpu.regs16[0]).toBe(0xbcd1);
    const r = machineFor([0x0f, 0xac, 0xd8, 0x14]); // shrd ax, bx, 20
    r.cpu.regs[0] = 0x1234;
    r.cpu.regs[3] = 0xabcd;
    runOnce(r, 0);
    expect(r.cpu.regs16[0]).toBe(0x4abc);
  });
});
