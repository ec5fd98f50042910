// A guest that uses the local APIC timer and the PIT routed through the I/O APIC (guests/apic-timer.asm): bare,
// under the monitor in lockstep (devices compared too), and across a snapshot restore.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { lockstep } from '../../../engine/monitor/lockstep';

const image = new Uint8Array(readFileSync(join(__dirname, 'guests', 'apic-timer.bin')));

describe('APIC timer and IOAPIC-routed PIT guest', () => {
  it('takes five periodic APIC timer interrupts, then three PIT interrupts through I/O APIC input 2', () => {
    const m = new Machine({ memoryMB: 4 });
    m.load(image, { mode: 'protected' });
    const r = m.run(5_000_000);
    expect(r.reason).toBe('exit');
    expect(m.consoleText()).toBe('AAAAAPPP');
    expect(m.exitCode).toBe(5 * 16 + 3);
    // Guest time: five periods of 2000 × 16 bus clocks, then three PIT periods of 1000 × 8 instructions, give or
    // take the instructions between them.
    expect(r.instructions).toBeGreaterThanOrEqual(5 * 32000 + 2 * 8000);
    expect(r.instructions).toBeLessThan(5 * 32000 + 3 * 8000 + 2000);
  });

  it('runs the same under the monitor, compared after every instruction (devices every 4096)', () => {
    const r = lockstep(image, { load: { mode: 'protected' }, maxInstructions: 200_000, memoryMB: 4, memoryEvery: 64 });
    expect(r.divergence).toBeNull();
    expect(r.stop).toBe('exit');
    expect(r.monitored.consoleText()).toBe('AAAAAPPP');
  });

  it('a snapshot taken between APIC timer interrupts replays the same run', () => {
    const m = new Machine({ memoryMB: 4 });
    attachMonitor(m);
    m.load(image, { mode: 'protected' });
    while (m.consoleText() !== 'AA') m.step();
    const snap = m.snapshot();
    m.run(5_000_000);
    const first = m.consoleText();
    m.consoleOutput.length = 0;
    m.restore(snap);
    m.run(5_000_000);
    expect(first).toBe('AAAAAPPP');
    expect(m.consoleText()).toBe('APPP'.padStart(6, 'A'));
    expect(m.exitCode).toBe(83);
  });
});
