// Guest time is the count of retired guest instructions and nothing else (interfaces.md, wave 2): the same guest
// must reach every output byte, and its end, at the same instruction count bare and monitored, with every listener
// off and all of them on (every trace event, instruction breakpoints that never hit, a logpoint that hits and
// goes on, data watches on the vector table and the stack), with translated blocks on and off, run in the CLI's
// slices, in the debug adapter's wall-clock-sized slices (any length: here odd small ones) or step by step.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Machine, SLICE, type StopReason } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import type { LoadOptions } from '../../../engine/machine/loaders';
import { listExamples } from '../../examples/example-folders';
import { armAllListeners } from './guest-timeline';

/** bench-loop runs 50 M instructions; its first million are the same loop as the rest. */
const LIMIT = 1_500_000;

interface Variant {
  monitor: boolean;
  listeners: boolean;
  jit: boolean;
  /** 'cli': the CLI's slices; 'odd': small slices of a length no device deadline shares; 'step': Machine.step. */
  slicing: 'cli' | 'odd' | 'step';
}

interface Timeline {
  /** The instruction count at each byte the guest wrote to port 0xE9. */
  bytes: number[];
  end: number;
  stop: StopReason | 'limit';
}

function memoryFor(name: string): number {
  return name === 'paging' ? 16 : 4;
}

/** Runs `image` under `v` and records guest time at every output byte and at the end. */
export function timeline(image: Uint8Array, memoryMB: number, v: Variant, limit = LIMIT, load: LoadOptions = { format: 'bin' }): Timeline {
  // Flat images at 0000:7C00 in real mode (the examples' convention), not booted through the firmware.
  const bytes: number[] = [];
  let machine: Machine | null = null;
  machine = new Machine({ memoryMB, onConsoleByte: () => void bytes.push(machine!.cpu.icount) });
  const m = machine;
  if (v.monitor) attachMonitor(m, { sbe: 'auto' });
  m.cpu.jit = v.jit;
  m.load(image, load);
  // With listeners, a logpoint at the entry too: a breakpoint the debugger reports and runs on from.
  if (v.listeners) armAllListeners(m);
  let stop: StopReason | 'limit' = 'limit';
  const start = m.cpu.icount;
  while (m.cpu.icount - start < limit) {
    const left = limit - (m.cpu.icount - start);
    let reason: StopReason | null;
    if (v.slicing === 'step') {
      reason = m.step();
    } else {
      reason = m.runSlice(Math.min(left, v.slicing === 'cli' ? SLICE * 16 : 977)).reason;
    }
    if (reason === 'breakpoint') {
      // What the adapter does after a logpoint: the instruction at the breakpoint runs, then free running again.
      reason = m.step();
    }
    if (reason !== null && reason !== 'stopped') {
      stop = reason;
      break;
    }
  }
  return { bytes, end: m.cpu.icount, stop };
}

const VARIANTS: Variant[] = [];
for (const monitor of [false, true]) {
  for (const listeners of [false, true]) {
    for (const jit of [true, false]) VARIANTS.push({ monitor, listeners, jit, slicing: 'cli' });
  }
}
VARIANTS.push({ monitor: false, listeners: true, jit: true, slicing: 'odd' });
VARIANTS.push({ monitor: true, listeners: true, jit: true, slicing: 'odd' });

const label = (v: Variant): string =>
  `${v.monitor ? 'monitored' : 'bare'}, listeners ${v.listeners ? 'on' : 'off'}, jit ${v.jit ? 'on' : 'off'}, ${v.slicing} slices`;

describe('guest time is the same whatever watches the guest', () => {
  for (const example of listExamples()) {
    it(`${example.name}: every output byte and the end at the same instruction count in every variant`, () => {
      const image = readFileSync(example.bin);
      const mb = memoryFor(example.name);
      const base = timeline(image, mb, VARIANTS[0]);
      expect(base.bytes.length).toBeGreaterThan(0);
      for (const v of VARIANTS.slice(1)) {
        const t = timeline(image, mb, v);
        expect(t.stop, label(v)).toBe(base.stop);
        expect(t.end, label(v)).toBe(base.end);
        expect(t.bytes, label(v)).toEqual(base.bytes);
      }
    }, 300_000);
  }

  it('step by step (as the adapter steps) bare and monitored, with every listener on, on the REP-heavy examples', () => {
    for (const name of ['hello', 'pit-delay', 'timer']) {
      const image = readFileSync(listExamples().find((e) => e.name === name)!.bin);
      const base = timeline(image, 4, VARIANTS[0]);
      for (const monitor of [false, true]) {
        const t = timeline(image, 4, { monitor, listeners: true, jit: false, slicing: 'step' });
        expect(t.end, `${name} ${monitor ? 'monitored' : 'bare'}`).toBe(base.end);
        expect(t.bytes).toEqual(base.bytes);
      }
    }
  }, 300_000);
});

describe('REP string instructions count one instruction per iteration', () => {
  // 32-bit flat protected mode (the loader's state), ring 0: mov ecx, 0xFFFFFFFF; xor esi, esi; rep lodsb; hlt.
  const REP_LODSB = Uint8Array.from([0xb9, 0xff, 0xff, 0xff, 0xff, 0x31, 0xf6, 0xf3, 0xac, 0xf4]);
  const LOAD = { format: 'bin' as const, loadAddress: 0x10000, entry: 0x10000, mode: 'protected' as const };

  it('a budget of 200000 stops after exactly 200000 instructions, bare and monitored, whatever the slicing', () => {
    for (const monitor of [false, true]) {
      for (const slicing of ['cli', 'odd', 'step'] as const) {
        const limit = slicing === 'step' ? 20_000 : 200_000;
        const t = timeline(REP_LODSB, 4, { monitor, listeners: slicing === 'odd', jit: true, slicing }, limit, LOAD);
        expect(t.end).toBe(limit);
        expect(t.stop).toBe('limit');
      }
    }
    const m = new Machine({ memoryMB: 4 });
    m.load(REP_LODSB, LOAD);
    expect(m.run(200_000)).toEqual({ reason: 'limit', instructions: 200_000 });
    // Two setup instructions, then one iteration per instruction of guest time.
    expect(m.cpu.regs[1] >>> 0).toBe(0xffffffff - (200_000 - 2));
    expect(m.cpu.regs[6]).toBe(200_000 - 2);
    expect(m.cpu.eip).toBe(0x10007);
  });

  it('a REP STOSW over a page a listener watches (the slow store path) counts what the block path counts', () => {
    // xor edi, edi; mov ecx, 0x3000; rep stosw; hlt: 24 KiB from address 0, over the vector table's page.
    const image = Uint8Array.from([0x31, 0xff, 0xb9, 0x00, 0x30, 0x00, 0x00, 0x66, 0xf3, 0xab, 0xf4]);
    const ends = [false, true].flatMap((listeners) =>
      [false, true].map((monitor) => timeline(image, 4, { monitor, listeners, jit: true, slicing: 'cli' }, 1_000_000, LOAD)),
    );
    for (const t of ends) {
      expect(t.stop).toBe('halt');
      expect(t.end).toBe(2 + 0x3000 + 1);
    }
  });
});
