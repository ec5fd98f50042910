// Call sites V8 must not specialise to one target. TurboFan inlines the target a call site has seen so far; where
// the targets are many and arrive over time, that inlining is wrong twice over (issue 13, GRUB's boot):
//
// - the run loop's call into a block: every block is a function of its own, but when the run loop is first
//   optimised it may have seen only one, so TurboFan inlined that block into the loop and threw the whole optimised
//   loop away at the next block ("wrong call target" in --trace-deopt): GRUB's boot re-optimised the run loop a
//   dozen times, 100–250 ms of compiler time each;
// - a block's call of an interpreter handler (an instruction without inline code, jit/ops.ts): the handler and
//   everything it calls were compiled into every block that calls it, most of a block's TurboFan time for code
//   that runs once per pass (POPF's handler pulls in setEflags, the attention and mode checks).
//
// Each such call goes through a function here, whose own call site is made megamorphic once at load (warm): TurboFan
// inlines the small function and then makes a plain call, without inlining the target and without a deopt when
// another target comes.

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import type { CompiledBlock } from './block';

/** Runs block `b` (the run loop's way in). */
export function runBlock(b: CompiledBlock, cpu: Cpu, left: number): number {
  return b.run(cpu, left);
}

/** Runs interpreter handler `h` for `i` (a block's call of an instruction it has no inline code for). */
export function callHandler(h: (cpu: Cpu, i: Instr) => void, cpu: Cpu, i: Instr): void {
  h(cpu, i);
}

/**
 * Calls `f(a, b, c)` without V8 inlining `f` into the caller: a way out of the run loop to a path that is first
 * taken late (dispatch.ts runBlocks), so that the first time there throws away `f`'s optimised code and not the loop's.
 * The caller must not name `f` directly: once this function is inlined, a function named at the call site is a
 * constant to TurboFan, which inlines it whatever the call's feedback says (`--trace-turbo-inlining` showed runBlocks
 * inlined into Cpu.run, and the run loop compiled four times in GRUB's boot instead of once). Read from a field of
 * a non-constant object (Cpu.runBlocksOutOfLine), it is only a value.
 */
export function callOutOfLine<A, B, C, R>(f: (a: A, b: B, c: C) => R, a: A, b: B, c: C): R {
  return f(a, b, c);
}

/** Calls `site` with two functions of their own, often enough that V8 has recorded the call as megamorphic. */
function warm(site: (f: () => number) => void): void {
  const first = function first(): number {
    return 0;
  };
  const second = function second(): number {
    return 1;
  };
  // Feedback is allocated only after a function's first calls (V8's lazy feedback allocation): call often enough.
  for (let k = 0; k < 256; k++) site((k & 1) === 0 ? first : second);
}

const nobody = null as unknown as Cpu;
warm((f) => runBlock({ run: f } as unknown as CompiledBlock, nobody, 0));
warm((f) => callHandler(f, nobody, null as unknown as Instr));
warm((f) => callOutOfLine(f, null, null, null));
