// Monitor.editGuestView: a debugger edit made while the monitor runs the guest deprivileged reaches the guest's own
// view, and the guest runs on with it exactly as a bare machine given the same edit (stepped side by side, the
// guest-visible state compared after every instruction as the lockstep test does).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { CS, DS, EAX, type Cpu } from '../../../engine/cpu/cpu';
import { CF } from '../../../engine/cpu/flags';
import { setCacheField, setFlag, setGeneralRegister } from '../../../engine/cpu/debug-edit';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { firstDifference, visibleState } from '../../../engine/monitor/lockstep';

const IMAGE = readFileSync(join(__dirname, '../../../examples/descriptor-cache/descriptor-cache.bin'));
/** GDT entry 3 of the example, which DS is loaded from in its step 2. */
const SEL_WINDOW = 0x18;
const EDITED_BASE = 0x30000;
const EDITED_EAX = 0x5a5a1234;

function machines() {
  const bare = new Machine({ memoryMB: 4 });
  const monitored = new Machine({ memoryMB: 4 });
  const monitor = attachMonitor(monitored, { sbe: 'auto' });
  bare.load(IMAGE);
  monitored.load(IMAGE);
  return { bare, monitored, monitor };
}

/** The same edit on both sides: EAX, CF and DS's cache base. */
function edit(cpu: Cpu): void {
  setGeneralRegister(cpu, EAX, EDITED_EAX);
  setFlag(cpu, CF, 1);
  setCacheField(cpu, DS, 'base', EDITED_BASE);
}

describe('Monitor.editGuestView', () => {
  it('puts an edit into the guest view; the guest runs on with it as bare, without a panic', () => {
    const { bare, monitored, monitor } = machines();
    // Side by side up to the instruction after DS's load from entry 3 (the guest runs deprivileged by then).
    let steps = 0;
    while (visibleState(bare, null).segments[DS].sel !== SEL_WINDOW) {
      expect(bare.step()).toBe(null);
      expect(monitored.step()).toBe(null);
      expect(++steps).toBeLessThan(100_000);
    }
    expect(firstDifference(visibleState(bare, null), visibleState(monitored, monitor))).toBe(null);
    expect(monitor.state).toBe('direct');
    const trapsBefore = monitor.counters.totalTraps;

    edit(bare.cpu);
    monitor.editGuestView(edit);

    const g = monitor.currentGuest();
    expect(g.base[DS] >>> 0).toBe(EDITED_BASE);
    expect(g.sel[DS]).toBe(SEL_WINDOW);
    expect(g.eflags & CF).toBe(CF);
    expect(monitored.cpu.regs[EAX] >>> 0).toBe(EDITED_EAX);
    // The guest's other state is untouched: CPL 0 and the guest's CS, although the CPU runs it at CPL 3.
    expect(g.cpl).toBe(0);
    expect(g.sel[CS]).toBe(bare.cpu.segSel[CS]);
    expect(firstDifference(visibleState(bare, null), visibleState(monitored, monitor))).toBe(null);
    // Still deprivileged, by the inconsistent return sequence now (DS's cache no longer matches entry 3), and no
    // trap was counted for the edit.
    expect(monitor.state).toBe('direct');
    expect(monitor.consistency[DS]).toBe('base');
    expect(monitor.returns[monitor.returns.length - 1].written).toContain('DS');
    expect(monitor.counters.totalTraps).toBe(trapsBefore);

    // On to the end, side by side.
    for (;;) {
      const r1 = bare.step();
      const r2 = monitored.step();
      expect(r2).toBe(r1);
      const field = firstDifference(visibleState(bare, null), visibleState(monitored, monitor));
      expect(field, `after ${steps} instructions`).toBe(null);
      if (r1 !== null) break;
      expect(++steps).toBeLessThan(100_000);
    }
    expect(Buffer.compare(Buffer.from(monitored.mem.u8), Buffer.from(bare.mem.u8))).toBe(0);
    // The guest itself saw its store through DS land at the edited base.
    expect(bare.consoleText()).toContain('FAIL: the store through DS did not reach the old base 0x00020000');
    expect(monitored.consoleText()).toBe(bare.consoleText());
    expect(monitored.exitCode).toBe(bare.exitCode);
    expect(monitor.counters.panics).toBe(0);
  });

  it('applies the edit directly while the guest runs emulated (real mode)', () => {
    const { monitored, monitor } = machines();
    expect(monitored.step()).toBe(null);
    expect(monitor.state).toBe('emulated');
    monitor.editGuestView((cpu) => setGeneralRegister(cpu, EAX, EDITED_EAX));
    expect(monitored.cpu.regs[EAX] >>> 0).toBe(EDITED_EAX);
    expect(monitor.currentGuest().eip).toBe(monitored.cpu.eip);
    expect(monitor.counters.panics).toBe(0);
  });
});
