// The decode-time specialised handlers (ops/fast.ts) against the table's handlers: the same random programs as the
// JIT lockstep test (jit-program.ts), both CPUs interpreting, one with specialisation and one without, compared
// after every slice. Plus a check that specialisation really happens for the forms it covers.

import { describe, expect, it } from 'vitest';
import { generateProgram, LAYOUT16, LAYOUT32 } from './jit-program';
import { lockstep, machineFor } from './jit-lockstep-harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { flat32, SEL_CODE32, SEL_DATA16 } from './harness';
import { AR_DB, AR_P, AR_S, CS, Cpu, SS } from '../../../engine/cpu/cpu';
import { CpuFault } from '../../../engine/cpu/faults';
import { HANDLERS } from '../../../engine/cpu/ops';
import { imul32 } from '../../../engine/cpu/ops/muldiv';

describe.skipIf(!HAS_NASM)('specialised handlers against the table handlers', () => {
  for (const bits of [32, 16] as const) {
    it(`${bits}-bit random loops: same state and memory after every slice`, () => {
      const L = bits === 32 ? LAYOUT32 : LAYOUT16;
      for (let seed = 201; seed <= 216; seed++) {
        const source = generateProgram(seed * 31337 + bits, bits);
        const code = assemble(source.replace(/^bits \d+\norg 0x[0-9a-f]+\n/, ''), bits, L.org);
        const ref = machineFor(code, bits, seed);
        const fast = machineFor(code, bits, seed);
        ref.cpu.jit = fast.cpu.jit = false;
        ref.cpu.fastHandlers = false;
        fast.cpu.fastHandlers = true;
        try {
          lockstep(ref.cpu, fast.cpu, seed, [
            [L.data, L.data + 0x1000],
            [L.stackTop - 0x1000, L.stackTop + 0x100],
          ]);
        } catch (e) {
          throw new Error(`seed ${seed}, ${bits}-bit program:\n${source}\n\n${(e as Error).message}`);
        }
      }
    });
  }

  it.each([
    ['add eax, ecx', 'aluEG'],
    ['sub esi, [ebx + 4]', 'aluGE'],
    ['xor [ebx], edx', 'aluEG'],
    ['cmp eax, 5', 'aluEI'],
    ['and eax, 0x12345678', 'aluAI'],
    ['dec ecx', 'decZ'],
    ['jnz $', 'jcc'],
    ['rol eax, 3', 'shiftI'],
    ['lea edi, [esi + edx * 2 + 8]', 'lea'],
    ['add dword [ebx + 4], 5', 'aluEI'],
    ['mov edx, 0x12345678', 'movZI'],
    ['push esi', 'pushZ'],
    ['pop ecx', 'popZ'],
    ['call $ + 0x100', 'callRel'],
    ['ret 8', 'retNear'],
    ['jmp $ + 0x100', 'jmpRel'],
    ['imul edi, edx', 'imulGE'],
    ['imul eax, [ebx + ecx * 4 + 8]', 'imulGE'],
    ['imul ecx, esi, 0x10001', 'imulGEI'],
    ['imul ecx, [ebx], -3', 'imulGEI'],
    ['adc edi, ecx', 'aluEG'],
    ['sbb esi, 0x12345', 'aluEI'],
    ['adc [ebx + 4], edx', 'aluEG'],
    ['cmovae esi, [ebp - 0x10]', 'cmov'],
    ['cmovb edx, edi', 'cmov'],
    ['setb cl', 'setcc'],
    ['setnz byte [ebx + 2]', 'setcc'],
    ['movzx esi, dx', 'movzx'],
    ['movzx eax, byte [esi + 1]', 'movzx'],
    ['ror eax, 7', 'shiftI'],
    ['test eax, ecx', 'testEG'],
    ['test cl, dh', 'testEG'],
    ['test byte [ebx + 1], 0x80', 'testEI'],
    ['test dword [ebx], 0x80000001', 'testEI'],
    ['test al, 1', 'testAI'],
    ['cmp al, 0x41', 'aluAI'],
    ['and dh, 0xdf', 'aluEI'],
    ['mov dword [ebx + 8], 0x87654321', 'movEI'],
    ['mov byte [esi], 7', 'movEI'],
    ['inc dword [ebx]', 'incE'],
    ['dec dword [ebx + ecx * 4 + 8]', 'decE'],
    ['mov eax, [0x20000]', 'movAO'],
    ['mov [0x20004], eax', 'movOA'],
  ])('%s decodes to a specialised handler', (asm, row) => {
    const m = flat32(assemble(asm, 32, 0x10000), 0x10000);
    const i = m.cpu.fetchInstr(0x10000);
    expect(i.row!.handler).toBe(row);
    expect(i.exec).not.toBe(HANDLERS[row]);
    m.cpu.flushDecodeCache();
    m.cpu.fastHandlers = false;
    expect(m.cpu.fetchInstr(0x10000).exec).toBe(HANDLERS[row]);
  });
});

describe('specialised shifts by an immediate, every kind and count (C1 /n ib, including counts nasm encodes as D1)', () => {
  const values = [0, 1, 0x7f, 0x80000000, 0xc0000001, 0x12345678, 0xffffffff, 0x40000000];
  for (const kind of [0, 1, 4, 5, 6, 7]) {
    it(`C1 /${kind} on EAX for counts 0–33 from several values`, () => {
      for (const value of values) {
        for (let count = 0; count < 34; count++) {
          const code = [0xc1, 0xc0 | (kind << 3), count, 0xf4];
          const run = (fast: boolean): number[] => {
            const m = flat32(code, 0x10000);
            m.cpu.jit = false;
            m.cpu.fastHandlers = fast;
            m.cpu.regs[0] = value;
            m.cpu.setEflags(0x8d5 & (value ^ count)); // arbitrary flags in, so "unchanged" is visible
            m.cpu.run(2);
            return [m.cpu.regs[0] >>> 0, m.cpu.getEflags()];
          };
          expect(run(true), `kind ${kind} value 0x${value.toString(16)} count ${count}`).toEqual(run(false));
        }
      }
    });
  }
});

describe.skipIf(!HAS_NASM)('specialised 32-bit stack and near-transfer handlers against the table handlers', () => {
  // PUSH/POP ESP, RET imm16, and a 16-bit stack under 32-bit code (SS.B = 0: the specialised forms defer to the
  // table's handlers), each run with and without specialisation.
  const source = `
    mov ebx, esp
    push esp
    pop eax
    push ebx
    pop esp
    push 0x11
    push 0x22
    call sub
    mov esi, esp
    jmp over
    nop
  over:
    mov ecx, 3
  again:
    push ecx
    call sub2
    pop edx
    loop again
    hlt
  sub:
    ret 8
  sub2:
    add edi, [esp + 4]
    ret
  `;
  for (const stack16 of [false, true]) {
    it(`same registers, flags and stack on a ${stack16 ? '16' : '32'}-bit stack`, () => {
      const run = (fast: boolean): unknown[] => {
        const m = flat32(assemble(source, 32, 0x10000), 0x10000);
        m.cpu.jit = false;
        m.cpu.fastHandlers = fast;
        if (stack16) {
          m.cpu.loadSegmentCache(SS, SEL_DATA16, 0, 0xffff, AR_P | AR_S | 0x3, true, 'loader');
          m.cpu.regs[4] = 0x12348000; // the upper half of ESP stays out of SP's arithmetic
        }
        m.cpu.run(1000);
        expect(m.cpu.halted).toBe(true);
        return [Array.from(m.cpu.regs), m.cpu.eip, m.cpu.getEflags(), Array.from(m.mem.u8.subarray(0x7f00, 0x8000)), Array.from(m.mem.u8.subarray(0x8ff00, 0x90000))];
      };
      expect(run(true)).toEqual(run(false));
    });
  }

  it('a RET to beyond the CS limit raises #GP with ESP unchanged, specialised or not', () => {
    const run = (fast: boolean): number[] => {
      const m = flat32(assemble('push 0x300000\nret', 32, 0x10000), 0x10000);
      m.cpu.jit = false;
      m.cpu.fastHandlers = fast;
      m.cpu.loadSegmentCache(CS, SEL_CODE32, 0, 0x2fffff, AR_P | AR_S | 0xb | AR_DB, true, 'loader');
      m.cpu.run(1); // push
      const esp = m.cpu.regs[4];
      const ret = m.cpu.fetchInstr(m.cpu.eip);
      m.cpu.eip += ret.len;
      let raised: CpuFault | null = null;
      try {
        ret.exec(m.cpu, ret);
      } catch (e) {
        raised = e as CpuFault;
      }
      expect(raised).toBeInstanceOf(CpuFault);
      expect([raised!.vector, raised!.rule.id]).toEqual([13, 'near-branch.cs-limit']);
      return [m.cpu.regs[4], esp];
    };
    const [after, before] = run(true);
    expect(after).toBe(before);
    expect(run(false)[0]).toBe(before);
  });
});

describe.skipIf(!HAS_NASM)('POPF after a pending lazy flag record', () => {
  // POPF reads only the flags that are never lazy and takes every arithmetic flag from the image (ops/stack.ts): an
  // ADD's pending record must not leak into the result, whatever the image holds.
  for (const [a, b] of [
    [0xffffffff, 1], // ZF CF PF AF set
    [0x7fffffff, 1], // OF SF AF PF set
    [1, 2], // all clear but PF
  ]) {
    for (const image of [0x0, 0x8d5, 0x0c1, 0x814]) {
      for (const o16 of [false, true]) {
        it(`ADD 0x${a.toString(16)} + ${b}, then POPF${o16 ? '' : 'D'} of 0x${image.toString(16)}`, () => {
          const m = flat32(assemble(`add eax, ebx\n${o16 ? 'push word' : 'push dword'} ${image}\n${o16 ? 'popf' : 'popfd'}\nhlt`, 32, 0x10000), 0x10000);
          m.cpu.jit = false;
          m.cpu.regs[0] = a;
          m.cpu.regs[3] = b;
          m.cpu.run(10);
          expect(m.cpu.halted).toBe(true);
          expect(m.cpu.getEflags() & 0x8d5).toBe(image);
        });
      }
    }
  }
});

/**
 * Runs `program` (32-bit, ending in HLT) interpreted with and without specialised handlers for every pair of
 * `values` as operands a and b (EAX = a, ECX = b, EDX = a ^ (b >>> 3), EBX = 0x20000 → [b, a] in memory, EBP = a ^ b,
 * ESI = b) and two EFLAGS images in; expects the same registers, flags, data and stack on both sides.
 */
function expectSameAsTable(program: string, values: number[]): void {
  const code = assemble(program, 32, 0x10000);
  // One machine per side, reset for each case (a new 4 MiB machine per case made these tests take seconds).
  const machines = [false, true].map((fast) => {
    const m = flat32(code, 0x10000);
    m.cpu.jit = false;
    m.cpu.fastHandlers = fast;
    return m;
  });
  const run = (fast: boolean, a: number, b: number, flagsIn: number): unknown[] => {
    const m = machines[fast ? 1 : 0];
    m.cpu.halted = false;
    m.cpu.eip = 0x10000;
    m.cpu.regs.fill(0);
    m.cpu.regs[4] = 0x90000;
    m.mem.u8.fill(0, 0x20000, 0x20020);
    m.mem.u8.fill(0, 0x8ff00, 0x90000);
    m.cpu.regs[0] = a;
    m.cpu.regs[1] = b;
    m.cpu.regs[2] = a ^ (b >>> 3);
    m.cpu.regs[3] = 0x20000;
    m.cpu.regs[5] = a ^ b;
    m.cpu.regs[6] = b;
    m.mem.u8.set(Uint8Array.from([b, b >>> 8, b >>> 16, b >>> 24, a, a >>> 8, a >>> 16, a >>> 24]), 0x20000);
    m.cpu.setEflags(flagsIn);
    m.cpu.run(100);
    expect(m.cpu.halted).toBe(true);
    return [Array.from(m.cpu.regs), m.cpu.getEflags(), Array.from(m.mem.u8.subarray(0x20000, 0x20020)), Array.from(m.mem.u8.subarray(0x8ff00, 0x90000))];
  };
  for (const a of values) {
    for (const b of values) {
      for (const flagsIn of [0x002, 0x8d7]) {
        expect(run(true, a, b, flagsIn), `a 0x${a.toString(16)} b 0x${b.toString(16)} flags 0x${flagsIn.toString(16)}`).toEqual(run(false, a, b, flagsIn));
      }
    }
  }
}

describe.skipIf(!HAS_NASM)('specialised IMUL, ADC/SBB, CMOVcc, SETcc and MOVZX against the table handlers', () => {
  // Operands around every boundary of imul32's exact double path (products near 2^31, 2^32 and 2^53 in magnitude,
  // both signs) and of the carry, with every flag state in: registers, flags and memory must match the table's
  // handlers (whose 32-bit IMUL was the 16-bit limb product, mulS32, before imul32).
  const values = [
    0, 1, 2, 3, 0x7fff, 0x8000, 0xffff, 0x10000, 0x10001, 0x2000000, 0x3ffffff, 0x4000000, 0x7fffffff, 0x80000000,
    0x80000001, 0xfffffffe, 0xffffffff, 0xfffe0001, 0x12345678, 0xdeadbeef, 0xb504f333, 0x1fffff, 0x200001,
  ];
  const program = `
    imul eax, ecx
    mov edx, [ebx]
    imul edx, [ebx + 4]
    mov [ebx + 8], edx
    imul esi, ecx, 0x7fffffff
    imul edi, [ebx + 4], -0x80000000
    pushfd
    adc eax, ecx
    sbb edx, [ebx + 4]
    adc [ebx + 12], ecx
    sbb esi, 0x1234567
    setb [ebx + 16]
    setle al
    seto ch
    cmovl edi, ecx
    cmovge esi, [ebx]
    cmovbe ebp, [ebx + 4]
    movzx ecx, ch
    movzx edx, word [ebx + 2]
    movzx esi, ax
    hlt`;
  it('same registers, flags and memory for every pair of operands and flags in', () => {
    expectSameAsTable(program, values);
  });

  it('imul32 agrees with a BigInt product on random and boundary operands', () => {
    const m = flat32([0xf4], 0x10000);
    let seed = 12345;
    const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0;
    const pairs: [number, number][] = [];
    for (const a of values) for (const b of values) pairs.push([a, b]);
    for (let k = 0; k < 20000; k++) pairs.push([rand() >>> (rand() & 31), rand() >>> (rand() & 31)]);
    for (const [a, b] of pairs) {
      m.cpu.setEflags(0x002);
      const low = imul32(m.cpu, a, b);
      const flags = m.cpu.getEflags();
      const p = BigInt.asUintN(64, BigInt(a | 0) * BigInt(b | 0));
      const lo = Number(p & 0xffffffffn);
      const hi = Number(p >> 32n);
      const overflow = BigInt.asIntN(64, p) !== BigInt(lo | 0);
      expect([low >>> 0, flags & 0x801], `0x${a.toString(16)} × 0x${b.toString(16)}`).toEqual([lo, overflow ? 0x801 : 0]);
      expect(flags & 0xc4, `SF ZF PF of the high half, 0x${a.toString(16)} × 0x${b.toString(16)}`).toBe(Cpu.szp(hi, 4));
    }
  });
});

describe.skipIf(!HAS_NASM)('specialised TEST, 8-bit ALU with an immediate, MOV imm to memory, INC/DEC m32 and moffs against the table handlers', () => {
  const values = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x12345678, 0xdeadbeef];
  // Each flag-setting instruction is followed by PUSHFD, so the stack (compared) holds every EFLAGS image.
  const program = `
    test eax, ecx
    pushfd
    test cl, ah
    pushfd
    test byte [ebx + 1], 0x80
    pushfd
    test dword [ebx + 4], 0x80000001
    pushfd
    test al, 0x81
    pushfd
    test eax, 0xfffffffe
    pushfd
    test dh, dl
    pushfd
    cmp al, 0x80
    pushfd
    sub cl, 0x7f
    pushfd
    add ah, 0x90
    pushfd
    xor dh, 0xff
    pushfd
    or ch, 0x41
    pushfd
    and dl, 0x0f
    pushfd
    mov dword [ebx + 8], 0x87654321
    mov byte [ebx + 12], 0xa5
    inc dword [ebx]
    pushfd
    dec dword [ebx + 4]
    pushfd
    mov [0x20010], eax
    mov edx, [0x20004]
    ror ebp, 7
    pushfd
    ror esi, 1
    pushfd
    hlt`;
  it('same registers, flags and memory for every pair of operands and flags in', () => {
    expectSameAsTable(program, values);
  });
});
