// String instructions: each operation, direction, sizes, address size, segment override of the source, REP/REPE/
// REPNE, restart after a fault in mid-string, count 0 and batching (SDM vol. 2 MOVS … OUTS, REP).

import { describe, expect, it } from 'vitest';
import { AR_DB, AR_G, AR_P, AR_S, DS, ES, FS } from '../../../engine/cpu/cpu';
import { CF, TF, ZF } from '../../../engine/cpu/flags';
import { flat32, realMode, type TestMachine } from './harness';
import { assemble, HAS_NASM, haltingVectors, recordExceptions, runAllowingUnbuiltDelivery, VECTOR_STUBS } from './move-fixtures';

const EAX = 0, ECX = 1, ESI = 6, EDI = 7;

function real(source: string, setup: (m: TestMachine) => void = () => {}): TestMachine {
  const m = realMode(assemble(source + '\nhlt', 16, 0x1000));
  haltingVectors(m);
  setup(m);
  return m;
}

function bytes(n: number, f: (k: number) => number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, k) => f(k) & 0xff);
}

describe.skipIf(!HAS_NASM)('MOVS, STOS, LODS', () => {
  it('REP MOVSB forward copies DS:SI to ES:DI and leaves CX 0, SI/DI past the ends', () => {
    const m = real(`mov si, 0x100
      mov di, 0x200
      mov cx, 50
      cld
      rep movsb`, (m) => {
      m.cpu.setSegmentReal(DS, 0x2000);
      m.cpu.setSegmentReal(ES, 0x3000);
      m.mem.load(0x20100, bytes(50, (k) => k + 1));
    });
    m.cpu.run(100);
    expect(Array.from(m.mem.readBytes(0x30200, 51))).toEqual([...Array.from(bytes(50, (k) => k + 1)), 0]);
    expect(m.cpu.regs[ECX] & 0xffff).toBe(0);
    expect(m.cpu.regs[ESI] & 0xffff).toBe(0x132);
    expect(m.cpu.regs[EDI] & 0xffff).toBe(0x232);
  });

  it('STD makes MOVSW/MOVSD walk downwards; the source segment can be overridden, ES cannot', () => {
    const m = real(`std
      mov si, 0x10e
      mov di, 0x20e
      mov cx, 4
      rep fs movsw
      mov si, 0x30c
      mov di, 0x40c
      mov cx, 2
      rep movsd
      cld`, (m) => {
      m.cpu.setSegmentReal(FS, 0x4000);
      m.cpu.setSegmentReal(ES, 0x3000);
      m.mem.load(0x40108, bytes(8, (k) => 0xa0 + k));
      m.mem.load(0x00308, bytes(8, (k) => 0xb0 + k));
    });
    m.cpu.run(100);
    expect(Array.from(m.mem.readBytes(0x30208, 8))).toEqual(Array.from(bytes(8, (k) => 0xa0 + k)));
    expect(m.cpu.regs[ESI] & 0xffff).toBe(0x304);
    expect(Array.from(m.mem.readBytes(0x30408, 8))).toEqual(Array.from(bytes(8, (k) => 0xb0 + k)));
  });

  it('STOS fills, LODS loads; without REP one element each', () => {
    const m = real(`mov di, 0x100
      mov eax, 0x11223344
      mov cx, 3
      rep stosd
      stosw
      mov si, 0x104
      lodsb
      mov bl, al
      lodsw`, (m) => m.cpu.setSegmentReal(ES, 0));
    m.cpu.run(100);
    expect(m.mem.peek(0x100, 4)).toBe(0x11223344);
    expect(m.mem.peek(0x108, 4)).toBe(0x11223344);
    expect(m.mem.peek(0x10c, 2)).toBe(0x3344);
    expect(m.cpu.regs[EDI] & 0xffff).toBe(0x10e);
    expect(m.cpu.regs[3] & 0xff).toBe(0x44);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(0x2233);
    expect(m.cpu.regs[ESI] & 0xffff).toBe(0x107);
  });

  it('a 32-bit address size uses ESI/EDI/ECX; a 16-bit one wraps SI/DI and keeps their upper halves', () => {
    const m = real(`mov esi, 0x00020100
      mov edi, 0x00030200
      mov ecx, 0x00010002
      rep movsb                 ; a16: SI, DI, CX
      mov [0x3000], esi
      mov [0x3004], edi
      mov [0x3008], ecx
      mov esi, 0x8000
      mov edi, 0x9000
      mov ecx, 3
      a32 rep movsb`);
    m.cpu.run(100);
    expect(m.mem.peek(0x3000, 4)).toBe(0x00020102);
    expect(m.mem.peek(0x3004, 4)).toBe(0x00030202);
    expect(m.mem.peek(0x3008, 4)).toBe(0x00010000);
    expect(m.cpu.regs[ESI]).toBe(0x8003);
    expect(m.cpu.regs[EDI]).toBe(0x9003);
    expect(m.cpu.regs[ECX]).toBe(0);
  });

  it('SI wraps from 0xFFFF to 0 with a byte operand (no fault)', () => {
    const m = real(`mov si, 0xffff
      mov di, 0x100
      mov cx, 2
      rep movsb`, (m) => {
      m.cpu.setSegmentReal(DS, 0x2000);
      m.mem.load(0x2ffff, Uint8Array.from([0x5a]));
      m.mem.load(0x20000, Uint8Array.from([0xa5]));
    });
    m.cpu.run(100);
    expect(m.mem.peek(0x100, 2)).toBe(0xa55a);
    expect(m.cpu.regs[ESI] & 0xffff).toBe(1);
  });
});

describe.skipIf(!HAS_NASM)('REP restart and batching', () => {
  it('REP MOVSW reaching a word at DS:0xFFFF faults there with CX/SI/DI at that iteration and IP at the prefix', () => {
    const m = real(`nop
      mov si, 0xfff1
      mov di, 0x100
      mov cx, 0x10
      rep movsw`, (m) => m.cpu.setSegmentReal(DS, 0x2000));
    const atFault: number[] = [];
    m.cpu.events.on('cpu-exception', () => {
      atFault.push(m.cpu.regs[ECX] & 0xffff, m.cpu.regs[ESI] & 0xffff, m.cpu.regs[EDI] & 0xffff, m.cpu.eip);
    });
    const ex = recordExceptions(m);
    m.cpu.run(100);
    const repAt = 0x1000 + 1 + 3 + 3 + 3;
    expect(ex.map((e) => [e.vector, e.eip])).toEqual([[13, repAt]]);
    // seven words (0xFFF1 … 0xFFFD) moved; the eighth, at 0xFFFF, faulted
    expect(atFault).toEqual([0x10 - 7, 0xffff, 0x100 + 14, repAt]);
    expect(m.mem.peek(m.cpu.sp, 2)).toBe(repAt); // the handler returns to the REP prefix
    expect(m.cpu.eip).toBe(VECTOR_STUBS + 13 + 1);
  });

  it('REP MOVSB crossing a protected-mode segment limit: ECX/ESI/EDI at the faulting byte, EIP at the instruction', () => {
    const m = flat32(assemble(`mov esi, 0x1ff0
      mov edi, 0x5000
      mov ecx, 0x40
      rep movsb
      hlt`, 32, 0x10000));
    const data = AR_P | AR_S | 0x3 | AR_DB;
    m.cpu.loadSegmentCache(DS, 0x10, 0, 0x1fff, data, true, 'loader'); // byte-granular limit 0x1FFF
    m.mem.load(0x1ff0, bytes(0x40, (k) => 0xc0 + k));
    const atFault: number[] = [];
    m.cpu.events.on('cpu-exception', () => {
      if (atFault.length === 0) atFault.push(m.cpu.regs[ECX], m.cpu.regs[ESI], m.cpu.regs[EDI], m.cpu.eip);
    });
    const ex = recordExceptions(m);
    runAllowingUnbuiltDelivery(m); // no IDT here: what follows the #GP does not matter
    expect(ex[0]).toMatchObject({ vector: 13, errorCode: 0, eip: 0x1000f });
    expect(atFault).toEqual([0x30, 0x2000, 0x5010, 0x1000f]);
    expect(Array.from(m.mem.readBytes(0x5000, 17))).toEqual([...Array.from(bytes(16, (k) => 0xc0 + k)), 0]);
    // Restarting the instruction from the state at the fault, with the limit raised, finishes the copy.
    const r = flat32(m.mem.readBytes(0x10000, 0x20));
    r.mem.load(0x1ff0, m.mem.readBytes(0x1ff0, 0x60));
    r.mem.load(0x5000, m.mem.readBytes(0x5000, 0x10));
    [r.cpu.regs[ECX], r.cpu.regs[ESI], r.cpu.regs[EDI], r.cpu.eip] = atFault;
    r.cpu.loadSegmentCache(DS, 0x10, 0, 0xffffffff, data | AR_G, true, 'loader');
    r.cpu.run(1_000_000);
    expect(r.cpu.halted).toBe(true);
    expect(Array.from(r.mem.readBytes(0x5000, 0x40))).toEqual(Array.from(bytes(0x40, (k) => 0xc0 + k)));
    expect(r.cpu.regs[ECX]).toBe(0);
    expect(r.cpu.regs[ESI]).toBe(0x2030);
    expect(r.cpu.regs[EDI]).toBe(0x5040);
  });

  it('REP with a count of 0 does nothing, not even a faulting access', () => {
    const m = real(`mov si, 0xffff
      xor cx, cx
      rep movsw
      rep cmpsw
      rep lodsw`);
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(ex).toEqual([]);
    expect(m.cpu.regs[ESI] & 0xffff).toBe(0xffff);
    expect(m.cpu.halted).toBe(true);
  });

  it('with TF set each execution runs one iteration and stays on the instruction (a trap per iteration)', () => {
    const m = real(`mov cx, 3
      mov di, 0x100
      rep stosb`, (m) => m.cpu.setSegmentReal(ES, 0));
    m.cpu.run(2);
    const repAt = m.cpu.eip;
    m.cpu.setEflags(m.cpu.getEflags() | TF);
    m.cpu.step();
    expect(m.cpu.regs[ECX] & 0xffff).toBe(2);
    expect(m.cpu.regs[EDI] & 0xffff).toBe(0x101);
    expect(m.cpu.eip).toBe(repAt);
  });

  // Guest time counts each iteration as one instruction (as Bochs and QEMU's icount): a budget ends between two
  // iterations, with EIP on the instruction and the registers updated. LODS has no block fast path.
  const BUDGET = 4096;
  it('each iteration is one instruction of guest time: a budget ends between iterations and the instruction restarts', () => {
    const count = BUDGET * 2 + 5;
    const m = real(`mov ecx, ${count}
      xor esi, esi
      a32 rep lodsb`, (m) => {
      m.cpu.setSegmentReal(DS, 0x2000);
      m.mem.load(0x20000 + count - 1, Uint8Array.from([0x77]));
    });
    m.cpu.run(2); // the setup instructions
    const repAt = m.cpu.eip;
    m.cpu.step();
    expect(m.cpu.regs[ECX]).toBe(count - 1);
    expect(m.cpu.icount).toBe(3);
    expect(m.cpu.eip).toBe(repAt);
    expect(m.cpu.run(BUDGET)).toBe(BUDGET);
    expect(m.cpu.regs[ECX]).toBe(count - 1 - BUDGET);
    expect(m.cpu.regs[ESI]).toBe(BUDGET + 1);
    expect(m.cpu.icount).toBe(3 + BUDGET);
    expect(m.cpu.eip).toBe(repAt);
    m.cpu.run(count);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.icount).toBe(2 + count + 1); // setup, one per iteration, HLT
    expect(m.cpu.regs[ECX]).toBe(0);
    expect(m.cpu.regs[ESI]).toBe(count);
    expect(m.cpu.regs[EAX] & 0xff).toBe(0x77);
  });

  it('an external interrupt is taken between iterations and returns to the REP instruction', () => {
    const count = BUDGET + 10;
    const m = real(`mov ecx, ${count}
      xor esi, esi
      sti
      a32 rep lodsb`, (m) => m.cpu.setSegmentReal(DS, 0x2000));
    m.cpu.acknowledgeInterrupt = () => 0x40;
    m.cpu.run(3);
    const repAt = m.cpu.eip;
    m.cpu.run(BUDGET); // BUDGET iterations (the STI shadow covers the first)
    m.cpu.setIntrLine(true);
    m.cpu.run(5);
    expect(m.cpu.eip).toBe(VECTOR_STUBS + 0x40 + 1);
    expect(m.mem.peek(m.cpu.sp, 2)).toBe(repAt);
    expect(m.cpu.regs[ECX]).toBe(10);
  });
});

describe.skipIf(!HAS_NASM)('CMPS and SCAS', () => {
  it('REPE CMPSB stops after the first difference; flags are those of that comparison', () => {
    const m = real(`mov si, 0x100
      mov di, 0x200
      mov cx, 10
      repe cmpsb`, (m) => {
      m.cpu.setSegmentReal(ES, 0);
      m.mem.load(0x100, Uint8Array.from([1, 2, 3, 4, 5, 6]));
      m.mem.load(0x200, Uint8Array.from([1, 2, 3, 9, 5, 6]));
    });
    m.cpu.run(100);
    expect(m.cpu.regs[ECX] & 0xffff).toBe(6);
    expect(m.cpu.regs[ESI] & 0xffff).toBe(0x104);
    expect(m.cpu.getEflags() & (ZF | CF)).toBe(CF); // 4 − 9 borrows
  });

  it('REPNE SCASB finds a byte; SCASW compares eAX with ES:DI', () => {
    const m = real(`mov di, 0x100
      mov cx, 0x100
      mov al, 0
      repne scasb
      mov [0x3000], cx
      mov [0x3002], di
      mov ax, 0x1234
      mov di, 0x400
      scasw`, (m) => {
      m.cpu.setSegmentReal(ES, 0);
      m.mem.load(0x100, Uint8Array.from([7, 7, 7, 7, 0]));
      m.mem.load(0x400, Uint8Array.from([0x34, 0x12]));
    });
    m.cpu.run(100);
    expect(m.mem.peek(0x3000, 2)).toBe(0x100 - 5);
    expect(m.mem.peek(0x3002, 2)).toBe(0x105);
    expect(m.cpu.getEflags() & ZF).toBe(ZF);
    expect(m.cpu.regs[EDI] & 0xffff).toBe(0x402);
  });

  it('REPNE on MOVS acts as REP (F2 and F3 both repeat non-comparing strings)', () => {
    const m = real(`mov si, 0x100
      mov di, 0x200
      mov cx, 3
      repne movsb`, (m) => {
      m.cpu.setSegmentReal(ES, 0);
      m.mem.load(0x100, Uint8Array.from([1, 2, 3]));
    });
    m.cpu.run(100);
    expect(m.mem.peek(0x200, 3)).toBe(0x030201);
    expect(m.cpu.regs[ECX] & 0xffff).toBe(0);
  });

  it('CMPSD: [DS:ESI] − [ES:EDI] with 32-bit flags', () => {
    const m = flat32(assemble(`mov esi, 0x2000
      mov edi, 0x3000
      cmpsd
      hlt`, 32, 0x10000));
    m.mem.load(0x2000, Uint8Array.from([0, 0, 0, 0x80]));
    m.mem.load(0x3000, Uint8Array.from([1, 0, 0, 0]));
    m.cpu.run(1_000_000);
    const f = m.cpu.getEflags();
    expect(f & 0x800).toBe(0x800); // 0x80000000 − 1 overflows
    expect(f & (ZF | CF)).toBe(0);
    expect(m.cpu.regs[ESI]).toBe(0x2004);
  });
});
