// Every ModRM/SIB addressing form of the decoder, exercised through MOV (8B /r loads, 89 /r stores): the effective
// address and its default segment are computed here independently from SDM vol. 2 Tables 2-1, 2-2 and 2-3 and
// checked against where the CPU actually read or wrote.

import { describe, expect, it } from 'vitest';
import { AR_DB, AR_G, AR_P, AR_S, CS, DS, ES, FS, GS, SS } from '../../../engine/cpu/cpu';
import { flat32, realMode, type TestMachine } from './harness';
import { haltingVectors, recordExceptions, VECTOR_STUBS } from './move-fixtures';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

/** Runs one instruction placed at a fresh code address. */
function execute(m: TestMachine, bytes: number[], at: number): void {
  m.mem.load(at, Uint8Array.from(bytes));
  m.cpu.eip = at - m.cpu.segBase[CS];
  m.cpu.step();
}

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push((v >>> (8 * k)) & 0xff);
  return out;
}

describe('16-bit addressing (SDM 2 Table 2-1)', () => {
  // rm → [base, index]; rm 6 with mod 0 is disp16 alone.
  const FORMS: [number, number][] = [
    [EBX, ESI], [EBX, EDI], [EBP, ESI], [EBP, EDI], [ESI, -1], [EDI, -1], [EBP, -1], [EBX, -1],
  ];
  const REGISTER_SETS = [
    { bx: 0x1234, bp: 0x2345, si: 0x0111, di: 0x0222 },
    // sums past 0xFFFF wrap within the 64 KiB offset space
    { bx: 0xf000, bp: 0xff00, si: 0x2000, di: 0x1ff0 },
  ];
  const SEG_BASE = [0x30000, 0, 0x20000, 0x10000, 0x40000, 0x50000]; // ES CS SS DS FS GS

  function setup(): TestMachine {
    const m = realMode([]);
    m.cpu.setSegmentReal(DS, 0x1000);
    m.cpu.setSegmentReal(SS, 0x2000);
    m.cpu.setSegmentReal(ES, 0x3000);
    m.cpu.setSegmentReal(FS, 0x4000);
    m.cpu.setSegmentReal(GS, 0x5000);
    return m;
  }

  for (const regs of REGISTER_SETS) {
    for (let mod = 0; mod < 3; mod++) {
      for (let rm = 0; rm < 8; rm++) {
        for (const store of [false, true]) {
          it(`${store ? 'store' : 'load'} mod=${mod} rm=${rm} (bx=${regs.bx.toString(16)})`, () => {
            const m = setup();
            const { cpu, mem } = m;
            cpu.regs[EBX] = regs.bx;
            cpu.regs[EBP] = regs.bp;
            cpu.regs[ESI] = regs.si;
            cpu.regs[EDI] = regs.di;
            const disp = mod === 1 ? 0x80 : mod === 2 || rm === 6 ? 0xabcd : 0; // 0x80 = −128
            const dispBytes = mod === 1 ? [0x80] : mod === 2 || (mod === 0 && rm === 6) ? le(0xabcd, 2) : [];
            let ea: number;
            let seg = DS;
            if (mod === 0 && rm === 6) {
              ea = 0xabcd;
            } else {
              const [base, index] = FORMS[rm];
              const value = (r: number): number => (r === EBX ? regs.bx : r === EBP ? regs.bp : r === ESI ? regs.si : regs.di);
              ea = value(base) + (index >= 0 ? value(index) : 0) + (mod === 1 ? -128 : mod === 2 ? disp : 0);
              ea &= 0xffff;
              if (base === EBP) seg = SS;
            }
            const linear = SEG_BASE[seg] + ea;
            const op = store ? 0x89 : 0x8b;
            const modrm = (mod << 6) | (EAX << 3) | rm;
            if (store) {
              cpu.regs[EAX] = 0xbeef;
              execute(m, [op, modrm, ...dispBytes], 0x1000);
              expect(mem.peek(linear, 2)).toBe(0xbeef);
              // and nothing at the same offset in the other default segment
              const other = seg === SS ? SEG_BASE[DS] : SEG_BASE[SS];
              expect(mem.peek(other + ea, 2)).toBe(0);
            } else {
              mem.load(SEG_BASE[DS] + ea, Uint8Array.from(le(0xd5d5, 2)));
              mem.load(SEG_BASE[SS] + ea, Uint8Array.from(le(0x5555, 2)));
              execute(m, [op, modrm, ...dispBytes], 0x1000);
              expect(cpu.regs[EAX] & 0xffff).toBe(seg === SS ? 0x5555 : 0xd5d5);
            }
            expect(cpu.eip).toBe(0x1000 + 2 + dispBytes.length);
          });
        }
      }
    }
  }

  it('segment-override prefixes replace DS and the BP default SS alike', () => {
    const PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]; // ES CS SS DS FS GS
    for (let s = 0; s < 6; s++) {
      for (const rm of [2, 7]) {
        // mov ax, [bp+si+0x10] / [bx+0x10] with the override
        const m = setup();
        m.cpu.regs[EBX] = 0x3000;
        m.cpu.regs[EBP] = 0x3000;
        m.cpu.regs[ESI] = 0;
        const ea = 0x3010;
        for (let t = 0; t < 6; t++) m.mem.load(SEG_BASE[t] + ea, Uint8Array.from(le(0x100 + t, 2)));
        execute(m, [PREFIX[s], 0x8b, (1 << 6) | rm, 0x10], 0x1000);
        expect(m.cpu.regs[EAX] & 0xffff, `prefix ${PREFIX[s].toString(16)} rm ${rm}`).toBe(0x100 + s);
      }
    }
  });

  it('a 32-bit operand-size prefix loads a dword; without it only AX changes', () => {
    const m = setup();
    m.cpu.regs[EBX] = 0x100;
    m.cpu.regs[EAX] = 0x77777777;
    m.mem.load(0x10100, Uint8Array.from(le(0x89abcdef, 4)));
    execute(m, [0x8b, 0x07], 0x1000); // mov ax, [bx]
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x7777cdef);
    execute(m, [0x66, 0x8b, 0x07], 0x1010); // mov eax, [bx]
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x89abcdef);
  });

  it('a word at offset 0xFFFF faults: #GP through DS, #SS (12) through SS on a 386', () => {
    for (const [rm, vector] of [[7, 13], [6, 12]] as const) {
      const m = setup();
      haltingVectors(m);
      const ex = recordExceptions(m);
      m.cpu.regs[EBX] = 0xffff;
      m.cpu.regs[EBP] = 0xffff;
      m.mem.load(0x1000, Uint8Array.from([0x8b, (1 << 6) | rm, 0x00]));
      m.cpu.eip = 0x1000;
      m.cpu.run(10);
      expect(ex.map((e) => e.vector)).toEqual([vector]);
      expect(ex[0].eip).toBe(0x1000);
      expect(m.cpu.eip).toBe(VECTOR_STUBS + vector + 1);
      // the IP pushed is the faulting instruction's
      expect(m.mem.peek(0x20000 + m.cpu.sp, 2)).toBe(0x1000);
    }
  });
});

describe('32-bit addressing (SDM 2 Tables 2-2 and 2-3)', () => {
  const REG_VALUES = [0x100, 0x204, 0x308, 0x40c, 0x510, 0x614, 0x718, 0x81c];
  const DS_BASE = 0x100000, SS_BASE = 0x200000;

  function setup(): TestMachine {
    const m = flat32([]);
    const data32 = AR_P | AR_S | 0x3 | AR_DB | AR_G;
    m.cpu.loadSegmentCache(DS, 0x10, DS_BASE, 0xfffff, data32, true, 'loader');
    m.cpu.loadSegmentCache(SS, 0x10, SS_BASE, 0xfffff, data32, true, 'loader');
    return m;
  }

  function check(m: TestMachine, bytes: number[], ea: number, ss: boolean, label: string): void {
    const { cpu, mem } = m;
    for (let r = 0; r < 8; r++) cpu.regs[r] = REG_VALUES[r];
    mem.load(DS_BASE + ea, Uint8Array.from(le(0xd5d5d5d5, 4)));
    mem.load(SS_BASE + ea, Uint8Array.from(le(0x55555555, 4)));
    execute(m, [0x8b, ...bytes], 0x10000);
    expect(cpu.regs[EAX] >>> 0, label).toBe(ss ? 0x55555555 : 0xd5d5d5d5);
    expect(cpu.eip, label).toBe(0x10000 + 1 + bytes.length);
    mem.load(DS_BASE + ea, new Uint8Array(4));
    mem.load(SS_BASE + ea, new Uint8Array(4));
  }

  it('ModRM without SIB: every mod and rm', () => {
    const m = setup();
    for (let mod = 0; mod < 3; mod++) {
      for (let rm = 0; rm < 8; rm++) {
        if (rm === 4) continue;
        const modrm = (mod << 6) | rm;
        if (mod === 0 && rm === 5) {
          check(m, [modrm, ...le(0x12340, 4)], 0x12340, false, 'disp32');
          continue;
        }
        const disp = mod === 1 ? -0x10 : mod === 2 ? 0x12340 : 0;
        const dispBytes = mod === 1 ? [0xf0] : mod === 2 ? le(disp, 4) : [];
        check(m, [modrm, ...dispBytes], REG_VALUES[rm] + disp, rm === EBP, `mod ${mod} rm ${rm}`);
      }
    }
  });

  it('SIB: every scale, index and base in every mod', () => {
    const m = setup();
    for (let mod = 0; mod < 3; mod++) {
      for (let scale = 0; scale < 4; scale++) {
        for (let index = 0; index < 8; index++) {
          for (let base = 0; base < 8; base++) {
            const sib = (scale << 6) | (index << 3) | base;
            const noBase = base === 5 && mod === 0;
            const disp = noBase || mod === 2 ? 0x12340 : mod === 1 ? -0x10 : 0;
            const dispBytes = noBase || mod === 2 ? le(disp, 4) : mod === 1 ? [0xf0] : [];
            const ea = (noBase ? 0 : REG_VALUES[base]) + (index === 4 ? 0 : REG_VALUES[index] * (1 << scale)) + disp;
            const ss = !noBase && (base === ESP || base === EBP);
            check(m, [(mod << 6) | 4, sib, ...dispBytes], ea, ss, `mod ${mod} scale ${scale} index ${index} base ${base}`);
          }
        }
      }
    }
  });

  it('32-bit sums wrap at 4 GiB', () => {
    const m = setup();
    const { cpu, mem } = m;
    for (let r = 0; r < 8; r++) cpu.regs[r] = REG_VALUES[r];
    cpu.regs[EBX] = 0xfffffff0 | 0;
    mem.load(DS_BASE + 0x10, Uint8Array.from(le(0xcafef00d, 4)));
    execute(m, [0x8b, 0x43, 0x20], 0x10000); // mov eax, [ebx+0x20]
    expect(cpu.regs[EAX] >>> 0).toBe(0xcafef00d);
  });

  it('an address-size prefix in real mode selects 32-bit forms, and the offset is still limit-checked', () => {
    const m = realMode([]);
    haltingVectors(m);
    const ex = recordExceptions(m);
    m.cpu.regs[ECX] = 0x10;
    m.cpu.regs[EDX] = 0x200;
    m.mem.load(0x240, Uint8Array.from(le(0x4321, 2)));
    execute(m, [0x67, 0x8b, 0x04, 0x8a], 0x1000); // mov ax, [edx+ecx*4]
    expect(m.cpu.regs[EAX] & 0xffff).toBe(0x4321);
    expect(m.cpu.eip).toBe(0x1004);
    m.cpu.regs[EDX] = 0x10000; // beyond the 64 KiB real-mode limit → #GP(0)
    m.mem.load(0x1010, Uint8Array.from([0x67, 0x8b, 0x04, 0x8a]));
    m.cpu.eip = 0x1010;
    m.cpu.run(5);
    expect(ex.map((e) => [e.vector, e.eip])).toEqual([[13, 0x1010]]);
  });

  it('a 16-bit operand-size prefix in 32-bit code keeps the upper half of EAX', () => {
    const m = setup();
    m.cpu.regs[EBX] = 0;
    m.cpu.regs[EAX] = 0x11112222;
    m.mem.load(DS_BASE, Uint8Array.from(le(0xaaaabbbb, 4)));
    execute(m, [0x66, 0x8b, 0x03], 0x10000);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x1111bbbb);
  });
});
