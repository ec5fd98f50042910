// Near control transfers, LOOP/JCXZ by address size, BOUND and HLT (SDM vol. 2 Jcc, JMP, CALL, RET, LOOPcc, JCXZ,
// BOUND, HLT).

import { describe, expect, it } from 'vitest';
import { CS } from '../../../engine/cpu/cpu';
import { CF, OF, PF, SF, ZF } from '../../../engine/cpu/flags';
import { flat32, realMode, type TestMachine } from './harness';
import { assemble, HAS_NASM, haltingVectors, recordExceptions, runAllowingUnbuiltDelivery, VECTOR_STUBS } from './move-fixtures';

const EAX = 0, ECX = 1, EBX = 3, ESP = 4;

function real(source: string): TestMachine {
  const m = realMode(assemble(source + '\nhlt', 16, 0x1000));
  haltingVectors(m);
  return m;
}

describe('Jcc', () => {
  // Conditions as the SDM's Jcc table states them, evaluated on raw flag bits.
  const CONDITIONS: ((f: number) => boolean)[] = [
    (f) => (f & OF) !== 0,
    (f) => (f & OF) === 0,
    (f) => (f & CF) !== 0,
    (f) => (f & CF) === 0,
    (f) => (f & ZF) !== 0,
    (f) => (f & ZF) === 0,
    (f) => (f & (CF | ZF)) !== 0,
    (f) => (f & (CF | ZF)) === 0,
    (f) => (f & SF) !== 0,
    (f) => (f & SF) === 0,
    (f) => (f & PF) !== 0,
    (f) => (f & PF) === 0,
    (f) => ((f & SF) !== 0) !== ((f & OF) !== 0),
    (f) => ((f & SF) !== 0) === ((f & OF) !== 0),
    (f) => (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0),
    (f) => (f & ZF) === 0 && ((f & SF) !== 0) === ((f & OF) !== 0),
  ];

  it('every condition code, short and near, against every combination of CF ZF SF OF PF', () => {
    for (let cc = 0; cc < 16; cc++) {
      for (let bits = 0; bits < 32; bits++) {
        const f = (bits & 1 ? CF : 0) | (bits & 2 ? ZF : 0) | (bits & 4 ? SF : 0) | (bits & 8 ? OF : 0) | (bits & 16 ? PF : 0);
        for (const near of [false, true]) {
          const code = near ? [0x0f, 0x80 + cc, 0x10, 0x00] : [0x70 + cc, 0x10];
          const m = realMode(code);
          m.cpu.setEflags(f | 2);
          m.cpu.step();
          const fallthrough = 0x1000 + code.length;
          expect(m.cpu.eip, `cc ${cc} flags ${f.toString(16)}`).toBe(CONDITIONS[cc](f) ? fallthrough + 0x10 : fallthrough);
        }
      }
    }
  });

  it('backward short jump with a negative displacement', () => {
    const m = realMode([0x90, 0x90, 0x74, 0xfc]); // je -4 → 0x1000
    m.cpu.eip = 0x1002;
    m.cpu.setEflags(ZF | 2);
    m.cpu.step();
    expect(m.cpu.eip).toBe(0x1000);
  });
});

describe.skipIf(!HAS_NASM)('JMP, CALL, RET', () => {
  it('a 16-bit target wraps at 64 KiB', () => {
    const m = realMode([0xe9, 0x20, 0x00], 0xfff0); // jmp +0x20 from 0xFFF3
    m.mem.load(0x0013, Uint8Array.from([0xf4]));
    m.cpu.run(10);
    expect(m.cpu.eip).toBe(0x0014);
  });

  it('CALL rel, RET, RET imm16, CALL r/m and JMP r/m', () => {
    const m = real(`mov sp, 0x8000
      call f              ; pushes the return address
      mov [0x3000], ax
      push word 0xaaaa
      push word 0xbbbb
      call g              ; RET 4 releases the two words
      mov [0x3002], sp
      mov bx, h
      call bx
      mov word [0x2000], k
      call word [0x2000]
      mov bx, done
      jmp bx
      hlt
    f: mov ax, [esp]
      ret
    g: ret 4
    h: mov cx, 0x4444
      ret
    k: mov dx, 0x5555
      ret
    done: mov si, 0x6666`);
    m.cpu.run(100);
    expect(m.mem.peek(0x3000, 2)).toBe(0x1006);
    expect(m.mem.peek(0x3002, 2)).toBe(0x8000);
    expect(m.cpu.regs[ECX] & 0xffff).toBe(0x4444);
    expect(m.cpu.regs[2] & 0xffff).toBe(0x5555);
    expect(m.cpu.regs[6] & 0xffff).toBe(0x6666);
  });

  it('a 16-bit JMP r/m in 32-bit code truncates the target to 16 bits', () => {
    const m = flat32(assemble(`mov eax, 0x12345678
      jmp ax`, 32, 0x10000));
    m.mem.load(0x5678, Uint8Array.from([0xf4]));
    m.cpu.run(10);
    expect(m.cpu.eip).toBe(0x5679);
  });

  it('a near target beyond the CS limit raises #GP(0) with EIP and ESP unchanged', () => {
    // real mode: an o32 jump to 0x10000 lies past the 64 KiB limit
    const m = real(`jmp dword 0x10000`);
    const ex = recordExceptions(m);
    m.cpu.run(10);
    expect(ex[0]).toMatchObject({ vector: 13, errorCode: 0, eip: 0x1000 });
    expect(m.mem.peek(m.cpu.sp, 2)).toBe(0x1000); // IP pushed by the #GP delivery: the JMP itself

    const p = flat32(assemble(`call dword 0x30000`, 32, 0x10000));
    p.cpu.loadSegmentCache(CS, p.cpu.segSel[CS], 0, 0x2ffff, p.cpu.segAr[CS], true, 'loader');
    const pex = recordExceptions(p);
    runAllowingUnbuiltDelivery(p);
    expect(pex[0]).toMatchObject({ vector: 13, errorCode: 0, eip: 0x10000 });
    expect(p.cpu.regs[ESP]).toBe(0x90000);
    expect(p.cpu.eip).toBe(0x10000);
  });

  it('RET to a target beyond the CS limit leaves ESP alone', () => {
    const p = flat32(assemble(`push dword 0x40000
      ret`, 32, 0x10000));
    p.cpu.loadSegmentCache(CS, p.cpu.segSel[CS], 0, 0x2ffff, p.cpu.segAr[CS], true, 'loader');
    const ex = recordExceptions(p);
    runAllowingUnbuiltDelivery(p);
    expect(ex[0]).toMatchObject({ vector: 13, eip: 0x10005 });
    expect(p.cpu.regs[ESP]).toBe(0x90000 - 4);
  });
});

describe.skipIf(!HAS_NASM)('LOOP and JCXZ', () => {
  it('LOOP counts CX with a 16-bit address size and ECX with a32', () => {
    const m = real(`mov ecx, 0x00010003
      xor ax, ax
    a: inc ax
      loop a              ; CX only: 3 iterations, ECX upper half kept
      mov [0x3000], ecx
      mov ecx, 0x00010000
      xor bx, bx
    b: inc bx
      cmp bx, 5
      je c
      a32 loop b          ; ECX: 0x10000 is not zero after one decrement
    c: nop`);
    m.cpu.run(1000);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(3);
    expect(m.mem.peek(0x3000, 4)).toBe(0x00010000);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(5);
    expect(m.cpu.regs[ECX]).toBe(0x10000 - 4);
  });

  it('LOOP with CX = 0 runs 65536 times', () => {
    const m = real(`xor cx, cx
      xor eax, eax
    a: inc eax
      loop a`);
    m.cpu.run(200_000);
    expect(m.cpu.regs[EAX]).toBe(0x10000);
  });

  it('LOOPE and LOOPNE stop on ZF as well as on the count', () => {
    const m = real(`mov cx, 10
      xor ax, ax
    a: inc ax
      cmp ax, 4
      loopne a            ; stops when AX = 4 (ZF = 1)
      mov [0x3000], cx
      mov cx, 10
      xor ax, ax
    b: inc ax
      cmp ax, ax
      loope b             ; ZF stays 1: runs until CX = 0
      mov [0x3002], ax`);
    m.cpu.run(1000);
    expect(m.mem.peek(0x3000, 2)).toBe(6);
    expect(m.mem.peek(0x3002, 2)).toBe(10);
  });

  it('JCXZ tests CX, JECXZ (a32) tests ECX', () => {
    const m = real(`mov ecx, 0x10000
      mov ax, 1
      jcxz a
      mov ax, 2
    a: mov bx, 1
      jecxz b
      mov bx, 2
    b: nop`);
    m.cpu.run(100);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(1);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(2);
  });

  it('a LOOP whose target faults leaves the count unchanged', () => {
    const p = flat32([0xe2, 0x10]);
    p.cpu.loadSegmentCache(CS, p.cpu.segSel[CS], 0, 0x10005, p.cpu.segAr[CS], true, 'loader');
    p.cpu.regs[ECX] = 7;
    const ex = recordExceptions(p);
    runAllowingUnbuiltDelivery(p);
    expect(ex[0]).toMatchObject({ vector: 13, eip: 0x10000 });
    expect(p.cpu.regs[ECX]).toBe(7);
  });
});

describe.skipIf(!HAS_NASM)('BOUND and HLT', () => {
  it('BOUND passes inside the signed bounds and raises #BR (5) as a fault outside', () => {
    const m = real(`mov word [0x2000], -10
      mov word [0x2002], 20
      mov ax, -10
      bound ax, [0x2000]
      mov ax, 20
      bound ax, [0x2000]
      mov bx, 1
      mov ax, 21
      bound ax, [0x2000]`);
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(1);
    expect(ex.map((e) => [e.vector, e.errorCode])).toEqual([[5, -1]]);
    expect(m.cpu.eip).toBe(VECTOR_STUBS + 5 + 1);
    const boundAddr = 0x1000 + 6 + 6 + 3 + 4 + 3 + 4 + 3 + 3;
    expect(m.mem.peek(m.cpu.sp, 2)).toBe(boundAddr); // the return address is BOUND itself
  });

  it('BOUND with 32-bit operands compares signed dwords', () => {
    const m = flat32(assemble(`mov dword [0x2000], 0x80000000
      mov dword [0x2004], 0x7fffffff
      mov eax, 0x80000001
      bound eax, [0x2000]
      hlt`, 32, 0x10000));
    const ex = recordExceptions(m);
    m.cpu.run(10);
    expect(ex).toEqual([]);
    expect(m.cpu.halted).toBe(true);
  });

  it('BOUND with a register operand is #UD', () => {
    const m = realMode([0x62, 0xc0]);
    haltingVectors(m);
    const ex = recordExceptions(m);
    m.cpu.run(10);
    expect(ex[0].vector).toBe(6);
  });

  it('HLT halts in real mode and at CPL 0; at CPL 3 it raises #GP(0)', () => {
    const m = realMode([0xf4]);
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.eip).toBe(0x1001);
    const p = flat32([0xf4]);
    p.cpu.cpl = 3;
    const ex = recordExceptions(p);
    runAllowingUnbuiltDelivery(p);
    expect(ex[0]).toMatchObject({ vector: 13, errorCode: 0, eip: 0x10000 });
  });
});
