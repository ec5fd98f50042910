// Each instruction form WebAssembly blocks translate (jit/wasm/instrs.ts), against the interpreter: a snippet that
// is one wasm block holding every instruction of it (none left to the interpreter), run translated and interpreted
// from the same state for many operand values — registers, EFLAGS (the Cpu's lazy record and eager flags at entry),
// EIP, icount and memory must be equal.

import { describe, expect, it } from 'vitest';
import { flat32, type TestMachine } from './harness';
import { LOP_SUB } from '../../../engine/cpu/flags';
import { AR_DB, AR_G, AR_P, AR_S, FS, GS } from '../../../engine/cpu/cpu';
import { buildWasmBlock } from '../../../engine/cpu/jit/wasm/block';
import type { CompiledBlock } from '../../../engine/cpu/jit/block';
import { rng } from './jit-program';
import { assemble, HAS_NASM } from './move-fixtures';

const ORG = 0x10000;
const DATA = 0x20000;
const EDGES = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff];

/** Operand pairs: the edge values against each other, and random ones. */
function operandPairs(): [number, number][] {
  const pairs: [number, number][] = [];
  for (const a of EDGES) for (const b of EDGES) pairs.push([a, b]);
  const r = rng(0x3a5);
  for (let k = 0; k < 64; k++) pairs.push([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]);
  return pairs;
}

type Setup = (m: TestMachine, a: number, b: number) => void;

/** The Cpu's own lazy record at entry: a CMP of the operands. */
const lazyCmp: Setup = (m, a, b) => {
  m.cpu.setEflags(0x2 | (0x8d5 & ~(a ^ b)));
  m.cpu.setLazyFlags(LOP_SUB, a, b, (a - b) >>> 0, 4, 0);
};
/** FS and GS with bases (DATA, DATA + 0x200) and the whole 4 GiB window, as Linux's per-CPU segment; lazy flags. */
const segmentBases: Setup = (m, a, b) => {
  const ar = AR_P | AR_S | 0x3 | AR_DB | AR_G;
  m.cpu.loadSegmentCache(FS, 0x10, DATA, 0xffffffff, ar, true, 'loader');
  m.cpu.loadSegmentCache(GS, 0x10, DATA + 0x200, 0xffffffff, ar, true, 'loader');
  lazyCmp(m, a, b);
};
/** Eager flags at entry, some set from the operands (DF among them: STOS/LODS step down). */
const eager: Setup = (m, a, b) => m.cpu.setEflags(0x2 | (0xcd5 & (a ^ (b >>> 3))));

/**
 * Runs `source` (`count` instructions) as one wasm block and interpreted, from the state each operand pair and
 * `setup` make; the block must translate all of them. Where the block leaves early (an access outside RAM goes to
 * the interpreter, which runs that instruction and ends the block), the interpreter runs the rest, as the run loop
 * would; most pairs must run the whole snippet in wasm.
 */
function sameAsInterpreter(source: string, count: number, setup: Setup = lazyCmp, callsInterpreter = false): void {
  const code = assemble(`${source}\nhlt`, 32, ORG);
  let whole = 0;
  const pairs = operandPairs();
  for (const [a, b] of pairs) {
    let block: CompiledBlock | null = null;
    const run = (translated: boolean): (number | string)[] => {
      const m = flat32(code, ORG, 1 << 20);
      m.cpu.regs.set([a, b, a ^ b, b - a, DATA + 0x200, DATA, a >>> 3, DATA + 0x100 + (b & 0x3c)]);
      for (let k = 0; k < 0x100; k++) m.mem.write32(DATA + 4 * k, Math.imul(a ^ k, 0x9e3779b1) ^ b);
      setup(m, a, b);
      if (translated) {
        block = buildWasmBlock(m.cpu, m.cpu.fetchInstr(ORG), ORG);
        expect(block, 'a wasm block').not.toBeNull();
        expect(block!.source).not.toContain('*'); // every instruction in wasm
        // (`!`: an instruction the block runs through its interpreter handler, wasm/callout.ts.)
        if (!callsInterpreter) expect(block!.source).not.toContain('!');
        else expect(block!.source).toContain('!');
        expect(block!.len).toBe(count);
        const retired = block!.run(m.cpu, count);
        m.cpu.icount += retired;
        if (retired === count) whole++;
        else {
          m.cpu.jit = false;
          m.cpu.run(count - retired);
        }
      } else {
        m.cpu.jit = false;
        m.cpu.run(count);
      }
      return [...Array.from(m.cpu.regs, (r) => r >>> 0), m.cpu.getEflags(), m.cpu.eip, m.cpu.icount, ...Array.from(m.mem.u8.subarray(DATA, DATA + 0x400))];
    };
    expect(run(true), `a 0x${a.toString(16)} b 0x${b.toString(16)}`).toEqual(run(false));
  }
  expect(whole).toBeGreaterThan(pairs.length / 2);
}

/** `count` copies of each line, so the snippet is one straight block. */
function lines(...ls: string[]): { source: string; count: number } {
  return { source: ls.join('\n'), count: ls.length };
}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

describe.skipIf(!HAS_NASM)('wasm block forms against the interpreter', () => {
  for (const op of ALU) {
    it(`${op}: register, immediate and memory forms, 8/16/32 bits, flags read after each`, () => {
      const { source, count } = lines(
        `${op} eax, ecx`, 'setc [ebp]', 'seto [ebp + 1]',
        `${op} dx, bx`, 'setz [ebp + 2]', 'sets [ebp + 3]', 'setp [ebp + 4]',
        `${op} al, ch`, 'setc [ebp + 5]', 'seto [ebp + 6]', 'setl [ebp + 7]',
        `${op} ah, 0x85`, 'setbe [ebp + 8]', 'setle [ebp + 9]',
        `${op} esi, 0x12345678`, 'setb [ebp + 10]',
        `${op} dword [ebp + 0x20], ecx`, 'seta [ebp + 11]',
        `${op} ecx, [ebp + 0x24]`, 'setg [ebp + 12]',
        `${op} word [ebp + 0x28], 0x8001`, 'seto [ebp + 13]',
        `${op} byte [ebp + 0x2b], 0x7f`, 'setge [ebp + 14]',
        `${op} eax, -3`, 'pushfd', `${op} ebx, edx`, // (the last one's record is pending at the exit)
      );
      sameAsInterpreter(source, count);
      sameAsInterpreter(source, count, eager);
    });
  }

  it('TEST, INC, DEC, NEG, NOT in every size, with CF kept across INC/DEC', () => {
    const { source, count } = lines(
      'test eax, ecx', 'setz [ebp]', 'test dl, 0x81', 'sets [ebp + 1]', 'test dword [ebp + 4], edx', 'setp [ebp + 2]',
      'test al, 0x40', 'setnz [ebp + 3]',
      'add eax, ecx', 'inc eax', 'setc [ebp + 4]', 'seto [ebp + 5]', 'dec bx', 'setc [ebp + 6]', 'setz [ebp + 7]',
      'inc dword [ebp + 8]', 'dec byte [ebp + 12]', 'sets [ebp + 8]', 'inc dh', 'setp [ebp + 9]',
      'neg ecx', 'setc [ebp + 10]', 'seto [ebp + 11]', 'neg byte [ebp + 13]', 'setb [ebp + 12]',
      'not esi', 'not word [ebp + 14]', 'not ch', 'pushfd',
    );
    sameAsInterpreter(source, count);
    sameAsInterpreter(source, count, eager);
  });

  it('MOV, MOVZX, MOVSX, LEA, XCHG and NOP in every size and addressing form', () => {
    const { source, count } = lines(
      'mov eax, [ebp + 4]', 'mov [ebp + 8], ecx', 'and esi, 0x3f', 'mov bl, [ebp + esi*4 + 3]', 'mov [ebp + 0x11], dh', 'mov cx, [ebp + 0x13]',
      'mov word [ebp + 0x16], 0xbeef', 'mov byte [ebp + 0x19], 0x42', 'mov dword [ebp + 0x1c], -5', 'mov esi, 0x87654321',
      'mov ah, 0x9c', 'mov di, 0x1234', 'mov edx, ebx', 'mov al, ch', 'movzx ecx, byte [ebp + 0x21]', 'movzx edx, word [ebp + 0x22]',
      'movsx eax, byte [ebp + 0x25]', 'movsx bx, dl', 'movsx esi, word [ebp + 0x26]', 'lea ecx, [eax + ebx*8 + 0x1000]',
      'lea dx, [esi + 7]', 'lea edi, [ebp + 0x30]', 'xchg eax, [ebp + 0x30]', 'xchg bl, ah', 'xchg ecx, edx', 'nop',
    );
    sameAsInterpreter(source, count);
  });

  it('shifts and rotates by constants (ROL ROR SHL SHR SAR), registers and memory, every size', () => {
    const ls: string[] = [];
    for (const op of ['rol', 'ror', 'shl', 'shr', 'sar']) {
      for (const n of [1, 3, 8, 15, 16, 31]) ls.push(`${op} eax, ${n}`, 'pushfd', `${op} cx, ${n}`, 'setc [ebp]', `${op} dl, ${n}`, 'seto [ebp + 1]');
      ls.push(`${op} dword [ebp + 0x20], 5`, `${op} byte [ebp + 0x24], 1`, `${op} word [ebp + 0x26], 0`, 'pushfd');
    }
    for (let k = 0; k < ls.length; k += 60) {
      const part = ls.slice(k, k + 60);
      sameAsInterpreter(part.join('\n'), part.length);
      sameAsInterpreter(part.join('\n'), part.length, eager);
    }
  });

  it('shifts and rotates by CL (counts 0 to 31 and masked), registers and memory, every size, flags kept by a count of 0', () => {
    for (const op of ['rol', 'ror', 'shl', 'shr', 'sar']) {
      const ls: string[] = [];
      // CL starts as the operand pair's second value (edges 0, 1, 0x7F, 0x80, 0xFF …) and moves by 7 each round.
      for (let round = 0; round < 3; round++) {
        ls.push(`${op} eax, cl`, 'pushfd', `${op} dx, cl`, 'setc [ebp]', `${op} bh, cl`, 'seto [ebp + 1]', 'sets [ebp + 2]');
        ls.push(`${op} dword [ebp + 0x20], cl`, 'setp [ebp + 3]', `${op} word [ebp + 0x26], cl`, `${op} byte [ebp + 0x24], cl`, 'pushfd');
        ls.push('cmp esi, edi', `${op} esi, cl`, 'setb [ebp + 4]', 'setl [ebp + 5]', 'add cl, 7');
      }
      sameAsInterpreter(ls.join('\n'), ls.length);
      sameAsInterpreter(ls.join('\n'), ls.length, eager);
    }
  });

  it('MUL, IMUL (one, two and three operands), PUSHFD/POPFD of arithmetic flags, CLC STC CMC', () => {
    const { source, count } = lines(
      'mul ecx', 'seto [ebp]', 'setc [ebp + 1]', 'imul ebx', 'sets [ebp + 2]', 'mul dword [ebp + 4]', 'imul esi, edi',
      'setz [ebp + 3]', 'imul edi, [ebp + 8], 0x12345', 'imul ecx, ecx, -7', 'pushfd',
      'cmc', 'setc [ebp + 5]', 'cmp eax, ecx', 'stc', 'seta [ebp + 6]', 'clc', 'sbb edx, eax', 'pushfd',
      'add eax, ebx', 'pushfd', 'pop ecx', 'xor ecx, 0x8d5', 'push ecx', 'popfd', 'setc [ebp + 7]', 'setp [ebp + 8]',
    );
    sameAsInterpreter(source, count);
    sameAsInterpreter(source, count, eager);
  });

  it('SETcc of every condition after CMP, SUB, ADD, SBB, INC and a shift', () => {
    for (const setter of ['cmp eax, ecx', 'sub dl, bl', 'add ax, cx', 'sbb eax, ecx', 'inc ecx', 'shl eax, 3', '']) {
      const ls = setter === '' ? [] : [setter];
      for (let cc = 0; cc < 16; cc++) ls.push(`set${CC[cc]} byte [ebp + ${cc}]`);
      sameAsInterpreter(ls.join('\n'), ls.length);
      sameAsInterpreter(ls.join('\n'), ls.length, eager);
    }
  });

  it('MOV moffs, LEAVE, CMOVcc of every condition, BSWAP, CWD/CDQ, CBW/CWDE', () => {
    const ls = [
      `mov eax, [${DATA + 0x10}]`, `mov [${DATA + 0x14}], ecx`, `mov al, [${DATA + 0x19}]`, `mov [${DATA + 0x1b}], ah`,
      `mov ax, [${DATA + 0x1d}]`, `mov [${DATA + 0x21}], bx`, 'bswap esi', 'bswap edx', 'cdq', 'cwd', 'cbw', 'cwde',
      'mov [ebp + 0x30], esp', 'mov esp, ebp', 'add esp, 0x40', 'push dword [ebp]', 'mov ebp, esp', 'leave', 'mov edx, ebp', 'mov ebp, esp', 'sub ebp, 0x40', 'mov esp, [ebp + 0x30]',
    ];
    for (let cc = 0; cc < 16; cc++) ls.push(cc % 4 === 0 ? 'add eax, ecx' : cc % 4 === 2 ? 'cmp edx, ebx' : 'sub si, di', `cmov${CC[cc]} ${cc % 2 === 0 ? 'ebx' : 'si'}, ${cc % 3 === 0 ? '[ebp + 0x44]' : cc % 2 === 0 ? 'edi' : 'ax'}`);
    sameAsInterpreter(ls.join('\n'), ls.length);
    sameAsInterpreter(ls.join('\n'), ls.length, eager);
  });

  it('DIV and IDIV of 32 bits (register and memory divisors), SHLD and SHRD by Ib and CL', () => {
    const { source, count } = lines(
      // (Divisors that give no #DE: a faulting DIV leaves the block for the interpreter, jit-wasm-exits.test.ts.)
      'and ecx, 0x7fffffff', 'or ecx, 1', 'xor edx, edx', 'div ecx', 'mov [ebp], edx', 'pushfd', 'mov edx, ecx', 'shr edx, 1',
      'div ecx', 'seto [ebp + 4]', 'cdq', 'idiv ecx', 'sets [ebp + 5]', 'mov eax, esi', 'cdq', 'and dword [ebp + 8], 0x7ffffff0',
      'or dword [ebp + 8], 3', 'idiv dword [ebp + 8]', 'cdq', 'or ecx, 2', 'neg ecx', 'idiv ecx', 'pushfd',
      'shld eax, ebx, 5', 'setc [ebp + 6]', 'shrd edx, esi, cl', 'seto [ebp + 7]', 'shld [ebp + 12], edi, cl', 'pushfd',
      'shrd [ebp + 16], eax, 31', 'setc [ebp + 8]', 'shld esi, edx, 1', 'shrd ebx, ecx, 0', 'pushfd', 'cmp eax, edx', 'shld eax, edi, cl', 'setb [ebp + 9]',
    );
    sameAsInterpreter(source, count);
    sameAsInterpreter(source, count, eager);
  });

  it('BT, BTS, BTR, BTC (register and immediate offsets, memory bit bases below and above), BSF, BSR, XADD, CMPXCHG', () => {
    const ls: string[] = [];
    for (const op of ['bt', 'bts', 'btr', 'btc']) {
      ls.push(`${op} eax, ecx`, 'setc [ebp]', `${op} dx, bx`, `${op} esi, 13`, 'pushfd', `${op} word [ebp + 0x20], 17`);
      ls.push('mov edi, ecx', 'sar edi, 22', `${op} [ebp + 0x80], edi`, 'setc [ebp + 1]', `${op} word [ebp + 0x40], di`, 'pushfd');
    }
    ls.push('bsf eax, ecx', 'setz [ebp + 2]', 'bsr dx, bx', 'pushfd', 'bsf esi, [ebp + 0x24]', 'bsr edi, esi', 'setnz [ebp + 3]');
    ls.push('xadd eax, ecx', 'seto [ebp + 4]', 'xadd [ebp + 0x28], edx', 'setc [ebp + 5]', 'xadd bl, bh', 'xadd esi, esi', 'pushfd');
    ls.push('cmpxchg ecx, edx', 'setz [ebp + 6]', 'cmpxchg [ebp + 0x2c], esi', 'setb [ebp + 7]', 'mov eax, [ebp + 0x30]');
    ls.push('cmpxchg [ebp + 0x30], ebx', 'setz [ebp + 8]', 'cmpxchg dl, al', 'cmpxchg eax, eax', 'cmpxchg si, di', 'pushfd');
    for (let k = 0; k < ls.length; k += 60) {
      const part = ls.slice(k, k + 60);
      sameAsInterpreter(part.join('\n'), part.length);
      sameAsInterpreter(part.join('\n'), part.length, eager);
    }
  });

  it('memory operands through FS and GS with bases other than 0', () => {
    const { source, count } = lines(
      'mov eax, [fs:0x40]', 'add [gs:ecx*0 + 0x10], eax', 'inc dword [fs:esi*0 + 0x48]', 'mov [gs:0x20], bl', 'movzx edx, word [fs:0x4a]',
      'shl dword [gs:0x24], cl', 'cmp [fs:0x50], edi', 'setl [gs:0x30]', 'xchg [fs:0x54], ecx', 'mov edi, [gs:0x28]', `mov [fs:0x58], eax`,
      'sub eax, [fs:0x5c]', 'cmovb ebx, [gs:0x2c]', 'pushfd',
    );
    sameAsInterpreter(source, count, segmentBases);
  });

  it('interpreter calls between translated instructions: flags lazy or eager on the way in, eager on the way out', () => {
    // RCL, RCR, LAHF, SAHF, SALC, DAA and DAS are no wasm forms: each reads flags a translated instruction left
    // pending (CMP's CF, SUB's AF) or sets flags a translated one reads next (SETcc, ADC).
    const { source, count } = lines(
      'cmp eax, ecx', 'rcl edx, 1', 'setc [ebp]', 'add ebx, ecx', 'lahf', 'mov [ebp + 1], ah', 'rcr ebx, cl', 'adc esi, eax',
      'seto [ebp + 2]', 'sub al, dl', 'das', 'sets [ebp + 3]', 'mov ah, cl', 'sahf', 'setc [ebp + 4]', 'inc ecx', 'salc',
      'pushfd', 'add al, dh', 'daa', 'setp [ebp + 5]', 'rcl word [ebp + 8], cl', 'pushfd',
    );
    sameAsInterpreter(source, count, lazyCmp, true);
    sameAsInterpreter(source, count, eager, true);
  });

  it('XCHG eAX, r (one byte, 16 and 32 bits), CLD and STD with flags pending, defined or the entry\'s', () => {
    // CLD/STD first in a block: no arithmetic flag defined, so the exit must still store DF (and the entry's flags).
    expect(Array.from(assemble('xchg eax, ecx\nxchg ax, dx', 32, ORG))).toEqual([0x91, 0x66, 0x92]); // the one-byte forms
    for (const { source, count } of [
      lines('std', 'xchg eax, ecx', 'stosb', 'xchg ax, dx', 'cld', 'xchg eax, edi', 'xchg eax, edi', 'stosb'),
      lines('add eax, ebx', 'std', 'xchg ax, si', 'stosd', 'cld', 'stosb', 'adc ecx, eax'),
    ]) {
      sameAsInterpreter(source, count);
      sameAsInterpreter(source, count, eager);
    }
  });

  it('RDTSC (TSCs whose low half carries into EDX within the block), CLI, STI of a set IF, CMPXCHG8B equal and unequal', () => {
    // The TSC's offset from the operands: a of 0xFFFFFFFF with b 0 makes the low half wrap at the second
    // instruction; IF set at entry, so STI changes nothing and stays in the block. CMPXCHG8B compares with the
    // quadword just loaded (equal: ECX:EBX stored) and with another (mostly unequal: loaded into EDX:EAX).
    const tsc: Setup = (m, a, b) => {
      m.cpu.setEflags(0x202 | (0x8d5 & ~(a ^ b)));
      m.cpu.setLazyFlags(LOP_SUB, a, b, (a - b) >>> 0, 4, 0);
      m.cpu.tscOffset = a + (b & 0xfffff) * 2 ** 32;
    };
    const { source, count } = lines(
      'sti', 'rdtsc', 'mov [ebp], eax', 'mov [ebp + 4], edx', 'sti', 'setc [ebp + 8]', 'pushfd', 'add ebx, ecx', 'rdtsc',
      'mov [ebp + 12], eax', 'mov [ebp + 16], edx', 'mov eax, [ebp + 0x40]', 'mov edx, [ebp + 0x44]', 'cmpxchg8b [ebp + 0x40]',
      'setz [ebp + 20]', 'cmpxchg8b [ebp + 0x48]', 'pushfd', 'cmp eax, esi', 'cli', 'cmpxchg8b [ebp + 0x50]', 'setz [ebp + 21]',
      'seta [ebp + 22]', 'cli', 'pushfd', 'rdtsc', 'adc esi, eax', 'adc edi, edx', 'pushfd',
    );
    sameAsInterpreter(source, count, tsc);
    // CLI in a block that defines no arithmetic flag: the exit must still store IF clear (and the entry's flags).
    const quiet = lines('sti', 'mov [ebp], eax', 'cli', 'mov [ebp + 4], ecx');
    sameAsInterpreter(quiet.source, quiet.count, tsc);
  });

  it('PUSH, POP, PUSH imm and r/m, STOSD/LODSB without REP (DF either way)', () => {
    const { source, count } = lines(
      'push eax', 'push dword [ebp + 4]', 'push 0x12345678', 'push -2', 'pop ecx', 'pop edx', 'push esp', 'pop ebx', 'pop esi',
      'mov esi, ebp', 'stosd', 'stosb', 'lodsb', 'lodsd', 'pop esp',
    );
    sameAsInterpreter(source, count);
    sameAsInterpreter(source, count, eager);
  });
  // Every case runs each form over many operand pairs, translated and interpreted: under the load of parallel work
  // (load 10-15) single cases took over the default 120 s (the SETcc case and the shifts by CL).
}, 300_000);
