// PUSHF, POPF, port I/O, CLI/STI, PUSH Sreg and MOV from Sreg of a deprivileged guest are completed in place, without a monitor entry
// (engine/monitor/in-place.ts), and the guest sees exactly what it sees bare: lockstep after every instruction,
// device reads included. Where the guest's own permission check needs its TSS (CPL > IOPL), the access still
// enters the monitor.
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PROGRAM_BASE, programFromSlots, slotAddress } from '../../../engine/monitor/random-program';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const IOPL3 = 0x3000;
const IF = 0x200;

function run(slots: number[][], sbe: 'auto' | 'on' = 'auto') {
  const r = lockstep(programFromSlots(slots).image, { load: LOAD, maxInstructions: 50_000, sbe });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.stop).toBe('exit');
  expect(r.monitor.counters.panics).toBe(0);
  return r.monitor.counters;
}

describe('in-place PUSHF, POPF, I/O, CLI/STI and reads of segment registers', () => {
  it('ring 0: PUSHF/POPF with IOPL and IF changes, IN/OUT/INS/OUTS, CLI/STI, PUSH Sreg and MOV from Sreg, all without a monitor entry', () => {
    const slots = [
      [0x9c, 0x58], // pushfd; pop eax (IOPL 0 pushed, though the real CPU runs at CPL 3)
      [0x68, ...encode.le32(IOPL3 | IF | 0x8d5 | 2), 0x9d], // push flags; popfd: IOPL 3, IF 1, arithmetic flags
      [0x9c, 0x58], // pushfd: IOPL 3 now, as the guest set it
      [0x66, 0x9c, 0x66, 0x58], // pushf (16 bits)
      [0x68, ...encode.le32(2), 0x9d], // popfd: IOPL 0, IF 0
      [0x66, 0x68, 0x00, 0x32, 0x66, 0x9d], // popf (16 bits): IOPL 3, IF 0
      [0xe4, 0x61, 0xe4, 0x61, 0xe4, 0x61], // in al, 0x61 (three reads: PIT channel 2's OUT, the refresh toggle)
      [0xb0, 0x01, 0xe6, 0x61, 0xe4, 0x61], // gate 2 on, read back
      [0x66, 0xba, 0x61, 0x00, 0xec, 0xee], // in al, dx; out dx, al
      [0xbf, ...encode.le32(0x40000), 0xb9, ...encode.le32(8), 0xf3, 0x6c], // rep insb from port 0x61
      [0xbe, ...encode.le32(0x40000), 0xb9, ...encode.le32(4), 0xf3, 0x6e], // rep outsb to port 0x61
      [0xfa, 0xfb, 0x90], // cli; sti (its shadow over the NOP)
      [0x0e, 0x58, 0x16, 0x58, 0x1e, 0x58], // push cs/ss/ds, each popped into EAX: RPL 0, not the real CPU's
      [0x06, 0x58, 0x0f, 0xa0, 0x58, 0x0f, 0xa8, 0x58], // push es/fs/gs
      [0x66, 0x1e, 0x66, 0x58], // push ds with a 16-bit operand
      [0x8c, 0xc8, 0x8c, 0xd3, 0x66, 0x8c, 0xd9], // mov eax, cs; mov ebx, ss; mov cx, ds
      [0x8c, 0x1d, ...encode.le32(0x40000), 0x8c, 0x25, ...encode.le32(0x40002)], // mov [0x40000], ds; mov [0x40002], fs
    ];
    const c = run(slots);
    // The same program with those slots as NOPs makes as many monitor entries (the runtime's own: LIDT, LTR, …).
    const without = run(slots.map(() => [0x90]));
    expect(c.totalTraps).toBe(without.totalTraps);
    for (const name of ['pushf', 'popf', 'inI', 'outI', 'inDX', 'outDX', 'ins', 'outs', 'cli', 'sti', 'pushSeg', 'movES']) expect(c.inPlace.get(name) ?? 0, name).toBeGreaterThan(0);
  });

  it('ring 3 with IOPL 0: IN still faults through the guest (its TSS has no bitmap), PUSHF/POPF keep IF and IOPL', () => {
    const c = run([
      encode.toRing3(slotAddress(1)),
      [0xe4, 0x61], // #GP in the guest, reported by the runtime, on to the next slot
      [0xfa], // cli: #GP in the guest too
      [0x1e, 0x58, 0x8c, 0xd8], // push ds; pop eax; mov eax, ds: RPL 3
      [0x68, ...encode.le32(IOPL3 | IF | 2), 0x9d], // popfd at CPL 3: IOPL and IF unchanged (silently)
      [0x9c, 0x58],
      encode.toRing0(),
    ]);
    expect(c.traps.get('gp') ?? 0).toBeGreaterThan(0);
  });

  it('ring 3 with IOPL 0 and SBE forced on (the in-place handlers bound): CLI, STI and IN still #GP in the guest', () => {
    const faulting = [[0xfa], [0xfb], [0xe4, 0x61]]; // cli; sti; in al, 0x61
    const program = (middle: number[][]): number[][] => [
      encode.toRing3(slotAddress(1)),
      ...middle,
      [0x1e, 0x58], // push ds; pop eax: in place, RPL 3
      encode.toRing0(),
    ];
    const c = run(program(faulting), 'on');
    const without = run(program(faulting.map(() => [0x90])), 'on');
    expect((c.traps.get('gp') ?? 0) - (without.traps.get('gp') ?? 0)).toBe(3);
    expect(c.inPlace.get('pushSeg') ?? 0).toBeGreaterThan(0);
  });

  it('a push or pop that faults (a dword across 4 GiB) enters the monitor and the guest gets its own #SS', () => {
    // In ring 3 with SBE forced on, so PUSHF/POPF are bound; the fault goes to the ring-0 handler on the TSS stack.
    const c = run(
      [
        encode.toRing3(slotAddress(1)),
        [0x89, 0xe5, 0xbc, ...encode.le32(2)], // mov ebp, esp; mov esp, 2: a dword push lands across 4 GiB
        [0x9c], // pushfd: #SS(0)
        [0xbc, ...encode.le32(0xfffffffe)], // mov esp, 0xFFFFFFFE: a dword pop reads across 4 GiB
        [0x9d], // popfd: #SS(0)
        [0x89, 0xec], // mov esp, ebp
        [0x9c, 0x9d], // in place again
        encode.toRing0(),
      ],
      'on',
    );
    expect(c.traps.get('ss') ?? 0).toBe(2);
    expect(c.inPlace.get('pushf') ?? 0).toBeGreaterThan(0);
  });
});
