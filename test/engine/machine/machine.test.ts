import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { EAX, ECX } from '../../../engine/cpu/cpu';

// Tiny real-mode guests, hand-assembled (org 0x7C00, loaded as flat binaries).
// count: mov cx, 5 / l: inc ax / loop l / mov al, 7 / out 0xF4, al
const COUNT_AND_EXIT = [0xb9, 0x05, 0x00, 0x40, 0xe2, 0xfd, 0xb0, 0x07, 0xe6, 0xf4];
// hello: mov al,'H' / out 0xE9,al / mov al,'i' / out 0xE9,al / cli / hlt
const HELLO_HALT = [0xb0, 0x48, 0xe6, 0xe9, 0xb0, 0x69, 0xe6, 0xe9, 0xfa, 0xf4];
// spin: jmp $
const SPIN = [0xeb, 0xfe];

function machineWith(code: number[]): Machine {
  const m = new Machine({ memoryMB: 1 });
  m.load(Uint8Array.from(code), { format: 'bin' });
  return m;
}

describe('Machine run control', () => {
  it('ends with the exit code written to port 0xF4', () => {
    const m = machineWith(COUNT_AND_EXIT);
    const r = m.run(1000);
    expect(r.reason).toBe('exit');
    expect(m.exitCode).toBe(7);
    expect(m.cpu.regs[EAX] & 0xff).toBe(7);
    expect(m.cpu.regs[ECX] & 0xffff).toBe(0);
    expect(r.instructions).toBe(1 + 5 * 2 + 2);
  });

  it('sends port 0xE9 bytes to the console and stops on HLT with interrupts off', () => {
    const m = machineWith(HELLO_HALT);
    expect(m.run(1000).reason).toBe('halt');
    expect(m.consoleText()).toBe('Hi');
  });

  it('stops with reason limit after the instruction budget', () => {
    const m = machineWith(SPIN);
    const r = m.run(12345);
    expect(r).toEqual({ reason: 'limit', instructions: 12345 });
  });

  it('honours a stop request between instructions', () => {
    const m = machineWith(SPIN);
    let seen = 0;
    m.cpu.events.on('port-io', () => undefined); // listeners must not disturb the run loop
    const r1 = m.runSlice(100);
    seen += r1.instructions;
    m.requestStop();
    const r2 = m.runSlice(1000);
    expect(r2.reason).toBe('stopped');
    expect(r2.instructions).toBe(0);
    expect(seen).toBe(100);
  });

  it('stops before an instruction breakpoint and can step over it', () => {
    const m = machineWith(COUNT_AND_EXIT);
    m.cpu.breakpoints.add(0x7c00 + 3); // inc ax
    m.cpu.updateAttention();
    const r = m.runSlice(1000);
    expect(r.reason).toBe('breakpoint');
    expect(m.cpu.eip).toBe(0x7c03);
    expect(r.instructions).toBe(1);
    m.cpu.step(); // runs the instruction under the breakpoint
    expect(m.cpu.eip).toBe(0x7c04);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(1);
  });

  it('restores a snapshot exactly, memory and CPU', () => {
    const m = machineWith(COUNT_AND_EXIT);
    m.run(3);
    const snap = m.snapshot();
    const eip = m.cpu.eip;
    const ax = m.cpu.regs[EAX];
    m.run(1000);
    expect(m.exitCode).toBe(7);
    m.mem.write8(0x7c00, 0x90); // change memory after the snapshot, too
    m.restore(snap);
    expect(m.cpu.eip).toBe(eip);
    expect(m.cpu.regs[EAX]).toBe(ax);
    expect(m.exitCode).toBeNull();
    expect(m.mem.u8[0x7c00]).toBe(0xb9);
    // And it runs on to the same end.
    expect(m.run(1000).reason).toBe('exit');
    expect(m.cpu.regs[EAX] & 0xff).toBe(7);
  });

  it('a restore moves the code epoch forward, never back to a value links and transfer targets were made at', () => {
    // Reverse execution restores checkpoints keeping the decoded instructions of pages it did not rewrite; their
    // transfer targets (Instr.target) and the blocks' successors are keyed by the epoch. An epoch restored from the
    // checkpoint would come round again and make a target recorded after the checkpoint look valid (a flaky
    // reverse-stops test showed it).
    const m = machineWith(COUNT_AND_EXIT);
    m.run(3);
    const state = m.snapshotState();
    m.cpu.mappingsChanged();
    m.cpu.mappingsChanged();
    const later = m.cpu.codeEpoch;
    m.restoreState(state, true);
    expect(m.cpu.codeEpoch).toBeGreaterThan(later);
    expect(m.run(1000).reason).toBe('exit');
  });
});
