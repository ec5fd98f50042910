// Machine snapshots under the monitor (the debugger's reverse execution): the guest's view is saved and restored,
// and the run after a restore is the run after the snapshot.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { firstDifference, visibleState } from '../../../engine/monitor/lockstep';
import { History } from '../../../engine/machine/history';
import { encode, PROGRAM_BASE, programFromSlots } from '../../../engine/monitor/random-program';

const SEED = join(__dirname, '../../../examples/seed-sequence/seed-sequence.bin');

/**
 * Takes a snapshot, runs to the end, restores it and runs again: the restored guest state is the one snapshotted,
 * and the second run ends the same way, printing the tail of the first run's output.
 */
function roundTrip(m: Machine, monitor: ReturnType<typeof attachMonitor>): string {
  const before = visibleState(m, monitor);
  const snap = m.snapshot();
  const first = m.run(2_000_000);
  const out1 = m.consoleText();
  m.consoleOutput.length = 0;
  m.restore(snap);
  expect(firstDifference(visibleState(m, monitor), before)).toBeNull();
  const second = m.run(2_000_000);
  expect(second.reason).toBe(first.reason);
  const out2 = m.consoleText();
  expect(out2).toContain('\nok\n');
  expect(out1.endsWith(out2)).toBe(true);
  expect(m.exitCode).toBe(0);
  expect(monitor.counters.panics).toBe(0);
  return out2;
}

describe('snapshots under the monitor', () => {
  it('restoring a snapshot taken while the guest ran deprivileged gives the same guest state and the same run', () => {
    const m = new Machine({ memoryMB: 4 });
    const monitor = attachMonitor(m);
    m.load(readFileSync(SEED));
    // Into step 5: registers inconsistent, the monitor engaged.
    while (!(monitor.state === 'direct' && monitor.consistency[3] !== 'consistent' && m.cpu.icount > 3000)) m.step();
    expect(roundTrip(m, monitor).length).toBeGreaterThan(100);
  });
});

describe('snapshots of a paging guest under the monitor', () => {
  it('restoring while the guest runs on shadow page tables gives the same run as before the snapshot', () => {
    const PAGING = join(__dirname, '../../../examples/paging/paging.bin');
    const m = new Machine({ memoryMB: 16 });
    const monitor = attachMonitor(m);
    m.load(readFileSync(PAGING));
    while (!(monitor.state === 'direct' && (monitor.guest.cr0 & 0x80000000) !== 0 && monitor.shadow.counters.fills > 3)) m.step();
    roundTrip(m, monitor);
    expect(monitor.state).toBe('direct');
  });
});

describe('checkpoints under the monitor (reverse execution record)', () => {
  // A checkpoint restarts the monitor on unchanged memory (history.ts). It used to drop every decoded instruction and
  // translated block too, every 80 ms of an F5 under the debug adapter: GRUB then cost twice its bare run.
  it('keep the decoded instructions and translated blocks, and the run goes on the same', () => {
    const load = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
    const image = programFromSlots([
      [0xb9, ...encode.le32(3_000_000)], // mov ecx, 3000000
      [0x49, 0x75, 0xfd], // .l: dec ecx; jnz .l
    ]).image;
    const m = new Machine({ memoryMB: 4 });
    const monitor = attachMonitor(m);
    m.load(image, load);
    m.run(1_000_000);
    expect(monitor.state).toBe('direct');
    const before = m.cpu.fetchInstr(m.cpu.eip);
    const history = new History(m, { maxBytes: 64 << 20 });
    expect(history.take(null)).not.toBeNull();
    expect(monitor.state).toBe('direct');
    expect(m.cpu.fetchInstr(m.cpu.eip)).toBe(before);
    const bare = new Machine({ memoryMB: 4 });
    bare.load(image, load);
    const a = bare.run(10_000_000);
    const b = m.run(10_000_000);
    expect(m.cpu.icount).toBe(bare.cpu.icount);
    expect([b.reason, m.cpu.regs[1]]).toEqual([a.reason, bare.cpu.regs[1]]);
    expect(monitor.counters.panics).toBe(0);
  });
});
