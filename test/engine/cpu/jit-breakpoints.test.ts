// The debugger's instruction breakpoints and translated code (issue 16: a listeners-on Linux boot must cost about
// what a plain one does): breakpoints armed elsewhere — a logpoint, breakpoints in code that is not running — keep
// blocks running and chaining, and the run loop makes the one breakpoint test between interpreted instructions
// that they need; a breakpoint that is reached stops at the interpreter's instruction count and state.

import { describe, expect, it } from 'vitest';
import { flat32, type TestMachine } from './harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { cpuState } from './jit-lockstep-harness';

const ORG = 0x10000;

/** A loop calling a routine on each of the next two pages, 3000 times: blocks that chain into each other. */
const CALLS = `
  mov ecx, 3000
  xor eax, eax
again:
  call first
  add eax, 1
site:
  call second
  dec ecx
  jnz again
  hlt
  times 0x1000 - ($ - $$) db 0x90
first:
  add eax, eax
  ret
  times 0x2000 - ($ - $$) db 0x90
second:
  xor eax, ecx
  ret
`;
/** The second call (two 5-byte and one 2-byte instruction, a call and a 3-byte ADD in). */
const SITE = ORG + 15;

function machine(jit: boolean): TestMachine {
  const m = flat32(assemble(CALLS, 32, ORG), ORG);
  Object.assign(m.cpu, { jit, hotThreshold: 2 });
  return m;
}

/** Runs to HLT; at each breakpoint hit records the state and steps over it, as the adapter runs on from a logpoint. */
function runThroughBreakpoints(m: TestMachine, breakpoints: number[]): unknown[] {
  for (const b of breakpoints) m.cpu.breakpoints.add(b);
  m.cpu.updateAttention();
  const hits: unknown[] = [];
  for (let k = 0; k < 10_000 && !m.cpu.halted; k++) {
    m.cpu.run(1_000_000);
    if (!m.cpu.hitBreakpoint) continue;
    m.cpu.hitBreakpoint = false;
    hits.push(cpuState(m.cpu));
    m.cpu.step();
  }
  expect(m.cpu.halted).toBe(true);
  return hits;
}

describe.skipIf(!HAS_NASM)('instruction breakpoints and translated blocks', () => {
  it('breakpoints where the guest never runs keep block chaining on, with the interpreter\'s result', () => {
    const ref = machine(false);
    const jit = machine(true);
    expect(runThroughBreakpoints(ref, [0xfffffff0, 0x000ffff0])).toEqual([]);
    expect(runThroughBreakpoints(jit, [0xfffffff0, 0x000ffff0])).toEqual([]);
    expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
    // 6000 calls and 6000 returns: 11,991 block-to-block entries here (the loop's back edge is inside a block, as a
    // trace goes on at a usually taken JNZ; none at all while breakpoints were armed, before).
    expect(jit.cpu.chainedBlockRuns).toBeGreaterThan(11_000);
  });

  it('a breakpoint that is reached every pass stops there at the interpreter\'s count, and the blocks around it chain', () => {
    const ref = machine(false);
    const jit = machine(true);
    const expected = runThroughBreakpoints(ref, [SITE]);
    expect(expected).toHaveLength(3000);
    expect(runThroughBreakpoints(jit, [SITE])).toEqual(expected);
    expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
    // 2,997: the stop at the site ends a chain each pass, and the trace through the usually taken JNZ joins the
    // loop's back edge and the first call into one block (none while breakpoints were armed, before).
    expect(jit.cpu.chainedBlockRuns).toBeGreaterThan(2_500);
  });
});
