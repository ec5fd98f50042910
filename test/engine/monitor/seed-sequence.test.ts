// examples/seed-sequence under the monitor: the seed's story, asserted from the monitor's events and records.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor, type ReturnRecord } from '../../../engine/monitor/monitor';
import { formatEvent } from '../../../engine/trace';

const IMAGE = join(__dirname, '../../../examples/seed-sequence/seed-sequence.bin');

function runSeed(sbe: 'auto' | 'on' | 'off' = 'auto') {
  const machine = new Machine({ memoryMB: 4 });
  const monitor = attachMonitor(machine, { sbe });
  const lines: string[] = [];
  const returns: ReturnRecord[] = [];
  monitor.onReturn = (r) => void returns.push(r);
  for (const name of ['monitor-trap', 'sbe-change', 'cache-inconsistent', 'cache-consistent'] as const) {
    machine.cpu.events.on(name, (e) => lines.push(formatEvent(name, e)));
  }
  machine.load(readFileSync(IMAGE));
  const result = machine.run(2_000_000);
  return { machine, monitor, lines, result, returns };
}

describe('seed-sequence under the monitor', () => {
  it('runs to its end with the same output as on a bare machine', () => {
    const bare = new Machine({ memoryMB: 4 });
    bare.load(readFileSync(IMAGE));
    const b = bare.run(2_000_000);
    const { machine, result } = runSeed();
    expect(result.reason).toBe('exit');
    expect(machine.exitCode).toBe(0);
    expect(machine.consoleText()).toBe(bare.consoleText());
    expect(machine.consoleText()).toContain('\nok\n');
    // Device time is guest instructions: the monitor's own work is not counted.
    expect(result.instructions).toBe(b.instructions);
  });

  it('tells the seed story: stale caches across an interrupt, trapped reloads, consistency, SBE off in ring 3', () => {
    const { monitor, lines, returns } = runSeed();
    const find = (re: RegExp, from = 0): number => {
      for (let k = from; k < lines.length; k++) if (re.test(lines[k])) return k;
      return -1;
    };
    // 1–2: the four descriptors rewritten → each register's cache inconsistent, reported from the guest's table writes.
    const ds1 = find(/^cache-inconsistent DS differs=base cause=descriptor-write/);
    const fs1 = find(/^cache-inconsistent FS differs=base,limit/);
    expect(ds1).toBeGreaterThan(0);
    expect(fs1).toBeGreaterThan(ds1);
    expect(find(/monitor-trap reason=table-write/)).toBeLessThan(ds1);
    // 3: INT 0x30 from deprivileged ring 0 traps (#GP), is reflected, and the handler's IRET is emulated.
    const int1 = find(/monitor-trap reason=gp instruction="int 0x30"/, fs1);
    expect(int1).toBeGreaterThan(fs1);
    // The entry returns by the inconsistent path: each cache written at its own selector, then marked. The
    // handler's IRET (to ring 0, CS consistent) is completed in place (monitor.ts iretInPlace): no entry, and the
    // data registers keep the caches that return wrote, so the first reload's entry finds the other three so.
    expect(lines[int1]).toMatch(/return=inconsistent \(DS,ES,FS,GS cache written; GDT\[3\],GDT\[4\],GDT\[5\],GDT\[6\] marked not present\)$/);
    expect(lines[int1 + 1]).toMatch(/^monitor-trap reason=sbe instruction="mov ds, eax" at 0008:[0-9a-f]{8} return=inconsistent \(ES,FS,GS cache written/);
    expect(monitor.counters.inPlace.get('iret')).toBeGreaterThan(0);
    // 5: each reload traps and is emulated; each register becomes consistent on its own reload.
    let at = int1;
    for (const reg of ['ds', 'es', 'fs', 'gs']) {
      const trap = find(new RegExp(`monitor-trap reason=sbe instruction="mov ${reg}, eax"`), at);
      expect(trap, reg).toBeGreaterThan(at);
      expect(lines[trap + 1]).toMatch(new RegExp(`^cache-consistent ${reg.toUpperCase()} cause=segment-load`));
      at = trap + 1;
    }
    // 6: consistent again: the next interrupt returns by the ordinary path.
    const int2 = find(/monitor-trap reason=gp instruction="int 0x30"/, at);
    expect(lines[int2]).toMatch(/return=consistent$/);
    expect(lines[int2 + 1]).toMatch(/instruction="mov ds, eax" .* return=consistent$/);
    // 8: SBE turns off in ring 3, with the condition that allows it.
    const off = find(/^sbe-change off condition="all selectors RPL 3, all descriptors DPL 3, all caches consistent"/);
    expect(off).toBeGreaterThan(at);
    expect(monitor.sbeOn).toBe(false);

    // The return paths: inconsistent after step 2 (four caches written at their own selectors, then marked),
    // consistent again after step 6, and for step 7 DS and ES written at the one shared slot in turn.
    const paths = returns;
    const four = paths.find((r) => r.written.join() === 'DS,ES,FS,GS');
    expect(four).toBeDefined();
    expect(four!.marked).toEqual(['GDT[3]', 'GDT[4]', 'GDT[5]', 'GDT[6]']);
    // Step 7: DS (stale) and ES (reloaded) share selector 0x38: both written at slot 7 in turn, one mark.
    const shared = paths.find((r) => r.written.join() === 'DS,ES' && r.marked.join() === 'GDT[7]');
    expect(shared).toBeDefined();
    expect(paths[paths.length - 1].path).toBe('consistent');
    expect(monitor.counters.returnsInconsistent).toBeGreaterThan(0);
    expect(monitor.counters.returnsConsistent).toBeGreaterThan(0);
    // The ring-3 loop ran with SBE off and no traps: traps happen only around the prints' port writes at ring 0.
    expect(monitor.sbeTime().off).toBeGreaterThan(3000);
  });

  it('keeps working with SBE forced on', () => {
    const { machine, monitor, result } = runSeed('on');
    expect(result.reason).toBe('exit');
    expect(machine.consoleText()).toContain('\nok\n');
    expect(monitor.sbeOn).toBe(true);
  });
});
