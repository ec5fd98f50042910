// The specialised MOV handlers and the per-form effective addresses of ops/fast.ts against the table's handlers, and
// the run loop's CS limit check on linked instructions (cpu.ts): each case runs once with specialisation and once
// without, from the same registers and memory, and must leave the same registers, flags, memory and exceptions.

import { describe, expect, it } from 'vitest';
import { CS, DS, SS, AR_P, AR_S, AR_DB, AR_G } from '../../../engine/cpu/cpu';
import { HANDLERS } from '../../../engine/cpu/ops';
import { CpuFault } from '../../../engine/cpu/faults';
import { assemble, HAS_NASM, recordExceptions, type RecordedException } from './move-fixtures';
import { flat32, type TestMachine } from './harness';

const CODE = 0x10000;
const DATA = 0x20000;
const DATA32 = AR_P | AR_S | 0x3 | AR_DB | AR_G;

/** Register values that keep most addresses inside the data area, plus a few that wrap or leave a small segment. */
const REGISTER_SETS: number[][] = [
  [0x11223344, 0x10, 0x8, DATA, 0x90000, DATA + 0x40, 0x20, 0x3c],
  [0xffffffff, 0x7fffffff, 0x80000000, DATA + 0x100, 0x90000, DATA + 0x80, 0x4, 0x1],
  [0, 0xfffffff0, 0x10, 0xfffffff0 + DATA, 0x90000, DATA, 0xfffffffc, 0x80000001],
  [0xdeadbeef, 3, 0xffffffff, DATA + 0xffc, 0x90000, DATA + 0xfff, 0x7, 0x2],
];

interface Outcome {
  regs: number[];
  eip: number;
  flags: number;
  data: number[];
  exceptions: RecordedException[];
}

/** Runs `code` (ending in HLT) with the given registers; `dsLimit` shrinks DS to make out-of-limit accesses. */
function runCase(code: Uint8Array, regs: number[], fast: boolean, setup?: (m: TestMachine) => void): Outcome {
  const m = flat32(code, CODE);
  m.cpu.jit = false;
  m.cpu.fastHandlers = fast;
  for (let k = 0; k < 8; k++) m.cpu.regs[k] = regs[k];
  const data = new Uint8Array(0x1100);
  for (let k = 0; k < data.length; k++) data[k] = (k * 37 + 11) & 0xff;
  m.mem.load(DATA, data);
  m.mem.load(0x10, data.subarray(0, 0x40)); // where wrapped offsets land
  m.cpu.setEflags(0x2 | 0x1 | 0x40 | 0x800);
  setup?.(m);
  const exceptions = recordExceptions(m);
  try {
    m.cpu.run(200);
  } catch (e) {
    // Protected-mode delivery without an IDT ends in a shutdown or an engine error after the event was recorded.
    if (exceptions.length === 0) throw e;
  }
  return {
    regs: Array.from(m.cpu.regs, (v) => v >>> 0),
    eip: m.cpu.eip,
    flags: m.cpu.getEflags(),
    data: Array.from(m.mem.readBytes(DATA, 0x1100)).concat(Array.from(m.mem.readBytes(0x10, 0x40))),
    exceptions,
  };
}

const FORMS = [
  'mov eax, ecx',
  'mov esi, edx',
  'mov [ebx], eax',
  'mov [ebx + 8], edi',
  'mov [ebx + esi * 4 + 0x10], ecx',
  'mov [esi * 2 + 0x20000], eax',
  'mov [0x20010], edx',
  'mov esi, [ebx + 8]',
  'mov edx, [ebx + ecx * 2 + 4]',
  'mov edi, [ecx * 8 + 0x20000]',
  'mov ecx, [0x20004]',
  'mov eax, [ebp - 8]',
  'mov [ebp + edi], eax',
  'fs mov eax, [ebx]',
  'a16 mov eax, [bx + si + 4]',
  'a16 mov [bx + 2], ecx',
  'add [ebx + 12], edx',
  'xor [ebx + ecx * 4], esi',
  'sub esi, [ebx + 8]',
  'cmp edx, [edi * 2 + 0x20000]',
  'and eax, [0x20008]',
  'or ecx, [ebx + esi + 1]',
  'lea edi, [esi + edx * 2 + 8]',
  'lea eax, [ecx * 8]',
  'lea eax, [ecx * 8 + 0x7fffffff]',
  'lea edx, [0x12345678]',
  'lea ebx, [ebx - 1]',
];

describe.skipIf(!HAS_NASM)('specialised MOV, ALU-with-memory and LEA forms against the table handlers', () => {
  for (const form of FORMS) {
    it(`${form}: same registers, flags, memory and exceptions on every register set`, () => {
      const code = assemble(`${form}\nhlt`, 32, CODE);
      for (const regs of REGISTER_SETS) {
        const what = `${form} with ${regs.map((v) => v.toString(16)).join(' ')}`;
        expect(runCase(code, regs, true), what).toEqual(runCase(code, regs, false));
        // A small DS (limit just past the data area's start) makes the memory forms fault: the fault, and that
        // nothing changed before it, must agree too.
        const small = (m: TestMachine) => m.cpu.loadSegmentCache(DS, m.cpu.segSel[DS], 0, DATA + 0x7, DATA32, true, 'loader');
        expect(runCase(code, regs, true, small), `${what}, DS limit 0x${(DATA + 0x7).toString(16)}`).toEqual(runCase(code, regs, false, small));
        // Read-only DS: stores fault, loads do not.
        const readOnly = (m: TestMachine) => m.cpu.loadSegmentCache(DS, m.cpu.segSel[DS], 0, 0xffffffff, DATA32 & ~0x2, true, 'loader');
        expect(runCase(code, regs, true, readOnly), `${what}, read-only DS`).toEqual(runCase(code, regs, false, readOnly));
      }
    });
  }

  it('the faulting cases really fault (the comparison above is not vacuous)', () => {
    const store = assemble('mov [ebx + 8], edi\nhlt', 32, CODE);
    const out = runCase(store, REGISTER_SETS[0], true, (m) => m.cpu.loadSegmentCache(DS, m.cpu.segSel[DS], 0, DATA + 0x7, DATA32, true, 'loader'));
    expect(out.exceptions[0]).toMatchObject({ vector: 13, eip: CODE });
  });

  it.each([
    ['mov eax, ecx', 'movEG'],
    ['mov [ebx + 8], edi', 'movEG'],
    ['mov esi, [ebx + 8]', 'movGE'],
    ['mov edx, [ebx + ecx * 2 + 4]', 'movGE'],
    ['mov ecx, [0x20004]', 'movGE'],
    ['mov edi, [ecx * 8 + 0x20000]', 'movGE'],
  ])('%s decodes to a specialised handler', (asm, row) => {
    const m = flat32(assemble(asm, 32, CODE), CODE);
    const i = m.cpu.fetchInstr(CODE);
    expect(i.row!.handler).toBe(row);
    expect(i.exec).not.toBe(HANDLERS[row]);
    m.cpu.flushDecodeCache();
    m.cpu.fastHandlers = false;
    expect(m.cpu.fetchInstr(CODE).exec).toBe(HANDLERS[row]);
  });

  it('16-bit MOV forms keep the table handler', () => {
    const m = flat32(assemble('mov ax, [ebx]', 32, CODE), CODE);
    expect(m.cpu.fetchInstr(CODE).exec).toBe(HANDLERS.movGE);
  });
});

describe.skipIf(!HAS_NASM)('specialised shifts after lazily recorded flags', () => {
  // A shift that sets only some flags (ROL: CF and OF) leaves the others to the pending record of the instruction
  // before it; every flag read afterwards (PUSHFD, Jcc through LAHF/SETcc) must see what the table handlers give.
  const before = ['add eax, ecx', 'sub eax, ecx', 'inc eax', 'dec eax', 'and eax, ecx', 'neg eax', 'cmp eax, ecx', 'mov eax, ecx'];
  const shifts = ['rol eax, 1', 'rol eax, 3', 'rol eax, 31', 'shl eax, 1', 'shl eax, 7', 'shr eax, 1', 'shr eax, 9', 'sar eax, 1', 'sar eax, 30', 'rol eax, 0'];
  for (const first of before) {
    it(`${first}, then each shift: the same EFLAGS and condition results`, () => {
      for (const shift of shifts) {
        const code = assemble(`${first}\n${shift}\npushfd\npop ebx\nsetz dl\nsets dh\nsetp cl\nseto ch\nhlt`, 32, CODE);
        for (const regs of REGISTER_SETS) {
          expect(runCase(code, regs, true), `${first}; ${shift} with eax ${regs[0].toString(16)}`).toEqual(runCase(code, regs, false));
        }
      }
    });
  }
});

describe.skipIf(!HAS_NASM)('the CS limit on linked instructions', () => {
  const CODE32 = AR_P | AR_S | 0xb | AR_DB;

  /** `source` at CS:0 (CS base CODE); returns the exceptions and EIP after running with `limit`. */
  function runNops(limit: number, warm: boolean, source = 'times 24 nop\nhlt'): { ex: RecordedException[]; eip: number } {
    const m = flat32(assemble(source, 32, 0), CODE);
    m.cpu.regs[3] = DATA;
    m.cpu.jit = false;
    m.cpu.loadSegmentCache(CS, m.cpu.segSel[CS], CODE, 0xfffff, CODE32, true, 'loader');
    if (warm) {
      // Link the NOPs to each other under a generous limit first, so the limited run follows links.
      m.cpu.eip = 0;
      m.cpu.run(100);
    }
    m.cpu.loadSegmentCache(CS, m.cpu.segSel[CS], CODE, limit, CODE32, true, 'loader');
    m.cpu.halted = false;
    m.cpu.eip = 0;
    const ex = recordExceptions(m);
    try {
      m.cpu.run(100);
    } catch (e) {
      if (ex.length === 0) throw e;
    }
    return { ex, eip: ex[0]?.eip ?? -1 };
  }

  for (const limit of [0, 3, 5, 13, 14, 15, 16, 20]) {
    for (const warm of [false, true]) {
      it(`limit ${limit}${warm ? ', instructions already linked' : ''}: #GP(0) at the first NOP past the limit`, () => {
        const r = runNops(limit, warm);
        expect(r.ex[0]).toMatchObject({ vector: 13, errorCode: 0 });
        expect(r.eip).toBe(limit + 1);
      });
    }
  }

  // A 10-byte instruction (C7 83 disp32 imm32) after `k` NOPs: it faults exactly when its last byte lies past the
  // limit, including at EIP 0 under a limit smaller than the instruction.
  for (const k of [0, 3, 11]) {
    for (const limit of [3, 9, 10, 12, 13, 14, 20, 21, 22]) {
      it(`a 10-byte instruction after ${k} NOPs under limit ${limit}`, () => {
        const source = `times ${k} nop\nmov dword [dword ebx + 0x10], 0x11223344\nhlt\ntimes 16 nop`;
        const firstPast = k > limit ? limit + 1 : k + 9 > limit ? k : k + 10 > limit ? k + 10 : -1;
        for (const warm of [false, true]) {
          const r = runNops(limit, warm, source);
          expect(r.eip, `warm ${warm}`).toBe(firstPast);
        }
      });
    }
  }

  it('a limit covering the code runs to the HLT without a fault', () => {
    const r = runNops(24, true);
    expect(r.ex).toEqual([]);
  });
});

describe.skipIf(!HAS_NASM)('A20 in the data access path', () => {
  it('with A20 off, a store and a load at 1 MiB + x reach x; with A20 on, 1 MiB + x itself', () => {
    for (const fast of [true, false]) {
      const m = flat32(assemble('mov [0x100010], eax\nmov ecx, [0x100020]\nhlt', 32, CODE), CODE);
      m.cpu.jit = false;
      m.cpu.fastHandlers = fast;
      m.cpu.regs[0] = 0x12345678;
      m.mem.load(0x20, Uint8Array.of(0xef, 0xbe, 0xad, 0xde));
      m.cpu.a20Enabled = false;
      m.cpu.run(10);
      expect(m.mem.peek(0x10, 4)).toBe(0x12345678);
      expect(m.mem.peek(0x100010, 4)).toBe(0);
      expect(m.cpu.regs[1] >>> 0).toBe(0xdeadbeef);

      const on = flat32(assemble('mov [0x100010], eax\nmov ecx, [0x100020]\nhlt', 32, CODE), CODE);
      on.cpu.jit = false;
      on.cpu.fastHandlers = fast;
      on.cpu.regs[0] = 0x12345678;
      on.cpu.a20Enabled = false;
      on.cpu.a20Enabled = true;
      on.cpu.run(10);
      expect(on.mem.peek(0x100010, 4)).toBe(0x12345678);
      expect(on.mem.peek(0x10, 4)).toBe(0);
    }
  });
});

describe('flat segments in the data accessors (base 0, 4 GiB window: no window or base load)', () => {
  /** The vector of the fault `access` raises, or -1 when it completes. */
  function vectorOf(access: () => unknown): number {
    try {
      access();
      return -1;
    } catch (e) {
      if (e instanceof CpuFault) return e.vector;
      throw e;
    }
  }

  it('accesses fault exactly when they run past 4 GiB, by size, as #GP for DS and #SS for SS', () => {
    const m = flat32([0xf4], CODE);
    const c = m.cpu;
    expect(vectorOf(() => c.read8(DS, 0xffffffff))).toBe(-1);
    expect(vectorOf(() => c.read16(DS, 0xfffffffe))).toBe(-1);
    expect(vectorOf(() => c.read16(DS, 0xffffffff))).toBe(13);
    expect(vectorOf(() => c.read32(DS, 0xfffffffc))).toBe(-1);
    expect(vectorOf(() => c.read32(DS, 0xfffffffd))).toBe(13);
    expect(vectorOf(() => c.write8(DS, 0xffffffff, 1))).toBe(-1);
    expect(vectorOf(() => c.write16(DS, 0xffffffff, 1))).toBe(13);
    expect(vectorOf(() => c.write32(DS, 0xfffffffd, 1))).toBe(13);
    expect(vectorOf(() => c.write32(SS, 0xfffffffe, 1))).toBe(12);
    expect(vectorOf(() => c.read32(SS, 0xfffffffc))).toBe(-1);
  });

  it('a read-only flat segment reads without a fault and faults on every write size', () => {
    const m = flat32([0xf4], CODE);
    const c = m.cpu;
    c.loadSegmentCache(DS, c.segSel[DS], 0, 0xffffffff, DATA32 & ~0x2, true, 'loader');
    m.mem.load(0x100, Uint8Array.of(1, 2, 3, 4));
    expect(c.read32(DS, 0x100)).toBe(0x04030201);
    expect(vectorOf(() => c.write8(DS, 0x100, 9))).toBe(13);
    expect(vectorOf(() => c.write16(DS, 0x100, 9))).toBe(13);
    expect(vectorOf(() => c.write32(DS, 0x100, 9))).toBe(13);
    expect(m.mem.peek(0x100, 4)).toBe(0x04030201);
  });

  it('a segment loaded with a base or a limit stops being flat, and a flat load makes it flat again', () => {
    const m = flat32([0xf4], CODE);
    const c = m.cpu;
    m.mem.load(0x1010, Uint8Array.of(0x78, 0x56, 0x34, 0x12));
    c.loadSegmentCache(DS, c.segSel[DS], 0x1000, 0xffffffff, DATA32, true, 'loader');
    expect(c.read32(DS, 0x10)).toBe(0x12345678);
    c.write8(DS, 0x14, 0xaa);
    expect(m.mem.peek(0x1014, 1)).toBe(0xaa);
    c.loadSegmentCache(DS, c.segSel[DS], 0, 0xfff, DATA32, true, 'loader');
    expect(vectorOf(() => c.read32(DS, 0xffd))).toBe(13);
    expect(vectorOf(() => c.write8(DS, 0x1000, 1))).toBe(13);
    c.loadSegmentCache(DS, c.segSel[DS], 0, 0xffffffff, DATA32, true, 'loader');
    expect(c.read32(DS, 0x1010)).toBe(0x12345678);
    expect(vectorOf(() => c.read32(DS, 0x10000))).toBe(-1);
    // A null selector's cache (valid = 0) is never flat, whatever its base and limit say.
    c.loadSegmentCache(DS, 0, 0, 0xffffffff, DATA32, false, 'loader');
    expect(vectorOf(() => c.read8(DS, 0x10))).toBe(13);
  });
});
