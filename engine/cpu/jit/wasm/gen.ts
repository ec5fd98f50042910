// The generator of one WebAssembly block: the function's locals (general registers, flags, the retired count),
// register and memory operands, the pending flag record, and the exits. Instruction forms live in wasm/instrs.ts.
//
// The function is `run(left, a20, csLimit) -> retired`. Registers are loaded from the state area into locals at
// entry and stored back at every exit. An exit stores EIP and the flags (wasm/flags.ts) and returns the
// instructions retired. Nothing that can fault runs in wasm: an access that is not plain RAM inside the guest's
// size (an MMIO, watched, code or ROM page for a store, past RAM, a CS-limit violation) leaves with the current
// instruction not yet begun and S_INTERPRET naming it, and the wrapper runs it in the interpreter, so faults,
// self-modifying code and device accesses happen exactly there, with the interpreter's state.

import { PF_LOAD_SLOW } from '../../../bus/memory';
import type { BlockInstr } from '../emitter';
import { FunctionBody, OP, RESULT_I32, VOID } from './encoder';
import { ARITH } from '../../flags';
import { foldRecord, type WasmRecord } from './flags';
import { S_EIP, S_FLAGS, S_INTERPRET, S_LA, S_LB, S_LCIN, S_LMASK, S_LOP, S_LR, S_LSIZE, S_REGS } from './state';

/** How an emitted instruction ends: the block goes on after it, or has left. */
export const GOES_ON = 1;
export const LEFT = 2;

/** Parameters of the block function. */
const P_LEFT = 0;
export const P_A20 = 1;
export const P_LIMIT = 2;

export class WasmGen {
  readonly f = new FunctionBody(3);
  /** Locals: the eight general registers (int32), EFLAGS, instructions retired in earlier passes, scratch. */
  readonly g: number[] = [];
  readonly flags: number;
  readonly n: number;
  readonly ph: number;
  /** Scratch: the TLB entry of the access being checked (paging on). */
  readonly tlbEntry: number;
  /** The record pending at this point of the generation, or null (flags eager in the `flags` local). */
  pending: WasmRecord | null = null;
  /** Index of the instruction being generated. */
  k = 0;
  /**
   * Arithmetic flags of the flags local that no instruction of the block has defined yet on the path being
   * generated: they hold the Cpu's `flags`, which are current only when the wrapper folded its lazy record in first.
   * Code reading one of them sets `entryFlagsUsed`, and the wrapper then folds at entry. A repeating block folds
   * always (stale 0 from the start): its later passes start from flags the earlier ones defined.
   */
  stale = ARITH;
  entryFlagsUsed = false;
  /** The segments (bits by number) the block key says are flat: their memory operands add no base. */
  flat = 0;
  /** The other segments memory operands use (wasm/operands.ts): the wrapper puts their bases in the state area. */
  segments = 0;
  /** Whether the function calls the interpreter (callInterpreter): the module then imports the call. */
  callsInterpreter = false;
  readonly readsLocal = (bits: number): void => {
    if ((this.stale & bits) !== 0) this.entryFlagsUsed = true;
  };
  /** Open structured blocks, and their number just inside the repeating block's `loop` (-1: none). */
  depth = 0;
  loopDepth = -1;

  constructor(
    readonly instrs: BlockInstr[],
    /** Byte offsets in the memory: the page flags (the guest's RAM size) and the state area. */
    readonly memSize: number,
    readonly state: number,
    /**
     * Paging on: the byte offset of the TLB entries (bus/memory.ts tlbOffset) and the rights bit a read needs
     * there (protect/tlb.ts: 1 at CPL 0–2, 4 at CPL 3; a write needs twice that). Null: paging off.
     */
    readonly paging: { tlb: number; readRight: number } | null = null,
  ) {
    for (let r = 0; r < 8; r++) this.g.push(this.f.local());
    this.flags = this.f.local();
    this.n = this.f.local();
    this.ph = this.f.local();
    this.tlbEntry = this.f.local();
  }

  get cur(): BlockInstr {
    return this.instrs[this.k];
  }

  /** Loads registers and flags from the state area and marks the exit ordinary. */
  prologue(): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) f.i32(0).mem(OP.i32Load, this.state + (S_REGS + r) * 4).set(this.g[r]);
    f.i32(0).mem(OP.i32Load, this.state + S_FLAGS * 4).set(this.flags);
    f.i32(0).i32(-1).mem(OP.i32Store, this.state + S_INTERPRET * 4);
  }

  open(code: number, type: number = VOID): void {
    this.f.open(code, type);
    this.depth++;
  }

  close(): void {
    this.f.op(OP.end);
    this.depth--;
  }

  // ---- registers ----

  /** Pushes register n of `size` bytes, unsigned for 1 and 2 (n in SDM encoding: AL CL DL BL AH CH DH BH). */
  pushReg(size: number, n: number): void {
    const f = this.f;
    if (size === 4) f.get(this.g[n]);
    else if (size === 2) f.get(this.g[n]).i32(0xffff).op(OP.i32And);
    else if (n < 4) f.get(this.g[n]).i32(0xff).op(OP.i32And);
    else f.get(this.g[n - 4]).i32(8).op(OP.i32ShrU).i32(0xff).op(OP.i32And);
  }

  /** Pops a value into register n of `size` bytes (the register's other bytes kept). */
  popReg(size: number, n: number): void {
    const f = this.f;
    if (size === 4) {
      f.set(this.g[n]);
      return;
    }
    const t = f.local();
    f.set(t);
    const full = size === 1 && n >= 4 ? n - 4 : n;
    const keep = size === 2 ? -65536 : n < 4 ? -256 : -65281;
    f.get(this.g[full]).i32(keep).op(OP.i32And).get(t);
    if (size === 2) f.i32(0xffff).op(OP.i32And);
    else f.i32(0xff).op(OP.i32And);
    if (size === 1 && n >= 4) f.i32(8).op(OP.i32Shl);
    f.op(OP.i32Or).set(this.g[full]);
  }

  /** Pops an i64 value into a new i64 local. */
  toLocal64(): number {
    const t = this.f.local64();
    this.f.set(t);
    return t;
  }

  /** Pops a value into a new local. */
  toLocal(): number {
    const t = this.f.local();
    this.f.set(t);
    return t;
  }

  /** Pushes a constant operand of `size` bytes as blocks hold it (int32 for 4, unsigned otherwise). */
  pushConst(size: number, v: number): void {
    this.f.i32(size === 4 ? v | 0 : size === 2 ? v & 0xffff : v & 0xff);
  }

  /** Pushes `value` truncated to `size` bytes (a no-op for 4). */
  truncate(size: number): void {
    if (size !== 4) this.f.i32(size === 2 ? 0xffff : 0xff).op(OP.i32And);
  }

  // ---- memory ----

  /**
   * With a linear address (flat segment) on the stack: sets `ph` to its physical address under the A20 mask and
   * leaves for the interpreter unless `size` bytes there are RAM on pages whose flags allow the access inline (loads:
   * no MMIO or read watch; stores: no flag at all, so code, watched, ROM and MMIO pages take the interpreter's path).
   * With paging on the linear address goes through the TLB first, as the JS blocks' inline path does
   * (jit/emitter.ts physical): an entry without the right this access needs (a miss, a write to a clean or
   * read-only page, a user access to a supervisor page), or an access crossing into the next linear page, leaves
   * for the interpreter too, whose walk sets the accessed and dirty bits or raises the page fault at this
   * instruction (SDM 3A §4.7, §4.8).
   * All the tests are one condition with one exit (about 120 bytes an access instead of 200 with an exit per test:
   * most of a lukewarm block's code, which V8 compiles once or twice for a few thousand runs). Its parts are
   * computed whatever the others say: after a TLB miss the physical address is made of whatever the entry held,
   * and the page flag byte is read at `memSize + (ph >>> 12)` even past RAM, which stays inside the wasm memory
   * (the flags, state, TLB and link areas follow RAM, more than 2^20 bytes: bus/memory.ts), and leaves anyway.
   */
  checkAccess(size: number, write: boolean): void {
    const f = this.f;
    const ph = this.ph;
    f.set(ph);
    if (this.paging !== null) {
      const t = this.tlbEntry;
      f.get(ph).i32(12).op(OP.i32ShrU).i32(2).op(OP.i32Shl).mem(OP.i32Load, this.paging.tlb).tee(t);
      f.i32(this.paging.readRight << (write ? 1 : 0)).op(OP.i32And).op(OP.i32Eqz);
      if (size > 1) f.get(ph).i32(4095).op(OP.i32And).i32(4096 - size).op(OP.i32GtU).op(OP.i32Or);
      f.get(t).i32(-4096).op(OP.i32And).get(ph).i32(4095).op(OP.i32And).op(OP.i32Or);
    } else f.get(ph);
    f.get(P_A20).op(OP.i32And).tee(ph);
    f.i32(this.memSize - size).op(OP.i32GtU);
    if (this.paging !== null) f.op(OP.i32Or);
    f.get(ph).i32(12).op(OP.i32ShrU).mem(OP.i32Load8U, this.memSize);
    // Under paging the access lies in one page (tested above); without, its last byte's page is tested too.
    if (size > 1 && this.paging === null) {
      f.get(ph).i32(size - 1).op(OP.i32Add).i32(12).op(OP.i32ShrU).mem(OP.i32Load8U, this.memSize).op(OP.i32Or);
    }
    if (!write) f.i32(PF_LOAD_SLOW).op(OP.i32And);
    f.op(OP.i32Or);
    this.open(OP.if);
    this.interpretHere();
    this.close();
  }

  /** Pushes the `size`-byte value at `ph` (after checkAccess), or at the physical address in local `at`. */
  load(size: number, at = this.ph): void {
    this.f.get(at).mem(size === 4 ? OP.i32Load : size === 2 ? OP.i32Load16U : OP.i32Load8U);
  }

  /** With `ph` then the value pushed: stores it. */
  store(size: number): void {
    this.f.mem(size === 4 ? OP.i32Store : size === 2 ? OP.i32Store16 : OP.i32Store8);
  }

  // ---- exits ----

  /** Stores the registers, and the flags with the pending record, in the state area (S_LMASK -1: none defined). */
  private storeState(forCall = false): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) f.i32(0).get(this.g[r]).mem(OP.i32Store, this.state + (S_REGS + r) * 4);
    const rec = this.pending;
    const slot = (s: number): number => this.state + s * 4;
    if (rec === null && this.stale === ARITH) {
      // No flag defined yet on this path: the flags this block was entered with stay as they are. At an exit, -1
      // says so (the dispatcher keeps the last block's that defined any, wasm/link.ts). Before an interpreter call
      // the state area is left as the block found it: -1 from the wrapper at a run's entry (the Cpu's flags stand),
      // or the flags and record of the block linked before this one, which the call must see.
      if (!forCall) f.i32(0).i32(-1).mem(OP.i32Store, slot(S_LMASK));
      return;
    }
    this.readsLocal(rec === null ? ARITH : ARITH & ~rec.mask);
    f.i32(0).get(this.flags).mem(OP.i32Store, this.state + S_FLAGS * 4);
    if (rec === null) {
      f.i32(0).i32(0).mem(OP.i32Store, slot(S_LMASK));
      return;
    }
    f.i32(0).i32(rec.op).mem(OP.i32Store, slot(S_LOP));
    f.i32(0).get(rec.a).mem(OP.i32Store, slot(S_LA));
    f.i32(0).get(rec.b).mem(OP.i32Store, slot(S_LB));
    f.i32(0).get(rec.r).mem(OP.i32Store, slot(S_LR));
    f.i32(0).i32(rec.size).mem(OP.i32Store, slot(S_LSIZE));
    f.i32(0);
    if (rec.cin === null) f.i32(0);
    else f.get(rec.cin);
    f.mem(OP.i32Store, slot(S_LCIN));
    f.i32(0).i32(rec.mask).mem(OP.i32Store, slot(S_LMASK));
  }

  /**
   * The shared exit (openExitTail): the locals an exit fills before it branches there — EIP, the retired count and
   * the pending record (mask -1: no flag defined, 0: eager flags) —, the index of the instruction an exit before it
   * leaves to the interpreter, or null while exits store the state inline.
   */
  private tail: {
    depth: number;
    interpretDepth: number;
    eip: number;
    n: number;
    k: number;
    op: number;
    a: number;
    b: number;
    r: number;
    size: number;
    cin: number;
    mask: number;
  } | null = null;

  /**
   * Opens the blocks whose ends are the function's one exit (closeExitTail): every exit then sets the tail's locals
   * and branches there instead of storing registers, flags and EIP inline (about 200 bytes each; a block with five
   * memory accesses has a dozen exits). Smaller functions are quicker for V8 to compile and to run. Exits before an
   * instruction the interpreter is to run (interpretHere) branch to the inner block's end, which stores that
   * instruction's index and counts the instructions before it, then goes on into the shared exit.
   */
  openExitTail(): void {
    const f = this.f;
    this.tail = {
      depth: 0,
      interpretDepth: 0,
      eip: f.local(),
      n: f.local(),
      k: f.local(),
      op: f.local(),
      a: f.local(),
      b: f.local(),
      r: f.local(),
      size: f.local(),
      cin: f.local(),
      mask: f.local(),
    };
    this.open(OP.block);
    this.tail.depth = this.depth;
    this.open(OP.block);
    this.tail.interpretDepth = this.depth;
  }

  /** Closes the tail's blocks (after the body's `unreachable`) and writes the shared exit. */
  closeExitTail(): void {
    const f = this.f;
    const t = this.tail!;
    const slot = (s: number): number => this.state + s * 4;
    this.close();
    // An exit before instruction k: k instructions of this pass retired; the wrapper runs k (its EIP is the
    // instruction's own, which the wrapper sets: S_EIP is not read after such an exit, block.ts runWasm).
    f.get(this.n).get(t.k).op(OP.i32Add).set(t.n);
    f.i32(0).get(t.k).mem(OP.i32Store, slot(S_INTERPRET));
    this.close();
    this.tail = null;
    for (let r = 0; r < 8; r++) f.i32(0).get(this.g[r]).mem(OP.i32Store, slot(S_REGS + r));
    f.i32(0).get(t.mask).mem(OP.i32Store, slot(S_LMASK));
    f.get(t.mask).i32(0).op(OP.i32GeS);
    f.open(OP.if);
    f.i32(0).get(this.flags).mem(OP.i32Store, slot(S_FLAGS));
    f.op(OP.end);
    f.get(t.mask).i32(0).op(OP.i32GtS);
    f.open(OP.if);
    f.i32(0).get(t.op).mem(OP.i32Store, slot(S_LOP));
    f.i32(0).get(t.a).mem(OP.i32Store, slot(S_LA));
    f.i32(0).get(t.b).mem(OP.i32Store, slot(S_LB));
    f.i32(0).get(t.r).mem(OP.i32Store, slot(S_LR));
    f.i32(0).get(t.size).mem(OP.i32Store, slot(S_LSIZE));
    f.i32(0).get(t.cin).mem(OP.i32Store, slot(S_LCIN));
    f.op(OP.end);
    f.i32(0).get(t.eip).mem(OP.i32Store, slot(S_EIP));
    f.get(t.n);
  }

  /** Sets the tail's record locals as storeState would store the pending record. */
  private recordToTail(): void {
    const f = this.f;
    const t = this.tail!;
    const rec = this.pending;
    if (rec === null && this.stale === ARITH) f.i32(-1).set(t.mask);
    else {
      this.readsLocal(rec === null ? ARITH : ARITH & ~rec.mask);
      if (rec === null) f.i32(0).set(t.mask);
      else {
        f.i32(rec.mask).set(t.mask).i32(rec.op).set(t.op).get(rec.a).set(t.a).get(rec.b).set(t.b).get(rec.r).set(t.r);
        f.i32(rec.size).set(t.size);
        if (rec.cin === null) f.i32(0);
        else f.get(rec.cin);
        f.set(t.cin);
      }
    }
  }

  /** An exit through the tail: its locals set as storeState would store them, then the branch. */
  private exitToTail(eip: () => void, retired: number): void {
    const f = this.f;
    const t = this.tail!;
    eip();
    f.set(t.eip);
    f.get(this.n);
    if (retired !== 0) f.i32(retired).op(OP.i32Add);
    f.set(t.n);
    this.recordToTail();
    f.br(OP.br, this.depth - t.depth);
  }

  /** Leaves with EIP = the value pushed by `eip`, after `n + retired` instructions. */
  exitWith(eip: () => void, retired: number): void {
    if (this.tail !== null) {
      this.exitToTail(eip, retired);
      return;
    }
    this.storeState();
    this.f.i32(0);
    eip();
    this.f.mem(OP.i32Store, this.state + S_EIP * 4);
    this.f.get(this.n);
    if (retired !== 0) this.f.i32(retired).op(OP.i32Add);
    this.f.op(OP.return);
  }

  exit(eip: number, retired: number): void {
    this.exitWith(() => this.f.i32(eip | 0), retired);
  }

  /** Leaves before the current instruction, which the wrapper runs in the interpreter. */
  interpretHere(): void {
    const t = this.tail;
    if (t !== null) {
      this.f.i32(this.k).set(t.k);
      this.recordToTail();
      this.f.br(OP.br, this.depth - t.interpretDepth);
      return;
    }
    this.f.i32(0).i32(this.k).mem(OP.i32Store, this.state + S_INTERPRET * 4);
    this.exit(this.cur.eip, this.k);
  }

  /**
   * Runs the current instruction through its interpreter handler (wasm/callout.ts) and goes on after it with the
   * registers and eager flags the handler left, or leaves after it when the call says so (the call has stored EIP
   * and the flags for the exit).
   */
  callInterpreter(): void {
    const f = this.f;
    this.callsInterpreter = true;
    this.storeState(true);
    f.i32(this.k).get(this.n);
    if (this.k !== 0) f.i32(this.k).op(OP.i32Add);
    f.call(0);
    this.open(OP.if);
    f.get(this.n).i32(this.k + 1).op(OP.i32Add).op(OP.return);
    this.close();
    for (let r = 0; r < 8; r++) f.i32(0).mem(OP.i32Load, this.state + (S_REGS + r) * 4).set(this.g[r]);
    f.i32(0).mem(OP.i32Load, this.state + S_FLAGS * 4).set(this.flags);
    this.pending = null;
    this.stale = 0;
  }

  /**
   * Sets the flags in `mask` to the bits `values` pushes (Cpu.setFlagBits): the pending record is folded first
   * unless the mask covers all its flags.
   */
  setFlagBits(mask: number, values: () => void): void {
    if (this.pending !== null && (this.pending.mask & ~mask) !== 0) this.fold();
    this.pending = null;
    this.f.get(this.flags).i32(~mask).op(OP.i32And);
    values();
    this.f.op(OP.i32Or).set(this.flags);
    this.stale &= ~mask;
  }

  /**
   * Before an instruction that writes a flag outside the lazy record (DF, IF): an exit stores the flags local only
   * once the block has defined an arithmetic flag (storeState), so a block that has defined none takes its
   * arithmetic flags as the Cpu had them (folded at entry: readsLocal) and defines them all from here on. A pending
   * record stays pending.
   */
  ownFlags(): void {
    if (this.pending === null && this.stale === ARITH) {
      this.readsLocal(ARITH);
      this.stale = 0;
    }
  }

  /** Folds the pending record into the flags local, for the code that follows (generation state too). */
  fold(): void {
    if (this.pending !== null) {
      foldRecord(this.f, this.flags, this.pending, this.readsLocal);
      this.stale &= ~this.pending.mask;
    }
    this.pending = null;
  }

  /**
   * A taken branch to the constant `target`: a branch back to the block's start repeats the block while a whole
   * pass still fits the budget (as the JS blocks do, jit/ops.ts branchTo), else the block leaves.
   */
  branchTo(target: number): void {
    const f = this.f;
    if (target === this.instrs[0].eip && this.loopDepth >= 0) {
      const len = this.instrs.length;
      f.get(this.n).i32(this.k + 1).op(OP.i32Add).set(this.n);
      f.get(P_LEFT).get(this.n).op(OP.i32Sub).i32(len).op(OP.i32GeS);
      this.open(OP.if);
      // The next pass starts with eager flags, as the first did; the record stays pending on the way out.
      if (this.pending !== null) foldRecord(f, this.flags, this.pending, this.readsLocal);
      f.br(OP.br, this.depth - this.loopDepth);
      this.close();
      this.exit(target, 0);
      return;
    }
    this.exit(target, this.k + 1);
  }
}

export { OP, RESULT_I32, VOID, P_LEFT };
