// MUL, IMUL (one-, two- and three-operand forms), DIV and IDIV: results and CF/OF against BigInt/plain arithmetic,
// the divide error (#DE, vector 0) delivered through the real-mode IVT with nothing written.

import { describe, expect, it } from 'vitest';
import { AF, ARITH, CF, CODE, faulted, HANDLER, machineFor, Mismatches, OF, PF, runOnce, SF, sx, szp, ZF } from './alu-exec';

const B = (v: number) => BigInt(v);

/** A deterministic spread of 32-bit values: edges plus a linear congruential sequence. */
function values32(n: number): number[] {
  const out = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];
  let x = 12345;
  while (out.length < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(x);
  }
  return out;
}

describe('MUL and IMUL, one operand', () => {
  it('8-bit: every AL × r/m8', () => {
    const mul = machineFor([0xf6, 0xe2]); // mul dl
    const imul = machineFor([0xf6, 0xea]); // imul dl
    const bad = new Mismatches();
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        mul.cpu.regs[0] = a;
        mul.cpu.regs[2] = b;
        runOnce(mul, 0);
        const p = a * b;
        bad.check(`mul ${a}*${b}`, mul.cpu.regs16[0], p);
        bad.check(`mul ${a}*${b} flags`, mul.cpu.getEflags() & ARITH, (p > 255 ? CF | OF : 0) | AF | szp(Math.floor(p / 256), 8));
        imul.cpu.regs[0] = a;
        imul.cpu.regs[2] = b;
        runOnce(imul, 0);
        const s = sx(a, 8) * sx(b, 8);
        bad.check(`imul ${a}*${b}`, imul.cpu.regs16[0], (s + 65536) % 65536);
        const fits = s >= -128 && s <= 127;
        const high = Math.floor(((s + 65536) % 65536) / 256);
        bad.check(`imul ${a}*${b} flags`, imul.cpu.getEflags() & ARITH, (fits ? 0 : CF | OF) | AF | szp(high, 8));
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('16- and 32-bit: DX:AX / EDX:EAX against BigInt', () => {
    const bad = new Mismatches();
    const vals = values32(60);
    for (const [bits, prefix] of [[16, []], [32, [0x66]]] as const) {
      const mask = (1n << B(bits)) - 1n;
      const mul = machineFor([...prefix, 0xf7, 0xe3]); // mul (e)bx
      const imul = machineFor([...prefix, 0xf7, 0xeb]); // imul (e)bx
      for (const a0 of vals) {
        for (const b0 of vals) {
          const a = bits === 16 ? a0 & 0xffff : a0;
          const b = bits === 16 ? b0 & 0xffff : b0;
          for (const [m, signed] of [[mul, false], [imul, true]] as const) {
            m.cpu.regs[0] = a;
            m.cpu.regs[3] = b;
            m.cpu.regs[2] = 0x5a5a5a5a;
            runOnce(m, 0);
            const ba = signed ? B(sx(a, bits)) : B(a);
            const bb = signed ? B(sx(b, bits)) : B(b);
            const p = ba * bb;
            const lo = Number(p & mask);
            const hi = Number((p >> B(bits)) & mask);
            const gotLo = bits === 16 ? m.cpu.regs16[0] : m.cpu.regs[0] >>> 0;
            const gotHi = bits === 16 ? m.cpu.regs16[4] : m.cpu.regs[2] >>> 0;
            const name = `${signed ? 'imul' : 'mul'}${bits} ${a}*${b}`;
            bad.check(`${name} low`, gotLo, lo);
            bad.check(`${name} high`, gotHi, hi);
            const overflow = signed ? p !== B(sx(lo, bits)) : hi !== 0;
            bad.check(`${name} CF/OF`, m.cpu.getEflags() & (CF | OF), overflow ? CF | OF : 0);
            if (bits === 16) bad.check(`${name} keeps EDX high`, m.cpu.regs[2] >>> 16, 0x5a5a);
          }
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });
});

describe('IMUL with a truncated destination (0F AF, 69, 6B)', () => {
  it('two- and three-operand forms, 16 and 32 bits', () => {
    const bad = new Mismatches();
    const vals = values32(40);
    const forms: [string, number[], number, (a: number, b: number) => [number, number]][] = [
      ['imul cx, bx', [0x0f, 0xaf, 0xcb], 16, (a, b) => [a, b]],
      ['imul ecx, ebx', [0x66, 0x0f, 0xaf, 0xcb], 32, (a, b) => [a, b]],
      ['imul cx, bx, 0x8001', [0x69, 0xcb, 0x01, 0x80], 16, (_a, b) => [b, 0x8001]],
      ['imul ecx, ebx, -3', [0x66, 0x6b, 0xcb, 0xfd], 32, (_a, b) => [b, 0xfffffffd]],
      ['imul cx, bx, 7', [0x6b, 0xcb, 0x07], 16, (_a, b) => [b, 7]],
    ];
    for (const [name, code, bits, operands] of forms) {
      const m = machineFor(code);
      const mask = (1n << B(bits)) - 1n;
      for (const a0 of vals) {
        for (const b0 of vals) {
          const a = bits === 16 ? a0 & 0xffff : a0;
          const b = bits === 16 ? b0 & 0xffff : b0;
          m.cpu.regs[1] = a;
          m.cpu.regs[3] = b;
          runOnce(m, 0);
          const [x, y] = operands(a, b);
          const p = B(sx(x, bits)) * B(sx(y, bits));
          const lo = Number(p & mask);
          const got = bits === 16 ? m.cpu.regs16[2] : m.cpu.regs[1] >>> 0;
          bad.check(`${name} ${a},${b}`, got, lo);
          bad.check(`${name} ${a},${b} CF/OF`, m.cpu.getEflags() & (CF | OF), p !== B(sx(lo, bits)) ? CF | OF : 0);
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });
});

describe('DIV and IDIV', () => {
  it('8-bit: every divisor against a spread of dividends; #DE on zero and on overflow', () => {
    const div = machineFor([0xf6, 0xf3]); // div bl
    const idiv = machineFor([0xf6, 0xfb]); // idiv bl
    const bad = new Mismatches();
    for (let d = 0; d < 256; d++) {
      for (let n = 0; n < 65536; n += 97) {
        for (const [m, signed] of [[div, false], [idiv, true]] as const) {
          m.cpu.regs[0] = n;
          m.cpu.regs[3] = d;
          runOnce(m, 0);
          const name = `${signed ? 'idiv' : 'div'} ${n}/${d}`;
          const nn = signed ? sx(n, 16) : n;
          const dd = signed ? sx(d, 8) : d;
          const q = dd === 0 ? Infinity : Math.trunc(nn / dd);
          const fits = signed ? q >= -128 && q <= 127 : q <= 255;
          if (!fits) {
            bad.check(`${name} raises #DE`, faulted(m) ? 1 : 0, 1);
            bad.check(`${name} AX unchanged`, m.cpu.regs16[0], n);
          } else {
            bad.check(`${name} no fault`, faulted(m) ? 1 : 0, 0);
            const r = nn - q * dd;
            bad.check(`${name} AL`, m.cpu.regs8[0], (q + 256) % 256);
            bad.check(`${name} AH`, m.cpu.regs8[1], (r + 256) % 256);
          }
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('16- and 32-bit against BigInt, incl. the quotient range edges', () => {
    const bad = new Mismatches();
    const vals = values32(40);
    for (const [bits, prefix] of [[16, []], [32, [0x66]]] as const) {
      const span = 1n << B(bits);
      const div = machineFor([...prefix, 0xf7, 0xf3]); // div (e)bx
      const idiv = machineFor([...prefix, 0xf7, 0xfb]); // idiv (e)bx
      for (const hi0 of [0, 1, 0x7fff, 0x8000, 0xffff, 0x3fffffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xc0000000]) {
        for (const lo0 of vals.slice(0, 15)) {
          for (const d0 of vals) {
            const hi = bits === 16 ? hi0 & 0xffff : hi0;
            const lo = bits === 16 ? lo0 & 0xffff : lo0;
            const d = bits === 16 ? d0 & 0xffff : d0;
            for (const [m, signed] of [[div, false], [idiv, true]] as const) {
              m.cpu.regs[0] = lo;
              m.cpu.regs[2] = hi;
              m.cpu.regs[3] = d;
              runOnce(m, 0);
              const gotLo = bits === 16 ? m.cpu.regs16[0] : m.cpu.regs[0] >>> 0;
              const gotHi = bits === 16 ? m.cpu.regs16[4] : m.cpu.regs[2] >>> 0;
              const name = `${signed ? 'idiv' : 'div'}${bits} ${hi}:${lo}/${d}`;
              let n = B(hi) * span + B(lo);
              let dd = B(d);
              if (signed) {
                if (n >= span * span / 2n) n -= span * span;
                if (dd >= span / 2n) dd -= span;
              }
              const q = dd === 0n ? null : n / dd; // BigInt division truncates toward zero
              const fits = q !== null && (signed ? q >= -span / 2n && q < span / 2n : q < span);
              if (!fits) {
                bad.check(`${name} #DE`, faulted(m) ? 1 : 0, 1);
                bad.check(`${name} low unchanged`, gotLo, lo);
                bad.check(`${name} high unchanged`, gotHi, hi);
              } else {
                const r = n - q! * dd;
                bad.check(`${name} no fault`, faulted(m) ? 1 : 0, 0);
                bad.check(`${name} quotient`, gotLo, Number(((q! % span) + span) % span));
                bad.check(`${name} remainder`, gotHi, Number(((r % span) + span) % span));
              }
            }
          }
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('#DE goes through IVT vector 0 with the faulting IP pushed and FLAGS unchanged', () => {
    const m = machineFor([0x66, 0xf7, 0xf3]); // div ebx
    m.mem.write16(0, HANDLER); // vector 0 → 0000:HANDLER (a HLT); other vectors go elsewhere
    for (let v = 1; v < 32; v++) m.mem.write16(v * 4, HANDLER + 0x10);
    m.mem.write8(HANDLER + 0x10, 0xf4);
    m.cpu.regs[0] = 0x1234;
    m.cpu.regs[2] = 0x5678;
    m.cpu.regs[3] = 0;
    runOnce(m, SF | CF);
    expect(m.cpu.eip).toBe(HANDLER + 1);
    expect(m.mem.read16(0x8000 - 6)).toBe(CODE);
    expect(m.mem.read16(0x8000 - 4)).toBe(0);
    expect(m.mem.read16(0x8000 - 2) & ARITH).toBe(SF | CF);
    expect(m.cpu.regs[0]).toBe(0x1234);
    expect(m.cpu.regs[2]).toBe(0x5678);
  });

  it('idiv accepts the most negative quotient (−128, −32768, −2^31)', () => {
    const cases: [number[], number, number, number, number, number][] = [
      [[0xf6, 0xfb], 0xff80, 0, 1, 0xff, 0x80], // −128 / 1 → AL
      [[0xf7, 0xfb], 0x8000, 0xffff, 1, 0xffff, 0x8000],
      [[0x66, 0xf7, 0xfb], 0x80000000, 0xffffffff, 1, 0xffffffff, 0x80000000],
    ];
    for (const [code, eax, edx, ebx, mask, want] of cases) {
      const m = machineFor(code);
      m.cpu.regs[0] = eax;
      m.cpu.regs[2] = edx;
      m.cpu.regs[3] = ebx;
      runOnce(m, 0);
      expect(faulted(m)).toBe(false);
      expect(((m.cpu.regs[0] & mask) >>> 0)).toBe(want);
    }
  });

  it('div and idiv set AF and leave the other arithmetic flags (the 5 ÷ 2 test tells an Intel part from a Cyrix)', () => {
    for (const code of [[0xf6, 0xf3], [0xf6, 0xfb], [0xf7, 0xf3], [0x66, 0xf7, 0xfb]]) {
      const m = machineFor([0x9e, ...code, 0x9f]); // sahf ; div/idiv bl|bx|ebx ; lahf
      m.cpu.regs[0] = 5; // AH = 0: sahf clears SF ZF AF PF CF
      m.cpu.regs[2] = 0;
      m.cpu.regs[3] = 2;
      m.cpu.eip = CODE;
      m.cpu.setEflags(OF);
      m.cpu.run(5);
      expect(m.cpu.regs8[1], code.join(' ')).toBe(0x12);
      expect(m.cpu.getEflags() & OF).toBe(OF);
    }
  });

  it('undefined flags as the 80286 captures show: AF set, SF/ZF/PF of the high half, for every form', () => {
    const cases: [number[], number, number, number][] = [
      [[0xf6, 0xe3], 0x10, 0x10, CF | OF | AF], // mul bl: 0x0100 → high 0x01 (odd parity)
      [[0xf6, 0xe3], 0x02, 0x03, AF | ZF | PF], // 6: high 0x00
      [[0xf7, 0xeb], 0xffff, 0x0002, AF | SF | PF], // imul bx: −2 → DX = 0xffff, fits
      [[0x66, 0xf7, 0xe3], 0x80000000, 4, CF | OF | AF], // mul ebx: EDX = 2
      [[0x0f, 0xaf, 0xc3], 0x4000, 0x0004, CF | OF | AF], // imul ax, bx: 0x10000 → high 0x0001
      [[0x6b, 0xc3, 0xff], 0, 0x0003, AF | SF | PF], // imul ax, bx, −1: −3 → high 0xffff
    ];
    for (const [code, eax, ebx, want] of cases) {
      const m = machineFor(code);
      m.cpu.regs[0] = eax;
      m.cpu.regs[3] = ebx;
      runOnce(m, 0);
      expect(m.cpu.getEflags() & ARITH, code.join(' ')).toBe(want);
    }
  });
});
