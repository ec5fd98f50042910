// An interrupt taken and returned from within one code segment (a kernel's timer tick) loads CS with what it held:
// the code epoch stays (cpu.ts loadSegmentCache), so the run loop keeps its links, remembered branch targets and
// block successors instead of fetching them all again after every tick — and the run loop must then drop its
// fall-through link itself when a delivery moves EIP (an interrupt raised by the instruction just executed).

import { describe, expect, it } from 'vitest';
import { flat32, writeDescriptor, GDT_BASE, SEL_CODE32, type TestMachine } from './harness';
import { assemble, HAS_NASM } from './move-fixtures';

const ORG = 0x10000;
const HANDLER = 0x12000;
const IDT = 0x800;
const VECTOR = 0x20;

/**
 * The program: straight-line code around an OUT to port 0x80 that raises INTR for odd values of AL (a device of
 * the test), a loop, HLT. The handler counts in EBX, lowers the line (port 0x81) and returns with IRET. Only every
 * other OUT interrupts, so a fall-through link made while a delivery moved EIP (OUT → the handler) would show.
 */
function machine(jit: boolean, handlerSelector = SEL_CODE32): TestMachine {
  const code = assemble(
    `
    mov ecx, 40
  again:
    inc eax
    out 0x80, al
    inc esi
    inc edi
    dec ecx
    jnz again
    hlt`,
    32,
    ORG,
  );
  const m = flat32(code, ORG);
  m.mem.load(HANDLER, assemble('inc ebx\nout 0x81, al\niretd', 32, HANDLER));
  m.cpu.idtrBase = IDT;
  m.cpu.idtrLimit = 0x7ff;
  m.mem.write32(IDT + VECTOR * 8, (handlerSelector << 16) | (HANDLER & 0xffff));
  m.mem.write32(IDT + VECTOR * 8 + 4, (HANDLER & 0xffff0000) | 0x8e00);
  m.cpu.acknowledgeInterrupt = () => VECTOR;
  m.io.register(0x80, 2, {
    portIn: () => 0xff,
    portOut: (port, value) => m.cpu.setIntrLine(port === 0x80 && (value & 1) === 1),
  });
  m.cpu.setEflags(0x202); // IF
  m.cpu.jit = jit;
  return m;
}

describe.skipIf(!HAS_NASM)('interrupts within one code segment and the code epoch', () => {
  for (const jit of [false, true]) {
    it(`every OUT's interrupt is delivered before the next instruction, and the epoch stays (${jit ? 'blocks on' : 'interpreter'})`, () => {
      const m = machine(jit);
      m.cpu.run(3); // mov ecx; inc eax; out (AL = 1) — the first delivery comes at the next boundary
      const epoch = m.cpu.codeEpoch;
      m.cpu.run(10_000);
      expect(m.cpu.halted).toBe(true);
      expect(m.cpu.regs[3]).toBe(20); // EBX: one handler run per OUT of an odd AL
      expect([m.cpu.regs[0], m.cpu.regs[6], m.cpu.regs[7]]).toEqual([40, 40, 40]);
      expect(m.cpu.codeEpoch).toBe(epoch);
    });
  }

  it('a handler in another code segment (another selector, same base) still starts a new epoch', () => {
    // Selector 0x28: a copy of the flat code descriptor. Its CS load changes the selector: a new epoch.
    const m = machine(false, 0x28);
    writeDescriptor(m.mem, GDT_BASE + 0x28, 0, 0xfffff, 0xb, { g: true });
    m.cpu.run(3);
    const epoch = m.cpu.codeEpoch;
    m.cpu.run(10_000);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.regs[3]).toBe(20);
    expect(m.cpu.codeEpoch).toBeGreaterThanOrEqual(epoch + 40); // into 0x28 and back to 0x08, 20 times
  });
});
