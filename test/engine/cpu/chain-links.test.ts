// The run loop's links between decoded instructions (Instr.next) must never outlive the code they lead to (issue
// 17, item 1). Running freely (slices, links, translated blocks) and stepping (one instruction per run, no links)
// must give the guest the same result, in 16- and 32-bit code, bare and monitored, translation on and off.

import { describe, expect, it } from 'vitest';
import { EBX } from '../../../engine/cpu/cpu';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { makeMachine } from './harness';
import { ipWrapSuccessor, IP_WRAP_ENTRY, LOAD, pageCrossSmc, PAGE_CROSS_SMC_EXIT } from './page-cross-programs';

function machineFor(bits: 16 | 32, monitored: boolean, jit: boolean): Machine {
  const m = new Machine({ memoryMB: 4 });
  if (monitored) attachMonitor(m);
  m.cpu.jit = jit;
  m.load(pageCrossSmc(bits), { format: 'bin', loadAddress: LOAD, mode: bits === 32 ? 'protected' : 'real' });
  return m;
}

describe('links between decoded instructions across a page boundary', () => {
  for (const bits of [16, 32] as const) {
    for (const monitored of [false, true]) {
      for (const jit of [true, false]) {
        const name = `${bits}-bit, ${monitored ? 'monitored' : 'bare'}, translation ${jit ? 'on' : 'off'}`;
        it(`self-modifying code at the next page's first instruction is seen running freely and stepping (${name})`, () => {
          const free = machineFor(bits, monitored, jit);
          expect(free.run(10_000).reason).toBe('exit');
          expect(free.exitCode).toBe(PAGE_CROSS_SMC_EXIT);

          const stepped = machineFor(bits, monitored, jit);
          let reason = null;
          for (let k = 0; k < 10_000 && reason === null; k++) reason = stepped.step();
          expect(reason).toBe('exit');
          expect(stepped.exitCode).toBe(PAGE_CROSS_SMC_EXIT);
          expect(stepped.cpu.icount).toBe(free.cpu.icount);
        });
      }
    }
  }

  it('after A20 turns off, the fall-through from 0xFFFFF reaches linear 0x100000 at physical 0', () => {
    // 7C00: xor bx, bx; jmp FFFF:000F. FFFFF: inc bx. 100000: jmp 0000:7C10. 7C10: out 0x92 (A20 off); jmp FFFF:000F.
    // 0: hlt. With A20 off, inc bx falls through to physical 0: BX = 2 there. A link made while A20 was on would
    // lead back to 0x100000 for ever.
    const m = makeMachine(2 << 20);
    m.io.register(0x92, 1, { portIn: () => (m.cpu.a20Enabled ? 2 : 0), portOut: (_p, v) => void (m.cpu.a20Enabled = (v & 2) !== 0) });
    const farJmp = [0xea, 0x0f, 0x00, 0xff, 0xff];
    m.mem.load(0x7c00, Uint8Array.from([0x31, 0xdb, ...farJmp]));
    m.mem.load(0xfffff, Uint8Array.of(0x43));
    m.mem.load(0x100000, Uint8Array.from([0xea, 0x10, 0x7c, 0x00, 0x00]));
    m.mem.load(0x7c10, Uint8Array.from([0xb0, 0x00, 0xe6, 0x92, ...farJmp]));
    m.mem.load(0, Uint8Array.of(0xf4));
    m.cpu.setSegmentReal(1, 0);
    m.cpu.eip = 0x7c00;
    m.cpu.modeChanged();
    m.cpu.run(10_000);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(2);
    expect(m.cpu.eip).toBe(0x11); // FFFF:0011 is linear 0x100001, physical 1 with A20 off
  });

  it('an instruction reached through two CS bases falls through in one and wraps IP to 0 in the other', () => {
    const { image, load } = ipWrapSuccessor();
    for (const jit of [true, false]) {
      const m = new Machine({ memoryMB: 1 });
      m.cpu.jit = jit;
      m.load(image, { format: 'bin', loadAddress: load, entry: IP_WRAP_ENTRY });
      expect(m.run(10_000).reason).toBe('exit');
      expect(m.exitCode).toBe(2);
    }
  });
});
