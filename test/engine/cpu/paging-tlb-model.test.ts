// The TLB must never change what an access does while the tables stay as the CPU itself leaves them: random page
// tables (garbage entries, tables outside memory, 4 MiB pages, read-only and supervisor pages) and random accesses
// at random privilege, run on two CPUs over identical memory — one with its TLB, one flushing before every access
// — give the same physical addresses, the same #PF error codes and the same accessed/dirty bits in memory.

import { describe, expect, it } from 'vitest';
import { CR0_WP } from '../../../engine/cpu/cpu';
import { CpuFault } from '../../../engine/cpu/faults';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_SYSTEM, ACCESS_WRITE } from '../../../engine/cpu/protect/paging';
import { flushTlbAll, pagingControlChanged } from '../../../engine/cpu/protect/tlb';
import { flat32, type TestMachine } from './harness';
import { P, PS, RW, US } from './paging-fixtures';

/** xorshift32: the same sequence on every run. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const MEM = 8 << 20;
const TABLES = 0x400000; // page tables at 4 MiB + k × 4 KiB

function build(rand: () => number): TestMachine[] {
  const machines = [flat32([0xf4], 0x10000, MEM), flat32([0xf4], 0x10000, MEM)];
  const words = new Int32Array(1024 * 9);
  // Directory (first 1024 words): entries 0–15 used, each a table, a 4 MiB page, not present or garbage.
  for (let k = 0; k < 16; k++) {
    const r = rand() % 8;
    const rights = rand() & (RW | US);
    let e = 0;
    if (r < 4) e = (TABLES + 0x1000 * (1 + (k % 8))) | P | rights;
    else if (r === 4) e = ((rand() & 0x7) << 22) | PS | P | rights; // 4 MiB page inside memory
    else if (r === 5) e = rand() | P; // garbage: a table or frame anywhere, maybe outside memory
    words[k] = e;
  }
  // Eight page tables: entries present or not, random rights, frames inside and outside memory.
  for (let k = 1024; k < words.length; k++) {
    const r = rand() % 6;
    const frame = r === 5 ? rand() & 0xfffff000 : (rand() % (MEM >>> 12)) << 12;
    words[k] = r === 0 ? 0 : frame | P | (rand() & (RW | US | 0x100));
  }
  for (const m of machines) {
    m.mem.i32.set(words, TABLES >>> 2);
    m.cpu.cr3 = TABLES;
    m.cpu.cr4 |= 0x10 | 0x80; // PSE, PGE
    m.cpu.cr0 |= 0x80000000;
    m.cpu.modeChanged();
  }
  return machines;
}

function attempt(m: TestMachine, linear: number, access: number): string {
  try {
    return `phys ${(m.cpu.translate(linear, access) >>> 0).toString(16)}`;
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    return `#${e.vector}(${e.errorCode}) cr2 ${(m.cpu.cr2 >>> 0).toString(16)}`;
  }
}

describe('TLB against a walk on every access', () => {
  for (const seed of [1, 2, 3, 0x5eed, 0xbeef]) {
    it(`seed ${seed}: same translations, faults and A/D bits`, () => {
      const rand = prng(seed);
      const [cached, walked] = build(rand);
      const kinds = [ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH, ACCESS_READ | ACCESS_SYSTEM, ACCESS_WRITE | ACCESS_SYSTEM];
      // A small set of hot pages, so the TLB is hit often.
      const pages = Array.from({ length: 48 }, () => rand() % (16 * 1024));
      for (let n = 0; n < 4000; n++) {
        if (rand() % 200 === 0) {
          // Toggle CR0.WP on both, with the flush the MOV CR0 would do.
          for (const m of [cached, walked]) {
            m.cpu.cr0 ^= CR0_WP;
            pagingControlChanged(m.cpu);
          }
        }
        const cpl = rand() % 4 === 0 ? 3 : 0;
        const linear = ((pages[rand() % pages.length] << 12) | (rand() & 0xfff)) >>> 0;
        const access = kinds[rand() % kinds.length];
        cached.cpu.cpl = walked.cpu.cpl = cpl;
        flushTlbAll(walked.cpu);
        expect(attempt(cached, linear, access), `access ${n}`).toBe(attempt(walked, linear, access));
      }
      const tables = (m: TestMachine) => Buffer.from(m.mem.u8.subarray(TABLES, TABLES + 9 * 4096));
      expect(tables(cached).equals(tables(walked))).toBe(true);
    });
  }
});
