// REP MOVS / REP STOS over plain RAM take a block fast path (ops/string.ts). These tests compare it with an
// element-by-element model of the SDM's loop written here, and check that pages whose stores must be seen (watched)
// and overlapping copies still behave as single iterations, and that a block over decoded code drops what the single
// stores would drop.

import { describe, expect, it } from 'vitest';
import { DS, ES } from '../../../engine/cpu/cpu';
import { DF } from '../../../engine/cpu/flags';
import { PAGE_SHIFT, PF_WATCH } from '../../../engine/bus/memory';
import { flat32, realMode, type TestMachine } from './harness';

const EAX = 0, ECX = 1, ESI = 6, EDI = 7;

/** One REP MOVS/STOS as the SDM describes it, element by element, on a plain byte array (real-mode addressing). */
function model(
  ram: Uint8Array,
  op: 'movs' | 'stos',
  size: number,
  down: boolean,
  regs: { si: number; di: number; cx: number; ax: number },
  dsBase: number,
  esBase: number,
): { si: number; di: number; cx: number } {
  let { si, di, cx } = regs;
  while (cx !== 0) {
    for (let k = 0; k < size; k++) {
      const v = op === 'movs' ? ram[dsBase + si + k] : (regs.ax >>> (8 * k)) & 0xff;
      ram[esBase + di + k] = v;
    }
    if (op === 'movs') si = (si + (down ? -size : size)) & 0xffff;
    di = (di + (down ? -size : size)) & 0xffff;
    cx--;
  }
  return { si, di, cx };
}

const OPCODE = { movs: [0xa4, 0xa5], stos: [0xaa, 0xab] };

function runCase(op: 'movs' | 'stos', size: 1 | 2 | 4, down: boolean, si: number, di: number, cx: number): void {
  const code = [0xf3, ...(size === 4 ? [0x66] : []), OPCODE[op][size === 1 ? 0 : 1], 0xf4];
  const m: TestMachine = realMode(code);
  const dsBase = 0x20000, esBase = 0x30000;
  m.cpu.setSegmentReal(DS, dsBase >> 4);
  m.cpu.setSegmentReal(ES, esBase >> 4);
  const seed = Uint8Array.from({ length: 0x20000 }, (_, k) => (k * 131 + 7) & 0xff);
  m.mem.load(dsBase, seed);
  const ram = new Uint8Array(m.mem.size);
  ram.set(m.mem.readBytes(0, m.mem.size));
  const ax = 0xa1b2c3d4;
  m.cpu.regs[EAX] = ax;
  m.cpu.regs[ESI] = si;
  m.cpu.regs[EDI] = di;
  m.cpu.regs[ECX] = cx;
  if (down) m.cpu.setEflags(DF | 2);
  const expected = model(ram, op, size, down, { si, di, cx, ax: size === 4 ? ax : size === 2 ? ax & 0xffff : ax & 0xff }, dsBase, esBase);
  m.cpu.run(1_000_000);
  const label = `${op}${size} ${down ? 'down' : 'up'} si=${si.toString(16)} di=${di.toString(16)} cx=${cx}`;
  expect(m.cpu.halted, label).toBe(true);
  expect([m.cpu.regs[ESI] & 0xffff, m.cpu.regs[EDI] & 0xffff, m.cpu.regs[ECX] & 0xffff], label).toEqual([
    op === 'movs' ? expected.si : si,
    expected.di,
    0,
  ]);
  const got = m.mem.readBytes(esBase, 0x10000);
  const want = ram.subarray(esBase, esBase + 0x10000);
  let firstDiff = -1;
  for (let k = 0; k < got.length && firstDiff < 0; k++) if (got[k] !== want[k]) firstDiff = k;
  expect(firstDiff, label).toBe(-1);
}

describe('REP MOVS/STOS block path against the element model', () => {
  for (const op of ['movs', 'stos'] as const) {
    for (const size of [1, 2, 4] as const) {
      for (const down of [false, true]) {
        it(`${op} size ${size} ${down ? 'downwards' : 'upwards'}`, () => {
          runCase(op, size, down, down ? 0x9001 : 0x1001, down ? 0x8ffe : 0x0ffe, 0x1234);
          runCase(op, size, down, down ? 0xfff0 : 0x10, down ? 0xfff1 : 0x3, 0x2000 / size);
          runCase(op, size, down, 0x7777, 0x4443, 1);
        });
      }
    }
  }

  it('over plain RAM a long REP STOSD finishes in one execution when the budget covers it, counting each element', () => {
    const N = 0x3000; // 48 KiB: within the 64 KiB real-mode limit
    const m = realMode([0x67, 0xf3, 0x66, 0xab, 0xf4]); // a32 rep stosd
    m.cpu.regs[EDI] = 0;
    m.cpu.regs[ECX] = N;
    m.cpu.regs[EAX] = 0x01020304;
    m.cpu.setSegmentReal(ES, 0x1000);
    expect(m.cpu.run(N)).toBe(N);
    expect(m.cpu.regs[ECX]).toBe(0);
    expect(m.cpu.regs[EDI]).toBe(N * 4);
    expect(m.mem.peek(0x10000 + N * 4 - 4, 4)).toBe(0x01020304);
    expect(m.cpu.eip).toBe(0x1004);
    expect(m.cpu.icount).toBe(N);
  });

  it('a block stops where the budget ends, between two elements, as the per-element path does', () => {
    for (const watched of [false, true]) {
      const m = realMode([0x67, 0xf3, 0x66, 0xab, 0xf4]); // a32 rep stosd
      m.cpu.regs[EDI] = 0;
      m.cpu.regs[ECX] = 1000;
      m.cpu.setSegmentReal(ES, 0x1000);
      // A watched page takes the per-element (slow store) path: guest time must not depend on it.
      if (watched) m.mem.pageFlags[0x10000 >>> PAGE_SHIFT] |= PF_WATCH;
      expect(m.cpu.run(333)).toBe(333);
      expect(m.cpu.regs[ECX]).toBe(1000 - 333);
      expect(m.cpu.eip).toBe(0x1000);
      expect(m.cpu.run(1000)).toBe(1000 - 333 + 1);
      expect(m.cpu.halted).toBe(true);
      expect(m.cpu.icount).toBe(1001);
    }
  });

  it('ranges that would wrap at 64 KiB take the per-element path and wrap', () => {
    runCase('movs', 1, false, 0xff00, 0xfff0, 0x200);
    runCase('stos', 2, true, 0, 0x10, 0x100);
  });

  it('an overlapping forward MOVSB repeats the pattern as single iterations do', () => {
    const m = realMode([0xf3, 0xa4, 0xf4]);
    m.mem.load(0x5000, Uint8Array.from([1, 2, 3]));
    m.cpu.regs[ESI] = 0x5000;
    m.cpu.regs[EDI] = 0x5003;
    m.cpu.regs[ECX] = 0x300;
    m.cpu.run(1_000_000);
    const out = m.mem.readBytes(0x5000, 0x303);
    expect(Array.from(out.subarray(0x2f0, 0x303))).toEqual(Array.from({ length: 0x13 }, (_, k) => ((0x2f0 + k) % 3) + 1));
  });

  it('a copy 4 KiB down (the destination below the source, overlapping) is one copy per block, as a buffer copy', () => {
    // Linux's boot moves 12.8 MB so, paging off, at 2.25 G instructions: each element is read before any store
    // reaches its bytes, so the iterations leave what Uint8Array.copyWithin does (ops/string.ts movsBlock).
    const m = flat32([0xf3, 0xa5, 0xf4], 0x10000, 4 << 20); // rep movsd
    const seed = Uint8Array.from({ length: 0x90000 }, (_, k) => (k * 131 + 7) & 0xff);
    m.mem.load(0x100000, seed);
    const expected = seed.slice();
    expected.copyWithin(0, 0x1000, 0x1000 + 0x80000);
    let copies = 0;
    const u8 = m.mem.u8;
    const copyWithin = u8.copyWithin.bind(u8);
    u8.copyWithin = (target: number, start: number, end?: number) => {
      copies++;
      return copyWithin(target, start, end);
    };
    m.cpu.regs[ESI] = 0x101000;
    m.cpu.regs[EDI] = 0x100000;
    m.cpu.regs[ECX] = 0x20000; // 512 KiB: two blocks of BLOCK_MAX elements
    m.cpu.run(1_000_000);
    expect(m.cpu.halted).toBe(true);
    expect(copies).toBe(2);
    expect([m.cpu.regs[ESI], m.cpu.regs[EDI], m.cpu.regs[ECX], m.cpu.icount]).toEqual([0x181000, 0x180000, 0, 0x20001]);
    const got = m.mem.readBytes(0x100000, 0x90000);
    expect(got.findIndex((v, k) => v !== expected[k])).toBe(-1);
  });

  it('a copy onto code that already ran is seen when that code runs again (self-modifying code)', () => {
    // 0x1000: call 0x2000; rep movsb (0x3000 → 0x2000); call 0x2000; hlt.   0x2000: mov al, 1; ret.   0x3000: mov al, 2; ret
    const m = realMode([0xe8, 0xfd, 0x0f, 0xf3, 0xa4, 0x88, 0xc4, 0xe8, 0xf6, 0x0f, 0xf4]);
    m.mem.load(0x2000, Uint8Array.from([0xb0, 0x01, 0xc3]));
    m.mem.load(0x3000, Uint8Array.from([0xb0, 0x02, 0xc3]));
    m.cpu.regs[ESI] = 0x3000;
    m.cpu.regs[EDI] = 0x2000;
    m.cpu.regs[ECX] = 3;
    m.cpu.run(1_000_000);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(0x0102); // AH from the first call, AL from the rewritten routine
  });

  it('a block over decoded code drops the instructions the single stores would drop, and no others', () => {
    // 0x1000: call 0x2000; rep movsw / rep stosb (ES:DI = 0:0x2007, CX = 3); hlt. 0x2000: ten 3-byte MOV AX, imm16 and
    // a RET, decoded by the call. The stores cover 0x2007–0x200C: the MOVs at 0x2006, 0x2009 and 0x200C.
    for (const [op, size] of [
      [0xa5, 2],
      [0xaa, 1],
    ] as const) {
      const outcome = (perElement: boolean) => {
        const m = realMode([0xe8, 0xfd, 0x0f, 0xf3, op, 0xf4]);
        const routine: number[] = [];
        for (let k = 0; k < 10; k++) routine.push(0xb8, k, 0);
        m.mem.load(0x2000, Uint8Array.from([...routine, 0xc3]));
        m.mem.load(0x3000, Uint8Array.from([1, 2, 3, 4, 5, 6]));
        m.cpu.regs[ESI] = 0x3000;
        m.cpu.regs[EDI] = 0x2007;
        m.cpu.regs[ECX] = size === 2 ? 3 : 6;
        m.cpu.regs[EAX] = 0x77;
        if (perElement) m.cpu.a20Enabled = false;
        const epoch = m.cpu.codeEpoch;
        let elementStores = 0;
        const write8 = m.mem.write8.bind(m.mem);
        const write16 = m.mem.write16.bind(m.mem);
        const count = (a: number): number => (elementStores += a >>> PAGE_SHIFT === 2 ? 1 : 0);
        m.mem.write8 = (a: number, v: number) => void (count(a), write8(a, v));
        m.mem.write16 = (a: number, v: number) => void (count(a), write16(a, v));
        m.cpu.run(1000);
        expect(m.cpu.halted).toBe(true);
        const page = m.cpu.decodedPage(0x2000 >>> PAGE_SHIFT) ?? [];
        const decoded = routine.map((_, k) => k).filter((o) => page[o] !== undefined);
        return { decoded, elementStores, moved: m.cpu.codeEpoch !== epoch, ram: Array.from(m.mem.readBytes(0x2000, 0x20)) };
      };
      const block = outcome(false);
      const element = outcome(true);
      expect(element.elementStores, 'the per-element path stores element by element').toBeGreaterThan(0);
      expect(block.elementStores, 'the block path stores none').toBe(0);
      expect(block.decoded).toEqual(element.decoded);
      expect(block.decoded).toEqual([0, 3, 15, 18, 21, 24, 27]);
      expect([block.moved, block.ram]).toEqual([element.moved, element.ram]);
    }
  });

  it('stores to a watched page are reported one by one', () => {
    const m = realMode([0xf3, 0xaa, 0xf4]);
    m.mem.pageFlags[0x6000 >>> PAGE_SHIFT] |= PF_WATCH;
    const stores: number[] = [];
    m.mem.onWatchedStore = (addr) => void stores.push(addr);
    m.cpu.regs[EDI] = 0x5ffe;
    m.cpu.regs[ECX] = 4;
    m.cpu.regs[EAX] = 0x99;
    m.cpu.run(1_000_000);
    expect(stores).toEqual([0x6000, 0x6001]);
    expect(m.mem.peek(0x5ffe, 4)).toBe(0x99999999);
  });
});
