// The debugger's breakpoint set (engine/cpu/jit/breakpoints.ts): `hits` answers from a bit per linear page before
// the hash lookup, so the bits must follow every add, delete and clear exactly.
import { describe, expect, it } from 'vitest';
import { BreakpointSet } from '../../../engine/cpu/jit/breakpoints';
import { flat32 } from './harness';

describe('BreakpointSet.hits', () => {
  it('follows adds, deletes and clears, per address and per page', () => {
    const s = new BreakpointSet();
    expect(s.hits(0x1000)).toBe(false);
    s.add(0x1000);
    s.add(0x1ffc);
    s.add(0xfffffff0);
    expect([s.hits(0x1000), s.hits(0x1ffc), s.hits(0x1001), s.hits(0x2000), s.hits(0xfffffff0)]).toEqual([true, true, false, false, true]);
    s.delete(0x1000);
    // The page still holds 0x1ffc.
    expect([s.hits(0x1000), s.hits(0x1ffc)]).toEqual([false, true]);
    s.delete(0x1ffc);
    s.delete(0x1ffc); // twice: the count must not go below zero
    s.add(0x1004);
    expect([s.hits(0x1004), s.hits(0x1ffc)]).toEqual([true, false]);
    s.add(0x1004); // twice: one delete removes it
    s.delete(0x1004);
    expect(s.hits(0x1004)).toBe(false);
    s.clear();
    expect([s.hits(0xfffffff0), s.size]).toEqual([false, 0]);
    s.add(0x1000);
    expect(s.hits(0x1000)).toBe(true);
  });

  it('stops the run loop at a breakpoint with others armed in the same page and elsewhere', () => {
    // nop ×6 ; hlt — breakpoints at the fourth nop, beside one that is never reached and one in another page.
    const m = flat32([0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xf4]);
    const start = m.cpu.eip;
    m.cpu.breakpoints.add(start + 0x800);
    m.cpu.breakpoints.add(0x00fff000);
    m.cpu.breakpoints.add(start + 3);
    m.cpu.updateAttention();
    m.cpu.run(100);
    expect([m.cpu.hitBreakpoint, m.cpu.eip - start]).toEqual([true, 3]);
    m.cpu.breakpoints.delete(start + 3);
    m.cpu.updateAttention();
    m.cpu.run(100);
    expect([m.cpu.halted, m.cpu.hitBreakpoint]).toEqual([true, false]);
  });
});
