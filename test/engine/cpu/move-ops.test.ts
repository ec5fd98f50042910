// MOV forms, MOVZX/MOVSX, LEA size combinations, XCHG, XLAT and MOV r/m, Sreg (SDM vol. 2).

import { describe, expect, it } from 'vitest';
import { ES, FS, GS } from '../../../engine/cpu/cpu';
import { flat32, realMode } from './harness';
import { assemble, HAS_NASM, haltingVectors, recordExceptions, VECTOR_STUBS } from './move-fixtures';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESI = 6, EDI = 7;

/** Runs a real-mode snippet; `segments` preloads segment registers (MOV Sreg is another group's instruction). */
function run16(source: string, segments: [number, number][] = []): ReturnType<typeof realMode> {
  const m = realMode(assemble(source + '\nhlt', 16, 0x1000));
  haltingVectors(m);
  for (const [seg, sel] of segments) m.cpu.setSegmentReal(seg, sel);
  m.cpu.run(1000);
  return m;
}

function run32(source: string): ReturnType<typeof flat32> {
  const m = flat32(assemble(source + '\nhlt', 32, 0x10000));
  m.cpu.run(1000);
  return m;
}

describe.skipIf(!HAS_NASM)('MOV and friends', () => {
  it('MOV r8 covers AH/CH/DH/BH and leaves the rest of the register', () => {
    const m = run16(`mov eax, 0x11223344
      mov ebx, 0x55667788
      mov ah, bl
      mov bh, 0x99
      mov cl, ah`);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x11228844);
    expect(m.cpu.regs[EBX] >>> 0).toBe(0x55669988);
    expect(m.cpu.regs[ECX] & 0xff).toBe(0x88);
  });

  it('MOV r/m, imm and moffs forms with a segment override', () => {
    const m = run16(`mov word [0x2000], 0x1234
      mov byte [0x2002], 0x56
      mov dword [es:0x10], 0xdeadbeef
      mov al, [0x2002]
      mov bx, [0x2000]
      mov eax, [es:0x10]
      mov [0x2004], eax
      mov [es:0x20], al`, [[ES, 0x300]]);
    expect(m.mem.peek(0x2000, 2)).toBe(0x1234);
    expect(m.mem.peek(0x3010, 4)).toBe(0xdeadbeef);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(0x1234);
    expect(m.mem.peek(0x2004, 4)).toBe(0xdeadbeef);
    expect(m.mem.peek(0x3020, 1)).toBe(0xef);
  });

  it('moffs with an address-size prefix in 32-bit code takes a 16-bit offset', () => {
    const m = flat32([0x67, 0xa1, 0x34, 0x12, 0xf4]); // a16 mov eax, [0x1234]
    m.mem.load(0x1234, Uint8Array.from([1, 2, 3, 4]));
    m.cpu.run(10);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x04030201);
    expect(m.cpu.eip).toBe(0x10005);
  });

  it('MOVZX and MOVSX from bytes and words into 16 and 32 bits', () => {
    const m = run16(`mov byte [0x2000], 0x85
      mov word [0x2002], 0x8001
      mov eax, 0xffffffff
      movzx ax, byte [0x2000]
      movsx ebx, byte [0x2000]
      movzx ecx, word [0x2002]
      movsx edx, word [0x2002]
      mov esi, 0x12345678
      movsx si, byte [0x2000]
      mov dl, 0x7f
      movsx edi, dl`);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0xffff0085);
    expect(m.cpu.regs[EBX] >>> 0).toBe(0xffffff85);
    expect(m.cpu.regs[ECX] >>> 0).toBe(0x8001);
    expect(m.cpu.regs[ESI] >>> 0).toBe(0x1234ff85);
    expect(m.cpu.regs[EDI] >>> 0).toBe(0x7f);
  });

  it('LEA: address size computes, operand size truncates or zero-extends (SDM LEA table)', () => {
    const m = run16(`mov ebx, 0x1234fff0
      mov eax, 0xaaaaaaaa
      mov ecx, 0xcccccccc
      mov edx, 0xdddddddd
      mov esi, 0xeeeeeeee
      lea ax, [bx+0x20]        ; os16 a16: wraps at 64 KiB, only AX
      lea ecx, [bx+0x20]       ; os32 a16: 16-bit offset zero-extended
      lea dx, [ebx+0x20]       ; os16 a32: low 16 bits of the 32-bit offset
      lea esi, [ebx+ebx*2+0x20] ; os32 a32`);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0xaaaa0010);
    expect(m.cpu.regs[ECX] >>> 0).toBe(0x00000010);
    expect(m.cpu.regs[EDX] >>> 0).toBe(0xdddd0010);
    expect(m.cpu.regs[ESI] >>> 0).toBe((0x1234fff0 * 3 + 0x20) >>> 0);
  });

  it('LEA with a register operand is #UD', () => {
    const m = realMode([0x8d, 0xc0, 0xf4]); // lea ax, ax
    haltingVectors(m);
    const ex = recordExceptions(m);
    m.cpu.run(10);
    expect(ex.map((e) => e.vector)).toEqual([6]);
  });

  it('XCHG register/register, register/memory and the 9x short forms', () => {
    const m = run16(`mov eax, 0x11111111
      mov ecx, 0x22222222
      mov edx, 0x33333333
      mov word [0x2000], 0x4444
      xchg ecx, edx
      xchg ax, [0x2000]
      xchg bx, ax          ; 93: bx <-> ax
      xchg al, ch`);
    expect(m.cpu.regs[ECX] >>> 0).toBe(0x33330033);
    expect(m.cpu.regs[EDX] >>> 0).toBe(0x22222222);
    expect(m.mem.peek(0x2000, 2)).toBe(0x1111);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(0x4444);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x11110033);
  });

  it('NOP with an operand-size prefix does not touch EAX', () => {
    const m = realMode([0x66, 0x90, 0x90, 0xf4]);
    m.cpu.regs[EAX] = 0x12345678;
    m.cpu.run(10);
    expect(m.cpu.regs[EAX]).toBe(0x12345678);
    expect(m.cpu.eip).toBe(0x1004);
  });

  it('XLAT reads [DS:BX+AL] (overridable); the sum wraps at the address size', () => {
    const m = run16(`mov byte [0x2010], 0x5a
      mov byte [0x3010], 0xa5
      mov byte [0x000f], 0x77
      mov bx, 0x2000
      mov al, 0x10
      xlatb
      mov cl, al
      mov al, 0x10
      es xlatb
      mov dl, al
      mov bx, 0xffff
      mov al, 0x10
      xlatb`, [[ES, 0x100]]);
    expect(m.cpu.regs[ECX] & 0xff).toBe(0x5a);
    expect(m.cpu.regs[EDX] & 0xff).toBe(0xa5);
    expect(m.cpu.regs[EAX] & 0xff).toBe(0x77);
  });

  it('MOV r/m16, Sreg: 32-bit register destination zero-extended, memory always 16 bits', () => {
    const m = run16(`mov dword [0x2000], 0xffffffff
      mov dword [0x2004], 0xffffffff
      mov ebx, 0xffffffff
      mov ecx, 0xffffffff
      mov bx, fs            ; 16-bit: BX only
      mov ecx, gs           ; 32-bit: zero-extended
      mov [0x2000], fs
      o32 mov [0x2004], gs  ; still a 16-bit store`, [[FS, 0x1234], [GS, 0x5678]]);
    expect(m.cpu.segSel[FS]).toBe(0x1234);
    expect(m.cpu.regs[EBX] >>> 0).toBe(0xffff1234);
    expect(m.cpu.regs[ECX] >>> 0).toBe(0x5678);
    expect(m.mem.peek(0x2000, 4)).toBe(0xffff1234);
    expect(m.mem.peek(0x2004, 4)).toBe(0xffff5678);
  });

  it('MOV r/m16, Sreg with sreg 6 or 7 is #UD', () => {
    for (const modrm of [0xf0, 0xf8]) {
      const m = realMode([0x8c, modrm, 0xf4]);
      haltingVectors(m);
      const ex = recordExceptions(m);
      m.cpu.run(10);
      expect(ex.map((e) => [e.vector, e.eip])).toEqual([[6, 0x1000]]);
      expect(m.cpu.eip).toBe(VECTOR_STUBS + 6 + 1);
    }
  });

  it('32-bit code: MOV through a disp32 and a 32-bit register', () => {
    const m = run32(`mov eax, 0x89abcdef
      mov [0x123000], eax
      mov ebx, 0x123000
      mov cx, [ebx+2]`);
    expect(m.mem.peek(0x123000, 4)).toBe(0x89abcdef);
    expect(m.cpu.regs[ECX] & 0xffff).toBe(0x89ab);
  });
});
