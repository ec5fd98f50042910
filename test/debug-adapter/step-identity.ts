// Step back N instructions and forward N from seeded random stop points of a guest (after N steps forward that
// record each moment): the machine must be the very one it was at each moment (machine-moment.ts compares every register, segment cache, FPU register, memory page, device and the
// debugger's own state). Shared by the example guests (test/debug-adapter) and the real ones (test/guests).
import { expect } from 'vitest';
import type { Runtime } from '../../debug-adapter/runtime';
import { currentLinear } from '../../debug-adapter/code-reader';
import { at, openRuntime, outcome, started } from './runtime-harness';
import { createHash } from 'node:crypto';
import { machineMoment, type MachineMoment } from './machine-moment';

export interface IdentityOptions {
  /** Launch attributes (monitor, format, memoryMB). */
  attributes: Record<string, unknown>;
  seed: number;
  /** Stop points are drawn from the guest's first `within` instructions (or its whole run, when shorter). */
  within: number;
  points: number;
  /** At most this many instructions are stepped back and forward from each point. */
  maxSteps: number;
}

/** A small deterministic generator, so a failure reproduces from its seed. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Where the guest stands after `k` instructions, as a breakpoint can find it again: the linear address of its next
 * instruction and how many times a breakpoint there is met on the way (the CPU's own breakpoint check, in a run of
 * the bare machine with nothing else armed).
 */
function landmark(program: string, attributes: Record<string, unknown>, k: number): { address: number; hits: number } {
  const probe = (): Runtime => openRuntime(program, { ...attributes, reverse: { enabled: false } });
  const first = probe();
  first.machine.run(k);
  const address = currentLinear(first.cpu);
  first.dispose();
  const second = probe();
  const m = second.machine;
  m.cpu.breakpoints.add(address);
  m.cpu.updateAttention();
  let hits = 0;
  while (m.cpu.icount < k) {
    const r = m.runSlice(k - m.cpu.icount);
    if (r.reason === 'breakpoint') {
      hits++;
      m.step();
    } else if (r.reason !== null && r.reason !== 'stopped') break;
  }
  if (m.cpu.icount === k && currentLinear(m.cpu) === address) hits++;
  second.dispose();
  return { address, hits };
}

/** A moment with its memory as a digest (a real guest's 32 MiB, kept for every step, would not fit). */
function digest(m: MachineMoment): Omit<MachineMoment, 'memory'> & { memory: string } {
  return { ...m, memory: createHash('sha1').update(m.memory).digest('hex') };
}

/** How long the guest runs (capped at `within`). */
function runLength(program: string, attributes: Record<string, unknown>, within: number): number {
  const rt = openRuntime(program, { ...attributes, reverse: { enabled: false } });
  rt.machine.run(within);
  const n = rt.cpu.icount;
  rt.dispose();
  return n;
}

/** Checks step back N / forward N at `points` seeded stop points; returns the points (for the test's name). */
export async function expectStepBackForwardIdentity(program: string, o: IdentityOptions): Promise<number[]> {
  const rnd = random(o.seed);
  const length = runLength(program, o.attributes, o.within);
  expect(length, 'the guest runs').toBeGreaterThan(o.maxSteps + 2);
  const points = Array.from({ length: o.points }, () => 1 + Math.floor(rnd() * (length - o.maxSteps - 2)));
  for (const k of points) {
    const n = 1 + Math.floor(rnd() * o.maxSteps);
    const mark = landmark(program, o.attributes, k);
    const rt = openRuntime(program, o.attributes);
    try {
      await started(rt);
      rt.breakpoints.setInstruction([{ address: mark.address, hitCondition: `== ${mark.hits}` }]);
      rt.syncBreakpoints();
      const o1 = await outcome(rt, () => rt.continue());
      expect(o1.stop?.reason, `stop point ${k}: ${JSON.stringify(o1)}`).toBe('instruction breakpoint');
      rt.breakpoints.setInstruction([]);
      rt.syncBreakpoints();
      // Forward N steps from the stop point, keeping each moment; back N: each of them again, in reverse; forward N
      // again: each once more. Then a travel straight back to the stop point.
      const start = at(rt);
      const moments = [digest(machineMoment(rt))];
      for (let j = 0; j < n; j++) {
        expect((await outcome(rt, () => rt.stepInstruction())).stop?.reason).toBe('step');
        moments.push(digest(machineMoment(rt)));
      }
      for (let j = n - 1; j >= 0; j--) {
        rt.announce(rt.stepBack('instruction'));
        expect(digest(machineMoment(rt)), `stop point ${k}, forward ${n}, back ${n - j}`).toEqual(moments[j]);
      }
      expect(at(rt)).toBe(start);
      for (let j = 1; j <= n; j++) {
        expect((await outcome(rt, () => rt.stepInstruction())).stop?.reason).toBe('step');
        expect(digest(machineMoment(rt)), `stop point ${k}, forward ${n}, back ${n}, forward ${j}`).toEqual(moments[j]);
      }
      rt.announce(rt.goto(start));
      expect(digest(machineMoment(rt)), `stop point ${k}: travelled back to it`).toEqual(moments[0]);
    } finally {
      rt.dispose();
    }
  }
  return points;
}
