// Dispatch between translated blocks (issue 13): a block's exits remember the instructions they led to (a
// two-way set-associative table per block, jit/block.ts), the run loop runs the next block straight from the last one while
// nothing needs a look (block chaining, Cpu.run), and an interpreted transfer remembers its target (Instr.target).
// Each cache is keyed by the code epoch; these programs fail when a chain or a target outlives its code, skips a
// breakpoint or overruns a budget.

import { describe, expect, it } from 'vitest';
import { EAX, EBX } from '../../../engine/cpu/cpu';
import { flat32, type TestMachine } from './harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { cpuState } from './jit-lockstep-harness';
import { makeBlock, rememberSuccessor, successor, SUCCESSOR_SLOTS } from '../../../engine/cpu/jit/block';
import type { Instr } from '../../../engine/cpu/decode/instr';

const ORG = 0x10000;

/**
 * A loop that calls a routine on the next page 2000 times; after 1000 calls it patches the routine's immediate
 * (3 → 7). The call's block exits to the routine's block, whose RET exits back: a chain both ways.
 */
const PATCHED_CALLEE = `
  mov ecx, 2000
  xor eax, eax
top:
  call callee
  add eax, ebx
  cmp ecx, 1000
  jne skip
  mov dword [callee + 1], 7
skip:
  dec ecx
  jnz top
  hlt
  times 0x1000 - ($ - $$) db 0x90
callee:
  mov ebx, 3
  ret
`;

/** One routine on the next page returning to five call sites in turn: its block's RET leaves to five places. */
const SHARED_RETURN = `
  mov ecx, 3000
  xor eax, eax
top:
  call twice
  call twice
  add eax, 1
  call twice
  call twice
  call twice
  dec ecx
  jnz top
  hlt
  times 0x1000 - ($ - $$) db 0x90
twice:
  add eax, eax
  xor eax, ecx
  ret
`;

function machine(source: string, jit: boolean, hot = 2): TestMachine {
  const m = flat32(assemble(source, 32, ORG), ORG);
  m.cpu.jit = jit;
  m.cpu.hotThreshold = hot;
  return m;
}

describe.skipIf(!HAS_NASM)('block chaining and transfer targets', () => {
  it('a chained block whose code was patched runs the new code (the code epoch drops the chain and the target)', () => {
    for (const jit of [true, false]) {
      const m = machine(PATCHED_CALLEE, jit);
      m.cpu.run(1_000_000);
      expect(m.cpu.halted).toBe(true);
      // The calls with ECX = 2000 … 1000 return 3, the 999 after the patch 7.
      expect(m.cpu.regs[EAX], `translation ${jit ? 'on' : 'off'}`).toBe(1001 * 3 + 999 * 7);
      if (jit) expect(m.cpu.chainedBlockRuns).toBeGreaterThan(1000);
    }
  });

  it('a RET leaving to five call sites chains to each of them and agrees with the interpreter', () => {
    const ref = machine(SHARED_RETURN, false);
    ref.cpu.run(1_000_000);
    const m = machine(SHARED_RETURN, true);
    m.cpu.run(1_000_000);
    expect(ref.cpu.halted).toBe(true);
    expect(cpuState(m.cpu)).toEqual(cpuState(ref.cpu));
    // Nearly every one of the 15 000 calls and 15 000 returns goes straight to the next block (about 24 000 here,
    // the block after the fifth call going on through the usually taken `jnz top` into the first call; a successor
    // table of one or two entries per block chains about 15 000).
    expect(m.cpu.chainedBlockRuns).toBeGreaterThan(22_000);
  });

  it('budgets that end inside a chain retire exactly as many instructions as the interpreter, with the same state', () => {
    for (const source of [SHARED_RETURN, PATCHED_CALLEE]) {
      const ref = machine(source, false);
      const m = machine(source, true);
      let slice = 1;
      while (!ref.cpu.halted) {
        slice = (slice * 7 + 3) % 97; // 0–96, irregular
        const a = ref.cpu.run(slice + 1);
        const b = m.cpu.run(slice + 1);
        expect(b).toBe(a);
        expect(cpuState(m.cpu)).toEqual(cpuState(ref.cpu));
      }
      expect(m.cpu.chainedBlockRuns).toBeGreaterThan(0);
    }
  });

  it('a breakpoint inside a chained block stops the run there, at the interpreter\'s instruction count', () => {
    // The routine on the next page is a block of its own (mov ebx, 3; ret), entered from the caller's block and
    // left to the block after the call: with the breakpoint on its RET, the caller's blocks stay clear of it.
    const source = PATCHED_CALLEE.replace('mov dword [callee + 1], 7', 'nop');
    const m = machine(source, true);
    m.cpu.run(5_000); // blocks built and chained
    expect(m.cpu.chainedBlockRuns).toBeGreaterThan(0);
    const ret = ORG + 0x1000 + 5;
    m.cpu.breakpoints.add(ret);
    m.cpu.updateAttention();
    m.cpu.run(1_000_000);
    expect(m.cpu.hitBreakpoint).toBe(true);
    expect(m.cpu.eip).toBe(ret);
    const ref = machine(source, false);
    ref.cpu.run(m.cpu.icount);
    expect(cpuState(m.cpu)).toEqual(cpuState(ref.cpu));
  });

  it('a block that sets attention (a device asks for a stop) ends the chain before the next block runs', () => {
    // The store is the last instruction of its page, so the block that makes it always leaves to 0x11000, where the
    // next block starts: a chain every iteration, until the device asks for a stop on the store of CL = 100.
    const source = `
      mov ecx, 200
      xor eax, eax
    top:
      jmp near store
      times 0xffa - ($ - $$) db 0x90
    store:
      mov [0x200000], cl
      add eax, ecx
      dec ecx
      jnz top
      hlt
    `;
    const run = (jit: boolean): { m: TestMachine; first: number } => {
      const m = machine(source, jit);
      m.mem.mapMmio(0x200000, 0x1000, { read8: () => 0, write8: (_a, v) => v === 100 && m.cpu.requestStop() });
      return { m, first: m.cpu.run(1_000_000) };
    };
    const ref = run(false);
    const jit = run(true);
    expect(ref.m.cpu.halted).toBe(false);
    expect(jit.first).toBe(ref.first);
    expect(cpuState(jit.m.cpu)).toEqual(cpuState(ref.m.cpu));
    expect(jit.m.cpu.chainedBlockRuns).toBeGreaterThan(50);
  });

  it('a transfer target cached before a far jump is not used after it (the CS base moves the epoch)', () => {
    // The same loop runs at CS base 0 and then through a code segment based 0x1000 lower: `jmp rel` targets the
    // same EIPs, which are other instructions there.
    const source = `
      mov ecx, 50
    a: dec ecx
      jnz a
      jmp 0x28:(b - 0x1000)
      times 0x1000 - ($ - $$) db 0x90
    b: mov ebx, 0x1234
      hlt
    `;
    for (const jit of [true, false]) {
      const m = machine(source, jit);
      // GDT entry 5: code, base 0x1000, 4 GiB, 32-bit.
      m.mem.write32(0x28 + gdtBase(m), 0x0000ffff | (0x1000 << 16));
      m.mem.write32(0x2c + gdtBase(m), 0x00cf9b00);
      m.cpu.run(10_000);
      expect(m.cpu.halted).toBe(true);
      expect(m.cpu.regs[EBX]).toBe(0x1234);
    }
  });
});

function gdtBase(m: TestMachine): number {
  return m.cpu.gdtrBase;
}

describe('successor table', () => {
  const instr = (eip: number) => ({ eip }) as unknown as Instr;
  // Exits of one block seen in Linux's boot (lib/mpi's steady state): return addresses of two callers of one RET, or
  // two targets of one indirect jump. A table hashed on a few low bits sent each pair to one slot, where the two
  // evicted each other at every pass and each exit went back to the run loop.
  const pairs = [
    [0xc44ab8e2, 0xc44aba66],
    [0xc411032c, 0xc410f13c],
    [0xc490da70, 0xc411df70],
    [0xc411de60, 0xc40a8bae],
    [0xc410f1c8, 0xc410c092],
  ];

  it('keeps both exits of each pair that alternate', () => {
    for (const [a, b] of pairs) {
      const blk = makeBlock(0x1000, 4, 0x1000, 0x1010, 0x1010, 0, () => 4, '');
      const ia = instr(a);
      const ib = instr(b);
      rememberSuccessor(blk, a, ia, 7);
      rememberSuccessor(blk, b, ib, 7);
      for (let k = 0; k < 3; k++) {
        expect(successor(blk, a, 7)).toBe(ia);
        expect(successor(blk, b, 7)).toBe(ib);
      }
    }
  });

  it('finds only what was remembered for that EIP in that epoch, whatever else shares its slots', () => {
    const blk = makeBlock(0x1000, 4, 0x1000, 0x1010, 0x1010, 0, () => 4, '');
    const remembered = new Map<number, Instr>();
    // Many more exits than slots, remembered in turn: each lookup returns the instruction remembered for exactly
    // that EIP or nothing, and the last one remembered is always found.
    for (let n = 0; n < 200; n++) {
      const eip = (0xc0100000 + n * 0x35) | 0;
      const i = instr(eip);
      rememberSuccessor(blk, eip, i, 3);
      remembered.set(eip, i);
      expect(successor(blk, eip, 3)).toBe(i);
      expect(successor(blk, eip, 4)).toBeNull();
      let found = 0;
      for (const [e, j] of remembered) {
        const got = successor(blk, e, 3);
        if (got !== null) {
          expect(got).toBe(j);
          found++;
        }
      }
      expect(found).toBeLessThanOrEqual(SUCCESSOR_SLOTS);
    }
  });
});
