// A decoded instruction: everything the handler needs, computed once and cached per physical code address and decode
// mode (performance.md, "decode once"). Handlers never re-read instruction bytes.

import type { Cpu } from '../cpu';
import type { OpRow } from './table';
import type { CompiledBlock } from '../jit/block';

export type Handler = (cpu: Cpu, i: Instr) => void;

export class Instr {
  exec: Handler = undefinedHandler;
  row: OpRow | null = null;
  /** Length in bytes, prefixes included. */
  len = 0;
  /** Opcode: 0x00–0xFF, or 0x100 | second byte for 0F xx. */
  opcode = 0;
  /** Decoded in a 32-bit code segment (CS.D = 1). */
  d32 = false;
  /** Operand size in bytes of the instruction's main operand (1, 2 or 4). */
  size = 0;
  /** Operand-size attribute is 32 bits (after 0x66). */
  os32 = false;
  /** Address-size attribute is 32 bits (after 0x67). */
  as32 = false;
  /** ModRM reg field, or the register encoded in the opcode's low 3 bits (forms Z*). */
  reg = 0;
  /** The ModRM byte, or -1 when the instruction has none. */
  modrm = -1;
  /** ModRM mod field (3 = register operand). */
  mod = 0;
  /** ModRM rm register when mod = 3, else -1 (memory operand). */
  rm = -1;
  /** Segment register used by the memory operand (default or override). */
  seg = 3;
  /** Segment override prefix, or -1. */
  segOverride = -1;
  /** Effective address parts: base and index register numbers (-1: none), scale shift, displacement. */
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  /** First and second immediate (sign-extended where the form says so; Ap: imm = offset, imm2 = selector). */
  imm = 0;
  imm2 = 0;
  /** 0: none, 1: REP/REPE (F3), 2: REPNE (F2). */
  rep = 0;
  lock = false;
  /** Row parameter (ALU operation, condition code, shift kind, segment register…). */
  arg = 0;
  /**
   * The instruction that follows this one in the same page and decode mode, linked the first time execution falls
   * through to it; the run loop follows the link instead of looking the next instruction up (a basic block becomes
   * a chain of records). Never to another page: the link lives and dies with this page's decoded instructions, and
   * the instruction at the next page's start may be dropped or replaced without this one (Cpu.run, linksWithinPage).
   */
  next: Instr | null = null;
  /**
   * Where this instruction's last transfer led (a taken branch, CALL, RET, JMP, a wrap of IP to 0): the
   * instruction at EIP `targetEip`, valid while Cpu.codeEpoch is `targetEpoch`. Within one epoch the decoded
   * instruction at an EIP cannot change (code stores, mappings, A20, mode and CS loads all move the epoch), so the
   * run loop takes it instead of fetching (Cpu.run). One entry: a loop's branch or a call's target always hits it.
   */
  target: Instr | null = null;
  targetEip = -1;
  targetEpoch = -1;
  /**
   * The translated block that starts at this instruction (jit/), NO_BLOCK when none can be built here, null while
   * not yet hot. Lives and dies with the decoded instruction, so invalidating or flushing the decode cache drops it.
   */
  block: CompiledBlock | null = null;
  /** Times the interpreter ran this instruction while no block existed for it (the hotness counter). */
  hits = 0;
  /**
   * For a Jcc: interpreted runs that took the branch minus those that fell through. A block's trace goes on in the
   * likelier direction and leaves on the other (jit/compile.ts collectBlock).
   */
  bias = 0;
}

/** Placeholder until a row is resolved; never executed for a decoded instruction. */
function undefinedHandler(): void {
  throw new Error('instruction executed before it was decoded');
}
