// Events as the guest sees them (model.md §5): under the monitor the debugger gets the same segment loads,
// descriptor writes and consistency changes as on a bare machine (the monitor's own loads are not among them),
// plus monitor-trap and sbe-change; monitorSnapshot shows the virtual GDT beside the guest's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { monitorSnapshot } from '../../../engine/monitor/inspect';

const EXAMPLES = join(__dirname, '../../../examples');

function record(name: string, monitored: boolean) {
  const m = new Machine({ memoryMB: name === 'paging' ? 16 : 4 });
  const monitor = monitored ? attachMonitor(m) : null;
  const loads: string[] = [];
  const writes: string[] = [];
  const consistency: string[] = [];
  m.cpu.events.on('segment-load', (e) =>
    loads.push(`${e.reg} ${e.newSelector.toString(16)} ${e.newCache.base.toString(16)} ${e.newCache.limit.toString(16)} ${e.newCache.ar.toString(16)} ${e.cause}`),
  );
  m.cpu.events.on('descriptor-write', (e) => writes.push(`${e.table}[${e.index}] ${e.oldValue.join(':')} -> ${e.newValue.join(':')}`));
  const c = (kind: string) => (e: { reg: number; differs: string[]; cause: string; eip: number }) =>
    consistency.push(`${kind} ${e.reg} ${e.differs.join(',')} ${e.cause} @${e.eip}`);
  m.cpu.events.on('cache-inconsistent', c('inconsistent'));
  m.cpu.events.on('cache-consistent', c('consistent'));
  m.load(readFileSync(join(EXAMPLES, name, `${name}.bin`)));
  m.run(2_000_000);
  return { loads, writes, consistency, monitor, machine: m };
}

const ALL_EXAMPLES = ['seed-sequence', 'descriptor-cache', 'exceptions', 'hello', 'paging', 'rings', 'tasks', 'timer', 'v86'];

/**
 * The monitor reports changes at instruction boundaries (after the store that caused them); the bare tracker also
 * reports states that last only inside one instruction (IRET to ring 3 loads CS before CPL changes: "inconsistent
 * privilege" then "consistent" at the same EIP). Without those, the sequences per register match, causes included.
 */
function netPerRegister(consistency: string[], reg: number): string[] {
  const net = (xs: string[]): string[] => {
      const out: string[] = [];
      for (const x of xs) {
        const prev = out[out.length - 1];
        const at = (y: string) => y.slice(y.lastIndexOf('@'));
        if (prev !== undefined && prev.startsWith('inconsistent') && x.startsWith('consistent') && at(prev) === at(x)) out.pop();
        else out.push(x);
      }
      return out.map((y) => y.slice(0, y.lastIndexOf(' @')));
    };
  return net(consistency.filter((x) => x.split(' ')[1] === String(reg)));
}

describe('events under the monitor', () => {
  for (const name of ALL_EXAMPLES) {
    it(`${name}: segment loads, descriptor writes and consistency changes (with their causes) as on bare hardware`, () => {
      const bare = record(name, false);
      const mon = record(name, true);
      expect(mon.loads).toEqual(bare.loads);
      expect(mon.writes).toEqual(bare.writes);
      for (let reg = 0; reg < 8; reg++) {
        expect(netPerRegister(mon.consistency, reg), `register ${reg}`).toEqual(netPerRegister(bare.consistency, reg));
      }
      expect(mon.loads.length).toBeGreaterThan(0);
    });
  }

  it('the examples that rewrite descriptors report their writes and the inconsistency they cause', () => {
    for (const name of ['seed-sequence', 'descriptor-cache']) {
      const mon = record(name, true);
      expect(mon.writes.length, name).toBeGreaterThan(0);
      expect(mon.consistency.some((x) => x.startsWith('inconsistent')), name).toBe(true);
    }
  });

  it('monitorSnapshot: virtual GDT beside the guest, registers, counters', () => {
    const m = new Machine({ memoryMB: 4 });
    const monitor = attachMonitor(m);
    m.load(readFileSync(join(EXAMPLES, 'seed-sequence', 'seed-sequence.bin')));
    // Run until the four data registers are inconsistent (after their descriptors were rewritten).
    let snap = monitorSnapshot(monitor);
    for (let k = 0; k < 200_000 && !(snap.state === 'direct' && snap.markedEntries.length === 4); k++) {
      m.step();
      if (k % 16 === 0) snap = monitorSnapshot(monitor);
    }
    expect(snap.markedEntries).toEqual(['GDT[3]', 'GDT[4]', 'GDT[5]', 'GDT[6]']);
    const ds = snap.registers[3];
    expect(ds.name).toBe('DS');
    expect(ds.consistent).toBe(false);
    expect(ds.differs).toEqual(['base']);
    // The slot holds DS's stale cache (base 0x20000), not present; the guest's entry has the new base.
    const slot = snap.virtualGdt[3];
    expect(slot.written && slot.marked).toBe(true);
    expect(slot.virtual.base).toBe(0x20000);
    expect(slot.virtual.present).toBe(false);
    expect(slot.guest?.base).toBe(0x28000);
    // Ring compression: the guest's DPL-0 code entry is DPL 3 in the virtual GDT.
    expect(snap.virtualGdt[1].guest?.dpl).toBe(0);
    expect(snap.virtualGdt[1].virtual.dpl).toBe(3);
    expect(snap.sbe.on).toBe(true);
    expect(snap.sbe.condition).toMatch(/guest CPL 0/);
    expect(snap.totalTraps).toBeGreaterThan(0);
    expect(snap.watchedPages.length).toBeGreaterThan(0);
  });
});
