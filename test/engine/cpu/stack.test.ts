// PUSH/POP in all forms, the SP wrap and the stack-limit faults, PUSHA/POPA, PUSHF/POPF privilege rules, ENTER and
// LEAVE (SDM vol. 2 PUSH, POP, PUSHA, POPA, PUSHF, POPF, ENTER, LEAVE).

import { describe, expect, it } from 'vitest';
import { AR_P, AR_S, CR0_PE, DS, ES, FS, SS } from '../../../engine/cpu/cpu';
import { IF, IOPL, NT, RF, VM } from '../../../engine/cpu/flags';
import { flat32, realMode, type TestMachine } from './harness';
import { assemble, HAS_NASM, haltingVectors, recordExceptions, runAllowingUnbuiltDelivery, VECTOR_STUBS } from './move-fixtures';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

function real(source: string, setup: (m: TestMachine) => void = () => {}): TestMachine {
  const m = realMode(assemble(source + '\nhlt', 16, 0x1000));
  haltingVectors(m);
  setup(m);
  return m;
}

function flat(source: string): TestMachine {
  return flat32(assemble(source + '\nhlt', 32, 0x10000));
}

describe.skipIf(!HAS_NASM)('PUSH and POP', () => {
  it('PUSH SP pushes the value before the push; POP SP keeps the popped value', () => {
    const m = real(`push sp
      pop bx
      mov word [0x7000], 0x1234
      mov sp, 0x7000
      pop sp`);
    m.cpu.run(100);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(0x8000);
    expect(m.cpu.regs[ESP] & 0xffff).toBe(0x1234);
  });

  it('16- and 32-bit pushes of registers, immediates and memory', () => {
    const m = real(`mov eax, 0x11223344
      push eax
      push ax
      push -2            ; 6A, sign-extended to a word
      push dword -3      ; 66 6A
      push word 0x8765   ; 68
      mov word [0x2000], 0xabcd
      push word [0x2000]
      pop cx
      pop dx
      pop esi
      pop di
      pop bx
      pop ebp`);
    m.cpu.run(100);
    const c = m.cpu;
    expect(c.regs[ECX] & 0xffff).toBe(0xabcd);
    expect(c.regs[EDX] & 0xffff).toBe(0x8765);
    expect(c.regs[ESI] >>> 0).toBe(0xfffffffd);
    expect(c.regs[EDI] & 0xffff).toBe(0xfffe);
    expect(c.regs[EBX] & 0xffff).toBe(0x3344);
    expect(c.regs[EBP] >>> 0).toBe(0x11223344);
    expect(c.regs[ESP] & 0xffff).toBe(0x8000);
  });

  it('SP wraps from 0 to 0xFFFE and back', () => {
    const m = real(`mov sp, 0
      mov ax, 0x5aa5
      push ax
      mov bx, sp
      pop cx`, (m) => m.cpu.setSegmentReal(SS, 0x2000));
    m.cpu.run(100);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(0xfffe);
    expect(m.mem.peek(0x2fffe, 2)).toBe(0x5aa5);
    expect(m.cpu.regs[ECX] & 0xffff).toBe(0x5aa5);
    expect(m.cpu.regs[ESP] & 0xffff).toBe(0);
  });

  it('a word pushed at SS:0xFFFF (SP = 1) raises #SS (12) on a 386 and leaves SP alone', () => {
    const m = real(`mov sp, 1
      push ax`);
    let spAtFault = -1;
    m.cpu.events.on('cpu-exception', () => {
      if (spAtFault < 0) spAtFault = m.cpu.regs[ESP] & 0xffff;
    });
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(ex[0]).toMatchObject({ vector: 12, eip: 0x1003 });
    expect(spAtFault).toBe(1);
    // Delivering #SS needs the same stack, which wraps again: a 386 shuts down (SDM 3A §22.33.1 / §20.1.x).
  });

  it('a word popped at SS:0xFFFF raises #SS (12)', () => {
    const m = real(`mov sp, 0xffff
      pop ax`);
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(ex[0]).toMatchObject({ vector: 12, eip: 0x1003 });
  });

  it('POP r/m with ESP as base uses ESP after the pop (SDM POP)', () => {
    const m = flat(`mov esp, 0x8000
      push dword 0x11111111
      push dword 0x22222222
      pop dword [esp]        ; pops 0x22222222, then stores at the new ESP
      mov eax, [0x7ffc]
      pop ebx`);
    m.cpu.run(100);
    expect(m.cpu.regs[EBX] >>> 0).toBe(0x22222222);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x22222222);
    expect(m.cpu.regs[ESP]).toBe(0x8000);
  });

  it('POP r/m whose store faults leaves ESP unchanged', () => {
    const m = real(`push word 0x4444
      mov bx, 0xffff
      pop word [bx]`);
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(ex[0]).toMatchObject({ vector: 13, eip: 0x1006 });
    // the #GP handler's frame went below the unchanged SP (0x7FFE)
    expect(m.cpu.regs[ESP] & 0xffff).toBe(0x7ffe - 6);
  });

  it('a 16-bit stack segment (SS.B = 0) under 32-bit code moves only SP and keeps ESP\'s upper half', () => {
    const m = flat(`push dword 0x12345678
      push word 0x9abc
      mov ebx, esp
      pop ax
      pop ecx`);
    m.cpu.loadSegmentCache(SS, 0x20, 0x40000, 0xffff, AR_P | AR_S | 0x3, true, 'loader'); // 16-bit data segment
    m.cpu.regs[ESP] = 0xabcd0004; // SP = 4: the dword lands at SS:0, the word wraps to SS:0xFFFE
    m.cpu.run(100);
    expect(m.cpu.regs[EBX] >>> 0).toBe(0xabcdfffe);
    expect(m.mem.peek(0x40000, 4)).toBe(0x12345678);
    expect(m.mem.peek(0x4fffe, 2)).toBe(0x9abc);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(0x9abc);
    expect(m.cpu.regs[ECX] >>> 0).toBe(0x12345678);
    expect(m.cpu.regs[ESP] >>> 0).toBe(0xabcd0004);
  });

  it('a 32-bit PUSH Sreg moves ESP by 4 but writes only the 16-bit selector (386/486)', () => {
    const m = flat(`mov esp, 0x8000
      mov dword [0x7ffc], 0xaaaaaaaa
      push fs
      mov dword [0x7ff4], 0xbbbbbbbb
      push ds
      push es`);
    m.cpu.setSegmentReal(FS, 0x1234); // only the selector matters here
    m.cpu.segSel[DS] = 0x10;
    m.cpu.segSel[ES] = 0x10;
    m.cpu.run(100);
    expect(m.cpu.regs[ESP]).toBe(0x7ff4);
    expect(m.mem.peek(0x7ffc, 4)).toBe(0xaaaa1234);
    expect(m.mem.peek(0x7ff8, 2)).toBe(0x0010);
  });

  it('PUSHA/POPA in both sizes: order, original SP, and the skipped SP slot', () => {
    const m = real(`mov eax, 0x10000001
      mov ecx, 0x20000002
      mov edx, 0x30000003
      mov ebx, 0x40000004
      mov ebp, 0x60000006
      mov esi, 0x70000007
      mov edi, 0x80000008
      pushad
      pusha
      mov word [0x7fdc - 16 + 8], 0x1111   ; the SP slot of the 16-bit frame: ignored by POPA
      xor eax, eax
      xor ecx, ecx
      xor edx, edx
      xor ebx, ebx
      xor ebp, ebp
      xor esi, esi
      xor edi, edi
      popa
      mov [0x3000], eax
      mov [0x3004], edi
      popad`);
    m.cpu.run(100);
    const c = m.cpu;
    // 32-bit frame at 0x7FE0: EDI ESI EBP ESP(0x8000) EBX EDX ECX EAX
    expect(m.mem.peek(0x7fe0 + 12, 4)).toBe(0x8000);
    expect(m.mem.peek(0x7fe0 + 28, 4)).toBe(0x10000001);
    // 16-bit frame at 0x7FD0: DI SI BP SP(0x7FE0) BX DX CX AX
    expect(m.mem.peek(0x7fd0, 2)).toBe(0x0008);
    expect(m.mem.peek(0x7fd0 + 6, 2)).toBe(0x7fe0);
    expect(m.mem.peek(0x3000, 4)).toBe(0x0001); // POPA wrote only AX
    expect(m.mem.peek(0x3004, 4)).toBe(0x0008);
    expect(c.regs[EAX] >>> 0).toBe(0x10000001);
    expect(c.regs[EDI] >>> 0).toBe(0x80000008);
    expect(c.regs[EBP] >>> 0).toBe(0x60000006);
    expect(c.regs[ESP]).toBe(0x8000);
  });

  it('PUSHA whose fourth slot lies at SS:0xFFFF faults before writing any slot', () => {
    const m = real(`mov sp, 7
      mov ax, 0x7777
      pusha`);
    let atFault = -1;
    m.cpu.events.on('cpu-exception', () => {
      if (atFault < 0) atFault = m.mem.peek(5, 2);
    });
    const before = m.mem.peek(5, 2);
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(ex[0]).toMatchObject({ vector: 12, eip: 0x1006 });
    expect(atFault).toBe(before); // AX's slot (SP − 2 = 5) was not written
  });
});

describe.skipIf(!HAS_NASM)('PUSHF and POPF', () => {
  it('real mode: POPF loads IOPL and NT (386), never VM or RF; PUSHFD clears VM and RF in the image', () => {
    const m = real(`push dword 0x00037fd7
      popfd
      pushfd
      pop eax
      push word 0xffff
      popf
      pushf
      pop bx`, (mm) => mm.mem.load(VECTOR_STUBS + 1, Uint8Array.of(0xcf))); // both images set TF: #DB returns (IRET)
    m.cpu.run(100);
    const eax = m.cpu.regs[EAX] >>> 0;
    expect(eax & (VM | RF)).toBe(0);
    expect(eax & (IOPL | NT)).toBe(IOPL | NT);
    expect(eax & 0xffff).toBe(0x7fd7);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(0x7fd7); // bits 3, 5 and 15 read 0, bit 1 reads 1
    expect(m.cpu.mode).toBe('real');
  });

  it('protected mode, CPL 3 > IOPL 0: POPF silently keeps IF and IOPL', () => {
    const m = flat(`push dword 0x3000   ; IOPL 3, IF 0
      popfd
      pushfd
      pop eax`);
    m.cpu.setEflags(0x202);
    m.cpu.cpl = 3;
    m.cpu.run(100);
    expect(m.cpu.regs[EAX] & (IF | IOPL)).toBe(IF);
  });

  it('protected mode, CPL 1 ≤ IOPL 1: IF changes, IOPL does not', () => {
    const m = flat(`push dword 0x0000
      popfd
      pushfd
      pop eax`);
    m.cpu.setEflags(0x1202);
    m.cpu.cpl = 1;
    m.cpu.run(100);
    expect(m.cpu.regs[EAX] & (IF | IOPL)).toBe(0x1000);
  });

  it('protected mode, CPL 0: IOPL changes', () => {
    const m = flat(`push dword 0x3000
      popfd
      pushfd
      pop eax`);
    m.cpu.run(100);
    expect(m.cpu.regs[EAX] & IOPL).toBe(IOPL);
  });

  it('virtual-8086 mode with IOPL < 3: PUSHF and POPF raise #GP(0); with IOPL 3 POPF keeps IOPL', () => {
    for (const code of [[0x9c, 0xf4], [0x9d, 0xf4]]) {
      const m = realMode(code);
      const ex = recordExceptions(m);
      m.cpu.cr0 |= CR0_PE;
      m.cpu.setEflags(VM | 0x2 | 0x2000); // IOPL 2
      runAllowingUnbuiltDelivery(m);
      expect(ex[0]).toMatchObject({ vector: 13, errorCode: 0, eip: 0x1000 });
    }
    const m = realMode([0x66, 0x9d, 0xf4]); // popfd in V86, IOPL 3
    m.mem.load(0x7ffc, Uint8Array.from([0x00, 0x02, 0x00, 0x00])); // IF, IOPL 0
    m.cpu.regs[ESP] = 0x7ffc;
    m.cpu.cr0 |= CR0_PE;
    m.cpu.setEflags(VM | 0x2 | IOPL);
    m.cpu.run(2);
    expect(m.cpu.getEflags() & (VM | IOPL | IF)).toBe(VM | IOPL | IF);
  });
});

describe.skipIf(!HAS_NASM)('ENTER and LEAVE', () => {
  it('ENTER with nesting level 3 copies two frame pointers and pushes the new frame (32-bit)', () => {
    const m = flat(`mov esp, 0x90000
      mov ebp, 0x80000
      mov dword [0x7fffc], 0xaaaa0001
      mov dword [0x7fff8], 0xaaaa0002
      enter 0x10, 3`);
    m.cpu.run(100);
    const c = m.cpu;
    expect(m.mem.peek(0x8fffc, 4)).toBe(0x80000);
    expect(m.mem.peek(0x8fff8, 4)).toBe(0xaaaa0001);
    expect(m.mem.peek(0x8fff4, 4)).toBe(0xaaaa0002);
    expect(m.mem.peek(0x8fff0, 4)).toBe(0x8fffc);
    expect(c.regs[EBP]).toBe(0x8fffc);
    expect(c.regs[ESP]).toBe(0x8ffe0);
  });

  it('ENTER level 0 and level 33 (taken mod 32 = 1), 16-bit, then LEAVE undoes each', () => {
    const m = real(`mov bp, 0x1234
      enter 4, 0
      mov si, bp
      mov di, sp
      enter 2, 33
      mov [0x3000], bp
      mov [0x3002], sp
      leave
      mov [0x3004], bp
      mov [0x3006], sp
      leave`);
    m.cpu.run(100);
    const c = m.cpu;
    expect(c.regs[ESI] & 0xffff).toBe(0x7ffe);
    expect(c.regs[EDI] & 0xffff).toBe(0x7ffa);
    // level 1: push BP (at 0x7FF8), push FrameTemp (0x7FF8, at 0x7FF6), SP = 0x7FF6 − 2
    expect(m.mem.peek(0x7ff8, 2)).toBe(0x7ffe);
    expect(m.mem.peek(0x7ff6, 2)).toBe(0x7ff8);
    expect(m.mem.peek(0x3000, 2)).toBe(0x7ff8);
    expect(m.mem.peek(0x3002, 2)).toBe(0x7ff4);
    expect(m.mem.peek(0x3004, 2)).toBe(0x7ffe);
    expect(m.mem.peek(0x3006, 2)).toBe(0x7ffa);
    expect(c.regs[EBP] & 0xffff).toBe(0x1234);
    expect(c.regs[ESP] & 0xffff).toBe(0x8000);
  });

  it('LEAVE whose pop faults leaves SP and BP unchanged', () => {
    const m = real(`mov bp, 0xffff
      leave`);
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(ex[0]).toMatchObject({ vector: 12, eip: 0x1003 });
    expect(m.cpu.regs[EBP] & 0xffff).toBe(0xffff);
    expect(m.cpu.regs[ESP] & 0xffff).toBe(0x8000 - 6);
  });
});
