// BT/BTS/BTR/BTC (register and immediate offsets, register and memory operands incl. offsets that reach beyond the
// operand), BSF/BSR, BSWAP, XADD, CMPXCHG and CMPXCHG8B.

import { describe, expect, it } from 'vitest';
import { ARITH, CF, CODE, HANDLER, machineFor, Mismatches, OF, PF, runOnce, SF, ZF } from './alu-exec';
import { flat32 } from './harness';

const BT_OPS = [
  { name: 'bt', reg: 0xa3, imm: 4, apply: (v: number, _m: number) => v },
  { name: 'bts', reg: 0xab, imm: 5, apply: (v: number, m: number) => v | m },
  { name: 'btr', reg: 0xb3, imm: 6, apply: (v: number, m: number) => v & ~m },
  { name: 'btc', reg: 0xbb, imm: 7, apply: (v: number, m: number) => v ^ m },
];

describe('BT, BTS, BTR, BTC', () => {
  it('register operand: every offset 0…63 (taken modulo the width), register and immediate forms', () => {
    const bad = new Mismatches();
    for (const op of BT_OPS) {
      for (const [bits, prefix] of [[16, []], [32, [0x66]]] as const) {
        const byReg = machineFor([...prefix, 0x0f, op.reg, 0xc8]); // bt? ax, cx
        for (let offset = 0; offset < 64; offset++) {
          const byImm = machineFor([...prefix, 0x0f, 0xba, 0xc0 | (op.imm << 3), offset]); // bt? ax, imm8
          for (const v of [0, 0xffffffff, 0xa5a5a5a5, 0x12345678]) {
            for (const m of [byReg, byImm]) {
              m.cpu.regs[0] = v;
              m.cpu.regs[1] = offset;
              runOnce(m, ZF | OF);
              const bit = offset % bits;
              const before = bits === 16 ? v & 0xffff : v >>> 0;
              const want = bits === 16 ? op.apply(before, 1 << bit) & 0xffff : op.apply(before, 1 << bit) >>> 0;
              const got = bits === 16 ? m.cpu.regs16[0] : m.cpu.regs[0] >>> 0;
              const name = `${op.name}${bits} ${v.toString(16)} bit ${offset} ${m === byReg ? 'reg' : 'imm'}`;
              bad.check(name, got, want);
              bad.check(`${name} CF`, m.cpu.getEflags() & CF, Math.floor(before / 2 ** bit) % 2);
              bad.check(`${name} ZF unaffected`, m.cpu.getEflags() & ZF, ZF);
            }
          }
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('memory operand with a register offset addresses memory beyond the operand (signed offset)', () => {
    const bad = new Mismatches();
    for (const op of BT_OPS) {
      for (const [bits, prefix] of [[16, []], [32, [0x66]]] as const) {
        const m = machineFor([...prefix, 0x0f, op.reg, 0x0e, 0x00, 0x51]); // bt? [0x5100], cx
        for (const offset of [0, 5, 31, 32, 100, -1, -17, -100, 0x7fff]) {
          for (let k = 0x4000; k < 0x6200; k++) m.mem.write8(k, (k * 37) & 0xff);
          m.cpu.regs[1] = offset;
          runOnce(m, 0);
          const signedOffset = bits === 16 ? ((offset & 0xffff) << 16) >> 16 : offset;
          const byteAddr = 0x5100 + Math.floor(signedOffset / 8);
          const bit = ((signedOffset % 8) + 8) % 8;
          const original = (byteAddr * 37) & 0xff;
          const name = `${op.name}${bits} [0x5100] bit ${offset}`;
          bad.check(`${name} CF`, m.cpu.getEflags() & CF, (original >> bit) & 1);
          bad.check(`${name} byte`, m.mem.read8(byteAddr), op.apply(original, 1 << bit) & 0xff);
          // every other byte unchanged
          let changed = 0;
          for (let k = 0x4000; k < 0x6200; k++) if (k !== byteAddr && m.mem.read8(k) !== ((k * 37) & 0xff)) changed++;
          bad.check(`${name} other bytes`, changed, 0);
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('memory operand with an immediate offset stays within the operand', () => {
    const m = machineFor([0x66, 0x0f, 0xba, 0x2e, 0x00, 0x21, 0x41]); // bts dword [0x2100], 65 → bit 1
    m.mem.write32(0x2100, 0);
    runOnce(m, 0);
    expect(m.mem.read32(0x2100)).toBe(2);
    expect(m.mem.read32(0x2108)).toBe(0);
  });

  it('32-bit addressing: a large negative offset reaches below the base', () => {
    const m = flat32([0x0f, 0xa3, 0x0b, 0xf4]); // bt [ebx], ecx ; hlt
    m.cpu.regs[3] = 0x20000;
    m.cpu.regs[1] = -8 * 0x1000 + 3; // 0x1000 bytes below, bit 3
    m.mem.write8(0x20000 - 0x1000, 0x08);
    m.cpu.run(5);
    expect(m.cpu.getEflags() & CF).toBe(CF);
  });
});

describe('BSF and BSR', () => {
  it('every single-bit and two-bit value, 16 and 32 bits', () => {
    const bad = new Mismatches();
    for (const [bits, prefix] of [[16, []], [32, [0x66]]] as const) {
      const bsf = machineFor([...prefix, 0x0f, 0xbc, 0xc8]); // bsf cx, ax
      const bsr = machineFor([...prefix, 0x0f, 0xbd, 0xc8]); // bsr cx, ax
      for (let lo = 0; lo < bits; lo++) {
        for (let hi = lo; hi < bits; hi++) {
          const v = (2 ** lo + (hi > lo ? 2 ** hi : 0)) >>> 0;
          for (const [m, want] of [[bsf, lo], [bsr, hi]] as const) {
            m.cpu.regs[0] = v;
            runOnce(m, ZF);
            bad.check(`${m === bsf ? 'bsf' : 'bsr'}${bits} ${v.toString(16)}`, bits === 16 ? m.cpu.regs16[2] : m.cpu.regs[1], want);
            bad.check(`ZF clear`, m.cpu.getEflags() & ZF, 0);
          }
        }
      }
    }
    expect(bad.count, bad.toString()).toBe(0);
  });

  it('a zero source sets ZF and leaves the destination unchanged', () => {
    for (const op of [0xbc, 0xbd]) {
      const m = machineFor([0x66, 0x0f, op, 0xc8]);
      m.cpu.regs[0] = 0;
      m.cpu.regs[1] = 0x12345678;
      runOnce(m, 0);
      expect(m.cpu.regs[1]).toBe(0x12345678);
      expect(m.cpu.getEflags() & ZF).toBe(ZF);
    }
  });
});

describe('BSWAP, XADD, CMPXCHG, CMPXCHG8B', () => {
  it('bswap reverses the bytes of a 32-bit register; the 16-bit form clears the low word', () => {
    const m = machineFor([0x66, 0x0f, 0xcb]); // bswap ebx
    m.cpu.regs[3] = 0x12345678;
    runOnce(m, 0);
    expect(m.cpu.regs[3] >>> 0).toBe(0x78563412);
    const w = machineFor([0x0f, 0xcb]); // bswap bx (undefined; 486 behaviour)
    w.cpu.regs[3] = 0x12345678;
    runOnce(w, 0);
    expect(w.cpu.regs[3] >>> 0).toBe(0x12340000);
  });

  it('xadd exchanges and adds, with ADD flags, on registers and memory', () => {
    const m = machineFor([0x0f, 0xc1, 0xd8]); // xadd ax, bx
    m.cpu.regs[0] = 0xffff;
    m.cpu.regs[3] = 0x0001;
    runOnce(m, 0);
    expect([m.cpu.regs16[0], m.cpu.regs16[6]]).toEqual([0x0000, 0xffff]);
    expect(m.cpu.getEflags() & ARITH).toBe(CF | ZF | PF | 0x10);
    const mm = machineFor([0x0f, 0xc0, 0x1e, 0x00, 0x20]); // xadd [0x2000], bl
    mm.mem.write8(0x2000, 0x7f);
    mm.cpu.regs[3] = 0x01;
    runOnce(mm, 0);
    expect(mm.mem.read8(0x2000)).toBe(0x80);
    expect(mm.cpu.regs8[12]).toBe(0x7f);
    expect(mm.cpu.getEflags() & (OF | SF)).toBe(OF | SF);
  });

  it('xadd with the same register for both operands leaves the sum', () => {
    const m = machineFor([0x66, 0x0f, 0xc1, 0xc0]); // xadd eax, eax
    m.cpu.regs[0] = 21;
    runOnce(m, 0);
    expect(m.cpu.regs[0]).toBe(42);
  });

  it('cmpxchg: equal stores the source, unequal loads the accumulator; memory is written either way', () => {
    const m = machineFor([0x66, 0x0f, 0xb1, 0x1e, 0x00, 0x20]); // cmpxchg [0x2000], ebx
    m.mem.write32(0x2000, 0x11111111);
    m.cpu.regs[0] = 0x11111111;
    m.cpu.regs[3] = 0x22222222;
    runOnce(m, 0);
    expect(m.mem.read32(0x2000)).toBe(0x22222222);
    expect(m.cpu.getEflags() & ZF).toBe(ZF);
    m.cpu.regs[0] = 0x33333333;
    runOnce(m, ZF);
    expect(m.cpu.regs[0]).toBe(0x22222222);
    expect(m.mem.read32(0x2000)).toBe(0x22222222);
    expect(m.cpu.getEflags() & (ZF | CF)).toBe(0); // 0x33333333 − 0x22222222: no borrow
  });

  it('cmpxchg on a read-only-at-limit operand faults before changing the accumulator', () => {
    const m = machineFor([0x0f, 0xb1, 0x1e, 0xff, 0xff]); // cmpxchg [0xffff], bx: word at the real-mode limit
    m.cpu.regs[0] = 0x1234;
    runOnce(m, 0);
    expect(m.cpu.eip).not.toBe(CODE + 5);
    expect(m.cpu.regs16[0]).toBe(0x1234);
  });

  it('faulting stores leave registers and flags unchanged (xadd, bts, shl, neg on a word at the real-mode limit)', () => {
    const cases = [
      [0x0f, 0xc1, 0x06, 0xff, 0xff], // xadd [0xffff], ax
      [0x0f, 0xab, 0x0e, 0xff, 0xff], // bts [0xffff], cx (cx = 0: no displacement)
      [0xd1, 0x26, 0xff, 0xff], // shl word [0xffff], 1
      [0xf7, 0x1e, 0xff, 0xff], // neg word [0xffff]
      [0x0f, 0xa4, 0x06, 0xff, 0xff, 0x04], // shld [0xffff], ax, 4
    ];
    for (const code of cases) {
      const m = machineFor(code);
      m.cpu.regs[0] = 0x1234;
      runOnce(m, ZF | CF);
      expect(m.cpu.eip, code.join(' ')).toBe(HANDLER + 1);
      expect(m.mem.read16(0x8000 - 6)).toBe(CODE);
      expect(m.mem.read16(0x8000 - 2) & ARITH).toBe(ZF | CF);
      expect(m.cpu.regs[0]).toBe(0x1234);
    }
  });

  it('cmpxchg8b compares EDX:EAX and stores ECX:EBX, or loads EDX:EAX', () => {
    const m = machineFor([0x0f, 0xc7, 0x0e, 0x00, 0x20]); // cmpxchg8b [0x2000]
    m.mem.write32(0x2000, 0xaaaaaaaa);
    m.mem.write32(0x2004, 0xbbbbbbbb);
    m.cpu.regs[0] = 0xaaaaaaaa | 0;
    m.cpu.regs[2] = 0xbbbbbbbb | 0;
    m.cpu.regs[3] = 0x11111111;
    m.cpu.regs[1] = 0x22222222;
    runOnce(m, 0);
    expect([m.mem.read32(0x2000) >>> 0, m.mem.read32(0x2004) >>> 0]).toEqual([0x11111111, 0x22222222]);
    expect(m.cpu.getEflags() & ZF).toBe(ZF);
    runOnce(m, ZF | CF);
    expect([m.cpu.regs[0], m.cpu.regs[2]]).toEqual([0x11111111, 0x22222222]);
    expect(m.cpu.getEflags() & (ZF | CF)).toBe(CF);
  });

  it('the 486 additions raise #UD (vector 6) on the 386 model; cmpxchg8b with a register operand raises #UD', () => {
    for (const code of [[0x66, 0x0f, 0xcb], [0x0f, 0xc1, 0xd8], [0x0f, 0xb1, 0xd8], [0x0f, 0xc7, 0x0e, 0x00, 0x20]]) {
      const m = machineFor(code, '386');
      m.mem.write16(6 * 4, HANDLER + 0x10);
      m.mem.write8(HANDLER + 0x10, 0xf4);
      m.cpu.regs[0] = 0x1234;
      runOnce(m, 0);
      expect(m.cpu.eip, code.join(' ')).toBe(HANDLER + 0x11);
      expect(m.cpu.regs[0]).toBe(0x1234);
    }
    const r = machineFor([0x0f, 0xc7, 0xc8]); // cmpxchg8b with mod = 3
    r.mem.write16(6 * 4, HANDLER + 0x10);
    r.mem.write8(HANDLER + 0x10, 0xf4);
    runOnce(r, 0);
    expect(r.cpu.eip).toBe(HANDLER + 0x11);
  });
});
