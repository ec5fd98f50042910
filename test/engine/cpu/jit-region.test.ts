// Regions (jit/region.ts): after a translated block, the block of the same page at the new EIP runs straight from
// the region's table, without going back through the run loop. These programs keep all their code in one page and
// hop between many blocks (calls, returns, data-dependent branches, loops); each compares the translated run with
// the interpreter's (the reference) and fails when a region runs a block the run loop would not have (stale code,
// a budget overrun, a pending interrupt or breakpoint ignored) or when regions are not used at all.

import { describe, expect, it } from 'vitest';
import { ESP } from '../../../engine/cpu/cpu';
import { flat32, type TestMachine } from './harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { cpuState } from './jit-lockstep-harness';
import { gpHalts, loadDs } from './jit-guest';
import { enablePaging, P, RW, US } from './paging-fixtures';
import { linkedRuns } from '../../../engine/cpu/jit/wasm/link';

const ORG = 0x10000;

/**
 * A loop calling the routines of its page on data-dependent paths (a pseudo-random EAX picks one of four routines
 * through a table, and one of two more by a branch): blocks end at the indirect call, the RETs it leads to and the
 * side exits, and most transfers go to another block of the page. The routines keep sums at 0x40000.
 */
const HOPS = `
  mov ecx, 3000
  mov eax, 12345
  mov esi, 0x40000
top:
  call mix
  mov edx, eax
  and edx, 3
  call [routines + edx * 4]
  test eax, 0x10
  jz even
  call odd_r
  jmp next
even:
  call even_r
next:
  dec ecx
  jnz top
  hlt
mix:
  mov edx, eax
  shl edx, 13
  xor eax, edx
  mov edx, eax
  shr edx, 17
  xor eax, edx
  ret
odd_r:
  add [esi], eax
  inc dword [esi + 8]
  ret
even_r:
  sub [esi + 4], eax
  ror eax, 1
  ret
r0:
  add ebx, eax
  ret
r1:
  sub ebx, eax
  ret
r2:
  xor ebx, eax
  ret
r3:
  rol ebx, 5
  ret
  align 4
routines:
  dd r0, r1, r2, r3
`;

function machine(source: string, jit: boolean): TestMachine {
  const m = flat32(assemble(source, 32, ORG), ORG);
  m.cpu.jit = jit;
  m.cpu.hotThreshold = 2;
  return m;
}

/** The state both runs must agree on, with the routines' memory. */
function state(m: TestMachine): unknown {
  return { cpu: cpuState(m.cpu), data: [m.mem.read32(0x40000), m.mem.read32(0x40004), m.mem.read32(0x40008)] };
}

describe.skipIf(!HAS_NASM)('regions: blocks of one page run one after another without the run loop', () => {
  it('a program hopping between the blocks of its page ends as the interpreter does, mostly inside regions', () => {
    const ref = machine(HOPS, false);
    const m = machine(HOPS, true);
    expect(m.cpu.run(1_000_000)).toBe(ref.cpu.run(1_000_000));
    expect(ref.cpu.halted).toBe(true);
    expect(state(m)).toEqual(state(ref));
    // 3000 passes of three to five blocks each (about 7 500 region runs when this was written; 0 without regions).
    // (Where its blocks are wasm blocks, they go on into each other inside wasm instead: jit/wasm/link.ts.)
    expect(m.cpu.regionBlockRuns + linkedRuns(m.cpu.mem.wasm)).toBeGreaterThan(6_000);
  });

  it('budgets that end inside a region retire exactly as many instructions as the interpreter, with the same state', () => {
    const ref = machine(HOPS, false);
    const m = machine(HOPS, true);
    let slice = 1;
    while (!ref.cpu.halted) {
      slice = (slice * 7 + 3) % 131; // 0–130, irregular
      expect(m.cpu.run(slice + 1)).toBe(ref.cpu.run(slice + 1));
      expect(state(m)).toEqual(state(ref));
    }
    expect(m.cpu.regionBlockRuns).toBeGreaterThan(3_000);
  });

  it('a fault in a later block of a region stops at the faulting instruction with the retired count and state of the interpreter', () => {
    // odd_r's and even_r's accesses walk up through DS (ESI += 0x40 a pass) until one passes DS's limit: #GP(0),
    // whose handler halts. The pushed EIP must be the faulting instruction's, and every instruction before it
    // counted (the region adds each block's count as it returns; the run loop adds the faulting block's).
    const source = HOPS.replace('next:\n', 'next:\n  add esi, 0x40\n');
    const run = (jit: boolean): TestMachine => {
      const m = machine(source, jit);
      gpHalts(m);
      loadDs(m, 0, 0x40000 + 0x40 * 2500);
      m.cpu.run(1_000_000);
      return m;
    };
    const ref = run(false);
    const m = run(true);
    expect(ref.cpu.halted).toBe(true);
    expect(ref.cpu.regs[ESP]).toBe(0x90000 - 20); // in a routine: its return address, then EFLAGS, CS, EIP, error code
    expect(state(m)).toEqual(state(ref));
    expect(m.mem.read32(m.cpu.regs[ESP] + 4)).toBe(ref.mem.read32(ref.cpu.regs[ESP] + 4)); // the pushed EIP
    expect(m.cpu.regionBlockRuns).toBeGreaterThan(3_000);
  });

  it('a store into code of the region takes effect at once (self-modifying code drops the region with its page)', () => {
    // From pass 1000 on, every pass through even_r stores 5 into mix's shift count (13 before) from inside a block
    // (CMOVBE picks the code's address instead of a scratch word: no branch, so the store stays in its block). The
    // store leaves its block at \`next\`, where a block of the region starts: a region that went on there would run
    // that block's copy of mix with the old count.
    const source = HOPS.replace(
      '  call even_r\n',
      '  call even_r\n  mov edx, 0x40010\n  mov ebp, patch + 2\n  cmp ecx, 2000\n  cmovbe edx, ebp\n  mov byte [edx], 5\n',
    ).replace('  shl edx, 13', 'patch:\n  shl edx, 13');
    const ref = machine(source, false);
    const m = machine(source, true);
    m.cpu.run(5_000); // regions in use before the patch
    const before = m.cpu.regionBlockRuns;
    expect(before).toBeGreaterThan(100);
    m.cpu.run(1_000_000);
    ref.cpu.run(1_000_000);
    expect(ref.cpu.halted).toBe(true);
    expect(ref.mem.read8(ORG + assemble(source, 32, ORG).findIndex((x, k, c) => x === 0xc1 && c[k + 1] === 0xe2) + 2)).toBe(5);
    expect(state(m)).toEqual(state(ref));
    expect(m.cpu.regionBlockRuns).toBeGreaterThan(before + 1_000);
  });

  it('an interrupt raised by a store inside a region is delivered at the instruction count the interpreter delivers it', () => {
    // odd_r's store to a device (MMIO at 0x200000) raises INTR when the pass counter's low bits are zero; the
    // handler logs ECX and EBX and lowers the line. A region that went on after the store would log later passes.
    const source = HOPS.replace('  inc dword [esi + 8]\n', '  inc dword [esi + 8]\n  mov [0x200000], cl\n');
    const handler = `
      mov [0x50000 + edi * 4], ecx
      inc edi
      mov byte [0x200001], 0
      iretd`;
    const run = (jit: boolean): { m: TestMachine; delivered: number[] } => {
      const m = machine(source, jit);
      const delivered: number[] = [];
      m.mem.load(0x12000, assemble(handler, 32, 0x12000));
      m.cpu.idtrBase = 0x800;
      m.cpu.idtrLimit = 0x7ff;
      m.mem.write32(0x800 + 0x20 * 8, (0x08 << 16) | 0x2000);
      m.mem.write32(0x800 + 0x20 * 8 + 4, 0x00018e00);
      m.cpu.acknowledgeInterrupt = () => {
        delivered.push(m.cpu.icount);
        return 0x20;
      };
      m.mem.mapMmio(0x200000, 0x1000, {
        read8: () => 0,
        write8: (a, v) => m.cpu.setIntrLine((a & 0xfff) === 0 && (v & 7) === 0),
      });
      m.cpu.setEflags(0x202); // IF
      m.cpu.run(1_000_000);
      return { m, delivered };
    };
    const ref = run(false);
    const jit = run(true);
    expect(ref.m.cpu.halted).toBe(true);
    expect(ref.delivered.length).toBeGreaterThan(100);
    expect(jit.delivered).toEqual(ref.delivered);
    expect(state(jit.m)).toEqual(state(ref.m));
    expect(jit.m.cpu.regionBlockRuns).toBeGreaterThan(1_000);
  });

  it('a breakpoint in a block that only a region enters stops the run there, at the interpreter\'s count', () => {
    const ref = machine(HOPS, false);
    const m = machine(HOPS, true);
    m.cpu.run(20_000); // blocks built, regions in use
    ref.cpu.run(20_000);
    expect(m.cpu.regionBlockRuns).toBeGreaterThan(100);
    // even_r's ROR: inside the block that starts at even_r, entered after the caller's block.
    const code = assemble(HOPS, 32, ORG);
    const ror = ORG + code.findIndex((b, k) => b === 0xd1 && code[k + 1] === 0xc8); // ROR EAX, 1
    for (const x of [m, ref]) {
      x.cpu.breakpoints.add(ror);
      x.cpu.updateAttention();
    }
    m.cpu.run(1_000_000);
    ref.cpu.run(1_000_000);
    expect(ref.cpu.hitBreakpoint).toBe(true);
    expect(m.cpu.hitBreakpoint).toBe(true);
    expect(m.cpu.eip).toBe(ror);
    expect(state(m)).toEqual(state(ref));
  });

  it('a block reached through another linear page of the same code page is no block of the region once that page is remapped', () => {
    // The code page (physical 0x20000) is mapped at linear 0x20000 and again at 0x60000; the loop head runs through
    // the first and \`b\` through the second, so both blocks come from the same decoded page under the same key and
    // CS base. At ECX = 100 the guest maps 0x60000 to physical 0x30000 (a copy whose \`b\` adds 100) and reloads CR3.
    // The loop head's block then still leaves to 0x60000 + b: the block built there through the old mapping must
    // not run from the loop head's region (the regions are per linear page).
    const source = `
      mov ecx, 300
    loop1:
      add eax, 1
      jmp 0x60000 + (b - $$)
      times 0x100 - ($ - $$) db 0x90
    b:
      add ebx, 1
      dec ecx
      jz done
      cmp ecx, 100
      jne skip
      mov dword [0x201000 + 0x60 * 4], 0x30000 | ${P | RW | US}
      mov edx, cr3
      mov cr3, edx
    skip:
      mov edx, 0x20000 + (loop1 - $$)
      jmp edx
    done:
      hlt`;
    const code = assemble(source, 32, 0x20000);
    const run = (jit: boolean): TestMachine => {
      const m = flat32(code, 0x20000);
      const copy = Uint8Array.from(code);
      const add = copy.findIndex((x, k) => x === 0x83 && copy[k + 1] === 0xc3 && copy[k + 2] === 1); // ADD EBX, 1
      copy[add + 2] = 100;
      m.mem.load(0x30000, copy);
      enablePaging(m);
      m.mem.i32[(0x201000 >>> 2) + 0x60] = 0x20000 | P | RW | US;
      m.cpu.jit = jit;
      m.cpu.hotThreshold = 2;
      m.cpu.run(100_000);
      return m;
    };
    const ref = run(false);
    const m = run(true);
    expect(ref.cpu.halted).toBe(true);
    expect(ref.cpu.regs[3]).toBe(200 + 100 * 100); // EBX
    expect(cpuState(m.cpu)).toEqual(cpuState(ref.cpu));
    // Both blocks were built and ran chained (each linear page's region holds one of them: none dispatches).
    expect(m.cpu.chainedBlockRuns).toBeGreaterThan(100);
  });
});
