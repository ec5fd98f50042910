// Arithmetic flags in WebAssembly blocks. The block starts with the Cpu's EFLAGS in a local; the wrapper folds the
// Cpu's lazy record into it first only when the block may read a flag it has not set itself (WasmGen.stale). Each flag-setting instruction then leaves its record (operation, size, mask
// and the operands and result in locals) pending, known at generation time as in the JS emitter (jit/emitter.ts,
// "Flags"): a Jcc after CMP compares the operands. A pending record is folded into the flags local where something
// needs eager flags (CLC/STC, INC/DEC's CF, a back edge) and stored into the state area at an exit, from which the
// wrapper sets the Cpu's lazy fields, so every exit leaves the interpreter's flags (computeLazyFlags, SDM 1 §3.4.3).

import { AF, CF, LOP_ADD, LOP_DEC, LOP_INC, LOP_LOGIC, LOP_NEG, LOP_SUB, OF, PF, SF, ZF } from '../../flags';
import { FunctionBody, OP } from './encoder';
import { S_FLAGS, S_LA, S_LB, S_LCIN, S_LMASK, S_LOP, S_LR, S_LSIZE } from './state';

export interface WasmRecord {
  op: number;
  size: number;
  mask: number;
  /** Locals: operands and result, masked to `size` (int32 for 4 bytes). */
  a: number;
  b: number;
  r: number;
  /** Local holding the carry or borrow in (ADC, SBB), or null for none. */
  cin: number | null;
}

const FLAG_BIT: Record<number, number> = { [CF]: 0, [PF]: 2, [AF]: 4, [ZF]: 6, [SF]: 7, [OF]: 11 };

/** Told which flags code is about to read from the flags local (WasmGen.readsLocal). */
export type LocalReads = (bits: number) => void;

/** Pushes 1 or 0: `flag` from record `rec` (or the flags local when the record leaves it out). */
export function pushFlag(f: FunctionBody, flags: number, rec: WasmRecord | null, flag: number, reads: LocalReads): void {
  if (rec === null || (rec.mask & flag) === 0) {
    reads(flag);
    f.get(flags).i32(FLAG_BIT[flag]).op(OP.i32ShrU).i32(1).op(OP.i32And);
    return;
  }
  const top = rec.size * 8 - 1;
  const adding = rec.op === LOP_ADD || rec.op === LOP_INC;
  const logic = rec.op === LOP_LOGIC;
  switch (flag) {
    case ZF:
      f.get(rec.r).op(OP.i32Eqz);
      return;
    case SF:
      f.get(rec.r).i32(top).op(OP.i32ShrU).i32(1).op(OP.i32And);
      return;
    case PF:
      f.get(rec.r).i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).i32(1).op(OP.i32Xor);
      return;
    case CF:
      if (logic) f.i32(0);
      else if (rec.op === LOP_NEG) f.get(rec.b).i32(0).op(OP.i32Ne); // NEG: CF unless the source is 0 (SDM 2B, NEG)
      else if (rec.size < 4) {
        // 8/16-bit operands are unsigned and small: the carry or borrow as computeLazyFlags finds it.
        if (adding) {
          f.get(rec.a).get(rec.b).op(OP.i32Add);
          if (rec.cin !== null) f.get(rec.cin).op(OP.i32Add);
          f.i32(rec.size === 2 ? 0xffff : 0xff).op(OP.i32GtU);
        } else {
          f.get(rec.a).get(rec.b);
          if (rec.cin !== null) f.get(rec.cin).op(OP.i32Add);
          f.op(OP.i32LtU);
        }
      } else {
        // 32 bits: the result wrapped below a (to a or below with a carry in); a below b (or equal, borrow in).
        const [x, y] = adding ? [rec.r, rec.a] : [rec.a, rec.b];
        if (rec.cin === null) f.get(x).get(y).op(OP.i32LtU);
        else f.get(x).get(y).op(OP.i32LeU).get(x).get(y).op(OP.i32LtU).get(rec.cin).op(OP.select);
      }
      return;
    case OF:
      if (logic) {
        f.i32(0);
        return;
      }
      if (adding) f.get(rec.a).get(rec.r).op(OP.i32Xor).get(rec.b).get(rec.r).op(OP.i32Xor).op(OP.i32And);
      else f.get(rec.a).get(rec.b).op(OP.i32Xor).get(rec.a).get(rec.r).op(OP.i32Xor).op(OP.i32And);
      f.i32(top).op(OP.i32ShrU).i32(1).op(OP.i32And);
      return;
    case AF:
      if (logic) f.i32(0);
      else f.get(rec.a).get(rec.b).op(OP.i32Xor).get(rec.r).op(OP.i32Xor).i32(4).op(OP.i32ShrU).i32(1).op(OP.i32And);
      return;
  }
  throw new Error(`pushFlag: not an arithmetic flag ${flag}`);
}

/** Emits code folding `rec` into the flags local (Cpu.materializeFlags). */
export function foldRecord(f: FunctionBody, flags: number, rec: WasmRecord, reads: LocalReads): void {
  f.get(flags).i32(~rec.mask).op(OP.i32And);
  for (const flag of [CF, PF, AF, ZF, SF, OF]) {
    if ((rec.mask & flag) === 0) continue;
    pushFlag(f, flags, rec, flag, reads);
    if (FLAG_BIT[flag] !== 0) f.i32(FLAG_BIT[flag]).op(OP.i32Shl);
    f.op(OP.i32Or);
  }
  f.set(flags);
}

/** Pushes a size-byte operand local sign-extended to int32. */
function pushSigned(f: FunctionBody, local: number, size: number): void {
  f.get(local);
  if (size < 4) {
    const s = 32 - size * 8;
    f.i32(s).op(OP.i32Shl).i32(s).op(OP.i32ShrS);
  }
}

/** Pushes 1 or 0: condition code `cc` (Cpu.condition, SDM 2 App. B.1.4.7) at this point. */
export function pushCondition(f: FunctionBody, flags: number, rec: WasmRecord | null, cc: number, reads: LocalReads): void {
  const test = cc >> 1;
  if (rec !== null && rec.op === LOP_SUB && rec.cin === null && (rec.mask & CF) !== 0 && [1, 2, 3, 6, 7].includes(test)) {
    // CMP/SUB without a borrow in: compare the operands themselves.
    if (test === 1) f.get(rec.a).get(rec.b).op(OP.i32LtU);
    else if (test === 2) f.get(rec.a).get(rec.b).op(OP.i32Eq);
    else if (test === 3) f.get(rec.a).get(rec.b).op(OP.i32LeU);
    else {
      pushSigned(f, rec.a, rec.size);
      pushSigned(f, rec.b, rec.size);
      f.op(test === 6 ? OP.i32LtS : OP.i32LeS);
    }
  } else {
    const flag = (x: number): void => pushFlag(f, flags, rec, x, reads);
    switch (test) {
      case 0: flag(OF); break;
      case 1: flag(CF); break;
      case 2: flag(ZF); break;
      case 3: flag(CF); flag(ZF); f.op(OP.i32Or); break;
      case 4: flag(SF); break;
      case 5: flag(PF); break;
      case 6: flag(SF); flag(OF); f.op(OP.i32Xor); break;
      default: flag(ZF); flag(SF); flag(OF); f.op(OP.i32Xor).op(OP.i32Or); break;
    }
  }
  if ((cc & 1) !== 0) f.op(OP.i32Eqz);
}

/** Pushes ZF, SF and PF of the `size`-byte result in local `r` as EFLAGS bits (Cpu.szp). */
export function pushSzp(f: FunctionBody, r: number, size: number): void {
  f.get(r).op(OP.i32Eqz).i32(6).op(OP.i32Shl);
  f.get(r).i32(size * 8 - 1).op(OP.i32ShrU).i32(1).op(OP.i32And).i32(7).op(OP.i32Shl).op(OP.i32Or);
  f.get(r).i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).i32(1).op(OP.i32Xor).i32(2).op(OP.i32Shl).op(OP.i32Or);
}

/**
 * The body of a function `() → ()` that folds the lazy record in the state area at byte offset `state` into its
 * EFLAGS slot and marks the flags eager (S_LMASK 0), as Cpu.materializeFlags does with computeLazyFlags (SDM 1
 * §3.4.3): ZF, SF, PF of the result; CF, OF, AF of the addition (ADD, ADC, INC) or subtraction (SUB, SBB, CMP, DEC,
 * NEG) the record is of; none of the three for a logical operation. The dispatcher (wasm/link.ts) calls it before a
 * block that reads flags another block left pending. Operands are int32 for 4 bytes, unsigned for 1 and 2: their
 * zero extension to 64 bits is the unsigned value the carry and borrow are computed on.
 */
export function stateFoldFunction(state: number): FunctionBody {
  const f = new FunctionBody(0);
  const slot = (s: number): number => state + s * 4;
  const [op, a, b, r, sign, fl] = [f.local(), f.local(), f.local(), f.local(), f.local(), f.local()];
  const size = f.local();
  f.i32(0).mem(OP.i32Load, slot(S_LOP)).set(op);
  f.i32(0).mem(OP.i32Load, slot(S_LA)).set(a);
  f.i32(0).mem(OP.i32Load, slot(S_LB)).set(b);
  f.i32(0).mem(OP.i32Load, slot(S_LR)).set(r);
  f.i32(0).mem(OP.i32Load, slot(S_LSIZE)).i32(3).op(OP.i32Shl).set(size); // in bits
  f.i32(1).get(size).i32(1).op(OP.i32Sub).op(OP.i32Shl).set(sign);
  // ZF, SF, PF.
  f.get(r).op(OP.i32Eqz).i32(6).op(OP.i32Shl);
  f.get(r).get(sign).op(OP.i32And).i32(0).op(OP.i32Ne).i32(7).op(OP.i32Shl).op(OP.i32Or);
  f.get(r).i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).i32(1).op(OP.i32Xor).i32(2).op(OP.i32Shl).op(OP.i32Or);
  f.set(fl);
  const u64 = (local: number): void => void f.get(local).op(OP.i64ExtendI32U);
  const carryIn = (): void => void f.i32(0).mem(OP.i32Load, slot(S_LCIN)).op(OP.i64ExtendI32U);
  f.get(op).i32(LOP_LOGIC).op(OP.i32Ne);
  f.open(OP.if);
  // AF: the carry or borrow out of bit 3, for both kinds.
  f.get(fl).get(a).get(b).op(OP.i32Xor).get(r).op(OP.i32Xor).i32(AF).op(OP.i32And).op(OP.i32Or).set(fl);
  const [cf, ov] = [f.local(), f.local()];
  f.get(op).i32(LOP_ADD).op(OP.i32Eq).get(op).i32(LOP_INC).op(OP.i32Eq).op(OP.i32Or);
  f.open(OP.if);
  // CF: a + b + cin beyond the size's mask; OF: both operands' signs differ from the result's.
  u64(a);
  u64(b);
  f.op(OP.i64Add);
  carryIn();
  f.op(OP.i64Add).i64(1).get(size).op(OP.i64ExtendI32U).op(OP.i64Shl).i64(1).op(OP.i64Sub).op(OP.i64GtU).set(cf);
  f.get(a).get(r).op(OP.i32Xor).get(b).get(r).op(OP.i32Xor).op(OP.i32And).set(ov);
  f.op(OP.else);
  // CF: a below b + cin; OF: the operands' signs differ and the result's differs from a's.
  u64(a);
  u64(b);
  carryIn();
  f.op(OP.i64Add).op(OP.i64LtU).set(cf);
  f.get(a).get(b).op(OP.i32Xor).get(a).get(r).op(OP.i32Xor).op(OP.i32And).set(ov);
  f.op(OP.end);
  f.get(fl).get(cf).op(OP.i32Or).get(ov).get(sign).op(OP.i32And).i32(0).op(OP.i32Ne).i32(11).op(OP.i32Shl).op(OP.i32Or).set(fl);
  f.op(OP.end);
  const mask = f.local();
  f.i32(0).mem(OP.i32Load, slot(S_LMASK)).set(mask);
  f.i32(0);
  f.i32(0).mem(OP.i32Load, slot(S_FLAGS)).get(mask).i32(-1).op(OP.i32Xor).op(OP.i32And).get(fl).get(mask).op(OP.i32And).op(OP.i32Or);
  f.mem(OP.i32Store, slot(S_FLAGS));
  f.i32(0).i32(0).mem(OP.i32Store, slot(S_LMASK));
  return f;
}
