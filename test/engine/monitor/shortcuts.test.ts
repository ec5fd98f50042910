// The monitor's entry and return shortcuts (engine/monitor/README.md, "The cost of one entry"): a fault enters
// without the real delivery through the monitor's IDT, and a return that repeats the last real consistent return
// sets the CPU to that return's result instead of running the context switch, the pops and the IRET. They must
// leave the real CPU — not only the guest's view — exactly as the real operations do: two monitored machines, one
// with the shortcuts and one without, are stepped side by side over every example and generated programs (half of
// them paging), and everything the deprivileged CPU holds is compared after every instruction.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor, type Monitor } from '../../../engine/monitor/monitor';
import { ESP } from '../../../engine/cpu/cpu';
import { firstDifference, visibleState } from '../../../engine/monitor/lockstep';
import { StateProbe } from '../../../engine/monitor/lockstep-probe';
import { encode, makeDescriptor, PROGRAM_BASE, programFromSlots, randomProgram, slotAddress } from '../../../engine/monitor/random-program';
import type { LoadOptions } from '../../../engine/machine/loaders';

const EXAMPLES = join(__dirname, '../../../examples');
const RANDOM_LOAD: LoadOptions = { format: 'bin', loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' };
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const probe = new StateProbe();

/**
 * The first field in which the two real CPUs differ, or null: everything a CPU shows (the lockstep's comparison,
 * StateProbe and firstDifference, on the real CPUs instead of the guest's views: every segment register's selector
 * and cache, the general registers, EFLAGS, CPL, CR0–CR4, GDTR, IDTR, the SYSENTER MSRs, halt/shutdown, the
 * instruction count, the pending debug traps, the x87 state), then what the monitor installs besides: the TLB in
 * use and the hidden region's access flags.
 */
function realDifference(p: Pair): string | null {
  const a = p.fast;
  const b = p.real;
  if (!probe.same(a, null, b, null)) {
    const x = visibleState(a, null);
    const y = visibleState(b, null);
    const field = firstDifference(x, y);
    if (field !== null) return `${field}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
  }
  if (tlbKind(a, p.fastMonitor) !== tlbKind(b, p.realMonitor)) return `tlb ${tlbKind(a, p.fastMonitor)} vs ${tlbKind(b, p.realMonitor)}`;
  if (a.mem.hiddenSystem !== b.mem.hiddenSystem || a.mem.hiddenData !== b.mem.hiddenData) return 'hidden-region access flags';
  return null;
}

/** Which TLB the CPU walks with: the guest's own, or the shadow's (deprivileged paging guest). */
function tlbKind(m: Machine, monitor: Monitor): string {
  return m.cpu.tlb === monitor.guestTlb ? 'guest' : m.cpu.tlb === monitor.shadow.realTlb ? 'shadow' : 'other';
}

interface Pair {
  fast: Machine;
  real: Machine;
  fastMonitor: Monitor;
  realMonitor: Monitor;
}

function pair(image: Uint8Array, load: LoadOptions | undefined, memoryMB: number): Pair {
  const fast = new Machine({ memoryMB });
  const real = new Machine({ memoryMB });
  const fastMonitor = attachMonitor(fast);
  const realMonitor = attachMonitor(real, { shortcuts: false });
  fast.load(image, load);
  real.load(image, load);
  return { fast, real, fastMonitor, realMonitor };
}

/** Steps both machines to the end (or `limit`), comparing after every instruction; throws on the first difference. */
function compareStepping(p: Pair, limit: number, what: string): number {
  let n = 0;
  for (; n < limit; n++) {
    const a = p.fast.step();
    const b = p.real.step();
    const d = realDifference(p);
    if (d !== null || a !== b) throw new Error(`${what}: after ${n + 1} instructions: ${d ?? `stop ${a} vs ${b}`}`);
    if (a !== null && a !== 'stopped') break;
  }
  const ram = p.fast.mem.size;
  expect(Buffer.compare(Buffer.from(p.fast.mem.u8.subarray(0, ram)), Buffer.from(p.real.mem.u8.subarray(0, ram))), `${what}: guest RAM`).toBe(0);
  const f = p.fastMonitor.counters;
  const r = p.realMonitor.counters;
  expect([f.totalTraps, f.returnsConsistent, f.returnsInconsistent, f.panics], what).toEqual([r.totalTraps, r.returnsConsistent, r.returnsInconsistent, r.panics]);
  expect(r.directEntries + r.directReturns, `${what}: shortcuts off`).toBe(0);
  return n;
}

const images = readdirSync(EXAMPLES)
  .map((d) => join(EXAMPLES, d, `${d}.bin`))
  .filter((f) => existsSync(f) && !f.includes('bench-loop'));

describe('monitor shortcuts leave the real CPU as the real delivery and return sequence do', () => {
  it('every example, stepped and compared after each instruction', async () => {
    let direct = 0;
    for (const image of images) {
      await turn();
      const p = pair(readFileSync(image), undefined, image.includes('paging') ? 16 : 4);
      compareStepping(p, 300_000, image.split('/').pop()!);
      direct += p.fastMonitor.counters.directReturns;
    }
    // (The examples' interrupts and IRETs in ring 0 are completed in place, without an entry or a return at all.)
    expect(direct).toBeGreaterThan(50);
  }, 300_000);

  it('generated programs (half of them paging), stepped and compared after each instruction', async () => {
    let entries = 0;
    let returns = 0;
    let instructions = 0;
    for (let seed = 1; seed <= 40; seed++) {
      await turn();
      const p = pair(randomProgram(seed, 400, { paging: seed % 2 === 0 }).image, RANDOM_LOAD, 4);
      instructions += compareStepping(p, 20_000, `seed ${seed}`);
      entries += p.fastMonitor.counters.directEntries;
      returns += p.fastMonitor.counters.directReturns;
    }
    // The shortcuts were taken, often: not a comparison of two real paths.
    expect(instructions).toBeGreaterThan(100_000);
    expect(entries).toBeGreaterThan(1000);
    expect(returns).toBeGreaterThan(1000);
  }, 600_000);

  /** Runs both machines in slices, comparing the real CPUs and the monitors' records after each; returns the slices. */
  function compareRunning(p: Pair, slice: number, what: string, probe: (slice: number) => void = () => {}): number {
    // Every return's guest time (what the entry saw of it), and the SBE time accounts.
    const times = [p.fastMonitor, p.realMonitor].map((m) => {
      const list: number[] = [];
      m.onReturn = (r) => void list.push(r.icount);
      return list;
    });
    const record = (m: Monitor): string => JSON.stringify([m.sbeTime(), m.counters.totalTraps, m.state]);
    for (let n = 0; n < 10_000; n++) {
      probe(n);
      const a = p.fast.runSlice(slice);
      const b = p.real.runSlice(slice);
      const d = realDifference(p);
      if (d !== null || a.reason !== b.reason || a.instructions !== b.instructions) {
        throw new Error(`${what}: slice ${n}: ${d ?? `${a.reason}/${a.instructions} vs ${b.reason}/${b.instructions}`}`);
      }
      expect(record(p.fastMonitor), `${what}: slice ${n}`).toBe(record(p.realMonitor));
      expect(times[0], `${what}: slice ${n}: guest time at each return`).toEqual(times[1]);
      if (a.reason !== null) return n;
    }
    throw new Error(`${what}: did not end`);
  }

  /** Both machines' loop at a slot translated, looked up on both alike (the lookup decodes when it must). */
  /**
   * Whether both machines run the loop of `count` instructions in slot `slot` as a block: one that starts at one of them
   * (the trace follows a usually taken branch, so the block may start after the loop's head and go round to it).
   */
  const translatedLoop = (p: Pair, slot: number, count: number): boolean =>
    [p.fast, p.real].every((m) => {
      for (let a = slotAddress(slot), left = count; left > 0; left--) {
        const i = m.cpu.fetchInstr(a);
        if (i.block !== null && i.block.source !== '') return true;
        a += i.len;
      }
      return false;
    });

  it('SBE traps inside translated blocks, and a triple fault in an emulation outside one: runs compared after every slice', () => {
    // The SBE trap is entered from the bound handler itself (Monitor.sbeEntry), also from a translated block, which
    // calls it as an interpreter call with the instructions it retired so far outside the count (Cpu.jitRetired).
    // Both machines run (not step) with a low hotness threshold, so the loop is translated with `smsw edx` (bound)
    // in the middle of the block. Then a slot empties the IDT and loads a bad selector into DS: the emulated load's
    // #GP cannot be delivered, a triple fault inside the bound handler.
    const image = programFromSlots([
      [0xb9, ...encode.le32(3000)], // mov ecx, 3000
      [0x01, 0xcb, 0x0f, 0x01, 0xe2, 0x01, 0xd3, 0x49, 0x75, 0xf6], // .l: add ebx, ecx; smsw edx; add ebx, edx; dec ecx; jnz .l
      [0x6a, 0x00, 0x6a, 0x00, 0x0f, 0x01, 0x1c, 0x24], // push 0; push 0; lidt [esp] (limit 0)
      [0x66, 0xb8, 0x34, 0x12, 0x8e, 0xd8], // mov ax, 0x1234; mov ds, ax (bound by SBE: #GP, #DF, shutdown)
    ]).image;
    const p = pair(image, RANDOM_LOAD, 4);
    p.fast.cpu.hotThreshold = 3;
    p.real.cpu.hotThreshold = 3;
    let translated = false;
    compareRunning(p, 97, 'smsw edx loop', (n) => {
      if (n === 40) translated = translatedLoop(p, 1, 5);
    });
    expect(p.fast.cpu.shutdown).toBe(true);
    expect(p.fastMonitor.counters.traps.get('sbe')).toBeGreaterThan(3000);
    expect(translated).toBe(true);
  });

  it('a triple fault in the emulation of an SBE trap inside a translated block stops the run as the fault path does', () => {
    // IDT limit 0, SS a 4 KiB data segment (scratch selector 0x40) with ESP = 80, then a translated loop pushing DS
    // (bound by SBE to the monitor's in-place PUSH Sreg, whose real push faults into the monitor): the 21st push's
    // #SS cannot be delivered. The block returns to the run loop, which must stop.
    const image = programFromSlots(
      [
        [0x6a, 0x00, 0x6a, 0x00, 0x0f, 0x01, 0x1c, 0x24], // push 0; push 0; lidt [esp] (limit 0)
        encode.loadSreg(2, 0x40), // mov ss, 0x40
        [0xbc, ...encode.le32(80), 0xb9, ...encode.le32(40)], // mov esp, 80; mov ecx, 40
        [0x01, 0xcb, 0x1e, 0x49, 0x75, 0xfa], // .l: add ebx, ecx; push ds; dec ecx; jnz .l
      ],
      { a: [makeDescriptor(0x30000, 0xfff, 0x93)] },
    ).image;
    const p = pair(image, RANDOM_LOAD, 4);
    p.fast.cpu.hotThreshold = 3;
    p.real.cpu.hotThreshold = 3;
    let translated = false;
    compareRunning(p, 97, 'push ds loop', (n) => {
      if (n === 1) translated = translatedLoop(p, 3, 4); // the loop began in the first slice; it faults in the second
    });
    expect(p.fast.cpu.shutdown).toBe(true);
    expect(p.fast.cpu.regs[ESP]).toBe(0);
    expect(translated).toBe(true);
  });

  it('a ring-0 loop of DS loads enters and returns without the real operations after the first return', () => {
    const image = programFromSlots([
      [0xb9, ...encode.le32(1000)], // mov ecx, 1000
      // .l: mov ax, 0x14; mov ds, ax (bound by SBE; an LDT selector, emulated: in-place.ts leaves it); dec ecx; jnz .l
      [0x66, 0xb8, 0x14, 0x00, 0x8e, 0xd8, 0x49, 0x75, 0xf7],
    ]).image;
    const p = pair(image, RANDOM_LOAD, 4);
    p.fast.run(100_000);
    const c = p.fastMonitor.counters;
    expect(c.traps.get('sbe')).toBeGreaterThanOrEqual(1000); // and the runtime's own few
    expect(c.directEntries).toBe(c.totalTraps);
    // Only the return that engaged the monitor, the first one after it and the first after DS changed to 0x14 run
    // the real sequence.
    expect(c.directReturns).toBeGreaterThanOrEqual(c.returnsConsistent - 3);
  });
});
