import { describe, expect, it } from 'vitest';
import { pushedFlagsAddress } from '../../engine/conformance/compare-state';
import { differenceFrom286 } from '../../engine/conformance/cpu286-differences';
import { differenceFrom8088 } from '../../engine/conformance/cpu8088-differences';
import { readMoo } from '../../engine/conformance/moo-reader';
import { MooTest } from '../../engine/conformance/moo-types';
import { encodeMoo, VectorTest } from './moo-encoder';

const BASE_REGS = { ax: 0, bx: 0x100, cx: 0, dx: 0, cs: 0x1000, ss: 0x2000, ds: 0x3000, es: 0x4000, sp: 0x100, bp: 0x200, si: 0x10, di: 0x20, ip: 0x100, flags: 0x2 };

/** A one-test 286 file built with the encoder and read back, so the detection sees exactly what a file gives. */
function test286(bytes: number[], regs: Partial<typeof BASE_REGS> = {}, extra: Partial<VectorTest> = {}): MooTest {
  const t: VectorTest = { name: 't', bytes: [...bytes, 0xf4], initial: { regs: { ...BASE_REGS, ...regs }, ram: [] }, final: { regs: {} }, ...extra };
  return readMoo(encodeMoo({ cpuId: 'C286', width: 16, tests: [t] })).tests[0];
}

describe('286 tests a 386 cannot match', () => {
  it('ESC opcodes', () => {
    expect(differenceFrom286(test286([0xd8, 0x06, 0x00, 0x10]))).toMatch(/ESC/);
    expect(differenceFrom286(test286([0x26, 0xdc, 0xc0]))).toMatch(/ESC/);
  });

  it('instructions longer than 10 bytes, but not 10', () => {
    const eleven = [0x2e, 0x36, 0x2e, 0x3e, 0x3e, 0x81, 0x84, 0xdf, 0x1d, 0x93, 0x76];
    expect(differenceFrom286(test286(eleven))).toMatch(/longer than 10 bytes/);
    expect(differenceFrom286(test286(eleven.slice(1)))).toBeNull();
  });

  it('LOCK on what a 386 does not lock, unless the 286 raised #UD anyway', () => {
    expect(differenceFrom286(test286([0xf0, 0x06]))).toMatch(/LOCK/); // LOCK PUSH ES
    expect(differenceFrom286(test286([0xf0, 0x0a, 0x3e, 0x00, 0x10]))).toMatch(/LOCK/); // OR r8, r/m8: register destination
    expect(differenceFrom286(test286([0xf0, 0x00, 0xd8]))).toMatch(/LOCK/); // ADD with a register operand
    expect(differenceFrom286(test286([0xf0, 0x00, 0x07]))).toBeNull(); // LOCK ADD [bx],al is fine on a 386
    expect(differenceFrom286(test286([0xf0, 0x80, 0x3f, 0x01]))).toMatch(/LOCK/); // CMP is not lockable
    expect(differenceFrom286(test286([0xf0, 0xfe, 0x07]))).toBeNull(); // INC byte [bx]
    expect(differenceFrom286(test286([0xf0, 0x06], {}, { exception: { vector: 6, flagAddress: 0 } }))).toBeNull();
  });

  it('8C/8E with reg 4 and 5 only', () => {
    expect(differenceFrom286(test286([0x8c, 0x27]))).toMatch(/FS/);
    expect(differenceFrom286(test286([0x8e, 0xe8]))).toMatch(/GS/);
    expect(differenceFrom286(test286([0x8c, 0x1f]))).toBeNull(); // MOV [bx],ds
  });

  it('POPF/IRET only when the popped image has IOPL or NT set', () => {
    const ram = (word: number, at: number): [number, number][] => [[at, word & 0xff], [at + 1, word >> 8]];
    const sp = 0x100;
    const stack = 0x2000 * 16 + sp;
    expect(differenceFrom286(test286([0x9d], { sp }, { initial: { regs: { ...BASE_REGS, sp }, ram: ram(0x3002, stack) } }))).toMatch(/POPF/);
    expect(differenceFrom286(test286([0x9d], { sp }, { initial: { regs: { ...BASE_REGS, sp }, ram: ram(0x8802, stack) } }))).toBeNull();
    expect(differenceFrom286(test286([0xcf], { sp }, { initial: { regs: { ...BASE_REGS, sp }, ram: ram(0x4002, stack + 4) } }))).toMatch(/IRET/);
  });

  it('#GP at SS:FFFF only when the 286 recorded #GP and the access really runs past FFFF through SS', () => {
    const gp = { exception: { vector: 13, flagAddress: 0 } };
    expect(differenceFrom286(test286([0x39, 0x02], { bp: 0, si: 0xffff }, gp))).toMatch(/SS:FFFF/); // cmp [bp+si],ax
    expect(differenceFrom286(test286([0x39, 0x04], { si: 0xffff }, gp))).toBeNull(); // cmp [si],ax: DS, #GP on both
    expect(differenceFrom286(test286([0x36, 0x39, 0x04], { si: 0xffff }, gp))).toMatch(/SS:FFFF/); // SS override
    expect(differenceFrom286(test286([0x38, 0x02], { bp: 0, si: 0xffff }, gp))).toBeNull(); // byte access fits
    expect(differenceFrom286(test286([0x07], { sp: 0xffff }, gp))).toMatch(/SS:FFFF/); // pop es
    expect(differenceFrom286(test286([0xcb], { sp: 0xffff }, gp))).toMatch(/SS:FFFF/); // retf
    expect(differenceFrom286(test286([0xc9], { bp: 0xffff }, gp))).toMatch(/SS:FFFF/); // leave
    expect(differenceFrom286(test286([0x07], { sp: 0xffff }))).toBeNull(); // no #GP recorded: nothing to explain
  });

  it('word string instructions faulting at offset FFFF (the 286 advances SI/DI first)', () => {
    const gp = { exception: { vector: 13, flagAddress: 0 } };
    expect(differenceFrom286(test286([0xa5], { si: 0xffff }, gp))).toMatch(/string instruction/); // movsw
    expect(differenceFrom286(test286([0x6d], { di: 0xffff }, gp))).toMatch(/string instruction/); // insw
    expect(differenceFrom286(test286([0x6d], { si: 0xffff }, gp))).toBeNull(); // insw does not use SI
    expect(differenceFrom286(test286([0xa4], { si: 0xffff }, gp))).toBeNull(); // movsb fits
    expect(differenceFrom286(test286([0xa5], { si: 0xffff }))).toBeNull(); // no #GP recorded
  });

  it('ordinary instructions have no difference', () => {
    expect(differenceFrom286(test286([0x00, 0x07]))).toBeNull();
    expect(differenceFrom286(test286([0xf3, 0xa4]))).toBeNull();
  });
});

describe('8088 tests a 386 cannot match', () => {
  const t = (bytes: number[], regs: Partial<typeof BASE_REGS> = {}, extra: Partial<VectorTest> = {}): MooTest => {
    const v: VectorTest = { name: 't', bytes, initial: { regs: { ...BASE_REGS, ...regs }, ram: [] }, final: { regs: {} }, ...extra };
    return readMoo(encodeMoo({ cpuId: '8088', width: 16, tests: [v] })).tests[0];
  };
  it('recognises the documented 8088 behaviours', () => {
    expect(differenceFrom8088(t([0x54]))).toMatch(/PUSH SP/);
    expect(differenceFrom8088(t([0x60, 0x05]))).toMatch(/alias/);
    expect(differenceFrom8088(t([0xd3, 0xe0], { cx: 0x21 }))).toMatch(/shift count/);
    expect(differenceFrom8088(t([0xd3, 0xe0], { cx: 0x1f }))).toBeNull();
    expect(differenceFrom8088(t([0xf6, 0xf3], {}, { exception: { vector: 0, flagAddress: 0 } }))).toMatch(/divide error/);
    expect(differenceFrom8088(t([0x01, 0x04], { si: 0xffff }))).toMatch(/wraps/);
    expect(differenceFrom8088(t([0x00, 0x04], { si: 0xffff }))).toBeNull();
    expect(differenceFrom8088(t([0xa1, 0xff, 0xff]))).toMatch(/wraps/);
    expect(differenceFrom8088(t([0xff, 0xf8]))).toMatch(/FF reg 7/);
    expect(differenceFrom8088(t([0x0f]))).toMatch(/POP CS/);
  });

  it('recognises a divide error from the IVT entry the test ends at (8088 files have no EXCP chunk)', () => {
    const ivt: [number, number][] = [[0, 0x00], [1, 0x04], [2, 0x00], [3, 0x00]];
    const div = (finalIp: number) => t([0xf6, 0xf3], {}, { initial: { regs: BASE_REGS, ram: ivt }, final: { regs: { cs: 0, ip: finalIp } } });
    expect(differenceFrom8088(div(0x400))).toMatch(/divide error/);
    expect(differenceFrom8088(div(0x102))).toBeNull();
  });
});

describe('the FLAGS image an exception pushed', () => {
  it('takes the odd address when the capture rounded it down to the even bus address', () => {
    // SS:SP = 0x8DC5:0x7255 before a divide error; after the 3-word frame SP = 0x724F, FLAGS at SS:0x7253.
    const odd = test286([0xf6, 0xf3], { ss: 0x8dc5, sp: 0x7255 }, {
      final: { regs: { sp: 0x724f } }, exception: { vector: 0, flagAddress: 0x94ea2 },
    });
    expect(pushedFlagsAddress(odd)).toBe(0x94ea3);
    const even = test286([0xf6, 0xf3], { ss: 0x8dc5, sp: 0x7256 }, {
      final: { regs: { sp: 0x7250 } }, exception: { vector: 0, flagAddress: 0x94ea4 },
    });
    expect(pushedFlagsAddress(even)).toBe(0x94ea4);
    expect(pushedFlagsAddress(test286([0x90]))).toBeUndefined();
  });
});
