// ENTER against the SDM's pseudo-code (SDM 2 ENTER, Operation, non-64-bit), for every combination of operand size
// (16/32), stack size (SS.B 0/1), nesting level (0, 1, >1, >31 taken mod 32) and allocation, with stack pointers
// whose low half borrows, and the #SS for a new stack pointer beyond the limit. The reference below is a
// transcription of the pseudo-code written for this test. One reading is ours: the loop's (E)BP is a temporary
// (as in Bochs), so a 16-bit operand size leaves EBP's upper half as it was rather than as the loop's decrements
// would leave it. Bochs and QEMU differ from the SDM elsewhere (they use the stack size, not the operand size,
// for the final stack-pointer update and keep ESP's upper half in FrameTemp); Ringside follows the SDM.

import { describe, expect, it } from 'vitest';
import { AR_DB, AR_G, AR_P, AR_S, EBP, ESP, SS } from '../../../engine/cpu/cpu';
import { flat32 } from './harness';
import { stepBytes } from './step-bytes';

const SS_BASE = 0x20000;

interface Case {
  os32: boolean;
  ssB: boolean;
  alloc: number;
  imm8: number;
  esp: number;
  ebp: number;
}

interface Outcome {
  esp: number;
  ebp: number;
  /** Stack bytes written: offset → byte. */
  writes: Map<number, number>;
}

/** SDM 2 ENTER, Operation, for a stack segment at SS_BASE; `read(off, n)` reads the initial stack memory. */
function sdmEnter(c: Case, read: (off: number, n: number) => number): Outcome {
  const writes = new Map<number, number>();
  const n = c.os32 ? 4 : 2;
  let esp = c.esp >>> 0;
  const stackOff = (v: number) => (c.ssB ? v >>> 0 : v & 0xffff);
  const readStack = (off: number, size: number) => {
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = v * 256 + (writes.get(off + k) ?? read(off + k, 1));
    return v;
  };
  const push = (v: number) => {
    esp = c.ssB ? (esp - n) >>> 0 : ((esp & ~0xffff) | ((esp - n) & 0xffff)) >>> 0;
    for (let k = 0; k < n; k++) writes.set(stackOff(esp) + k, Math.floor(v / 256 ** k) & 0xff);
  };
  const allocSize = c.alloc & 0xffff;
  const nestingLevel = c.imm8 % 32;
  push(c.os32 ? c.ebp >>> 0 : c.ebp & 0xffff); // Push(EBP) or Push(BP)
  const frameTemp = c.ssB ? esp : esp & 0xffff; // FrameTemp ← ESP or SP by StackSize
  if (nestingLevel > 0) {
    let t = c.ebp >>> 0;
    for (let i = 1; i <= nestingLevel - 1; i++) {
      if (c.ssB) t = (t - n) >>> 0; // EBP ← EBP − 4 (or 2)
      else t = ((t & ~0xffff) | ((t - n) & 0xffff)) >>> 0; // BP ← BP − 4 (or 2)
      push(readStack(stackOff(t), n)); // Push([EBP]) or Push([BP])
    }
    push(frameTemp);
  }
  let ebp: number;
  if (c.os32) {
    ebp = frameTemp; // EBP ← FrameTemp
    esp = (esp - allocSize) >>> 0; // ESP ← ESP − AllocSize
  } else {
    ebp = ((c.ebp & ~0xffff) | (frameTemp & 0xffff)) >>> 0; // BP ← FrameTemp[15:0]
    esp = ((esp & ~0xffff) | ((esp - allocSize) & 0xffff)) >>> 0; // SP ← SP − AllocSize
  }
  return { esp, ebp, writes };
}

const pattern = (addr: number) => (addr * 7 + 3) & 0xff;

const STACK_BYTES = 0x30000;
/** One machine for all cases; a case that faults (delivery without an IDT shuts the CPU down) gets a new one. */
let machine = flat32([], 0x10000, 8 << 20);
const initialStack = Uint8Array.from({ length: STACK_BYTES }, (_, k) => pattern(SS_BASE + k));

function run(c: Case): Outcome & { raised: ReturnType<typeof stepBytes> } {
  const m = machine;
  m.mem.u8.set(initialStack, SS_BASE);
  m.cpu.eip = 0x10000;
  const limit = c.ssB ? 0xffffffff - SS_BASE : 0xffff;
  m.cpu.loadSegmentCache(SS, 0x10, SS_BASE, limit, AR_P | AR_S | 0x3 | (c.ssB ? AR_DB | AR_G : 0), true, 'loader');
  m.cpu.regs[ESP] = c.esp | 0;
  m.cpu.regs[EBP] = c.ebp | 0;
  const bytes = [...(c.os32 ? [] : [0x66]), 0xc8, c.alloc & 0xff, (c.alloc >> 8) & 0xff, c.imm8];
  const raised = stepBytes(m, bytes);
  const writes = new Map<number, number>();
  const after = m.mem.u8.subarray(SS_BASE, SS_BASE + STACK_BYTES);
  for (let k = 0; k < after.length; k++) if (after[k] !== initialStack[k]) writes.set(k, after[k]);
  if (raised !== null) machine = flat32([], 0x10000, 8 << 20);
  return { esp: m.cpu.regs[ESP] >>> 0, ebp: m.cpu.regs[EBP] >>> 0, writes, raised };
}

describe('ENTER against the SDM pseudo-code', () => {
  it('o32 enter 8, 36 on a 16-bit stack (SS.B = 0): level 4 copies three dwords through BP, EBP = SP zero-extended', () => {
    const m = flat32([], 0x10000, 8 << 20);
    m.cpu.loadSegmentCache(SS, 0x10, SS_BASE, 0xffff, AR_P | AR_S | 0x3, true, 'loader');
    m.cpu.regs[ESP] = 0x12340100;
    m.cpu.regs[EBP] = 0x56780200;
    m.mem.write32(SS_BASE + 0x1fc, 0xaaaa0001);
    m.mem.write32(SS_BASE + 0x1f8, 0xaaaa0002);
    m.mem.write32(SS_BASE + 0x1f4, 0xaaaa0003);
    expect(stepBytes(m, [0xc8, 0x08, 0x00, 36])).toBeNull(); // 32-bit code: operand size 32
    const at = (off: number) => m.mem.read32(SS_BASE + off) >>> 0;
    expect([at(0xfc), at(0xf8), at(0xf4), at(0xf0), at(0xec)]).toEqual([0x56780200, 0xaaaa0001, 0xaaaa0002, 0xaaaa0003, 0xfc]);
    expect(m.cpu.regs[EBP] >>> 0).toBe(0xfc);
    expect(m.cpu.regs[ESP] >>> 0).toBe(0x123400e4);
  });

  it('every operand size × stack size × nesting level × allocation, with borrowing stack pointers', () => {
    const cases: Case[] = [];
    for (const os32 of [false, true]) {
      for (const ssB of [false, true]) {
        for (const imm8 of [0, 1, 2, 3, 5, 31, 32, 33, 36, 63, 255]) {
          for (const alloc of [0, 8, 0x1f0, 0xfff0]) {
            // SP well inside; SP small enough that the allocation borrows from bit 16; EBP near 0 so BP wraps.
            for (const [esp, ebp] of [[0x00018000, 0x00018100], [0x00020400, 0x00020010], [0x00010040, 0x00010008]]) {
              cases.push({ os32, ssB, alloc, imm8, esp, ebp });
            }
          }
        }
      }
    }
    const bad: string[] = [];
    for (const c of cases) {
      const got = run(c);
      const want = sdmEnter(c, (off) => pattern(SS_BASE + off));
      const name = `${c.os32 ? 'o32' : 'o16'} SS.B=${c.ssB ? 1 : 0} enter 0x${c.alloc.toString(16)}, ${c.imm8} ESP=0x${c.esp.toString(16)} EBP=0x${c.ebp.toString(16)}`;
      // SDM ENTER — #SS(0) "if the new value of the SP or ESP register is outside the stack segment limit"
      const finalOffset = c.ssB ? want.esp : want.esp & 0xffff;
      const limit = c.ssB ? 0xffffffff - SS_BASE : 0xffff;
      const outside = finalOffset + (c.os32 ? 4 : 2) - 1 > limit;
      if (outside) {
        if (got.raised?.rule !== 'access.stack-limit') bad.push(`${name}: expected #SS, got ${got.raised?.rule ?? 'none'}`);
        else if (got.esp !== c.esp >>> 0 || got.ebp !== c.ebp >>> 0) bad.push(`${name}: registers changed by a faulting ENTER`);
        continue;
      }
      if (got.raised !== null) {
        bad.push(`${name}: raised ${got.raised.rule}`);
        continue;
      }
      const wantWrites = [...want.writes].filter(([off, v]) => pattern(SS_BASE + off) !== v).sort((a, b) => a[0] - b[0]);
      const gotWrites = [...got.writes].sort((a, b) => a[0] - b[0]);
      if (got.esp !== want.esp) bad.push(`${name}: ESP 0x${got.esp.toString(16)}, SDM 0x${want.esp.toString(16)}`);
      if (got.ebp !== want.ebp) bad.push(`${name}: EBP 0x${got.ebp.toString(16)}, SDM 0x${want.ebp.toString(16)}`);
      if (JSON.stringify(gotWrites) !== JSON.stringify(wantWrites)) bad.push(`${name}: stack bytes differ`);
    }
    expect(cases.length).toBe(2 * 2 * 11 * 4 * 3);
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('the new stack pointer must lie within SS: #SS(0) with nothing changed in the registers', () => {
    const m = flat32([], 0x10000, 8 << 20);
    // Expand-up 16-bit stack with limit 0x0FFF: the pushes fit, the allocation of 0x100 leaves SP below … 0 → wraps
    // to 0xFFxx, beyond the limit.
    m.cpu.loadSegmentCache(SS, 0x10, SS_BASE, 0x0fff, AR_P | AR_S | 0x3, true, 'loader');
    m.cpu.regs[ESP] = 0x80;
    m.cpu.regs[EBP] = 0x1234;
    expect(stepBytes(m, [0xc8, 0x00, 0x01, 0x00])).toEqual({ vector: 12, errorCode: 0, rule: 'access.stack-limit' });
    expect([m.cpu.regs[ESP], m.cpu.regs[EBP]]).toEqual([0x80, 0x1234]);
  });
});
