// The state a WebAssembly block reads and writes, as int32 slots in the state area of the guest's
// WebAssembly.Memory (bus/memory.ts stateOffset): the general registers, EFLAGS, EIP, how the block left, and the
// lazy-flag record pending at its exit. The JS wrapper (wasm/block.ts) fills it at entry and copies it back into
// the Cpu at exit: a block touches no Cpu field itself.

/** Slots (int32 index from the state area's start). */
export const S_REGS = 0;
export const S_FLAGS = 8;
export const S_EIP = 9;
/**
 * -1 after an ordinary exit; INTERPRET_CALL_LEFT after an interpreter call that asked for the run loop
 * (wasm/callout.ts: the dispatcher then links no further); else the index of the instruction the wrapper must run
 * in the interpreter.
 */
export const S_INTERPRET = 10;
export const INTERPRET_CALL_LEFT = -2;
/** The pending lazy-flag record (Cpu.lazyOp … lazyMask; mask 0: none, flags are eager). */
export const S_LOP = 11;
export const S_LA = 12;
export const S_LB = 13;
export const S_LR = 14;
export const S_LSIZE = 15;
export const S_LMASK = 16;
export const S_LCIN = 17;
/** Written by the wrapper at each entry: Cpu.codeEpoch (as int32), against which link entries are valid (wasm/link.ts). */
export const S_EPOCH = 18;
/**
 * Written by the dispatcher before each block it calls: that block's link index (after the run, the one that ran
 * last, whose exit is the one in the state area; during it, the block an interpreter call comes from).
 */
export const S_LAST = 19;
/** Block runs the dispatcher chained inside wasm (a counter the wrapper takes into Cpu.chainedBlockRuns). */
export const S_CHAINED = 20;
/** Instructions a block retires before the dispatcher leaves for JS to replace it (Cpu.wasmToJsAfter). */
export const S_TO_JS = 21;
/**
 * Written by the dispatcher before each block it calls: the instructions the blocks before it in this run retired
 * (not yet in Cpu.icount; an interpreter call adds them, wasm/callout.ts).
 */
export const S_BEFORE = 22;
/**
 * Segments other than the flat ones of the block key (wasm/operands.ts): the base (6 slots, by segment number) and
 * whether the window is the whole 4 GiB for reads (1) and writes (2), as the wrapper found them at entry.
 */
export const S_SEG_BASE = 24;
export const S_SEG_WINDOW = 30;
/**
 * Written by the wrapper at each entry (wasm/system.ts systemToState): the CPL (CLI and STI compare it with IOPL);
 * 1 when RDTSC may run in the block (no #GP from CR4.TSD, a TSC the block sums exactly), else 0; and the TSC at the
 * run's first instruction (`icount + tscOffset`), low and high halves.
 */
export const S_CPL = 36;
export const S_TSC_NATIVE = 37;
export const S_TSC_LO = 38;
export const S_TSC_HI = 39;
