import { describe, expect, it } from 'vitest';
import { CS, DS, ES, ESP, FS, SS, EBX } from '../../../../engine/cpu/cpu';
import { IF } from '../../../../engine/cpu/flags';
import { flat32, realMode, SEL_DATA16, SEL_DATA32 } from '../harness';
import { gdtEntry } from './fault-helpers';

describe('segment-register instructions', () => {
  it('MOV SS inhibits interrupts until the next instruction has run', () => {
    // mov ax,0x0100 ; mov ss,ax ; mov sp,0x0200 ; nop ; hlt      (handler of vector 0x20 at 0x3000: hlt)
    const m = realMode([0xb8, 0x00, 0x01, 0x8e, 0xd0, 0xbc, 0x00, 0x02, 0x90, 0xf4]);
    m.mem.write16(0x20 * 4, 0x3000);
    m.mem.write16(0x20 * 4 + 2, 0);
    m.mem.write8(0x3000, 0xf4);
    m.cpu.setEflags(IF | 0x2);
    m.cpu.acknowledgeInterrupt = () => 0x20;
    m.cpu.run(2); // mov ax ; mov ss
    m.cpu.setIntrLine(true);
    m.cpu.run(1); // the interrupt is held off over mov sp …
    expect(m.cpu.eip).toBe(0x1008);
    m.cpu.run(2); // … and taken before nop
    expect(m.cpu.eip).toBe(0x3001);
    expect([m.cpu.segSel[SS], m.mem.peek(0x1000 + 0x200 - 6, 2)]).toEqual([0x100, 0x1008]);
  });
  it('POP SS with a 32-bit operand size pops 4 bytes and moves ESP by the old stack size', () => {
    const m = flat32([0x17, 0xf4]); // pop ss (32-bit operand size) ; hlt
    m.cpu.push(4, SEL_DATA16); // the harness's 16-bit data segment (B = 0)
    m.cpu.run(1);
    expect([m.cpu.segSel[SS], m.cpu.regs[ESP], m.cpu.stack32]).toEqual([SEL_DATA16, 0x90000, false]);
  });
  it('LDS, LES, LSS, LFS, LGS load the selector and then the register', () => {
    // lds ebx,[0x3000] ; lss esp,[0x3010] ; lfs ebx,[0x3020] ; hlt
    const m = flat32([0xc5, 0x1d, 0x00, 0x30, 0x00, 0x00, 0x0f, 0xb2, 0x25, 0x10, 0x30, 0x00, 0x00, 0x0f, 0xb4, 0x1d, 0x20, 0x30, 0x00, 0x00, 0xf4]);
    const sel = gdtEntry(m, 5, 0x4000, 0xffff, 0x3);
    m.mem.write32(0x3000, 0x12345678);
    m.mem.write16(0x3004, sel);
    // The later loads read through DS, whose base is 0x4000 after LDS.
    m.mem.write32(0x7010, 0x8000);
    m.mem.write16(0x7014, SEL_DATA32);
    m.mem.write32(0x7020, 0x55);
    m.mem.write16(0x7024, sel);
    const causes: string[] = [];
    m.cpu.events.on('segment-load', (e) => causes.push(e.cause));
    m.cpu.run(10);
    expect([m.cpu.segSel[DS], m.cpu.segBase[DS], m.cpu.segSel[FS]]).toEqual([sel, 0x4000, sel]);
    expect([m.cpu.regs[EBX], m.cpu.regs[ESP], m.cpu.segSel[SS]]).toEqual([0x55, 0x8000, SEL_DATA32]);
    expect(causes).toEqual(['lds', 'lss', 'lfs']);
  });
  it('MOV to CS is undefined (#UD); MOV ES, r/m16 loads ES', () => {
    const m = realMode([0x8e, 0xc8]);
    const seen: string[] = [];
    m.cpu.events.on('cpu-exception', (e) => seen.push(`${e.vector}:${e.ruleId}`));
    m.cpu.step();
    expect(seen[0]).toBe('6:decode.undefined-opcode');
    const r = realMode([0xb8, 0x34, 0x12, 0x8e, 0xc0, 0xf4]);
    r.cpu.run(5);
    expect([r.cpu.segSel[ES], r.cpu.segBase[ES], r.cpu.segSel[CS]]).toEqual([0x1234, 0x12340, 0]);
  });
});
