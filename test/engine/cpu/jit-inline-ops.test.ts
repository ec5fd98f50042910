// The instructions translated blocks run inline instead of calling the interpreter's handler (issue 13; jit/flag-ops.ts
// and jit/ops.ts): CMOVcc, SETcc, CLC/STC/CMC, PUSHF/POPF, one-operand MUL/IMUL r/m32, shifts and rotates of memory
// by a constant, PUSH r/m. Each program is one block; the block must call no handler (but in the guarded branch
// of a fault only the handler raises), and equal the interpreter's registers, EFLAGS, EIP and memory for many
// operand values, edge values included.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AR_DB, AR_P, AR_S, CR0_PE, CS, ESP } from '../../../engine/cpu/cpu';
import { CpuFault } from '../../../engine/cpu/faults';
import { IOPL, LOP_SUB, VM } from '../../../engine/cpu/flags';
import { buildBlock } from '../../../engine/cpu/jit/compile';
import { flat32, realMode, type TestMachine } from './harness';
import { assemble, HAS_NASM, recordExceptions, runAllowingUnbuiltDelivery } from './move-fixtures';

const ORG = 0x10000;
const DATA = 0x20000;
const VALUES = [0, 1, 0x7f, 0x80, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0x12345678];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** The guard whose branch calls the handler only to raise a fault (PUSHF, POPF: V86 mode with IOPL < 3). */
const FAULT_GUARD = /^if \(\(c\.flags & 131072\) !== 0 && \(c\.flags & 12288\) !== 12288\) \{/;

/** The lines of a block's source that call an interpreter handler outside a fault guard. */
function handlerCalls(source: string): string[] {
  return source.split('\n').filter((line) => line.includes('H(') && !FAULT_GUARD.test(line));
}

/**
 * Runs `source` (assembled at ORG: `count` instructions, all in one block) translated and interpreted from the state
 * `setup` makes for each pair of VALUES; expects no handler call in the block and the same registers, EFLAGS, EIP
 * and data (DATA … DATA + 0x200, where EBP points and the stack lies; what 16-bit addresses reach below the code).
 */
function sameAsInterpreter(source: string, count: number, setup: (m: TestMachine, a: number, b: number) => void): void {
  const code = assemble(`${source}\nhlt`, 32, ORG);
  // One block for every pair (built on the first machine; it holds no state of its own between runs): building
  // it anew for each would make this file's run time mostly V8's parsing of the same source.
  let block: ReturnType<typeof buildBlock> | null = null;
  for (const a of VALUES) {
    for (const b of VALUES) {
      const run = (translated: boolean): (number | string)[] => {
        const m = flat32(code, ORG, 1 << 20);
        m.cpu.regs.set([a, b, a ^ b, b - a, DATA + 0x200, DATA, a >>> 3, ~b]);
        for (let k = 0; k < 0x80; k++) m.mem.write32(DATA + 4 * k, Math.imul(a ^ k, 0x9e3779b1) ^ b);
        setup(m, a, b);
        if (translated) {
          if (block === null) {
            block = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
            expect(block.len).toBe(count);
            expect(handlerCalls(block.source)).toEqual([]);
          }
          expect(block.run(m.cpu, count)).toBe(count);
        } else {
          m.cpu.jit = false;
          m.cpu.run(count);
        }
        const low = createHash('sha1').update(m.mem.u8.subarray(0, ORG)).digest('hex'); // below the code (16-bit addresses)
        return [...Array.from(m.cpu.regs, (r) => r >>> 0), m.cpu.getEflags(), m.cpu.eip, ...Array.from(m.mem.u8.subarray(DATA, DATA + 0x200)), low];
      };
      expect(run(true), `a 0x${a.toString(16)} b 0x${b.toString(16)}`).toEqual(run(false));
    }
  }
}

/** The Cpu's own lazy record at block entry: a CMP of the two operands (flags read before any in-block record). */
function lazyCmp(m: TestMachine, a: number, b: number): void {
  m.cpu.setEflags(0x2 | (0x8d5 & ~(a ^ b)));
  m.cpu.setLazyFlags(LOP_SUB, a, b, (a - b) >>> 0, 4, 0);
}

/** Eager flags at block entry (no lazy record): some arithmetic flags from the operands. */
function eagerFlags(m: TestMachine, a: number, b: number): void {
  m.cpu.setEflags(0x2 | (0x8d5 & (a ^ (b >>> 3))));
}

/** Each condition by SETcc r/m8 and CMOVcc (memory, 32-bit register and 16-bit forms) after `setter`. */
function conditions(setter: string): { source: string; count: number } {
  const lines = setter === '' ? [] : [setter];
  for (let cc = 0; cc < 16; cc++) {
    lines.push(`set${CC[cc]} byte [ebp + ${cc}]`, `cmov${CC[cc]} edi, [ebp + ${0x40 + 4 * cc}]`);
    if ((cc & 1) === 0) lines.push(cc & 2 ? `cmov${CC[cc]} si, cx` : `cmov${CC[cc]} esi, ecx`);
    else lines.push(`set${CC[cc]} ${['dl', 'dh', 'bl', 'bh'][(cc >> 1) & 3]}`);
  }
  return { source: lines.join('\n'), count: lines.length };
}

describe.skipIf(!HAS_NASM)('inline CMOVcc and SETcc: every condition from every kind of flag record', () => {
  const setters = ['', 'cmp eax, ecx', 'sub eax, ecx', 'add eax, ecx', 'adc eax, ecx', 'sbb eax, ecx', 'and eax, ecx', 'inc eax', 'dec ecx', 'neg eax', 'cmp al, cl', 'add ax, cx', 'rol eax, 1'];
  for (const setter of setters) {
    it(`after ${setter === '' ? "the Cpu's own lazy record" : setter}`, () => {
      const { source, count } = conditions(setter);
      sameAsInterpreter(source, count, lazyCmp);
    });
  }
  it('from eager flags in the Cpu', () => {
    const { source, count } = conditions('');
    sameAsInterpreter(source, count, eagerFlags);
  });
});

describe.skipIf(!HAS_NASM)('inline CLC, STC, CMC and PUSHF/POPF', () => {
  const carry = `
    cmc
    setc [ebp]
    cmp eax, ecx
    stc
    setbe [ebp + 1]
    seta [ebp + 2]
    cmc
    setb [ebp + 3]
    adc ebx, eax
    clc
    seta [ebp + 4]
    sbb esi, ecx
    cmp eax, ecx
    clc
    inc edi
    setc [ebp + 5]
    setbe [ebp + 6]
    cmc
    cmc
    pushfd
    stc
    dec edx
    pushfd
  `;
  it('CLC, STC, CMC over records, with the Cpu lazy and eager', () => {
    sameAsInterpreter(carry, 23, lazyCmp);
    sameAsInterpreter(carry, 23, eagerFlags);
  });

  const pushPop = `
    pushfd
    add eax, ecx
    pushfd
    inc eax
    pushfd
    stc
    pushf
    push dword [ebp]
    popfd
    setc [ebp + 8]
    seto [ebp + 9]
    setz [ebp + 10]
    sets [ebp + 11]
    setp [ebp + 12]
    pushfd
    push word [ebp + 4]
    popf
    pushfd
    sub eax, ecx
    pushfd
    pop esi
    pop edi
  `;
  it('PUSHF/PUSHFD images of every record kind; POPF/POPFD of arbitrary images (TF clear)', () => {
    sameAsInterpreter(pushPop, 22, (m, a, b) => {
      lazyCmp(m, a, b);
      m.mem.write32(DATA, (a ^ b) & ~0x100); // no single-step trap: the block would leave after the POPF
      m.mem.write32(DATA + 4, (b >>> 16) & ~0x100);
    });
  });

  it('at CPL 3, POPF keeps IOPL and (with CPL > IOPL) IF', () => {
    const code = assemble('push dword [ebp]\npopfd\npushfd\nnop\nhlt', 32, ORG);
    for (const image of [0, 0x3200, 0x7ed7, 0x24ad5]) {
      // (TF clear in each: a POPF that sets it leaves the block)
      const run = (translated: boolean): number[] => {
        const m = flat32(code, ORG, 1 << 20);
        m.cpu.regs[ESP] = DATA + 0x100;
        m.cpu.regs[5] = DATA;
        m.mem.write32(DATA, image);
        m.cpu.setEflags(0x202 | 0x1000); // IF, IOPL 1
        m.cpu.cpl = 3;
        if (translated) {
          const blk = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
          expect(handlerCalls(blk.source)).toEqual([]);
          expect(blk.run(m.cpu, 4)).toBe(4);
        } else {
          m.cpu.jit = false;
          m.cpu.run(4);
        }
        return [m.cpu.getEflags(), m.mem.read32(DATA + 0xfc), m.cpu.regs[ESP]];
      };
      expect(run(true), `image 0x${image.toString(16)}`).toEqual(run(false));
    }
  });

  it('V86 mode with IOPL < 3: PUSHF and POPF in a block raise #GP(0) at the instruction, after the ones before it', () => {
    for (const code of [[0x40, 0x9c, 0x40, 0xf4], [0x40, 0x9d, 0x40, 0xf4]]) {
      for (const iopl of [0x2000, IOPL]) {
        const run = (translated: boolean): unknown => {
          const m = realMode(code);
          const ex = recordExceptions(m);
          m.cpu.cr0 |= CR0_PE;
          m.cpu.setEflags(VM | 0x2 | iopl);
          if (translated) {
            const blk = buildBlock(m.cpu, m.cpu.fetchInstr(0x1000), 0x1000);
            expect(blk.len).toBe(3);
            m.cpu.fetchInstr(0x1000).block = blk;
          } else {
            m.cpu.jit = false;
          }
          runAllowingUnbuiltDelivery(m, 3);
          // The first exception (delivering it through the empty IDT raises more, alike in both).
          return { ex: ex.slice(0, 1), ax: m.cpu.regs[0] & 0xffff, sp: m.cpu.regs[ESP], icount: m.cpu.icount };
        };
        const jit = run(true);
        expect(jit).toEqual(run(false));
        if (iopl !== IOPL) expect(jit).toMatchObject({ ex: [{ vector: 13, errorCode: 0, eip: 0x1001 }], ax: 1 });
        else expect(jit).toMatchObject({ ex: [], ax: 2 });
      }
    }
  });

  it('POPF of an image changing only arithmetic flags, or TF, IF or DF too: the same as the interpreter', () => {
    // Only arithmetic flags: a store into cpu.flags; anything else through Cpu.setEflags, which sets `attention`
    // for TF (the block must leave after the POPF: the trap comes after the next instruction).
    const code = assemble('push dword [ebp]\npopfd\ninc eax\ninc eax\nhlt', 32, ORG);
    for (const image of [0x2, 0x8d7, 0x8c3, 0x102, 0x202, 0x402, 0xcd7]) {
      const machine = (): TestMachine => {
        const m = flat32(code, ORG, 1 << 20);
        m.cpu.regs[ESP] = DATA + 0x100;
        m.cpu.regs[5] = DATA;
        m.mem.write32(DATA, image);
        lazyCmp(m, 5, 7);
        return m;
      };
      const direct = machine();
      const blk = buildBlock(direct.cpu, direct.cpu.fetchInstr(ORG), ORG);
      expect(blk.run(direct.cpu, 4), `image 0x${image.toString(16)}`).toBe((image & 0x100) !== 0 ? 2 : 4);
      const run = (translated: boolean): unknown => {
        const m = machine();
        const ex = recordExceptions(m);
        if (translated) m.cpu.fetchInstr(ORG).block = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
        else m.cpu.jit = false;
        runAllowingUnbuiltDelivery(m, 4);
        return { ex: ex.slice(0, 1), flags: m.cpu.getEflags(), eax: m.cpu.regs[0], icount: m.cpu.icount };
      };
      expect(run(true), `image 0x${image.toString(16)}`).toEqual(run(false));
    }
  });

  it('CMOVcc on a model without it raises #UD in a block, as in the interpreter', () => {
    const code = assemble('inc eax\ncmovb esi, ecx\ninc eax\nhlt', 32, ORG);
    const run = (translated: boolean): unknown => {
      const m = flat32(code, ORG, 1 << 20, 'pentium');
      const ex = recordExceptions(m);
      if (translated) {
        const blk = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
        expect(blk.len).toBe(3);
        m.cpu.fetchInstr(ORG).block = blk;
      } else {
        m.cpu.jit = false;
      }
      runAllowingUnbuiltDelivery(m, 3);
      return { ex: ex.slice(0, 1), eax: m.cpu.regs[0], icount: m.cpu.icount };
    };
    const jit = run(true);
    expect(jit).toEqual(run(false));
    expect(jit).toMatchObject({ ex: [{ vector: 6, eip: ORG + 1 }], eax: 1 });
  });
});

describe.skipIf(!HAS_NASM)('inline XCHG and LEAVE', () => {
  it('XCHG of registers and memory, every size; LEAVE with 32- and 16-bit operands', () => {
    const source = `
      xchg eax, [ebp + 8]
      xchg cl, [ebp + 3]
      xchg [ebp + 5], dx
      xchg ebx, esi
      xchg ah, dl
      xchg di, bx
      xchg eax, edi
      xchg ax, cx
      leave
      o16 leave
      push ebx
      mov ebp, esp
      leave
    `;
    sameAsInterpreter(source, 13, (m, a) => {
      eagerFlags(m, a, a);
      // EBP: a frame whose saved EBP points at a second frame, which the 16-bit LEAVE pops BP from.
      const frame = DATA + 0x80 + (a & 0x3d);
      m.cpu.regs[5] = frame;
      m.mem.write32(frame, DATA + 0x140 + (a & 0x1e));
    });
  });
});

describe.skipIf(!HAS_NASM)('inline one-operand MUL and IMUL r/m32, PUSH r/m', () => {
  it('EDX:EAX and the flags equal the interpreter for every pair', () => {
    const source = `
      mul ecx
      mov [ebp], eax
      mov [ebp + 4], edx
      pushfd
      mov eax, [ebp + 16]
      imul dword [ebp + 20]
      pushfd
      push dword [ebp + 16]
      mul eax
      pushfd
      imul edi
      pushfd
      mul dword [esp]
    `;
    sameAsInterpreter(source, 13, (m, a, b) => {
      eagerFlags(m, a, b);
      m.mem.write32(DATA + 16, b);
      m.mem.write32(DATA + 20, a);
    });
  });
});

describe.skipIf(!HAS_NASM)('inline shifts and rotates of memory by a constant', () => {
  for (const size of ['byte', 'word', 'dword']) {
    it(`${size} operands: ROL ROR SHL SHR SAR by 0, 1, 5, 8, 16 and 31, with the flags of each`, () => {
      const lines: string[] = [];
      for (const kind of ['rol', 'ror', 'shl', 'shr', 'sar']) {
        for (const count of [0, 1, 5, 8, 16, 31]) lines.push(`${kind} ${size} [ebp + ${4 * lines.length}], ${count}`, 'pushfd');
      }
      sameAsInterpreter(lines.join('\n'), lines.length, lazyCmp);
    });
  }
});

describe.skipIf(!HAS_NASM)('inline STOS and LODS without REP: the block goes on after them', () => {
  it('32-bit addresses, every size, both directions, unaligned elements', () => {
    const source = 'stosb\nstosw\nstosd\nlodsb\nlodsw\nlodsd\nstosd\nlodsd\nes lodsb\ninc eax';
    sameAsInterpreter(source, 10, (m, a, b) => {
      m.cpu.setEflags(0x2 | ((a & 1) !== 0 ? 0x400 : 0) | (0x8d5 & b));
      m.cpu.regs[7] = DATA + 0x100 + (a & 0x3f);
      m.cpu.regs[6] = DATA + 0x40 + (b & 0x3f);
    });
  });
  it('16-bit addresses: DI and SI wrap at 64 KiB, the upper halves of EDI and ESI stay', () => {
    const source = 'a16 stosb\na16 stosb\na16 stosw\na16 lodsb\na16 lodsw\na16 lodsb';
    sameAsInterpreter(source, 6, (m, a) => {
      m.cpu.setEflags(0x2 | ((a & 1) !== 0 ? 0x400 : 0));
      m.cpu.regs[7] = 0x7a7afffe;
      m.cpu.regs[6] = 0x3c3c0001;
    });
  });
});

describe('a RET past the CS limit as the first instruction of a block', () => {
  it('raises #GP(0) from the block with ESP as it was (leaving before the RET retired nothing: the run loop spun)', () => {
    const machine = (): TestMachine => {
      const m = flat32([0xc3, 0xf4], ORG, 1 << 20);
      m.cpu.loadSegmentCache(CS, 0x08, 0, 0xfffff, AR_P | AR_S | 0xb | AR_DB, true, 'loader');
      m.cpu.regs[ESP] = 0x8000;
      m.mem.write32(0x8000, 0x200000);
      return m;
    };
    // Called directly, the block must not return having retired nothing: it raises the fault.
    const direct = machine();
    expect(() => buildBlock(direct.cpu, direct.cpu.fetchInstr(ORG), ORG).run(direct.cpu, 5)).toThrow(CpuFault);
    expect(direct.cpu.regs[ESP]).toBe(0x8000);
    const run = (translated: boolean): unknown => {
      const m = machine();
      const ex = recordExceptions(m);
      if (translated) {
        m.cpu.fetchInstr(ORG).block = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
      } else {
        m.cpu.jit = false;
      }
      runAllowingUnbuiltDelivery(m, 1);
      return { ex: ex.slice(0, 1), esp: m.cpu.regs[ESP], icount: m.cpu.icount };
    };
    const jit = run(true);
    expect(jit).toEqual(run(false));
    expect(jit).toMatchObject({ ex: [{ vector: 13, errorCode: 0, eip: ORG }], esp: 0x8000 });
  });
});

describe.skipIf(!HAS_NASM)('eager flags that later instructions redefine unseen are not computed', () => {
  // Register shifts and rotates by a constant, IMUL and MUL r32 set their flags eagerly (cpu.flags), and INC/DEC
  // fold the pending record's CF into cpu.flags; lib/mpi's loops follow each IMUL and shift with an ADD, so those
  // writes were thrown away. Each setter here is followed by instructions that redefine its flags before a reader.
  const dead = `
    cmp eax, ecx
    imul eax, ecx
    add eax, edx
    imul ebx, esi, 0x10001
    shl ebx, 3
    shr esi, 5
    sar edi, 1
    rol edx, 7
    ror edx, 1
    sub ebx, esi
    mul ecx
    or edx, eax
    cmp esi, edi
    inc edi
    dec esi
    xor edi, esi
    shl cx, 4
    and ecx, ebx
    setc [ebp]
    seto [ebp + 1]
    pushfd
  `;
  it('the block writes no cpu.flags and equals the interpreter', () => {
    sameAsInterpreter(dead, 21, lazyCmp);
    sameAsInterpreter(dead, 21, eagerFlags);
    const m = flat32(assemble(`${dead}\nhlt`, 32, ORG), ORG, 1 << 20);
    const source = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG).source;
    expect(source).not.toContain('c.flags =');
    expect(source).not.toContain('c.setFlagBits');
  });

  const live = `
    cmp eax, ecx
    shl ebx, 3
    setc [ebp]
    imul eax, ecx
    seto [ebp + 1]
    cmp eax, ecx
    rol edx, 7
    setz [ebp + 2]
    seto [ebp + 3]
    cmp eax, ecx
    inc edi
    setc [ebp + 4]
    shr esi, 0
    setz [ebp + 5]
    imul esi, edi
    inc esi
    pushfd
  `;
  it('flags that are read, in part or whole, are still set', () => {
    sameAsInterpreter(live, 17, lazyCmp);
    sameAsInterpreter(live, 17, eagerFlags);
  });

  it('a memory rotate that leaves the block (its store hit the block\'s code) keeps the record\'s other flags', () => {
    // The ROL's store changes the ADD's immediate: the block leaves after the ROL, where an interrupt could push
    // EFLAGS. The CMP's ZF, SF, PF and AF, which the ADD would redefine, must be in EFLAGS at that exit.
    const source = `cmp eax, ecx\nrol dword [${ORG + 9}], 1\nadd eax, 0x11223344\nhlt`;
    const code = assemble(source, 32, ORG);
    expect(code[8]).toBe(0x05); // add eax, imm32: the immediate at ORG + 9
    for (const [a, b] of [[5, 5], [1, 2], [0x80000000, 1], [0, 0x7f]]) {
      const run = (translated: boolean): number[] => {
        const m = flat32(code, ORG, 1 << 20);
        m.cpu.regs[0] = a;
        m.cpu.regs[1] = b;
        if (translated) {
          const blk = buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
          expect(blk.len).toBe(3);
          expect(blk.run(m.cpu, 3)).toBe(2);
        } else {
          m.cpu.jit = false;
          m.cpu.run(2);
        }
        return [m.cpu.getEflags(), m.cpu.eip, m.mem.read32(ORG + 9)];
      };
      expect(run(true), `a 0x${a.toString(16)} b 0x${b.toString(16)}`).toEqual(run(false));
    }
  });
});

describe.skipIf(!HAS_NASM)('inline shifts and rotates by CL', () => {
  // The count is CL masked to 5 bits at run time: 0 leaves the flags (the record pending before, here a CMP's),
  // counts at and past the operand width take the special cases of shift.ts shiftCompute.
  const forms: Record<string, { reg: string; mem: string; counts: number[] }> = {
    byte: { reg: 'bl', mem: 'byte', counts: [0, 1, 8, 9, 31] },
    word: { reg: 'bx', mem: 'word', counts: [0, 1, 16, 17, 0x3f] },
    dword: { reg: 'ebx', mem: 'dword', counts: [0, 1, 7, 31, 0xe0] },
  };
  for (const [size, { reg, mem, counts }] of Object.entries(forms)) {
    it(`${size} operands in registers and memory: ROL ROR SHL SHR SAR, with the flags of each`, () => {
      const lines = ['cmp eax, edx'];
      counts.forEach((count, n) => {
        lines.push(`mov cl, ${count}`);
        ['rol', 'ror', 'shl', 'shr', 'sar'].forEach((kind, k) => {
          lines.push((n + k) % 2 === 0 ? `${kind} ${reg}, cl` : `${kind} ${mem} [ebp + ${4 * (n * 5 + k)}], cl`, 'pushfd');
        });
      });
      const m = flat32(assemble(`${lines.join('\n')}\nhlt`, 32, ORG), ORG, 1 << 20);
      expect(handlerCalls(buildBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG).source)).toEqual([]);
      sameAsInterpreter(lines.join('\n'), lines.length, lazyCmp);
    });
  }
});
