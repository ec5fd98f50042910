// The system instructions WebAssembly blocks run themselves where the interpreter's handler (ops/system.ts rdtsc,
// ops/io.ts cli, sti) takes its plain path: RDTSC, CLI, and STI of a set IF. What they read beyond the registers
// and EFLAGS — the CPL, whether RDTSC may run here, the time-stamp counter — the wrapper puts in the state area at
// each entry (systemToState): no instruction a block translates or calls out to changes the CPL, CR4, the TSC's
// offset or `icount` (the interpreter calls move `icount` for their duration only), so what it wrote holds for
// the blocks linked after it too. Every other case (a #GP, STI setting IF with its interrupt shadow) leaves for
// the interpreter before the instruction, which then runs it as it runs it everywhere.
// Linux's boot made about 540 000 interpreter calls for these per 750 M instructions in its crypto self-tests
// (sched_clock's RDTSC, the CLI … POPF of its per-CPU operations).

import type { Cpu } from '../../cpu';
import { CR4_TSD } from '../../model';
import { IF, IOPL_SHIFT } from '../../flags';
import { GOES_ON, OP, type WasmGen } from './gen';
import { S_BEFORE, S_CPL, S_TSC_HI, S_TSC_LO, S_TSC_NATIVE } from './state';

const EAX = 0, EDX = 2;
const TWO32 = 2 ** 32;

/**
 * The TSC's largest base for which RDTSC runs natively: the base plus the instructions retired in the run (less than
 * 2^31) stays below 2^53, where the interpreter's `icount + tscOffset` (msr.ts readTsc, a double) is exact and
 * equals the block's 64-bit integer sum. A WRMSR to the TSC that puts it higher leaves RDTSC to the interpreter.
 */
const TSC_NATIVE_BELOW = 2 ** 53 - TWO32;

/** The wrapper's part at entry (wasm/block.ts runWasm): the CPL, whether RDTSC may run natively, the TSC now. */
export function systemToState(c: Cpu, S: Int32Array): void {
  S[S_CPL] = c.cpl;
  const tsc = c.icount + c.tscOffset;
  // RDTSC raises #GP(0) when CR4.TSD is set and CPL > 0 (SDM 2B, RDTSC): the interpreter's.
  const native = ((c.cr4 & CR4_TSD) === 0 || c.cpl === 0) && tsc >= 0 && tsc < TSC_NATIVE_BELOW;
  S[S_TSC_NATIVE] = native ? 1 : 0;
  S[S_TSC_LO] = tsc >>> 0;
  S[S_TSC_HI] = native ? Math.floor(tsc / TWO32) : 0;
}

function pushSlot(g: WasmGen, slot: number): void {
  g.f.i32(0).mem(OP.i32Load, g.state + slot * 4);
}

/**
 * RDTSC (system.ts rdtsc): EDX:EAX ← the TSC at this instruction, `icount + tscOffset` as the interpreter has them
 * there: the base the wrapper stored plus the instructions the run retired before it (S_BEFORE for the blocks linked
 * before this one, `n` and k for this one's), a 64-bit sum made of two 32-bit halves. The model's CPUID.TSC is
 * asked when the block is built (instrs.ts supported).
 */
export function readTimeStampCounter(g: WasmGen): number {
  const f = g.f;
  pushSlot(g, S_TSC_NATIVE);
  f.op(OP.i32Eqz);
  g.open(OP.if);
  g.interpretHere();
  g.close();
  pushSlot(g, S_BEFORE);
  f.get(g.n).op(OP.i32Add);
  if (g.k !== 0) f.i32(g.k).op(OP.i32Add);
  const retired = g.toLocal();
  pushSlot(g, S_TSC_LO);
  f.get(retired).op(OP.i32Add).set(g.g[EAX]);
  // The carry out of the low half: the sum wrapped below what was added.
  pushSlot(g, S_TSC_HI);
  f.get(g.g[EAX]).get(retired).op(OP.i32LtU).op(OP.i32Add).set(g.g[EDX]);
  return GOES_ON;
}

/**
 * The privilege of CLI and STI outside virtual-8086 mode without PVI (io.ts checkInterruptFlagAccess; SDM 2A CLI,
 * 2B STI): CPL ≤ IOPL, which real mode's CPL 0 always meets. Anything else leaves for the interpreter: #GP(0), or
 * CR4.PVI's VIF at CPL 3 (virtual-8086 mode, CPL 3, has no wasm block: its code is 16-bit).
 */
function leaveUnlessPrivileged(g: WasmGen): void {
  const f = g.f;
  pushSlot(g, S_CPL);
  f.get(g.flags).i32(IOPL_SHIFT).op(OP.i32ShrU).i32(3).op(OP.i32And).op(OP.i32GtU);
  g.open(OP.if);
  g.interpretHere();
  g.close();
}

/**
 * CLI (io.ts cli): IF ← 0. The interpreter's updateAttention after it has nothing to do here: a block runs only while
 * nothing but breakpoints needs the run loop (Cpu.attention), and clearing IF adds no reason.
 */
export function clearInterruptFlag(g: WasmGen): number {
  leaveUnlessPrivileged(g);
  g.ownFlags();
  g.f.get(g.flags).i32(~IF).op(OP.i32And).set(g.flags);
  return GOES_ON;
}

/**
 * STI (io.ts sti) with IF already set: nothing changes (no interrupt shadow: only STI that sets IF inhibits
 * interrupts, SDM 3A §6.8.3). STI that sets IF leaves for the interpreter, which sets it, the shadow and the run
 * loop's attention: the block's run ends after it there.
 */
export function setInterruptFlag(g: WasmGen): number {
  const f = g.f;
  leaveUnlessPrivileged(g);
  f.get(g.flags).i32(IF).op(OP.i32And).op(OP.i32Eqz);
  g.open(OP.if);
  g.interpretHere();
  g.close();
  return GOES_ON;
}
