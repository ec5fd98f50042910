// REP MOVS / REP STOS with paging on take the block path one linear page at a time (ops/string.ts blockCount,
// blockPhysical): the page is translated once, at the element the per-element path reaches first. These tests run
// them over linear pages mapped to scattered physical frames, in both directions, aligned and unaligned (elements
// straddling page boundaries), and compare with an element-by-element model of the SDM's loop through the same
// mapping; a not-present page faults at the right element with the right CR2 and error code, and stores into a
// code page run as the new bytes.

import { describe, expect, it } from 'vitest';
import { ECX, EDI, ESI } from '../../../engine/cpu/cpu';
import { DF } from '../../../engine/cpu/flags';
import { flat32, type TestMachine } from './harness';
import { A, D, enablePaging, P, pte, RW, setPte, US } from './paging-fixtures';

const EAX = 0;
const CODE = 0x10000;
/** Linear pages 0x300000–0x30BFFF: the first six (destination) and the next six (source) on scattered frames. */
const LIN = 0x300000;
const PAGES = 12;
function frameOf(k: number): number {
  return 0x380000 + ((k * 5) % PAGES) * 0x2000; // every other frame, out of order
}

const OPCODE = { movs: [0xa4, 0xa5], stos: [0xaa, 0xab] };

function setup(op: 'movs' | 'stos', size: 1 | 2 | 4): TestMachine {
  const code = [0xf3, ...(size === 2 ? [0x66] : []), OPCODE[op][size === 1 ? 0 : 1], 0xf4];
  const m = flat32(code, CODE);
  enablePaging(m);
  for (let k = 0; k < PAGES; k++) setPte(m, LIN + k * 0x1000, frameOf(k) | P | RW | US);
  const seed = Uint8Array.from({ length: 0x20000 }, (_, k) => (k * 131 + 7) & 0xff);
  m.mem.load(0x380000, seed);
  return m;
}

/** Physical address of a linear address in the test's mapping (identity elsewhere below 4 MiB). */
function phys(lin: number): number {
  const k = (lin - LIN) >> 12;
  return k >= 0 && k < PAGES ? frameOf(k) + (lin & 0xfff) : lin;
}

/** One REP MOVS/STOS as the SDM describes it, element by element, on a copy of RAM through the mapping. */
function model(ram: Uint8Array, op: 'movs' | 'stos', size: number, down: boolean, esi: number, edi: number, ecx: number, eax: number): void {
  const step = down ? -size : size;
  for (; ecx !== 0; ecx--) {
    // An element is read whole before it is stored (it may overlap itself when the operands are closer than its size).
    const element = Array.from({ length: size }, (_, k) => (op === 'movs' ? ram[phys(esi + k)] : (eax >>> (8 * k)) & 0xff));
    for (let k = 0; k < size; k++) ram[phys(edi + k)] = element[k];
    esi += step;
    edi += step;
  }
}

/** `bits`: check the accessed and dirty bits too (for a source in pages 6–11 and a destination in pages 0–5). */
function runCase(op: 'movs' | 'stos', size: 1 | 2 | 4, down: boolean, esi: number, edi: number, ecx: number, bits = true): void {
  const m = setup(op, size);
  const eax = 0xa1b2c3d4;
  const ram = m.mem.readBytes(0, m.mem.size).slice();
  model(ram, op, size, down, esi, edi, ecx, eax);
  m.cpu.regs[EAX] = eax;
  m.cpu.regs[ESI] = esi;
  m.cpu.regs[EDI] = edi;
  m.cpu.regs[ECX] = ecx;
  if (down) m.cpu.setEflags(DF | 2);
  m.cpu.run(1_000_000);
  const label = `${op}${size} ${down ? 'down' : 'up'} esi=${esi.toString(16)} edi=${edi.toString(16)} ecx=${ecx}`;
  expect(m.cpu.halted, label).toBe(true);
  const step = (down ? -size : size) * ecx;
  expect([m.cpu.regs[ESI] >>> 0, m.cpu.regs[EDI] >>> 0, m.cpu.regs[ECX]], label).toEqual([op === 'movs' ? esi + step : esi, edi + step, 0]);
  expect(m.cpu.icount, label).toBe(ecx + 1); // every element one instruction, and the HLT
  const got = m.mem.readBytes(0x380000, 0x20000);
  let firstDiff = -1;
  for (let k = 0; k < got.length && firstDiff < 0; k++) if (got[k] !== ram[0x380000 + k]) firstDiff = k;
  expect(firstDiff, label).toBe(-1);
  // Accessed and dirty bits as the element path leaves them: D on every destination page written.
  for (let k = 0; k < (bits ? 6 : 0); k++) {
    const lo = down ? edi + step + size : edi, hi = down ? edi + size : edi + step;
    const written = LIN + k * 0x1000 < hi && LIN + (k + 1) * 0x1000 > lo;
    expect(pte(m, LIN + k * 0x1000) & (A | D), `${label} page ${k}`).toBe(written ? A | D : 0);
  }
}

describe('REP MOVS/STOS block path with paging, against the element model', () => {
  for (const op of ['movs', 'stos'] as const) {
    for (const size of [1, 2, 4] as const) {
      for (const down of [false, true]) {
        it(`${op} size ${size} ${down ? 'downwards' : 'upwards'}, aligned and straddling page boundaries`, () => {
          const src = LIN + 0x6000, dst = LIN;
          const n = Math.floor(0x4800 / size);
          if (down) {
            runCase(op, size, down, src + 0x5ff0, dst + 0x5ff0, n); // aligned
            runCase(op, size, down, src + 0x5fe3, dst + 0x5ff7, n); // unaligned: elements straddle page ends
          } else {
            runCase(op, size, down, src, dst, n);
            runCase(op, size, down, src + 0x3, dst + 0x1, n);
          }
          runCase(op, size, down, src + 0x123, dst + 0xffe, 2);
          runCase(op, size, down, src + 0x777, dst + 0x443, 1);
        });
      }
    }
  }

  it('stores whole pages without an element store to RAM', () => {
    const m = setup('stos', 4);
    let stores = 0;
    const write32 = m.mem.write32.bind(m.mem);
    m.mem.write32 = (addr: number, v: number) => {
      if (addr >= 0x380000) stores++;
      write32(addr, v);
    };
    m.cpu.regs[EDI] = LIN;
    m.cpu.regs[ECX] = 0x1800; // six pages
    m.cpu.run(100_000);
    expect(m.cpu.halted).toBe(true);
    expect(stores).toBe(0);
    expect(m.cpu.icount).toBe(0x1801);
  });

  // Aligned, the block path's own translation faults (at the first element it would store: CR2 is that element's
  // address, also downwards); unaligned, the element straddling into the missing page does.
  for (const down of [false, true]) {
    for (const aligned of [true, false]) {
      it(`a not-present page faults at its first element (CR2, error code, ECX, EDI), ${down ? 'downwards' : 'upwards'}, ${aligned ? 'aligned' : 'straddling'}`, () => {
        const m = setup('movs', 4);
        setPte(m, LIN + 0x2000, 0);
        const start = LIN + (down ? 0x3ff0 : 0x0ff0) + (aligned ? 0 : 0xe);
        m.cpu.regs[ESI] = LIN + 0x6000;
        m.cpu.regs[EDI] = start;
        m.cpu.regs[ECX] = 0x1000;
        if (down) m.cpu.setEflags(DF | 2);
        const faults: { vector: number; error: number; cr2: number; ecx: number; edi: number; esi: number; icount: number }[] = [];
        m.cpu.events.on('cpu-exception', (e) => {
          faults.push({ vector: e.vector, error: e.errorCode, cr2: m.cpu.cr2 >>> 0, ecx: m.cpu.regs[ECX], edi: m.cpu.regs[EDI] >>> 0, esi: m.cpu.regs[ESI] >>> 0, icount: m.cpu.icount });
        });
        m.cpu.run(100_000);
        // The faulting element: upwards the first whose last byte reaches 0x2000, downwards the first whose first
        // byte lies below 0x3000.
        const last = down ? LIN + 0x2ffc + (aligned ? 0 : 2) : LIN + 0x2000 - (aligned ? 0 : 2);
        const done = Math.abs(last - start) / 4;
        expect(faults[0]).toEqual({
          vector: 14,
          error: 2, // a supervisor write to a not-present page
          cr2: down || aligned ? last : LIN + 0x2000, // the first byte of the access in the missing page
          ecx: 0x1000 - done,
          edi: last,
          esi: down ? LIN + 0x6000 - 4 * done : LIN + 0x6000 + 4 * done,
          icount: done + 1, // the faulting element counts when it is delivered
        });
      });
    }
  }

  it('a code page among the destination pages: its decoded code is dropped, and the new bytes run', () => {
    const m = setup('stos', 1);
    // The code page itself is the destination's last page: the REP STOSB overwrites its own HLT.
    setPte(m, LIN + 0x2000, CODE | P | RW | US);
    m.cpu.regs[EAX] = 0x90; // NOP over the HLT, then the bytes after it
    m.cpu.regs[EDI] = LIN + 0x1000;
    m.cpu.regs[ECX] = 0x1000 + 3;
    m.mem.load(CODE + 3, Uint8Array.of(0xf4));
    m.cpu.run(100_000);
    expect(m.cpu.halted).toBe(true);
    // The store replaced the HLT at CODE + 2 by a NOP, which ran: the CPU halted at CODE + 3's HLT.
    expect(m.cpu.eip >>> 0).toBe(CODE + 4);
  });
});

describe('overlapping REP MOVS with paging, against the element model', () => {
  // Towards the side the iterations move away from (the destination below the source upwards, above it downwards),
  // the iterations leave what one copy does; the other way they repeat the first elements' pattern.
  for (const size of [1, 2, 4] as const) {
    for (const down of [false, true]) {
      it(`size ${size} ${down ? 'downwards' : 'upwards'}, the destination on either side of the source`, () => {
        const n = Math.floor(0x2400 / size);
        for (const shift of [1, 2, 3, size, 0x10, 0xffe, 0x1000]) {
          const at = down ? LIN + 0x8ff0 : LIN + 0x1000;
          runCase('movs', size, down, at, at - shift, n, false);
          runCase('movs', size, down, at, at + shift, n, false);
        }
      });
    }
  }
});
