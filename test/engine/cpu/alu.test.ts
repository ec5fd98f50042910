// ALU operations (00–3F, 80–83, 84/85, A8/A9, F6/F7 /0–/3, FE/FF /0–/1, 40–4F): results and all six arithmetic
// flags over every pair of 8-bit operands, both carry states, against plain integer arithmetic on sign-extended
// values; 16/32-bit edges; memory forms; fault rollback.

import { describe, expect, it } from 'vitest';
import { flat32 } from './harness';
import { AF, ARITH, CF, CODE, faulted, machineFor, Mismatches, OF, PF, runOnce, SF, sx, szp, ZF } from './alu-exec';

const OPS = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const MASK: Record<number, number> = { 8: 0xff, 16: 0xffff, 32: 0xffffffff };

/** Reference: result and flags of ALU op `op` on unsigned a, b of `bits` width with carry-in `cin`. */
function reference(op: number, a: number, b: number, cin: number, bits: number): { res: number; flags: number } {
  const span = 2 ** bits;
  const min = -(2 ** (bits - 1));
  const max = 2 ** (bits - 1) - 1;
  let wide: number;
  let flags = 0;
  switch (OPS[op]) {
    case 'add':
    case 'adc': {
      const c = OPS[op] === 'adc' ? cin : 0;
      wide = a + b + c;
      const s = sx(a, bits) + sx(b, bits) + c;
      if (wide >= span) flags |= CF;
      if (s < min || s > max) flags |= OF;
      if ((a % 16) + (b % 16) + c > 15) flags |= AF;
      break;
    }
    case 'sub':
    case 'cmp':
    case 'sbb': {
      const c = OPS[op] === 'sbb' ? cin : 0;
      wide = a - b - c;
      const s = sx(a, bits) - sx(b, bits) - c;
      if (wide < 0) flags |= CF;
      if (s < min || s > max) flags |= OF;
      if ((a % 16) - (b % 16) - c < 0) flags |= AF;
      break;
    }
    case 'or': wide = Number(BigInt(a) | BigInt(b)); break;
    case 'and': wide = Number(BigInt(a) & BigInt(b)); break;
    default: wide = Number(BigInt(a) ^ BigInt(b)); break;
  }
  const res = ((wide % span) + span) % span;
  return { res, flags: flags | szp(res, bits) };
}

describe('ALU operations over all 8-bit operand pairs', () => {
  for (let op = 0; op < 8; op++) {
    it(`${OPS[op]} al, dl: every a, b and CF`, () => {
      const m = machineFor([(op << 3) | 0, 0xd0]); // op al, dl
      const { cpu } = m;
      const bad = new Mismatches();
      for (let cin = 0; cin < 2; cin++) {
        for (let a = 0; a < 256; a++) {
          for (let b = 0; b < 256; b++) {
            cpu.regs8[0] = a;
            cpu.regs8[8] = b;
            runOnce(m, cin ? CF : 0);
            const want = reference(op, a, b, cin, 8);
            const wantAl = OPS[op] === 'cmp' ? a : want.res;
            bad.check(`${OPS[op]} ${a},${b} cf=${cin} AL`, cpu.regs8[0], wantAl);
            bad.check(`${OPS[op]} ${a},${b} cf=${cin} flags`, cpu.getEflags() & ARITH, want.flags);
          }
        }
      }
      expect(bad.count, bad.toString()).toBe(0);
    });
  }

  it('inc/dec al: every value, CF preserved', () => {
    for (const [name, code, delta] of [['inc', [0xfe, 0xc0], 1], ['dec', [0xfe, 0xc8], -1]] as const) {
      const m = machineFor([...code]);
      const bad = new Mismatches();
      for (let cin = 0; cin < 2; cin++) {
        for (let a = 0; a < 256; a++) {
          m.cpu.regs8[0] = a;
          runOnce(m, cin ? CF : 0);
          const want = reference(delta > 0 ? 0 : 5, a, 1, 0, 8);
          bad.check(`${name} ${a} AL`, m.cpu.regs8[0], want.res);
          bad.check(`${name} ${a} flags`, m.cpu.getEflags() & ARITH, (want.flags & ~CF) | cin);
        }
      }
      expect(bad.count, bad.toString()).toBe(0);
    }
  });

  it('neg al / not al: every value', () => {
    const neg = machineFor([0xf6, 0xd8]);
    const not = machineFor([0xf6, 0xd0]);
    const bad = new Mismatches();
    for (let a = 0; a < 256; a++) {
      neg.cpu.regs8[0] = a;
      runOnce(neg, 0);
      const want = reference(5, 0, a, 0, 8); // 0 − a
      bad.check(`neg ${a}`, neg.cpu.regs8[0], want.res);
      bad.check(`neg ${a} flags`, neg.cpu.getEflags() & ARITH, want.flags);
      not.cpu.regs8[0] = a;
      runOnce(not, ARITH);
      bad.check(`not ${a}`, not.cpu.regs8[0], 255 - a);
      bad.check(`not ${a} flags unchanged`, not.cpu.getEflags() & ARITH, ARITH);
    }
    expect(bad.count, bad.toString()).toBe(0);
  });
});

const edges16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff];
const edges32 = [0, 1, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];

describe('ALU operations at 16/32-bit edges', () => {
  for (const [bits, edges, prefix] of [[16, edges16, []], [32, edges32, [0x66]]] as const) {
    it(`${bits}-bit ax/eax, dx/edx for every op`, () => {
      const bad = new Mismatches();
      for (let op = 0; op < 8; op++) {
        const m = machineFor([...prefix, (op << 3) | 1, 0xd0]);
        for (const cin of [0, 1]) {
          for (const a of edges) {
            for (const b of edges) {
              m.cpu.regs[0] = a;
              m.cpu.regs[2] = b;
              runOnce(m, cin ? CF : 0);
              const want = reference(op, a, b, cin, bits);
              const got = bits === 32 ? m.cpu.regs[0] >>> 0 : m.cpu.regs16[0];
              bad.check(`${OPS[op]}${bits} ${a},${b},${cin}`, got, OPS[op] === 'cmp' ? a : want.res);
              bad.check(`${OPS[op]}${bits} ${a},${b},${cin} flags`, m.cpu.getEflags() & ARITH, want.flags);
            }
          }
        }
      }
      expect(bad.count, bad.toString()).toBe(0);
    });
  }

  it('32-bit memory destination and memory source at the edges, every op', () => {
    const bad = new Mismatches();
    for (let op = 0; op < 8; op++) {
      const toMem = machineFor([0x66, (op << 3) | 1, 0x06, 0x00, 0x20]); // op dword [0x2000], eax
      const fromMem = machineFor([0x66, (op << 3) | 3, 0x06, 0x00, 0x20]); // op eax, dword [0x2000]
      for (const a of edges32) {
        for (const b of edges32) {
          toMem.mem.write32(0x2000, a);
          toMem.cpu.regs[0] = b;
          runOnce(toMem, 0);
          const want = reference(op, a, b, 0, 32);
          bad.check(`${OPS[op]} [mem]=${a}, ${b}`, toMem.mem.read32(0x2000) >>> 0, OPS[op] === 'cmp' ? a : want.res);
          bad.check(`${OPS[op]} [mem]=${a}, ${b} flags`, toMem.cpu.getEflags() & ARITH, want.flags);
          fromMem.mem.write32(0x2000, b);
          fromMem.cpu.regs[0] = a;
          runOnce(fromMem, 0);
          bad.check(`${OPS[op]} ${a}, [mem]=${b} flags`, fromMem.cpu.getEflags() & ARITH, want.flags);
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('16-bit op leaves the upper half of EAX alone', () => {
    const m = machineFor([0x01, 0xd0]); // add ax, dx
    m.cpu.regs[0] = 0x1234ffff;
    m.cpu.regs[2] = 1;
    runOnce(m, 0);
    expect(m.cpu.regs[0] >>> 0).toBe(0x12340000);
    expect(m.cpu.getEflags() & (CF | ZF)).toBe(CF | ZF);
  });

  it('inc/dec 32-bit wrap: 0x7fffffff+1 overflows, 0xffffffff+1 keeps CF', () => {
    const m = machineFor([0x66, 0x40]); // inc eax
    m.cpu.regs[0] = 0x7fffffff;
    runOnce(m, 0);
    expect(m.cpu.regs[0] >>> 0).toBe(0x80000000);
    expect(m.cpu.getEflags() & ARITH).toBe(OF | SF | AF | PF);
    m.cpu.regs[0] = -1;
    runOnce(m, CF);
    expect(m.cpu.regs[0]).toBe(0);
    expect(m.cpu.getEflags() & ARITH).toBe(CF | ZF | AF | PF);
    const d = machineFor([0x66, 0x48]); // dec eax
    d.cpu.regs[0] = 0x80000000 | 0;
    runOnce(d, 0);
    expect(d.cpu.regs[0] >>> 0).toBe(0x7fffffff);
    expect(d.cpu.getEflags() & ARITH).toBe(OF | AF | PF);
  });
});

describe('ALU forms', () => {
  it('memory destination, register source, and immediate forms (80, 81, 83 sign-extended, 04/05)', () => {
    // add byte [0x2000], 0x90 ; sub word [0x2002], -2 (83 /5 ib) ; adc ax, 0x1234 ; and [0x2004], dx ; cmp dl, [0x2006]
    const code = [
      0x80, 0x06, 0x00, 0x20, 0x90,
      0x83, 0x2e, 0x02, 0x20, 0xfe,
      0x15, 0x34, 0x12,
      0x21, 0x16, 0x04, 0x20,
      0x3a, 0x16, 0x06, 0x20,
    ];
    const m = machineFor(code);
    m.mem.write8(0x2000, 0x80);
    m.mem.write16(0x2002, 0x0005);
    m.mem.write16(0x2004, 0xf0f0);
    m.mem.write8(0x2006, 0x33);
    m.cpu.regs[0] = 0x0001;
    m.cpu.regs[2] = 0x3c33;
    m.cpu.eip = CODE;
    m.cpu.setEflags(0);
    m.cpu.run(10);
    expect(m.mem.read8(0x2000)).toBe(0x10); // 0x80 + 0x90 = 0x110
    expect(m.mem.read16(0x2002)).toBe(0x0007); // 5 − (−2)
    expect(m.cpu.regs16[0]).toBe(0x1236); // 1 + 0x1234 + CF (5 − 0xfffe borrowed)
    expect(m.mem.read16(0x2004)).toBe(0x3030);
    expect(m.cpu.getEflags() & ARITH).toBe(ZF | PF); // cmp 0x33, 0x33
  });

  it('32-bit protected mode: SIB memory operand, 32-bit default operand size, 66 for 16-bit', () => {
    // add [ebx+ecx*4+8], eax ; sbb dx, [ebx+8] (66 prefix) ; test dword [ebx+ecx*4+8], 0x80000000 ; hlt
    const code = [0x01, 0x44, 0x8b, 0x08, 0x66, 0x1b, 0x53, 0x08, 0xf7, 0x44, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x80, 0xf4];
    const m = flat32(code);
    m.mem.write32(0x30010, 0x7fffffff);
    m.mem.write32(0x30008, 0x00000001);
    m.cpu.regs[3] = 0x30000;
    m.cpu.regs[1] = 2;
    m.cpu.regs[0] = 1;
    m.cpu.regs[2] = 0x12340000;
    m.cpu.run(10);
    expect(m.mem.read32(0x30010) >>> 0).toBe(0x80000000);
    expect(m.cpu.regs[2] >>> 0).toBe(0x1234ffff); // 0 − 1 − CF(0): add gave no carry
    expect(m.cpu.getEflags() & ARITH).toBe(SF | PF); // test: 0x80000000 & 0x80000000
  });

  it('0x82 is an alias of 0x80 and 83 sign-extends its immediate', () => {
    const m = machineFor([0x82, 0xc0, 0x01, 0x83, 0xc3, 0xff]); // add al,1 ; add bx,-1
    m.cpu.regs[0] = 0xff;
    m.cpu.regs[3] = 0x0001;
    m.cpu.eip = CODE;
    m.cpu.run(3);
    expect(m.cpu.regs8[0]).toBe(0);
    expect(m.cpu.regs16[6]).toBe(0);
    expect(m.cpu.getEflags() & (CF | ZF)).toBe(CF | ZF);
  });

  it('test forms compute AND flags without writing', () => {
    for (const code of [[0x84, 0xd0], [0xa8, 0x0f], [0xf6, 0xc0, 0x0f], [0xf6, 0xc8, 0x0f]]) {
      const m = machineFor(code); // test al,dl / test al,0f / f6 /0 / f6 /1 (alias)
      m.cpu.regs[0] = 0xf0;
      m.cpu.regs[2] = 0x0f;
      runOnce(m, CF | OF | AF);
      expect(m.cpu.regs8[0]).toBe(0xf0);
      expect(m.cpu.getEflags() & ARITH).toBe(ZF | PF);
    }
  });

  it('a memory destination that faults leaves the operand and the flags unchanged', () => {
    // add word [0xffff], ax faults (#GP at the real-mode limit, SDM 3A §20.1.2); the pushed FLAGS are the old ones.
    const m = machineFor([0x01, 0x06, 0xff, 0xff]);
    m.cpu.regs[0] = 0x1234;
    runOnce(m, CF | ZF);
    expect(faulted(m)).toBe(true);
    expect(m.mem.read16(0x8000 - 6)).toBe(CODE); // IP of the faulting instruction
    expect(m.mem.read16(0x8000 - 2) & ARITH).toBe(CF | ZF);
  });
});

describe('flag and accumulator instructions', () => {
  it('cmc clc stc cld std', () => {
    const run = (op: number, flags: number) => {
      const m = machineFor([op]);
      runOnce(m, flags);
      return m.cpu.getEflags();
    };
    expect(run(0xf5, CF) & CF).toBe(0);
    expect(run(0xf5, 0) & CF).toBe(CF);
    expect(run(0xf8, CF | ZF) & (CF | ZF)).toBe(ZF);
    expect(run(0xf9, 0) & CF).toBe(CF);
    expect(run(0xfd, 0) & 0x400).toBe(0x400);
    expect(run(0xfc, 0x400) & 0x400).toBe(0);
  });

  it('cmc after a lazily evaluated add uses the computed carry', () => {
    const m = machineFor([0x00, 0xd0, 0xf5]); // add al,dl ; cmc
    m.cpu.regs[0] = 0xff;
    m.cpu.regs[2] = 0x01;
    runOnce(m, 0);
    expect(m.cpu.getEflags() & ARITH).toBe(ZF | PF | AF);
  });

  it('lahf / sahf move SF ZF AF PF CF and keep the reserved bits fixed', () => {
    const m = machineFor([0x9f]);
    runOnce(m, SF | ZF | AF | PF | CF | OF);
    expect(m.cpu.regs8[1]).toBe(0xd7);
    const s = machineFor([0x9e]);
    s.cpu.regs[0] = 0xff00;
    runOnce(s, OF);
    expect(s.cpu.getEflags() & 0xfff).toBe(OF | SF | ZF | AF | PF | CF | 0x2);
    s.cpu.regs[0] = 0x0000;
    runOnce(s, ARITH);
    expect(s.cpu.getEflags() & 0xfff).toBe(OF | 0x2);
  });

  it('cbw/cwde and cwd/cdq by operand size', () => {
    const cases: [number[], number, number, number, number][] = [
      [[0x98], 0x12345680, 0, 0x1234ff80, 0], // cbw
      [[0x98], 0x1234567f, 0, 0x1234007f, 0],
      [[0x66, 0x98], 0x00008000, 0, 0xffff8000, 0], // cwde
      [[0x99], 0x00008000, 0x12340000, 0x00008000, 0x1234ffff], // cwd
      [[0x99], 0x00007fff, 0x1234ffff, 0x00007fff, 0x12340000],
      [[0x66, 0x99], 0x80000000, 0, 0x80000000, 0xffffffff], // cdq
      [[0x66, 0x99], 0x7fffffff, 0xffffffff, 0x7fffffff, 0],
    ];
    for (const [code, eax, edx, wantEax, wantEdx] of cases) {
      const m = machineFor(code);
      m.cpu.regs[0] = eax;
      m.cpu.regs[2] = edx;
      runOnce(m, 0);
      expect([m.cpu.regs[0] >>> 0, m.cpu.regs[2] >>> 0]).toEqual([wantEax >>> 0, wantEdx >>> 0]);
    }
  });

  it('setcc writes 1 or 0 for each of the 16 conditions', () => {
    // Flag states and the conditions they make true (o no b ae e ne be a s ns p np l ge le g).
    const states = [0, CF, ZF, SF, OF, PF, SF | OF, ZF | SF, CF | ZF | SF | OF | PF];
    for (const f of states) {
      const cf = (f & CF) !== 0, zf = (f & ZF) !== 0, sf = (f & SF) !== 0, of = (f & OF) !== 0, pf = (f & PF) !== 0;
      const truth = [of, !of, cf, !cf, zf, !zf, cf || zf, !(cf || zf), sf, !sf, pf, !pf, sf !== of, sf === of,
        zf || sf !== of, !(zf || sf !== of)];
      for (let cc = 0; cc < 16; cc++) {
        const m = machineFor([0x0f, 0x90 + cc, 0xc1]); // setcc cl
        m.cpu.regs[1] = 0x5555;
        runOnce(m, f);
        expect(m.cpu.regs16[2], `cc ${cc} flags ${f}`).toBe(0x5500 | (truth[cc] ? 1 : 0));
      }
    }
  });

  it('setcc ignores the ModRM reg field', () => {
    const m = machineFor([0x0f, 0x94, 0xf9]); // sete cl with reg = 7
    runOnce(m, ZF);
    expect(m.cpu.regs8[4]).toBe(1);
    expect(m.cpu.eip).toBe(CODE + 4);
  });

  it('salc sets AL from CF', () => {
    const m = machineFor([0xd6]);
    m.cpu.regs[0] = 0x1234;
    runOnce(m, CF);
    expect(m.cpu.regs16[0]).toBe(0x12ff);
    runOnce(m, ZF);
    expect(m.cpu.regs16[0]).toBe(0x1200);
    expect(m.cpu.getEflags() & ARITH).toBe(ZF);
  });
});
