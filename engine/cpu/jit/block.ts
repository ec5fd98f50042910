// A translated block: a run of decoded instructions in one code page turned into one JavaScript function
// (performance.md, "block translation"). The interpreter stays the reference; a block must leave exactly the state
// the interpreter would after the same instructions, at every exit and every fault.

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import type { Region } from './region';

/**
 * Runs the block from its first instruction. `left` is the instruction budget the block may use (at least `len`);
 * a block that jumps back to its own start repeats while a whole pass still fits. Returns the instructions retired
 * and leaves EIP after the last one. A fault throws CpuFault with `cpu.instrStart` at the faulting instruction and
 * `cpu.jitRetired` holding the instructions that retired before it.
 */
export type BlockFn = (cpu: Cpu, left: number) => number;

export interface CompiledBlock {
  /** EIP of the first instruction (the same physical code reached through another CS base needs another block). */
  readonly eip: number;
  /** Instructions in one pass. */
  readonly len: number;
  /** Smallest and largest EIP the block's instructions occupy (breakpoints inside the block keep it off). */
  readonly firstByte: number;
  readonly lastCodeByte: number;
  /**
   * The largest offset the CS limit must cover for the block to run: its last code byte and every constant branch
   * target in it. The run loop tests it at entry, so no branch inside needs its own limit check (a near branch to
   * a target past the limit raises #GP(0): SDM 2A, JMP/Jcc/CALL "Protected Mode Exceptions").
   */
  readonly lastByte: number;
  /** Mode assumptions the code was generated under (blockKey). */
  readonly key: number;
  readonly run: BlockFn;
  /** The generated source, for tests and for reading when something goes wrong. */
  readonly source: string;
  /**
   * The decoded instructions this block's exits last led to, so the run loop need not fetch them again and can run
   * their blocks straight after this one (block chaining, Cpu.run): a direct-mapped table of SUCCESSOR_SLOTS entries
   * by exit EIP (`succEip`, as int32), large enough for a RET shared by several callers. A slot is valid while the
   * code epoch is its `succEpoch` (a Cpu.codeEpoch change drops them all). The epoch is kept per slot so a change
   * costs nothing here: under the monitor every entry moves the epoch, and clearing the table on the next exit was a
   * tenth of an entry's cost.
   */
  readonly succEpoch: Float64Array;
  readonly succEip: Int32Array;
  readonly succ: (Instr | null)[];
  /** The region of its page this block belongs to (jit/region.ts), or null. */
  region: Region | null;
  /** The block branches back to its start (a loop inside the function): traces built later stop at its head. */
  readonly repeats: boolean;
}

/** log2 of the entries of a block's successor table. */
const SUCCESSOR_BITS = 3;
/** Entries of a block's successor table. */
export const SUCCESSOR_SLOTS = 1 << SUCCESSOR_BITS;

/** A new block record around a compiled function. */
export function makeBlock(
  eip: number,
  len: number,
  firstByte: number,
  lastCodeByte: number,
  lastByte: number,
  key: number,
  run: BlockFn,
  source: string,
  repeats = false,
): CompiledBlock {
  const succ: (Instr | null)[] = [];
  for (let k = 0; k < SUCCESSOR_SLOTS; k++) succ.push(null);
  return {
    eip,
    len,
    firstByte,
    lastCodeByte,
    lastByte,
    key,
    run,
    source,
    succEpoch: new Float64Array(SUCCESSOR_SLOTS).fill(-1),
    succEip: new Int32Array(SUCCESSOR_SLOTS),
    succ,
    region: null,
    repeats,
  };
}

/**
 * The first of the two slots exit EIP `eip` may take: the table is two-way set-associative, its set chosen by a
 * hash of bits 0–1 and 5–6 of the EIP (return addresses and branch targets differ in their low bits). It was
 * direct-mapped by the same kind of hash, where pairs of exits that met in one slot evicted each other at every pass
 * (Linux's lib/mpi: one RET of mpihelp_addmul_1 to its two callers; in its steady state 110 000 of the 330 000
 * returns to the run loop per 300 M instructions were such misses; issue 13, docs/speed-history.md "Successor slots").
 * A multiplicative hash of all the bits spread a run of call sites 5 bytes apart worse.
 */
function firstSlot(eip: number): number {
  return ((eip ^ (eip >>> 5)) & ((SUCCESSOR_SLOTS >> 1) - 1)) << 1;
}

/** The instruction an exit of `b` to `eip` led to before, if still valid at code epoch `epoch`. */
export function successor(b: CompiledBlock, eip: number, epoch: number): Instr | null {
  const k = firstSlot(eip);
  if (b.succEip[k] === (eip | 0) && b.succEpoch[k] === epoch) return b.succ[k];
  if (b.succEip[k + 1] === (eip | 0) && b.succEpoch[k + 1] === epoch) return b.succ[k + 1];
  return null;
}

/**
 * Remembers that an exit of `b` to `eip` leads to `i` (at code epoch `epoch`) in the first slot of its set; a valid
 * entry for another EIP there moves to the second slot, replacing what was there (the least recently remembered).
 */
export function rememberSuccessor(b: CompiledBlock, eip: number, i: Instr, epoch: number): void {
  const k = firstSlot(eip);
  if (b.succEpoch[k] === epoch && b.succEip[k] !== (eip | 0)) {
    b.succEpoch[k + 1] = epoch;
    b.succEip[k + 1] = b.succEip[k];
    b.succ[k + 1] = b.succ[k];
  }
  b.succEpoch[k] = epoch;
  b.succEip[k] = eip;
  b.succ[k] = i;
}

/** Marks an instruction where no block can start (its first instruction is not translatable). */
export const NO_BLOCK: CompiledBlock = makeBlock(-1, 0x7fffffff, 0, 0, 0, -1, () => 0, '');

/**
 * Interpreted arrivals at a block head before a block is built there (the default of Cpu.hotThreshold). A block
 * costs V8 far more than the interpreter's run of the same instructions until it has run tens of thousands of times
 * (issue 13, README "Speed on real code"): the generated function first runs unoptimised (Sparkplug code calls a
 * builtin for every JavaScript operator: 5–10× slower than the interpreter), and TurboFan's compile of one block
 * costs 15–35 ms of CPU. Debian's Linux kernel enters most of its several thousand blocks 1 000–100 000 times, so
 * at the old threshold of 40 its crypto self-tests ran at 8–11 MIPS, interpreter-only at 31, and at this threshold
 * at 31–35 MIPS; the XZ decompressor and GRUB, whose hot blocks run millions of times, gained 10–20 % too.
 */
export const HOT_THRESHOLD = 30_000;

let defaultHot = HOT_THRESHOLD;

/**
 * Sets the threshold new Cpus start with. The test suites translate their small programs (a few thousand
 * instructions) at 40, the threshold before issue 13, so translated code is exercised as it was (test/setup).
 */
export function setDefaultHotThreshold(n: number): void {
  defaultHot = n;
}

export function defaultHotThreshold(): number {
  return defaultHot;
}
/** Most instructions in one block. */
export const MAX_BLOCK_INSTRUCTIONS = 64;

const KEY_STACK32 = 1;
const KEY_PAGING = 2;
const KEY_USER = 4;
/** Key bits 3–6: ES (0), SS (2) and DS (3), each flat for reads and writes (base 0, window 0–4G−1). */
const KEY_FLAT_SHIFT = 3;
const FLAT_SEGMENTS = 0b1101;

/**
 * The mode facts generated code depends on: stack width (PUSH/POP/CALL/RET), whether linear addresses need the
 * checked path (paging or data breakpoints), with paging whether accesses are user accesses (CPL 3: the TLB
 * right tested inline), and which of ES, SS and DS are flat (Cpu.flatRead/flatWrite): an access through a flat
 * segment needs no window check and no base add, so a block built for flat segments carries neither. Any segment
 * load or mode change that makes one of them non-flat changes the key, and the block no longer runs.
 */
export function blockKey(cpu: Cpu): number {
  return (
    (cpu.stack32 ? KEY_STACK32 : 0) |
    (cpu.checkLinear ? KEY_PAGING : 0) |
    (cpu.cpl === 3 ? KEY_USER : 0) |
    ((cpu.flatRead & cpu.flatWrite & FLAT_SEGMENTS) << KEY_FLAT_SHIFT)
  );
}

export function keyStack32(key: number): boolean {
  return (key & KEY_STACK32) !== 0;
}

export function keyPaging(key: number): boolean {
  return (key & KEY_PAGING) !== 0;
}

export function keyUser(key: number): boolean {
  return (key & KEY_USER) !== 0;
}

/** The segment registers (bits by number) the key says are flat for reads and writes. */
export function keyFlatSegments(key: number): number {
  return (key >> KEY_FLAT_SHIFT) & FLAT_SEGMENTS;
}
