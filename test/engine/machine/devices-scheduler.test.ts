// The device scheduler (engine/machine/scheduler.ts): deadlines in instruction time, firing order, wake filtering,
// cutting a running slice short, snapshots.
import { describe, expect, it } from 'vitest';
import {
  INSTRUCTIONS_PER_PIT_TICK,
  INSTRUCTIONS_PER_SECOND,
  PIT_HZ,
  Scheduler,
} from '../../../engine/machine/scheduler';

describe('device scheduler', () => {
  it('fixes the virtual clock: 8 instructions per PIT clock, 9 545 456 per second', () => {
    expect(PIT_HZ).toBe(1_193_182);
    expect(INSTRUCTIONS_PER_PIT_TICK).toBe(8);
    expect(INSTRUCTIONS_PER_SECOND).toBe(9_545_456);
  });

  it('fires due timers in deadline order, ties in creation order, passing each its deadline', () => {
    let now = 0;
    const s = new Scheduler(() => now);
    const fired: string[] = [];
    const a = s.createTimer('a', 0, (at) => fired.push(`a@${at}`));
    const b = s.createTimer('b', 1, (at) => fired.push(`b@${at}`));
    const c = s.createTimer('c', null, (at) => {
      fired.push(`c@${at}`);
      if (at < 300) c.set(at + 100); // periodic: re-arms from its deadline, not from `now`
    });
    b.set(50);
    a.set(50);
    c.set(20);
    expect(s.nextDeadline()).toBe(20);
    now = 1000;
    s.fireDue(now);
    expect(fired).toEqual(['c@20', 'a@50', 'b@50', 'c@120', 'c@220', 'c@320']);
    expect(s.nextDeadline()).toBe(Infinity);
    expect(a.deadline).toBe(Infinity);
  });

  it('wakes a halted CPU only for timers whose IRQ can reach it', () => {
    const s = new Scheduler(() => 0);
    s.createTimer('no irq', null, () => undefined).set(10);
    s.createTimer('masked', 3, () => undefined).set(20);
    s.createTimer('open', 4, () => undefined).set(30);
    expect(s.nextWake((irq) => irq === 4)).toBe(30);
    expect(s.nextWake(() => false)).toBe(Infinity);
  });

  it('asks to cut the running slice short only for a deadline before its end', () => {
    const s = new Scheduler(() => 0);
    let cuts = 0;
    s.onEarlierDeadline = () => cuts++;
    const t = s.createTimer('t', 0, () => undefined);
    t.set(5); // between slices: nothing to cut
    s.sliceEnd = 100;
    t.set(150);
    t.set(99);
    expect(cuts).toBe(1);
  });

  it('snapshots and restores the deadlines', () => {
    const s = new Scheduler(() => 0);
    const a = s.createTimer('a', 0, () => undefined);
    const b = s.createTimer('b', 0, () => undefined);
    a.set(7);
    const snap = s.snapshot();
    a.cancel();
    b.set(9);
    s.restore(snap);
    expect([a.deadline, b.deadline]).toEqual([7, Infinity]);
  });
});
