// Reserved EFLAGS bits (SDM 1 §3.4.3, Figure 3-8): bit 1 reads 1; bits 3, 5, 15 and 22–31 read 0, whatever image
// a task switch, IRET, POPF or the debugger writes (issue 17, item 2: a JMP to a TSS whose EFLAGS image is
// 0xFFC00002 left bits 22–31 set on a bare CPU).

import type { CpuModelName } from '../../../../engine/cpu/model';
import { describe, expect, it } from 'vitest';
import { CR0_PE, ESP, TR } from '../../../../engine/cpu/cpu';
import { setEflagsValue } from '../../../../engine/cpu/debug-edit';
import { AC, ID, IF, IOPL, VM } from '../../../../engine/cpu/flags';
import { TYPE_TSS32_AVAIL, TYPE_TSS32_BUSY } from '../../../../engine/cpu/protect/descriptor';
import { farJump } from '../../../../engine/cpu/protect/far-jmp';
import { interruptReturn } from '../../../../engine/cpu/protect/iret';
import { handlers as stackHandlers } from '../../../../engine/cpu/ops/stack';
import { Instr } from '../../../../engine/cpu/decode/instr';
import { flat32, makeMachine, SEL_CODE32, SEL_DATA32, type TestMachine } from '../harness';
import { gdtEntry } from './fault-helpers';

/** Every reserved bit that must read 0, and bit 1 clear: what a hostile image holds. */
const RESERVED_SET = 0xffc08028;
const OLD_TSS = 0x7000, NEW_TSS = 0x7100;

/** The current task in TSS 7 (busy, TR loaded); TSS 9 available, its task at 0x30000 with `eflags` in its image. */
function twoTasks(eflags: number, model?: CpuModelName): TestMachine {
  const m = flat32([], 0x10000, 4 << 20, model);
  gdtEntry(m, 7, OLD_TSS, 0x67, TYPE_TSS32_BUSY, { system: true });
  gdtEntry(m, 9, NEW_TSS, 0x67, TYPE_TSS32_AVAIL, { system: true });
  m.cpu.loadSegmentCache(TR, 7 * 8, OLD_TSS, 0x67, 0x8b, true, 'loader');
  m.mem.write32(NEW_TSS + 0x20, 0x30000);
  m.mem.write32(NEW_TSS + 0x24, eflags);
  m.mem.write32(NEW_TSS + 0x38, 0x50000);
  for (let s = 0; s < 6; s++) m.mem.write16(NEW_TSS + 0x48 + 4 * s, SEL_DATA32);
  m.mem.write16(NEW_TSS + 0x4c, SEL_CODE32);
  return m;
}

function popfd(): Instr {
  const i = new Instr();
  i.size = 4;
  return i;
}

describe('reserved EFLAGS bits read as the SDM fixes them', () => {
  it('a JMP to a TSS whose EFLAGS image is 0xFFC0802A loads 0x00000002', () => {
    const m = twoTasks(RESERVED_SET | 0x2); // bit 1 set as the SDM asks, every reserved bit set too
    farJump(m.cpu, 9 * 8, 0, true);
    expect(m.cpu.eip).toBe(0x30000);
    expect(m.cpu.getEflags()).toBe(0x2);
    // A TSS image without bit 1 still loads it as 1.
    m.mem.write32(OLD_TSS + 0x24, 0);
    farJump(m.cpu, 7 * 8, 0, true);
    expect(m.cpu.getEflags()).toBe(0x2);
  });

  it('on the 386 model AC and ID do not exist: a task switch loads neither', () => {
    const m = twoTasks(AC | ID | IF | 0x2, '386');
    farJump(m.cpu, 9 * 8, 0, true);
    expect(m.cpu.getEflags()).toBe(IF | 0x2);
    const m486 = twoTasks(AC | ID | IF | 0x2);
    farJump(m486.cpu, 9 * 8, 0, true);
    expect(m486.cpu.getEflags()).toBe(AC | ID | IF | 0x2);
  });

  it('IRETD to V86 mode and IRETD within V86 mode drop them from the popped image', () => {
    const m = flat32([]);
    // EFLAGS CS EIP for the return to V86 (GS FS DS ES SS ESP below them), IOPL 3 so V86 may IRET in turn.
    for (const v of [0, 0, 0, 0, 0x1000, 0xfff0, RESERVED_SET | VM | IOPL, 0x800, 0x100]) m.cpu.push(4, v);
    interruptReturn(m.cpu, true);
    expect(m.cpu.mode).toBe('v86');
    expect(m.cpu.getEflags() >>> 0).toBe((VM | IOPL | 0x2) >>> 0);
    for (const v of [RESERVED_SET | IF, 0x800, 0x200]) m.cpu.push(4, v);
    interruptReturn(m.cpu, true);
    expect(m.cpu.eip).toBe(0x200);
    expect(m.cpu.getEflags() >>> 0).toBe((VM | IOPL | IF | 0x2) >>> 0);
  });

  it('IRETD in protected and real mode and POPFD drop them', () => {
    const m = flat32([]);
    for (const v of [RESERVED_SET, SEL_CODE32, 0x20000]) m.cpu.push(4, v);
    interruptReturn(m.cpu, true);
    expect([m.cpu.eip, m.cpu.getEflags()]).toEqual([0x20000, 0x2]);
    m.cpu.push(4, RESERVED_SET | AC | ID);
    stackHandlers.popf(m.cpu, popfd());
    expect(m.cpu.getEflags()).toBe(AC | ID | 0x2);

    const r = makeMachine();
    r.cpu.setSegmentReal(1, 0);
    r.cpu.regs[ESP] = 0x8000;
    expect(r.cpu.cr0 & CR0_PE).toBe(0);
    for (const v of [RESERVED_SET, 0, 0x1234]) r.cpu.push(4, v);
    interruptReturn(r.cpu, true);
    expect([r.cpu.eip, r.cpu.getEflags()]).toEqual([0x1234, 0x2]);
  });

  it('a debugger edit of EFLAGS cannot set them either', () => {
    const m = flat32([]);
    setEflagsValue(m.cpu, (RESERVED_SET | IF) >>> 0);
    expect(m.cpu.getEflags()).toBe(IF | 0x2);
  });
});
