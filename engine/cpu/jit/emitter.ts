// The source builder for one block: emitted lines, constants handed to the generated function, the lazy-flag record
// that is pending at each point, and the paths every instruction shares (registers, effective addresses, memory,
// exits, faults).
//
// Flags. Within a block, an ALU instruction's flag record (operation, operands, result) lives in locals named after
// the instruction; `pending` says which instruction's record is the current one and not yet stored into the Cpu's
// lazy fields. Flag readers that follow a pending record in the same block test the locals directly (`dec ecx; jnz`
// becomes `r9 !== 0`). An eager setter (a rotate) computes the record's other flags only when something could see
// them before a later instruction redefines them (deadLater). The record is stored into the Cpu (the same fields
// Cpu.setLazyFlags writes) at every exit, before every call into an interpreter handler, and — through the catch — when
// an instruction faults, so the state after any exit equals the interpreter's.
//
// Values. A 32-bit value (a register, an operand, a result, a load) is an int32 in generated code, never the
// unsigned number: unoptimised code (Ignition, Sparkplug) keeps int32s as small integers but allocates a heap
// number for every unsigned value at or above 2^31, and blocks run unoptimised until TurboFan takes them. Unsigned
// comparisons flip the sign bit (unsignedLess); the Cpu's lazy fields get unsigned values (storeLazyFlags). 8- and
// 16-bit values are unsigned, as small integers either way.
//
// Registers. The general registers live in locals g0–g7 (int32) for the whole block; they are stored back into
// cpu.regs at every exit, in the catch, and around calls into interpreter handlers (which then reload them).
// Every instruction writes its registers only after its last check that can fault, so the locals always hold the
// state before the instruction that faults.
//
// Loops. A block that branches back to its own start repeats inside the function. The flag record pending at the
// back edge stays in its locals: until the next pass sets a record of its own, the pending record is "the
// loop-carried one if this is a repeat pass (lp), else the Cpu's" (pending === LOOP_CARRIED).
//
// Hoisted checks. In a block that repeats, an access whose address depends only on registers the block's own code
// never writes (EBX in `mov [ebx+8], edi` of a loop that leaves EBX alone) has the same physical address and the
// same inline test result in every pass, as long as nothing the test reads changes: the registers, the page flags
// (code, watch and MMIO bits), the TLB, and the segment window, A20 mask and memory size the block holds as
// constants for its run. Only calls change those: interpreter handlers (which may also write registers) and the
// out-of-line memory paths (a TLB fill may empty the TLB, a device may map MMIO). So such an access's physical
// address and test are computed once before the loop, again after every handler call, and after an out-of-line
// access when the page flags or the TLB may have lost something since (Memory.flagsGeneration, Tlb.generation;
// `/*recheck-if-changed*/`, resolved at assembly). An access that took its own out-of-line path
// computes its own test again (a TLB fill or an SMC drop may have made it inline). In the loop the access is one
// test of a boolean; when that is false, it takes the out-of-line path as before. bench-loop's five accesses went
// from 3 tests and a page-flag load each per pass to one branch each (docs/speed-history.md, "What made the
// difference"). Recomputing everything after every out-of-line access instead cost GRUB 7–10 %: its LZMA loops keep
// variables beside their code, so those stores always take the out-of-line path.
//
// Faults. Only calls can fault: the out-of-line memory path (slow.ts) and interpreter handlers. Before each such
// call the block stores its registers and the pending flag record into the Cpu and sets `cpu.instrStart` and
// `cpu.jitRetired` (the instructions retired before this one), so the state a fault sees is the interpreter's and
// the fault propagates straight to the run loop: the generated function has no try/catch, and each record's
// locals live only until the next record replaces it (a catch that could store any record would keep them all
// alive through the whole block, which is what made TurboFan's compiles slow).

import { AF, ARITH, ARITH_NO_CF, CF, LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_NEG, LOP_SUB, OF, PF, SF, ZF } from '../flags';
import type { Instr } from '../decode/instr';
import { PF_LOAD_SLOW } from '../../bus/memory';

/** Placeholders replaced once the block's register use is known: store registers back / load them again. */
export const STORE_REGS = '/*store-regs*/';
export const LOAD_REGS = '/*load-regs*/';
/** Placeholder after an out-of-line access: the hoisted checks again if page flags or the TLB changed meanwhile. */
export const RECHECK_IF_CHANGED = '/*recheck-if-changed*/';
/** Most accesses one block hoists (each costs a recomputation at every call). */
const MAX_HOISTED = 8;

/** An access whose physical address and inline test are computed before a repeating block's loop (Hoisted checks). */
interface HoistedAccess {
  /** Locals: the physical address and the test's result. */
  ph: string;
  ok: string;
  /** Source computing both from the current register locals. */
  compute: string;
}

/** `pending` value: at the top of a repeating block, before its first flag setter (see "Loops" above). */
export const LOOP_CARRIED = -2;

/** One instruction's lazy flag record, as locals of the generated function. */
export interface FlagRecord {
  op: number;
  size: number;
  a: string;
  b: string;
  r: string;
  cin: string;
  /** ARITH, or ARITH_NO_CF for INC/DEC (CF then lives in cpu.flags). */
  mask: number;
}

export interface BlockInstr {
  i: Instr;
  /** EIP of the instruction and of the one after it. */
  eip: number;
  next: number;
}

const SS = 2;

export function sizeMaskLiteral(size: number): string {
  return size === 4 ? '0xffffffff' : size === 2 ? '0xffff' : '0xff';
}

function signLiteral(size: number): string {
  return size === 4 ? '0x80000000' : size === 2 ? '0x8000' : '0x80';
}

/**
 * Masks an expression to a value of `size` bytes: int32 for 4 bytes (see "Values" above), unsigned for 1 and 2.
 */
export function truncateExpr(e: string, size: number): string {
  return size === 4 ? `((${e}) | 0)` : `((${e}) & ${sizeMaskLiteral(size)})`;
}

/** The int32 that flips the sign bit: `(a ^ MIN) < (b ^ MIN)` compares int32s as unsigned 32-bit values. */
const MIN = '-2147483648';

/** `a < b` (or `<=`) of two values of `size` bytes as unsigned numbers. */
function unsignedLess(a: string, b: string, size: number, orEqual = false): string {
  const op = orEqual ? '<=' : '<';
  return size === 4 ? `((${a} ^ ${MIN}) ${op} (${b} ^ ${MIN}))` : `(${a} ${op} ${b})`;
}

/** Sign-extends an unsigned `size`-byte expression to a signed int32. */
export function signedExpr(e: string, size: number): string {
  return size === 4 ? `((${e}) | 0)` : size === 2 ? `((${e}) << 16 >> 16)` : `((${e}) << 24 >> 24)`;
}

export class Emitter {
  readonly lines: string[] = [];
  private readonly constNames = new Map<unknown, string>();
  readonly consts: unknown[] = [];
  /** Index of the instruction whose flag record is current and not yet stored, or -1 (the Cpu's fields are current). */
  pending = -1;
  readonly records: (FlagRecord | undefined)[] = [];
  /** Per instruction index: the pending record index at its start (what the catch must store if it faults). */
  readonly pendingAtStart: number[] = [];
  readonly locals = new Set<string>(['ph', 't']);
  /** Segment registers whose base and windows the block reads. */
  readonly segments = new Set<number>();
  /** Index of the instruction being emitted. */
  k = 0;
  /** Registers the block reads or writes (their locals are loaded at entry). */
  readonly usedRegs = new Set<number>();
  /** Registers the block writes (stored back at exits). */
  readonly writtenRegs = new Set<number>();
  /** The record pending at the back edge of a repeating block (from a first emission pass), or -1. */
  loopCarried = -1;
  /** That record (its locals are the same in every pass). */
  carriedRecord: FlagRecord | null = null;
  /** Set when the block branches back to its start: the pending record at that branch. */
  backEdgePending: number | null = null;
  /**
   * Registers the block's own code never writes, in a block that repeats (from a first emission pass, compile.ts):
   * accesses addressed by these alone are hoisted (see "Hoisted checks"). Null: nothing is hoisted.
   */
  invariantRegs: Set<number> | null = null;
  /** The hoisted accesses by key (segment, address expression, size, direction). */
  readonly hoisted = new Map<string, HoistedAccess>();
  /** The address expression (Emitter.ea) last emitted, and the offset locals assigned from an invariant one. */
  private lastEa = '';
  private readonly invariantOffsets = new Map<string, string>();
  /** The Cpu's lazyMask is known to be 0 here (an eager setter just folded the record). */
  private cpuLazyClear = false;
  /**
   * For the dead-flag analysis: the arithmetic flags instruction `i` redefines without reading any flag, faulting or
   * leaving the block (0 for an instruction that leaves flags alone and cannot fault), or -1 when it may observe
   * flags (reads them, may fault or exit, calls a handler, ends the block). Set by the compiler.
   */
  flagEffect: (i: Instr) => number = () => -1;
  /** The CPU model's CPUID feature bits (model.ts), for forms that exist only on some models. Set by the compiler. */
  features = 0;
  /**
   * The Cpu's memory size is a power of two (16 or 128 MiB, as machines are usually given): then one AND tests an
   * access's alignment and its bounds together (rangeTest). Set by the compiler.
   */
  memPow2 = false;

  constructor(
    readonly instrs: BlockInstr[],
    readonly paging: boolean,
    readonly stack32: boolean,
    /** CPL 3 (with paging: the TLB's user rights apply). */
    readonly user = false,
    /** Segment registers (bits by number) flat for reads and writes under the block's key (keyFlatSegments). */
    readonly flat = 0,
  ) {}

  get cur(): BlockInstr {
    return this.instrs[this.k];
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  /** A value handed to the generated function (handlers, instructions, tables), by name. */
  constant(value: unknown): string {
    let name = this.constNames.get(value);
    if (name === undefined) {
      name = `K${this.consts.length}`;
      this.consts.push(value);
      this.constNames.set(value, name);
    }
    return name;
  }

  /** A local variable of the generated function, unique to the current instruction. */
  local(stem: string): string {
    const name = `${stem}${this.k}`;
    this.locals.add(name);
    return name;
  }

  // ---- registers ----

  /** The int32 local of 32-bit register n. */
  reg32(n: number): string {
    this.usedRegs.add(n);
    return `g${n}`;
  }

  /** Register n of `size` bytes, unsigned (n in SDM encoding; size 1 maps AL CL DL BL AH CH DH BH). */
  readReg(size: number, n: number): string {
    if (size === 4) return this.reg32(n);
    if (size === 2) return `(${this.reg32(n)} & 0xffff)`;
    if (n < 4) return `(${this.reg32(n)} & 0xff)`;
    return `((${this.reg32(n - 4)} >> 8) & 0xff)`;
  }

  /** Source that sets register n of `size` bytes to `value` (the other bytes of the register are kept). */
  writeRegSource(size: number, n: number, value: string): string {
    const full = size === 1 && n >= 4 ? n - 4 : n;
    const g = this.reg32(full);
    this.writtenRegs.add(full);
    if (size === 4) return `${g} = (${value}) | 0;`;
    if (size === 2) return `${g} = (${g} & -65536) | ((${value}) & 0xffff);`;
    if (n < 4) return `${g} = (${g} & -256) | ((${value}) & 0xff);`;
    return `${g} = (${g} & -65281) | (((${value}) & 0xff) << 8);`;
  }

  writeReg(size: number, n: number, value: string): void {
    this.emit(this.writeRegSource(size, n, value));
  }

  /** Source storing the written register locals into cpu.regs (resolved after emission). */
  storeRegsSource(): string {
    return [...this.writtenRegs].sort().map((n) => `R[${n}] = g${n};`).join(' ');
  }

  loadRegsSource(): string {
    return [...this.usedRegs].sort().map((n) => `g${n} = R[${n}];`).join(' ');
  }

  /** Effective address of the memory operand (Cpu.ea). */
  ea(i: Instr): string {
    const parts: string[] = [];
    if (i.disp !== 0 || (i.base < 0 && i.index < 0)) parts.push(String(i.disp));
    if (i.base >= 0) parts.push(this.reg32(i.base));
    if (i.index >= 0) parts.push(i.scale === 0 ? this.reg32(i.index) : `(${this.reg32(i.index)} << ${i.scale})`);
    const sum = parts.join(' + ');
    // int32 for a 32-bit address size (the memory paths take `>>> 0` where they need the unsigned offset).
    this.lastEa = i.as32 ? `((${sum}) | 0)` : `((${sum}) & 0xffff)`;
    return this.lastEa;
  }

  /**
   * The address expression of offset local `off` when it can be hoisted: `off` was just assigned the last
   * effective address (or was before, for the write of a read-modify-write), whose registers the block never writes.
   */
  private invariantOffset(off: string): string | null {
    if (this.invariantRegs === null) return null;
    const known = this.invariantOffsets.get(off);
    if (known !== undefined) return known;
    const expr = this.lastEa;
    if (expr === '' || this.lines[this.lines.length - 1] !== `${off} = ${expr};`) return null;
    const regs = expr.match(/\bg\d\b/g) ?? [];
    if (!regs.every((r) => this.invariantRegs!.has(Number(r.slice(1))))) return null;
    this.invariantOffsets.set(off, expr);
    return expr;
  }

  /**
   * The hoisted test for an access of `size` bytes at seg:`expr` (int32 or 16-bit offset), given the inline test
   * `fast` written in terms of `ph`, or null when the block hoists no more.
   */
  private hoist(seg: number, expr: string, size: number, write: boolean, fast: string): HoistedAccess | null {
    const key = `${seg}|${expr}|${size}|${write ? 'w' : 'r'}`;
    const known = this.hoisted.get(key);
    if (known !== undefined) return known;
    if (this.hoisted.size >= MAX_HOISTED) return null;
    const n = this.hoisted.size;
    const ph = `hp${n}`;
    const ok = `hk${n}`;
    let cond: string;
    let lin = expr;
    if ((this.flat & (1 << seg)) === 0) {
      this.segments.add(seg);
      const lo = write ? `WL${seg}` : `RL${seg}`;
      const hi = write ? `WH${seg}` : `RH${seg}`;
      const last = size - 1;
      cond = `(${expr} >>> 0) >= ${lo} && (${expr} >>> 0)${last ? ` + ${last}` : ''} <= ${hi} && `;
      lin = `B${seg} + ${expr}`;
    } else cond = '';
    cond += fast.split('ph').join(ph);
    const compute = `${this.physical(lin, write).split('ph').join(ph)} ${ok} = ${cond};`;
    const h = { ph, ok, compute };
    this.hoisted.set(key, h);
    this.locals.add(ph);
    this.locals.add(ok);
    return h;
  }

  /** Source computing every hoisted check again, or the empty string. */
  recheckSource(): string {
    return [...this.hoisted.values()].map((h) => h.compute).join(' ');
  }

  // ---- memory (Cpu.read8/16/32 and write8/16/32: inline for RAM, out of line for everything else) ----

  /**
   * Source that stores the block's state into the Cpu before a call that may fault or read it: the pending flag
   * record and the written registers (see "Faults" above). The locals stay as they are.
   */
  spill(): string {
    return `${this.storeRecord(this.pending)} ${STORE_REGS}`;
  }

  /**
   * The inline part of an access of `size` bytes at seg:`off` (`off` a local holding the offset as int32 or as a
   * 16-bit value): sets `ph` to the physical address and returns the condition under which the access may be done
   * inline, given `fast` (the alignment, RAM and page-flag tests on `ph`). A segment flat under the block's key
   * needs no window test and no base; another one gets its window tested here, and a failed test takes the
   * out-of-line path, whose Cpu accessor raises the fault.
   */
  private inline(seg: number, off: string, size: number, write: boolean, fast: string): string {
    if ((this.flat & (1 << seg)) !== 0) {
      this.emit(this.physical(off, write));
      return fast;
    }
    this.segments.add(seg);
    const lo = write ? `WL${seg}` : `RL${seg}`;
    const hi = write ? `WH${seg}` : `RH${seg}`;
    this.emit(this.physical(`B${seg} + ${off}`, write));
    const last = size - 1;
    return `(${off} >>> 0) >= ${lo} && (${off} >>> 0)${last ? ` + ${last}` : ''} <= ${hi} && ${fast}`;
  }

  /**
   * The test that physical address `ph` starts an aligned access of `size` bytes inside RAM (the -1 of a TLB miss
   * fails it). With a power-of-two memory size, AM (the prologue's `~(size - 1)`, compile.ts) has every bit an
   * address inside RAM lacks: `ph & (AM | size - 1)` is 0 only for an aligned address below the size — one AND and
   * one compare where the general form takes two compares, a conversion to unsigned and a branch more.
   */
  private rangeTest(size: number): string {
    if (this.memPow2) return size === 1 ? '(ph & AM) === 0' : `(ph & (AM | ${size - 1})) === 0`;
    if (size === 4) return '(ph & 3) === 0 && (ph >>> 0) <= MAX4';
    if (size === 2) return '(ph & 1) === 0 && (ph >>> 0) <= MAX2';
    return '(ph >>> 0) < MSZ';
  }

  /**
   * Emits `dest = <size-byte read at seg:off>` (int32 for 4 bytes, see "Values"): inline for aligned RAM that is
   * neither MMIO nor read-watched (PF_LOAD_SLOW, tested at every run, so a watch armed or disarmed while the block
   * is cached takes effect at its next access); otherwise the out-of-line path (slow.ts), which reports the load to
   * a watch as the interpreter does, after which the block leaves at the end of the instruction if the access asked
   * for attention (a watch's stop) or changed code (`x`).
   */
  read(seg: number, off: string, size: number, dest: string): void {
    const fast = `${this.rangeTest(size)} && (PFL[ph >>> 12] & ${PF_LOAD_SLOW}) === 0`;
    const load = (ph: string): string => (size === 4 ? `I32[${ph} >> 2]` : size === 2 ? `U16[${ph} >> 1]` : `U8[${ph}]`);
    const expr = this.invariantOffset(off);
    const h = expr === null ? null : this.hoist(seg, expr, size, false, fast);
    if (h !== null) this.emit(`if (${h.ok}) ${dest} = ${load(h.ph)};`);
    else this.emit(`if (${this.inline(seg, off, size, false, fast)}) ${dest} = ${load('ph')};`);
    this.emit(`else { ${this.outOfLine()} ${dest} = RD(c, ${seg}, ${off}, ${size}, ${this.cur.eip}, n + ${this.k}); ${this.askedSource(h)} }`);
  }

  /** Emits a store of `value` (a local or literal) to seg:off; as `read`, with the write window. */
  write(seg: number, off: string, size: number, value: string): void {
    const fast = `${this.rangeTest(size)} && PFL[ph >>> 12] === 0`;
    const store = (ph: string): string =>
      size === 4 ? `I32[${ph} >> 2] = ${value}` : size === 2 ? `U16[${ph} >> 1] = ${value}` : `U8[${ph}] = ${value}`;
    const expr = this.invariantOffset(off);
    const h = expr === null ? null : this.hoist(seg, expr, size, true, fast);
    if (h !== null) this.emit(`if (${h.ok}) ${store(h.ph)};`);
    else this.emit(`if (${this.inline(seg, off, size, true, fast)}) ${store('ph')};`);
    this.emit(`else { ${this.outOfLine()} WR(c, ${seg}, ${off}, ${size}, ${value}, ${this.cur.eip}, n + ${this.k}); ${this.askedSource(h)} }`);
  }

  /**
   * Before an out-of-line access: registers and flags spilled, and EIP on the next instruction, as the interpreter
   * has them while it executes this one. A data watch's hit is reported from inside the access, and what it looks
   * at (a debugger's condition on EIP or a register) must be what it sees there under the interpreter. A fault
   * puts EIP back on the instruction (the run loop's fault path).
   */
  private outOfLine(): string {
    return `${this.spill()} c.eip = ${this.cur.next};`;
  }

  /** After an out-of-line access: the block leaves after this instruction if it asked for attention or hit code. */
  private askedSource(h: HoistedAccess | null): string {
    const own = h === null ? '' : ` ${h.compute}`;
    return `if ((c.attention && c.blockMustLeave()) || c.codeEpoch !== E) x = 1;${own} ${RECHECK_IF_CHANGED}`;
  }

  /**
   * Source setting `ph` to the physical address of the linear address `lin`, or to -1 (which fails every inline
   * test, so the out-of-line path runs) when paging is on and the TLB holds no translation with the right this
   * access needs (tlb.ts: a write right only once the page is dirty, user rights at CPL 3). A walk, a page fault,
   * A/D updates: all out of line, through the Cpu read and write methods.
   */
  private physical(lin: string, write: boolean): string {
    if (!this.paging) return `ph = (${lin}) & A20;`;
    const need = (write ? 2 : 1) << (this.user ? 2 : 0);
    return `ph = (${lin}) | 0; t = TLB[ph >>> 12]; ph = (t & ${need}) !== 0 ? ((t & -4096) | (ph & 4095)) & A20 : -1;`;
  }

  /**
   * Source that makes guest time right for a device the current instruction may reach (issue 16). The block adds
   * the instructions it retired to `icount` only when it returns, so on an out-of-line path (memory-mapped I/O:
   * the local APIC's timer count, a store that arms a timer) `jitRetired` holds those retired before this
   * instruction in this run of the block, and the devices' clock (Machine's scheduler: icount + jitRetired) sees
   * the time the interpreter's would. Without it a device read or armed time as of the block's entry, and since
   * where blocks run depends on where slices end, guest time depended on the slicing. The caller sets it back to 0
   * after the access; a fault leaves it, as the run loop's fault path expects.
   */
  deviceTime(): string {
    return `c.jitRetired = n + ${this.k};`;
  }

  /** Stack pointer value (SP or ESP by the block's stack width). */
  readSp(): string {
    return this.stack32 ? this.reg32(4) : `(${this.reg32(4)} & 0xffff)`;
  }

  /** Stack offset `sp + delta` wrapped to the stack width. */
  spPlus(sp: string, delta: number): string {
    return this.stack32 ? `((${sp} + ${delta}) | 0)` : `((${sp} + ${delta}) & 0xffff)`;
  }

  writeSp(value: string): void {
    this.writeReg(this.stack32 ? 4 : 2, 4, value);
  }

  /** PUSH of `size` bytes: the store first, ESP after it succeeded (Cpu.push). `value` must not read ESP later. */
  push(size: number, value: string): void {
    const sp = this.local('s');
    this.emit(`${sp} = ${this.spPlus(this.readSp(), -size)};`);
    this.write(SS, sp, size, value);
    this.writeSp(sp);
  }

  // ---- flags ----

  /** Records the current instruction's lazy flags (Cpu.setLazyFlags / setLazyFlagsKeepCF). */
  setRecord(rec: FlagRecord): void {
    if (rec.mask === ARITH_NO_CF) {
      // INC/DEC keep CF: fold a pending CF into cpu.flags first (setLazyFlagsKeepCF).
      const fromCpu = 'if ((c.lazyMask & 1) !== 0) { c.flags = (c.flags & ~1) | (c.getCF() ? 1 : 0); c.lazyMask = 0; }';
      const fromRecord = (prev: FlagRecord): string =>
        (prev.mask & CF) !== 0 ? `c.flags = (c.flags & ~1) | (${this.flagExpr(prev, CF)} ? 1 : 0);` : '';
      // A CF that later instructions redefine before anything can see it need not be folded (deadLater): the
      // record keeps it, or cpu.flags holds a stale one under this record's mask, as for the flags setFlagBits drops.
      if (!this.deadAfterThis(CF)) {
        if (this.pending >= 0) this.emit(fromRecord(this.records[this.pending]!));
        else if (this.pending === LOOP_CARRIED) this.emit(`if (lp) { ${fromRecord(this.carriedRecord!)} } else { ${fromCpu} }`);
        else if (!this.cpuLazyClear) this.emit(fromCpu);
      }
    }
    this.records[this.k] = rec;
    this.pending = this.k;
    this.cpuLazyClear = false;
  }

  /**
   * Whether the flags in `bits` are redefined by later instructions of this block before anything can observe
   * them (a read, a fault, an exit): then an eager setter need not compute them from the pending record.
   */
  private deadLater(bits: number): boolean {
    let left = bits;
    for (let j = this.k + 1; j < this.instrs.length && left !== 0; j++) {
      const effect = this.flagEffect(this.instrs[j].i);
      if (effect < 0) return false;
      left &= ~effect;
    }
    return left === 0;
  }

  /**
   * deadLater, for flags the current instruction sets: only when it cannot itself leave the block afterwards (a
   * memory form leaves after its access when that asked for attention: a delivery there, an interrupt's push of
   * EFLAGS, would see the flags), i.e. when the dead-flag analysis counts it as one that cannot fault or leave.
   */
  deadAfterThis(bits: number): boolean {
    return this.flagEffect(this.cur.i) >= 0 && this.deadLater(bits);
  }

  /** Stores the pending record into the Cpu (source text; empty when nothing is pending). */
  storeRecord(index: number): string {
    if (index === LOOP_CARRIED) return `if (lp) { ${this.storeRecordObject(this.carriedRecord!)} }`;
    if (index < 0) return '';
    return this.storeRecordObject(this.records[index]!);
  }

  private storeRecordObject(r: FlagRecord): string {
    return `LZ(c, ${r.op}, ${r.a}, ${r.b}, ${r.r}, ${r.cin}, ${r.size}, ${r.mask});`;
  }

  /** Stores the pending record now (before an interpreter handler runs or an exit). */
  flush(): void {
    const s = this.storeRecord(this.pending);
    if (s) this.emit(s);
    this.pending = -1;
    this.cpuLazyClear = false;
  }

  /** One flag of a record, as a boolean expression (computeLazyFlags, specialised; int32 values for 4 bytes). */
  flagExpr(rec: FlagRecord, flag: number): string {
    const { op, a, b, r, cin, size } = rec;
    const sign = signLiteral(size);
    const adding = op === LOP_ADD || op === LOP_INC;
    const negative = (e: string): string => (size === 4 ? `((${e}) < 0)` : `(((${e}) & ${sign}) !== 0)`);
    switch (flag) {
      case ZF:
        return `(${r} === 0)`;
      case SF:
        return negative(r);
      case PF:
        return `(PARITY[${r} & 0xff] === 1)`;
      case CF:
        if ((rec.mask & CF) === 0) return '((c.flags & 1) !== 0)';
        if (op === LOP_LOGIC) return 'false';
        if (op === LOP_NEG) return `(${b} !== 0)`; // NEG sets CF unless the source is 0 (SDM 2B, NEG)
        if (size === 4) {
          // The carry out of a + b (+ 1): the result wrapped below a (to a or below with a carry in); the borrow of
          // a − b (− 1): a below b (or equal with a borrow in).
          const strict = adding ? unsignedLess(r, a, 4) : unsignedLess(a, b, 4);
          if (cin === '0') return strict;
          return `(${cin} !== 0 ? ${adding ? unsignedLess(r, a, 4, true) : unsignedLess(a, b, 4, true)} : ${strict})`;
        }
        if (adding) return `(${a} + ${b} + ${cin} > ${sizeMaskLiteral(size)})`;
        return `(${a} < ${b} + ${cin})`;
      case OF:
        if (op === LOP_LOGIC) return 'false';
        if (adding) return negative(`(${a} ^ ${r}) & (${b} ^ ${r})`);
        return negative(`(${a} ^ ${b}) & (${a} ^ ${r})`);
      case AF:
        if (op === LOP_LOGIC) return 'false';
        return `(((${a} ^ ${b} ^ ${r}) & 0x10) !== 0)`;
    }
    throw new Error(`flagExpr: not an arithmetic flag ${flag}`);
  }

  /** A flag-reading expression at this point: from the pending record, from the Cpu, or either (loop-carried). */
  private byPending(fromRecord: (rec: FlagRecord) => string, fromCpu: string): string {
    if (this.pending >= 0) return fromRecord(this.records[this.pending]!);
    if (this.pending === LOOP_CARRIED) return `(lp ? ${fromRecord(this.carriedRecord!)} : ${fromCpu})`;
    return fromCpu;
  }

  /** CF as a boolean expression at this point. */
  cf(): string {
    return this.byPending((rec) => this.flagExpr(rec, CF), 'c.getCF()');
  }

  /** ZF as a boolean expression at this point. */
  zf(): string {
    return this.byPending((rec) => this.flagExpr(rec, ZF), 'c.getZF()');
  }

  /** Condition code cc (Cpu.condition) as a boolean expression at this point. */
  condition(cc: number): string {
    return this.byPending((rec) => this.recordCondition(rec, cc), `c.condition(${cc})`);
  }

  private recordCondition(rec: FlagRecord, cc: number): string {
    const neg = (cc & 1) !== 0;
    let e: string | null = null;
    if (rec.op === LOP_SUB && rec.cin === '0' && (rec.mask & CF) !== 0) {
      // CMP/SUB: compare the operands themselves (unless a CLC/STC/CMC since has taken CF out of the record).
      const sa = signedExpr(rec.a, rec.size);
      const sb = signedExpr(rec.b, rec.size);
      switch (cc >> 1) {
        case 1: e = unsignedLess(rec.a, rec.b, rec.size); break;
        case 2: e = `(${rec.a} === ${rec.b})`; break;
        case 3: e = unsignedLess(rec.a, rec.b, rec.size, true); break;
        case 6: e = `(${sa} < ${sb})`; break;
        case 7: e = `(${sa} <= ${sb})`; break;
      }
    }
    if (e === null) {
      const f = (flag: number): string => this.flagExpr(rec, flag);
      switch (cc >> 1) {
        case 0: e = f(OF); break;
        case 1: e = f(CF); break;
        case 2: e = f(ZF); break;
        case 3: e = `(${f(CF)} || ${f(ZF)})`; break;
        case 4: e = f(SF); break;
        case 5: e = f(PF); break;
        case 6: e = `(${f(SF)} !== ${f(OF)})`; break;
        default: e = `(${f(ZF)} || ${f(SF)} !== ${f(OF)})`; break;
      }
    }
    return neg ? `!${e}` : e;
  }

  /**
   * Sets the flags in `mask` eagerly to the bits of `values` (Cpu.setFlagBits): pending lazy flags outside `mask`
   * are computed first, the rest of the record is dropped.
   */
  setFlagBits(mask: number, values: string): void {
    // Every flag this sets is redefined by later instructions of the block before anything can observe it (a read,
    // a fault, an exit): nothing to compute or store. The pending record (or the Cpu's) stays as it is; its flags
    // outside `mask` are still the current ones, and those inside are dead too. IMUL's and the shifts' eager flags
    // are mostly this (an ADD or a CMP after them), and each cost a read-modify-write of cpu.flags.
    if (this.deadAfterThis(mask)) return;
    const fromCpu = `c.setFlagBits(${mask}, ${values});`;
    const fromRecord = (rec: FlagRecord): string => {
      let keep = rec.mask & ~mask;
      // Flags of the record that later instructions overwrite unseen need not be computed (they are left stale
      // in cpu.flags, under the later record's lazy mask).
      if (this.deadAfterThis(keep)) keep = 0;
      let bits = '';
      for (const flag of [CF, PF, AF, ZF, SF, OF]) {
        if ((keep & flag) !== 0) bits += ` | (${this.flagExpr(rec, flag)} ? ${flag} : 0)`;
      }
      return `c.flags = (c.flags & ${~(mask | keep)}) | (${values})${bits}; c.lazyMask = 0;`;
    };
    const known = this.pending >= 0;
    if (this.pending >= 0) this.emit(fromRecord(this.records[this.pending]!));
    else if (this.pending === LOOP_CARRIED) this.emit(`if (lp) { ${fromRecord(this.carriedRecord!)} } else { ${fromCpu} }`);
    else this.emit(fromCpu);
    this.pending = -1;
    this.cpuLazyClear = known;
  }

  // ---- exits ----

  /** Source that leaves the block with EIP = `eip` after `retired` (an expression) instructions. */
  exitSource(eip: string, retired: string): string {
    return `c.eip = ${eip}; ${STORE_REGS} ${this.storeRecord(this.pending)} return ${retired};`;
  }

  /** After an instruction with a slow memory path: leave if that path asked to (SMC, attention). */
  exitIfAsked(): void {
    this.emit(`if (x !== 0) { ${this.exitSource(String(this.cur.next), `n + ${this.k + 1}`)} }`);
  }
}

export { ARITH, ARITH_NO_CF, LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_NEG, LOP_SUB };
