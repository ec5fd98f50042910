// The source builder for one block: emitted lines, constants handed to the generated function, the lazy-flag record
// that is pending at each point, and the paths every instruction shares (registers, effective addresses, memory,
// exits, faults).
//
// Flags. Within a block, an ALU instruction's flag record (operation, operands, result) lives in locals named after
// the instruction; `pending` says which instruction's record is the current one and not yet stored into the Cpu's
// lazy fields. Flag readers that follow a pending record in the same block test the locals directly (`dec ecx; jnz`
// becomes `r9 !== 0`). The record is stored into the Cpu (the same fields Cpu.setLazyFlags writes) at every exit,
// before every call into an interpreter handler, and — through the catch — when an instruction faults, so the
// state after any exit equals the interpreter's.
//
// Faults. `p` holds the index of the instruction that may fault next; the catch turns it into `cpu.instrStart` and
// the count of instructions retired before it, and stores the flag record pending at that point.

import { AF, ARITH, ARITH_NO_CF, CF, LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_NEG, LOP_SUB, OF, PF, SF, ZF } from '../flags';
import type { Instr } from '../decode/instr';

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

/** Masks an expression to an unsigned value of `size` bytes. */
export function truncateExpr(e: string, size: number): string {
  return size === 4 ? `((${e}) >>> 0)` : `((${e}) & ${sizeMaskLiteral(size)})`;
}

/** Sign-extends an unsigned `size`-byte expression to a signed int32. */
export function signedExpr(e: string, size: number): string {
  return size === 4 ? `((${e}) | 0)` : size === 2 ? `((${e}) << 16 >> 16)` : `((${e}) << 24 >> 24)`;
}

/** Byte index of 8-bit register n (AL CL DL BL AH CH DH BH) in the regs8 view. */
function byteIndex(n: number): number {
  return n < 4 ? n << 2 : ((n - 4) << 2) + 1;
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
  readonly locals = new Set<string>(['o', 'ph', 'v', 't']);
  /** Segment registers whose base and windows the block reads. */
  readonly segments = new Set<number>();
  /** Index of the instruction being emitted. */
  k = 0;

  constructor(
    readonly instrs: BlockInstr[],
    readonly paging: boolean,
    readonly stack32: boolean,
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

  readReg(size: number, n: number): string {
    if (size === 4) return `(R[${n}] >>> 0)`;
    if (size === 2) return `R16[${n << 1}]`;
    return `R8[${byteIndex(n)}]`;
  }

  writeReg(size: number, n: number, value: string): void {
    if (size === 4) this.emit(`R[${n}] = ${value};`);
    else if (size === 2) this.emit(`R16[${n << 1}] = ${value};`);
    else this.emit(`R8[${byteIndex(n)}] = ${value};`);
  }

  /** Effective address of the memory operand (Cpu.ea). */
  ea(i: Instr): string {
    const parts: string[] = [];
    if (i.disp !== 0 || (i.base < 0 && i.index < 0)) parts.push(String(i.disp));
    if (i.base >= 0) parts.push(`R[${i.base}]`);
    if (i.index >= 0) parts.push(i.scale === 0 ? `R[${i.index}]` : `(R[${i.index}] << ${i.scale})`);
    const sum = parts.join(' + ');
    return i.as32 ? `((${sum}) >>> 0)` : `((${sum}) & 0xffff)`;
  }

  // ---- faults ----

  /** Marks the current instruction as one that may fault from here on. */
  mayFault(): void {
    this.emit(`p = ${this.k};`);
  }

  // ---- memory (Cpu.read8/16/32 and write8/16/32 with their checks, inline for RAM without paging) ----

  private useSegment(seg: number): void {
    this.segments.add(seg);
  }

  /** Emits `dest = <size-byte read at seg:off>` (unsigned). `off` must be a local. */
  read(seg: number, off: string, size: number, dest: string): void {
    this.mayFault();
    const start = this.cur.eip;
    const method = size === 4 ? 'read32' : size === 2 ? 'read16' : 'read8';
    const unsigned = size === 4 ? ' >>> 0' : '';
    if (this.paging) {
      this.emit(`c.instrStart = ${start}; ${dest} = c.${method}(${seg}, ${off})${unsigned}; if (c.attention || c.codeEpoch !== E) x = 1;`);
      return;
    }
    this.useSegment(seg);
    const last = size - 1;
    this.emit(`if (${off} < RL${seg} || ${off}${last ? ` + ${last}` : ''} > RH${seg}) c.accessFault(${seg}, ${off}, ${size}, false);`);
    this.emit(`ph = (B${seg} + ${off}) & A20;`);
    let fast: string;
    if (size === 4) fast = `(ph & 3) === 0 && ph >= 0 && ph <= MAX4 && (PFL[ph >>> 12] & 8) === 0) ${dest} = I32[ph >> 2] >>> 0;`;
    else if (size === 2) fast = `(ph & 1) === 0 && ph >= 0 && ph <= MAX2 && (PFL[ph >>> 12] & 8) === 0) ${dest} = U16[ph >> 1];`;
    else fast = `ph >= 0 && ph < MSZ && (PFL[ph >>> 12] & 8) === 0) ${dest} = U8[ph];`;
    this.emit(`if (${fast}`);
    this.emit(`else { c.instrStart = ${start}; ${dest} = c.${method}(${seg}, ${off})${unsigned}; if (c.attention || c.codeEpoch !== E) x = 1; }`);
  }

  /** Emits a store of `value` (a local or literal) to seg:off. */
  write(seg: number, off: string, size: number, value: string): void {
    this.mayFault();
    const start = this.cur.eip;
    const method = size === 4 ? 'write32' : size === 2 ? 'write16' : 'write8';
    if (this.paging) {
      this.emit(`c.instrStart = ${start}; c.${method}(${seg}, ${off}, ${value}); if (c.attention || c.codeEpoch !== E) x = 1;`);
      return;
    }
    this.useSegment(seg);
    const last = size - 1;
    this.emit(`if (${off} < WL${seg} || ${off}${last ? ` + ${last}` : ''} > WH${seg}) c.accessFault(${seg}, ${off}, ${size}, true);`);
    this.emit(`ph = (B${seg} + ${off}) & A20;`);
    let fast: string;
    if (size === 4) fast = `(ph & 3) === 0 && ph >= 0 && ph <= MAX4 && PFL[ph >>> 12] === 0) I32[ph >> 2] = ${value};`;
    else if (size === 2) fast = `(ph & 1) === 0 && ph >= 0 && ph <= MAX2 && PFL[ph >>> 12] === 0) U16[ph >> 1] = ${value};`;
    else fast = `ph >= 0 && ph < MSZ && PFL[ph >>> 12] === 0) U8[ph] = ${value};`;
    this.emit(`if (${fast}`);
    this.emit(`else { c.instrStart = ${start}; c.${method}(${seg}, ${off}, ${value}); if (c.attention || c.codeEpoch !== E) x = 1; }`);
  }

  /** Stack pointer value (SP or ESP by the block's stack width). */
  readSp(): string {
    return this.stack32 ? '(R[4] >>> 0)' : 'R16[8]';
  }

  /** Stack offset `sp + delta` wrapped to the stack width. */
  spPlus(sp: string, delta: number): string {
    return this.stack32 ? `((${sp} + ${delta}) >>> 0)` : `((${sp} + ${delta}) & 0xffff)`;
  }

  writeSp(value: string): void {
    this.emit(this.stack32 ? `R[4] = ${value};` : `R16[8] = ${value};`);
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
      if (this.pending >= 0) {
        const prev = this.records[this.pending]!;
        if ((prev.mask & CF) !== 0) this.emit(`c.flags = (c.flags & ~1) | (${this.flagExpr(prev, CF)} ? 1 : 0);`);
      } else {
        this.emit(`if ((c.lazyMask & 1) !== 0) { c.flags = (c.flags & ~1) | (c.getCF() ? 1 : 0); c.lazyMask = 0; }`);
      }
    }
    this.records[this.k] = rec;
    this.pending = this.k;
  }

  /** Stores the pending record into the Cpu (source text; empty when nothing is pending). */
  storeRecord(index: number): string {
    if (index < 0) return '';
    const r = this.records[index]!;
    return (
      `c.lazyOp = ${r.op}; c.lazyA = ${r.a}; c.lazyB = ${r.b}; c.lazyRes = ${r.r}; c.lazyCin = ${r.cin}; ` +
      `c.lazySize = ${r.size}; c.lazyMask = ${r.mask};`
    );
  }

  /** Stores the pending record now (before an interpreter handler runs or an exit). */
  flush(): void {
    const s = this.storeRecord(this.pending);
    if (s) this.emit(s);
    this.pending = -1;
  }

  /** One flag of a record, as a boolean expression (computeLazyFlags, specialised). */
  flagExpr(rec: FlagRecord, flag: number): string {
    const { op, a, b, r, cin, size } = rec;
    const sign = signLiteral(size);
    const adding = op === LOP_ADD || op === LOP_INC;
    switch (flag) {
      case ZF:
        return `(${r} === 0)`;
      case SF:
        return `((${r} & ${sign}) !== 0)`;
      case PF:
        return `(PARITY[${r} & 0xff] === 1)`;
      case CF:
        if ((rec.mask & CF) === 0) return '((c.flags & 1) !== 0)';
        if (op === LOP_LOGIC) return 'false';
        if (adding) return `(${a} + ${b} + ${cin} > ${sizeMaskLiteral(size)})`;
        return `(${a} < ${b} + ${cin})`;
      case OF:
        if (op === LOP_LOGIC) return 'false';
        if (adding) return `(((${a} ^ ${r}) & (${b} ^ ${r}) & ${sign}) !== 0)`;
        return `(((${a} ^ ${b}) & (${a} ^ ${r}) & ${sign}) !== 0)`;
      case AF:
        if (op === LOP_LOGIC) return 'false';
        return `(((${a} ^ ${b} ^ ${r}) & 0x10) !== 0)`;
    }
    throw new Error(`flagExpr: not an arithmetic flag ${flag}`);
  }

  /** CF as a boolean expression at this point. */
  cf(): string {
    if (this.pending < 0) return 'c.getCF()';
    return this.flagExpr(this.records[this.pending]!, CF);
  }

  /** ZF as a boolean expression at this point. */
  zf(): string {
    if (this.pending < 0) return 'c.getZF()';
    return this.flagExpr(this.records[this.pending]!, ZF);
  }

  /** Condition code cc (Cpu.condition) as a boolean expression at this point. */
  condition(cc: number): string {
    if (this.pending < 0) return `c.condition(${cc})`;
    const rec = this.records[this.pending]!;
    const neg = (cc & 1) !== 0;
    let e: string | null = null;
    if (rec.op === LOP_SUB && rec.cin === '0') {
      // CMP/SUB: compare the operands themselves.
      const sa = signedExpr(rec.a, rec.size);
      const sb = signedExpr(rec.b, rec.size);
      switch (cc >> 1) {
        case 1: e = `(${rec.a} < ${rec.b})`; break;
        case 2: e = `(${rec.a} === ${rec.b})`; break;
        case 3: e = `(${rec.a} <= ${rec.b})`; break;
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
    if (this.pending < 0) {
      this.emit(`c.setFlagBits(${mask}, ${values});`);
      return;
    }
    const rec = this.records[this.pending]!;
    const keep = rec.mask & ~mask;
    let bits = '';
    for (const flag of [CF, PF, AF, ZF, SF, OF]) {
      if ((keep & flag) !== 0) bits += ` | (${this.flagExpr(rec, flag)} ? ${flag} : 0)`;
    }
    this.emit(`c.flags = (c.flags & ${~(mask | keep)}) | (${values})${bits}; c.lazyMask = 0;`);
    this.pending = -1;
  }

  // ---- exits ----

  /** Source that leaves the block with EIP = `eip` after `retired` (an expression) instructions. */
  exitSource(eip: string, retired: string): string {
    return `c.eip = ${eip}; ${this.storeRecord(this.pending)} return ${retired};`;
  }

  /** After an instruction with a slow memory path: leave if that path asked to (SMC, attention). */
  exitIfAsked(): void {
    this.emit(`if (x !== 0) { ${this.exitSource(String(this.cur.next), `n + ${this.k + 1}`)} }`);
  }
}

export { ARITH, ARITH_NO_CF, LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_NEG, LOP_SUB };
