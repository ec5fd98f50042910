// Machine.step() keeps device time in step with single instructions. A halted CPU waits in virtual time for the
// interrupt that wakes it, through as many timer deadlines as that takes (a PIT in mode 2 drops its output for one
// clock before the edge that raises IRQ 0), so stepping a timer-driven guest ends where running it does.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../../engine/machine/machine';

const timer = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'timer', 'timer.bin'));

describe('Machine.step with device timers', () => {
  it('steps the timer example to the same end, output and virtual time as running it', () => {
    const run = new Machine({ memoryMB: 4 });
    run.load(timer);
    expect(run.run(1e8).reason).toBe('exit');

    const stepped = new Machine({ memoryMB: 4 });
    stepped.load(timer);
    let reason = null;
    for (let n = 0; n < 1e6 && reason === null; n++) reason = stepped.step();
    expect(reason).toBe('exit');
    expect(stepped.consoleText()).toBe(run.consoleText());
    expect(stepped.cpu.icount).toBe(run.cpu.icount);
    expect(stepped.exitCode).toBe(0);
  });

  it('still reports a halt when nothing can wake the CPU', () => {
    const m = new Machine({ memoryMB: 1 });
    m.load(Uint8Array.from([0xfb, 0xf4]), { format: 'bin' }); // sti; hlt with every IRQ masked
    expect(m.step()).toBeNull();
    expect(m.step()).toBeNull();
    expect(m.step()).toBe('halt');
  });
});
