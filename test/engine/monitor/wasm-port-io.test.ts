// Port I/O of a monitored guest inside WebAssembly blocks (engine/cpu/jit/wasm/block.ts wasmTrace): the monitor
// completes the deprivileged guest's IN and OUT in place (engine/monitor/in-place.ts), so a wasm block takes them
// into its trace and runs them through the interpreter at its end. The console then sees each byte at the
// instruction count a bare run gives it: the instruction the block's wrapper interprets runs with `icount` the
// interpreter's count there (determinism.test.ts compares every example; here the timer example's print loop, whose
// OUT to port 0xE9 comes four instructions into a block, is checked to run so).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { decodedPages32, wasmOnly } from '../cpu/jit-wasm-harness';

const TIMER = readFileSync(join(__dirname, '../../../examples/timer/timer.bin'));

/** Console bytes with their instruction counts, and the sources of the wasm blocks built, bare or monitored. */
function run(monitored: boolean): { bytes: number[]; sources: string[] } {
  const bytes: number[] = [];
  const m: Machine = new Machine({ memoryMB: 4, onConsoleByte: () => void bytes.push(m.cpu.icount) });
  if (monitored) attachMonitor(m, { sbe: 'auto' });
  wasmOnly(m.cpu);
  m.load(TIMER, { format: 'bin' });
  const reason = m.run(1_500_000).reason;
  expect(reason).toBe('exit');
  const sources = new Set<string>();
  for (const page of decodedPages32(m.cpu)) for (const i of page ?? []) if (i?.block?.source.startsWith('wasm') === true) sources.add(i.block.source);
  return { bytes, sources: [...sources] };
}

describe('port I/O in wasm blocks under the monitor', () => {
  it('the print loop OUT ends a wasm block of the monitored guest, and every console byte comes at the bare count', () => {
    const bare = run(false);
    const monitored = run(true);
    expect(bare.bytes.length).toBeGreaterThan(100);
    expect(monitored.bytes).toEqual(bare.bytes);
    // (`*`: the instruction the block's wrapper interprets; the monitor's in-place handler stands for the table's.)
    expect(monitored.sources.some((s) => /^wasm: .* \*outI$/.test(s))).toBe(true);
  });
});
