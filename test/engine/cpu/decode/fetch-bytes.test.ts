// The decoder reads an instruction's bytes in its first byte's page straight from RAM (decode/decode-cache.ts
// fetchCodeByte), and through the memory's own read (translation, devices) otherwise. These tests give the two
// paths different answers where only the second is right: a page whose bytes a device serves, a 16-bit IP that
// wraps at 64 KiB into another frame with paging on, and an instruction that crosses into the next linear page.

import { describe, expect, it } from 'vitest';
import { AR_P, AR_S, CS } from '../../../../engine/cpu/cpu';
import { flat32, realMode } from '../harness';
import { enablePaging, setPte } from '../paging-fixtures';

const EAX = 0;
const P = 1, RW = 2, US = 4;

describe('the decoder reads the bytes the memory would give', () => {
  it('from a page a device serves: every byte from the device, none from the RAM beneath', () => {
    // RAM beneath the device's page holds MOV AX, 0x1111; the device serves MOV AX, 0x2222; HLT.
    const m = realMode([0xb8, 0x11, 0x11, 0xf4], 0x5000);
    const served = [0xb8, 0x22, 0x22, 0xf4];
    const reads: number[] = [];
    m.mem.mapMmio(0x5000, 0x1000, {
      read8: (addr: number) => {
        reads.push(addr);
        return served[addr - 0x5000] ?? 0xf4;
      },
      write8: () => undefined,
    });
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(0x2222);
    expect(reads.slice(0, 3)).toEqual([0x5000, 0x5001, 0x5002]);
  });

  it('across a 16-bit IP wrap with paging: the bytes after the wrap from the frame its linear page maps to', () => {
    // A 16-bit code segment at linear 0: MOV AX, imm16 at IP 0xFFFF, its immediate at IP 0 and 1 after the wrap.
    // Linear page 0 maps to frame 0x250000; linear page 0xF is identity-mapped, so the frame below the first byte's
    // (physical 0x0000) holds other bytes.
    const m = flat32([0xf4], 0x10000);
    enablePaging(m);
    setPte(m, 0, 0x250000 | P | RW | US);
    m.mem.load(0xffff, Uint8Array.of(0xb8));
    m.mem.load(0x250000, Uint8Array.of(0x34, 0x12, 0xf4));
    m.mem.load(0x0000, Uint8Array.of(0x78, 0x56, 0xf4));
    m.cpu.loadSegmentCache(CS, 0x18, 0, 0xffff, AR_P | AR_S | 0xb, true, 'loader');
    m.cpu.modeChanged();
    m.cpu.eip = 0xffff;
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(0x1234);
    expect(m.cpu.eip).toBe(3);
  });

  it('an instruction crossing its page end: the tail from the next linear page’s frame', () => {
    // MOV EAX, imm32 at linear 0x10FFE: two bytes in its page, the rest in linear page 0x11, mapped to 0x300000.
    const m = flat32([], 0x10ffe);
    enablePaging(m);
    setPte(m, 0x11000, 0x300000 | P | RW | US);
    m.mem.load(0x10ffe, Uint8Array.of(0xb8, 0x01));
    m.mem.load(0x300000, Uint8Array.of(0x02, 0x03, 0x04, 0xf4));
    m.mem.load(0x11000, Uint8Array.of(0xee, 0xee, 0xee, 0xf4));
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x04030201);
  });
});
