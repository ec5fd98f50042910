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
/** Written by the wrapper at each entry: Cpu.codeEpoch (as int32), against which link entries are valid (wasm/link.ts). */
export const S_EPOCH = 18;
/** Written by the dispatcher: the link index of the block that ran last (its exit is the one in the state area). */
export const S_LAST = 19;
/** Block runs the dispatcher chained inside wasm (a counter the wrapper takes into Cpu.chainedBlockRuns). */
export const S_CHAINED = 20;
/** Instructions a block retires before the dispatcher leaves for JS to replace it (Cpu.wasmToJsAfter). */
export const S_TO_JS = 21;
