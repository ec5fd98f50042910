// The state a WebAssembly block reads and writes, as int32 slots in the state area of the guest's
// WebAssembly.Memory (bus/memory.ts stateOffset): the general registers, EFLAGS, EIP, how the block left, and the
// lazy-flag record pending at its exit. The JS wrapper (wasm/block.ts) fills it at entry and copies it back into
// the Cpu at exit: a block touches no Cpu field itself.

/** Slots (int32 index from the state area's start). */
export const S_REGS = 0;
export const S_FLAGS = 8;
export const S_EIP = 9;
/** -1 after an ordinary exit; else the index of the instruction the wrapper must run in the interpreter. */
export const S_INTERPRET = 10;
/** The pending lazy-flag record (Cpu.lazyOp … lazyMask; mask 0: none, flags are eager). */
export const S_LOP = 11;
export const S_LA = 12;
export const S_LB = 13;
export const S_LR = 14;
export const S_LSIZE = 15;
export const S_LMASK = 16;
export const S_LCIN = 17;
/**
 * Segments other than the flat ones of the block key (wasm/operands.ts): the base (6 slots, by segment number) and
 * whether the window is the whole 4 GiB for reads (1) and writes (2), as the wrapper found them at entry.
 */
export const S_SEG_BASE = 18;
export const S_SEG_WINDOW = 24;
