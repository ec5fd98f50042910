// A decoded instruction: everything the handler needs, computed once and cached per physical code address and decode
// mode (performance.md, "decode once"). Handlers never re-read instruction bytes.

import type { Cpu } from '../cpu';
import type { OpRow } from './table';
import type { CompiledBlock } from '../jit/block';

export type Handler = (cpu: Cpu, i: Instr) => void;

export class Instr {
  // Field order is memory layout: V8 places a class's fields in the object in the order they are first assigned,
  // and an Instr is 30 fields (about 260 bytes, four or five cache lines). The run loop and the handlers touch the
  // fields at the top for every instruction (exec, len, d32, next, block, the operand fields); the rest is read by
  // decode, translation and the rarer handlers. With the working set of a kernel's lukewarm code (tens of thousands
  // of decoded instructions: more than the L2 cache holds) every line an instruction touches can be a miss, so the
  // hot fields share the first lines (issue 13, docs/speed-history.md "The interpreter's cost per instruction").
  // Every number field holds a small integer (int32): a single value outside that range anywhere (an unsigned
  // 32-bit immediate, an EIP above 2^31) turns the field of every Instr into a boxed double, one more load and
  // often one more cache miss per read.
  exec: Handler = undefinedHandler;
  /** Length in bytes, prefixes included. */
  len = 0;
  /** Decoded in a 32-bit code segment (CS.D = 1). */
  d32 = false;
  /**
   * The instruction that follows this one in the same page and decode mode, linked the first time execution falls
   * through to it; the run loop follows the link instead of looking the next instruction up (a basic block becomes
   * a chain of records). Never to another page: the link lives and dies with this page's decoded instructions, and
   * the instruction at the next page's start may be dropped or replaced without this one (Cpu.run, linksWithinPage).
   */
  next: Instr | null = null;
  /**
   * The translated block that starts at this instruction (jit/), NO_BLOCK when none can be built here, null while
   * not yet hot. Lives and dies with the decoded instruction, so invalidating or flushing the decode cache drops it.
   */
  block: CompiledBlock | null = null;
  /** ModRM reg field, or the register encoded in the opcode's low 3 bits (forms Z*). */
  reg = 0;
  /** ModRM rm register when mod = 3, else -1 (memory operand). */
  rm = -1;
  /** Effective address parts: base and index register numbers (-1: none), scale shift, displacement (int32). */
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  /** Segment register used by the memory operand (default or override). */
  seg = 3;
  /**
   * First and second immediate, as int32 (sign-extended where the form says so, else the 32-bit pattern: readers
   * take `>>> 0` or a mask for the unsigned value; Ap: imm = offset, imm2 = selector).
   */
  imm = 0;
  /** Operand size in bytes of the instruction's main operand (1, 2 or 4). */
  size = 0;
  /** Operand-size attribute is 32 bits (after 0x66). */
  os32 = false;
  /** Address-size attribute is 32 bits (after 0x67). */
  as32 = false;
  /** Row parameter (ALU operation, condition code, shift kind, segment register…). */
  arg = 0;
  /**
   * Where this instruction's last transfer led (a taken branch, CALL, RET, JMP, a wrap of IP to 0): the
   * instruction at EIP `targetEip` (as int32: `eip | 0`), valid while Cpu.codeEpoch is `targetEpoch`. Within one
   * epoch the decoded instruction at an EIP cannot change (code stores, mapping, A20, mode and CS loads all move the
   * epoch), so the run loop takes it instead of fetching (Cpu.run). One entry: a loop's branch or a call's target
   * always hits it.
   */
  target: Instr | null = null;
  targetEip = -1;
  targetEpoch = -1;
  /** Times the interpreter ran this instruction while no block existed for it (the hotness counter). */
  hits = 0;
  /**
   * For a Jcc: interpreted runs that took the branch minus those that fell through. A block's trace goes on in the
   * likelier direction and leaves on the other (jit/compile.ts collectBlock).
   */
  bias = 0;
  row: OpRow | null = null;
  /** Opcode: 0x00–0xFF, or 0x100 | second byte for 0F xx. */
  opcode = 0;
  /** The ModRM byte, or -1 when the instruction has none. */
  modrm = -1;
  /** ModRM mod field (3 = register operand). */
  mod = 0;
  /** Segment override prefix, or -1. */
  segOverride = -1;
  imm2 = 0;
  /** 0: none, 1: REP/REPE (F3), 2: REPNE (F2). */
  rep = 0;
  lock = false;
}

/** Placeholder until a row is resolved; never executed for a decoded instruction. */
function undefinedHandler(): void {
  throw new Error('instruction executed before it was decoded');
}
