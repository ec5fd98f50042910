// reverseContinue lands exactly on the last stop before now that the forward run made: for every exception filter
// the adapter offers (with conditions), instruction and source breakpoints with conditions and hit counts, and data
// breakpoints on a descriptor, a memory address and a register, bare and under the monitor. The forward run's
// stops are recorded (guest time, reason, text, and the whole machine), then reverseContinue from the last one must
// visit each earlier one in reverse, and then the start. Also: an instruction breakpoint on an interrupt handler's
// first instruction stops when that interrupt wakes the CPU from HLT, forward and backward.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CS, ESP, SS } from '../../engine/cpu/cpu';
import { FILTER_IDS, type FilterId } from '../../debug-adapter/exception-filters';
import type { Runtime, RuntimeStop } from '../../debug-adapter/runtime';
import { at, findBytes, openRuntime, outcome, started } from './runtime-harness';
import { expectSameMachine, machineMoment, type MachineMoment } from './machine-moment';

const ROOT = path.resolve(__dirname, '../..');
const example = (name: string): string => path.join(ROOT, 'examples', name, `${name}.bin`);
const FIXTURES = path.join(ROOT, 'test/fixtures/dap');

interface Landing {
  instructions: number;
  reason: string;
  description?: string;
  text?: string;
  moment: MachineMoment;
}

function landing(rt: Runtime, stop: RuntimeStop): Landing {
  return { instructions: at(rt), reason: stop.reason, description: stop.description, text: stop.text, moment: machineMoment(rt) };
}

/** Continues up to `max` times, recording each stop; stops early when the guest ends (the last stop stays). */
async function forwardStops(rt: Runtime, max: number): Promise<Landing[]> {
  const stops: Landing[] = [];
  for (let k = 0; k < max; k++) {
    // The last stop must remain a stop to travel from: go on from a copy of the moment only while there is more.
    const o = await outcome(rt, () => rt.continue());
    if (!o.stop) break;
    stops.push(landing(rt, o.stop));
    if (k === max - 1) break;
  }
  return stops;
}

/**
 * From the last forward stop, reverseContinue again and again: each earlier stop in turn, the same moment, the same
 * stop and the same machine; then the start of the run. Stops one instruction made together (four registers'
 * caches going inconsistent at one mode switch) are one moment: reverseContinue arrives with the first of them.
 */
async function expectReverseRetraces(rt: Runtime, all: Landing[]): Promise<void> {
  const last = all[all.length - 1].instructions;
  const forward = all.filter((f, i) => f.instructions < last && (i === 0 || all[i - 1].instructions !== f.instructions));
  forward.push(all[all.length - 1]);
  for (let k = forward.length - 2; k >= 0; k--) {
    const stop = rt.reverseContinue();
    rt.announce(stop);
    const got = landing(rt, stop);
    const want = forward[k];
    expect({ ...got, moment: undefined }, `reverse to stop ${k}`).toEqual({ ...want, moment: undefined });
    expectSameMachine(got.moment, want.moment, `reverse to stop ${k} at ${want.instructions}`);
  }
  const first = rt.reverseContinue();
  expect(first.reason).toBe('entry');
  expect(at(rt)).toBe(0);
}

interface Scenario {
  name: string;
  program: string;
  /** Only under the monitor (its own filters). */
  monitorOnly?: boolean;
  attributes?: Record<string, unknown>;
  stops: number;
  arm(rt: Runtime): void | Promise<void>;
  /** The reason every stop must have (checks the scenario armed what it meant to). */
  reason: string;
}

const filter =
  (id: FilterId, condition?: string) =>
  (rt: Runtime): void => {
    expect(rt.setExceptionFilters([{ filterId: id, condition }])).toEqual([{ verified: true }]);
  };

/** The linear address the image's bytes `pattern` load at (flat binaries load at 0x7C00), + `plus`. */
function addressOf(program: string, pattern: number[], plus = 0): number {
  const k = findBytes(readFileSync(program), pattern);
  expect(k, `bytes ${pattern.map((b) => b.toString(16))} in ${program}`).toBeGreaterThanOrEqual(0);
  return 0x7c00 + k + plus;
}

const TIMER = example('timer');
/** timer.asm's IRQ0 handler starts `pushad; mov al, OCW3_READ_ISR` (60 B0 0B). */
const timerHandler = (): number => addressOf(TIMER, [0x60, 0xb0, 0x0b]);
/** Its `inc dword [ticks]` (FF 05 disp32): the address of `ticks`. */
const ticksAddress = (): number => readFileSync(TIMER).readUInt32LE(findBytes(readFileSync(TIMER), [0xff, 0x05]) + 2);

const scenarios: Scenario[] = [
  { name: 'segment-load, reg == DS', program: example('descriptor-cache'), stops: 5, arm: filter('segment-load', 'reg == DS'), reason: 'exception' },
  { name: 'segment-load, any register', program: example('rings'), stops: 8, arm: filter('segment-load'), reason: 'exception' },
  { name: 'cache-inconsistent', program: example('descriptor-cache'), stops: 10, arm: filter('cache-inconsistent'), reason: 'exception' },
  { name: 'cache-consistent', program: example('descriptor-cache'), stops: 4, arm: filter('cache-consistent'), reason: 'exception' },
  { name: 'descriptor-write, table == "GDT" && index == 3', program: example('descriptor-cache'), stops: 4, arm: filter('descriptor-write', 'table == "GDT" && index == 3'), reason: 'exception' },
  { name: 'cpu-exception', program: example('exceptions'), stops: 6, arm: filter('cpu-exception'), reason: 'exception' },
  { name: 'cpu-exception, vector == 13', program: example('exceptions'), stops: 4, arm: filter('cpu-exception', 'vector == 13'), reason: 'exception' },
  { name: 'triple-fault', program: path.join(FIXTURES, 'triple.bin'), stops: 1, arm: filter('triple-fault'), reason: 'exception' },
  { name: 'monitor-trap', program: example('rings'), monitorOnly: true, stops: 6, arm: filter('monitor-trap'), reason: 'exception' },
  { name: 'monitor-trap, reason == "gp"', program: example('rings'), monitorOnly: true, stops: 4, arm: filter('monitor-trap', 'reason == "gp"'), reason: 'exception' },
  { name: 'sbe-change', program: example('rings'), monitorOnly: true, stops: 4, arm: filter('sbe-change'), reason: 'exception' },
  {
    name: 'instruction breakpoint with a condition and a hit count (the IRQ0 handler)',
    program: TIMER,
    stops: 4,
    arm: (rt) => {
      rt.breakpoints.setInstruction([{ address: timerHandler(), condition: 'esp != 0', hitCondition: '% 2' }]);
      rt.syncBreakpoints();
    },
    reason: 'instruction breakpoint',
  },
  {
    name: 'source breakpoint with a condition and a hit count',
    program: path.join(FIXTURES, 'frames.elf'),
    stops: 3,
    arm: (rt) => {
      const entries = rt.breakpoints.setSource(path.join(FIXTURES, 'frames.asm'), [{ line: 33, condition: 'esp != 0', hitCondition: '>= 1' }], rt.lines);
      expect(entries[0].verified).toBe(true);
      rt.syncBreakpoints();
    },
    reason: 'breakpoint',
  },
  {
    name: 'data breakpoint on a descriptor (GDT entry 3)',
    program: example('descriptor-cache'),
    stops: 4,
    arm: async (rt) => {
      // The GDT's place: GDTR once the guest loaded it (at its load of DS with GDT entry 3), in a run of its own.
      const probe = openRuntime(example('descriptor-cache'), { monitor: false });
      await started(probe);
      filter('segment-load', 'reg == DS && selector == 0x18')(probe);
      await outcome(probe, () => probe.continue());
      const gdt = probe.cpu.gdtrBase;
      probe.dispose();
      const results = rt.setDataBreakpoints([{ id: 1, target: { kind: 'memory', linear: gdt + 0x18, length: 8 }, access: 'write' }]);
      expect(results[0].verified).toBe(true);
    },
    reason: 'data breakpoint',
  },
  {
    name: 'data breakpoint on a memory address, with a hit count (the tick counter)',
    program: TIMER,
    stops: 4,
    arm: (rt) => {
      const results = rt.setDataBreakpoints([{ id: 1, target: { kind: 'memory', linear: ticksAddress(), length: 4 }, access: 'write', hitCondition: '>= 2' }]);
      expect(results[0].verified).toBe(true);
    },
    reason: 'data breakpoint',
  },
  {
    name: 'data breakpoint on a register (ECX), with a condition',
    program: example('seed-sequence'),
    stops: 5,
    arm: (rt) => {
      const results = rt.setDataBreakpoints([{ id: 1, target: { kind: 'register', name: 'ecx' }, access: 'write', condition: 'ecx != 0' }]);
      expect(results[0].verified).toBe(true);
    },
    reason: 'data breakpoint',
  },
];

describe('reverseContinue lands on the last stop of the forward run', () => {
  it('covers every exception filter the adapter offers', () => {
    const covered = new Set(scenarios.map((s) => s.name.split(',')[0]));
    for (const id of FILTER_IDS) expect(covered, id).toContain(id);
  });

  for (const s of scenarios) {
    for (const monitor of [false, true]) {
      if (s.monitorOnly && !monitor) continue;
      it(`${s.name}${monitor ? ', under the monitor' : ', bare'}`, async () => {
        const rt = openRuntime(s.program, { monitor, ...s.attributes });
        try {
          await started(rt);
          await s.arm(rt);
          const forward = await forwardStops(rt, s.stops);
          expect(forward.length, 'forward stops').toBeGreaterThanOrEqual(Math.min(2, s.stops));
          for (const f of forward) expect(f.reason).toBe(s.reason);
          await expectReverseRetraces(rt, forward);
        } finally {
          rt.dispose();
        }
      });
    }
  }
});

describe('a breakpoint on an interrupt handler whose interrupt ends HLT', () => {
  for (const monitor of [false, true]) {
    it(`stops at the handler's first instruction, forward and by reverseContinue${monitor ? ', under the monitor' : ''}`, async () => {
      const rt = openRuntime(TIMER, { monitor });
      try {
        await started(rt);
        const handler = timerHandler();
        rt.breakpoints.setInstruction([{ address: handler }]);
        rt.syncBreakpoints();
        const forward: Landing[] = [];
        for (let k = 0; k < 3; k++) {
          const o = await outcome(rt, () => rt.continue());
          expect(o.stop?.reason, JSON.stringify(o)).toBe('instruction breakpoint');
          expect((rt.viewCpu().segBase[CS] + rt.viewCpu().eip) >>> 0).toBe(handler);
          forward.push(landing(rt, o.stop!));
        }
        // Each tick woke the CPU from its HLT loop: the return address on the handler's stack is just after HLT.
        const image = readFileSync(TIMER);
        expect(image[(rt.viewCpu().segBase[CS] + readReturnEip(rt) - 1 - 0x7c00) >>> 0]).toBe(0xf4);
        await expectReverseRetraces(rt, forward);
      } finally {
        rt.dispose();
      }
    });
  }
});

/** The EIP an interrupt handler returns to (the top of a 32-bit interrupt frame). */
function readReturnEip(rt: Runtime): number {
  const view = rt.viewCpu();
  const top = (view.segBase[SS] + view.regs[ESP]) >>> 0;
  const mem = rt.machine.mem.u8;
  return Buffer.from(mem.buffer, mem.byteOffset, mem.byteLength).readUInt32LE(top);
}

describe('Go to This Moment for the monitor\'s own events', () => {
  for (const kind of ['monitor-trap', 'sbe-change'] as const) {
    it(`${kind} events carry an ordinal, and going to one lands where its filter stop was`, async () => {
      const rt = openRuntime(example('rings'), { monitor: true });
      try {
        const seen: { kind: string; ordinal: number | undefined }[] = [];
        rt.on('timeline', (k: string, _e: unknown, ordinal: number | undefined) => seen.push({ kind: k, ordinal }));
        await started(rt);
        filter(kind)(rt);
        const forward: (Landing & { ordinal: number })[] = [];
        for (let k = 0; k < 4; k++) {
          const o = await outcome(rt, () => rt.continue());
          expect(o.stop?.description).toBe(kind);
          const mine = seen.filter((x) => x.kind === kind);
          const ordinal = mine[mine.length - 1].ordinal;
          expect(ordinal, `the ${kind} event's ordinal`).toBeTypeOf('number');
          forward.push({ ...landing(rt, o.stop!), ordinal: ordinal! });
        }
        expect(seen.every((x) => typeof x.ordinal === 'number')).toBe(true);
        for (const f of [...forward].reverse().concat(forward)) {
          const stop = rt.gotoEvent(f.ordinal);
          rt.announce(stop);
          expect(at(rt)).toBe(f.instructions);
          expectSameMachine(machineMoment(rt), f.moment, `event ${f.ordinal}`);
        }
      } finally {
        rt.dispose();
      }
    });
  }
});
