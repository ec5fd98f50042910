// The transparency proof: every example guest and 10^5 generated protected-mode instructions run bare and
// monitored in lockstep with no divergence; SBE forced off where the model's conditions fail diverges as predicted.
// Half the generated programs page, so the monitor runs them on its shadow page tables.
// RINGSIDE_LOCKSTEP_INSTRUCTIONS=1000000 runs the generator for 10^6 instructions.
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDivergence, firstDifference, lockstep, visibleState } from '../../../engine/monitor/lockstep';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { PROGRAM_BASE, randomProgram } from '../../../engine/monitor/random-program';

const EXAMPLES = join(__dirname, '../../../examples');
const RANDOM_LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const TARGET = Number(process.env.RINGSIDE_LOCKSTEP_INSTRUCTIONS ?? 100_000);

/** A turn of the event loop between programs: the test worker answers its runner during long tests. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const images = readdirSync(EXAMPLES)
  .map((d) => join(EXAMPLES, d, `${d}.bin`))
  .filter((f) => existsSync(f));

describe('lockstep: bare and monitored guests stay identical', () => {
  it('finds the example guests', () => {
    expect(images.length).toBeGreaterThanOrEqual(8);
  });

  for (const image of images) {
    it(`example ${image.split('/').pop()}`, () => {
      // The paging example needs more than 4 MiB (its 4 MiB page at 4 MiB must be RAM).
      const paging = image.includes('paging');
      const r = lockstep(readFileSync(image), { maxInstructions: 200_000, memoryMB: paging ? 16 : undefined });
      if (r.divergence) throw new Error(describeDivergence(r.divergence));
      // Each guest is compared to its end (bench-loop's 50 M instructions to the limit): a run that stopped early,
      // such as at a HLT waiting for a timer, would compare only part of it.
      expect(r.stop).toBe(image.includes('bench-loop') ? 'limit' : 'exit');
      expect(r.instructions).toBeGreaterThan(100);
      expect(r.monitor.counters.panics).toBe(0);
      if (paging) {
        // Run deprivileged on shadow page tables, not emulated: shadow misses trapped and filled.
        expect(r.monitor.counters.traps.get('pf') ?? 0).toBeGreaterThan(5);
        expect(r.monitor.shadow.counters.fills).toBeGreaterThan(5);
        expect(r.monitor.counters.disengagements).toBe(0);
      }
    }, 60_000);
  }

  it(`generated protected-mode programs: ${TARGET} instructions, no divergence`, async () => {
    let total = 0;
    let seed = 1;
    let engaged = 0;
    let sbeOff = 0;
    let shadowFills = 0;
    let relocations = 0;
    const reasons = new Set<string>();
    const wanted = ['sbe', 'gp', 'np', 'table-write', 'pf'];
    // At least TARGET instructions, and on until every trap reason the programs claim to exercise has shown up.
    while ((total < TARGET || wanted.some((w) => !reasons.has(w))) && seed < 400) {
      await turn();
      // Every other program pages (shadow page tables, page-table rewrites, INVLPG, CR3 loads, the window moved).
      const p = randomProgram(seed, 400, { paging: seed % 2 === 0 });
      const r = lockstep(p.image, { load: RANDOM_LOAD, maxInstructions: 20_000 });
      if (r.divergence) throw new Error(`seed ${seed}: ${describeDivergence(r.divergence)}`);
      expect(r.monitor.counters.panics, `seed ${seed}: ${r.monitor.lastPanic}`).toBe(0);
      total += r.instructions;
      engaged += r.monitor.counters.engagements;
      sbeOff += r.monitor.sbeTime().off;
      for (const k of r.monitor.counters.traps.keys()) reasons.add(k);
      shadowFills += r.monitor.shadow.counters.fills;
      relocations += r.monitor.shadow.counters.relocations;
      seed++;
    }
    // The programs exercise what they claim: the monitor ran them deprivileged, trapped for many reasons, and SBE
    // was off part of the time (ring 3 with everything consistent).
    expect(engaged).toBeGreaterThan(seed / 2);
    for (const reason of wanted) expect(reasons).toContain(reason);
    expect(sbeOff).toBeGreaterThan(0);
    expect(shadowFills).toBeGreaterThan(100);
    expect(relocations).toBeGreaterThan(seed / 4);
  }, 600_000);

  it('SBE forced off where the conditions fail shows the divergence the model predicts', () => {
    // Ring-0 code runs at CPL 3 on raised DPLs: with nothing scanned, a segment load the guest's table refuses
    // (RPL/DPL) succeeds, and MOV/PUSH from a segment register shows the real RPL 3 instead of the guest's.
    let found = null as null | string;
    for (let seed = 1; seed <= 20 && found === null; seed++) {
      const r = lockstep(randomProgram(seed, 400).image, { load: RANDOM_LOAD, maxInstructions: 20_000, sbe: 'off' });
      if (r.divergence) found = r.divergence.field;
    }
    expect(found).not.toBeNull();
  }, 120_000);

  // Stepping runs one instruction at a time; whole runs also use translated blocks (jit/), whose calls into the
  // handlers of sensitive instructions must trap just the same. Compare the end states of whole runs.
  it('whole runs (translated blocks included) end in the same state bare and monitored', async () => {
    const programs: [Uint8Array, typeof RANDOM_LOAD | undefined][] = images.map((f) => [readFileSync(f), undefined]);
    for (let seed = 100; seed < 115; seed++) programs.push([randomProgram(seed, 400, { paging: seed % 2 === 0 }).image, RANDOM_LOAD]);
    for (const [image, load] of programs) {
      await turn();
      const bare = new Machine({ memoryMB: 4 });
      const mon = new Machine({ memoryMB: 4 });
      const monitor = attachMonitor(mon);
      bare.load(image, load);
      mon.load(image, load);
      const a = bare.run(3_000_000);
      const b = mon.run(3_000_000);
      expect(b.reason).toBe(a.reason);
      expect(firstDifference(visibleState(bare, null), visibleState(mon, monitor))).toBeNull();
      expect(Buffer.compare(Buffer.from(bare.mem.u8), Buffer.from(mon.mem.u8))).toBe(0);
      expect(mon.consoleText()).toBe(bare.consoleText());
    }
  }, 300_000);
});
