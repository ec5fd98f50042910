// String instructions in WebAssembly blocks (ops/string.ts): MOVS, CMPS, STOS, LODS and SCAS with a 32-bit address
// size, once, and MOVS, CMPS, STOS and SCAS with REP/REPE/REPNE. Without REP, one element at seg:ESI and/or ES:EDI
// through the ordinary access checks (wasm/gen.ts checkAccess: anything but plain RAM leaves for the interpreter
// before the instruction), the index registers moved by the element size in the direction DF says (DF is never
// lazy: the flags local holds it), and CMPS/SCAS leave SUB's flag record of src − dst (eAX − dst).
//
// With REP the block runs the iterations itself, a page-sized chunk at a time, as the interpreter's block path does
// (ops/string.ts movsBlock, stosBlock): the elements the count, the budget and both operands' pages allow are
// checked once (TLB rights, page flags, RAM) and then copied, filled or compared in a tight loop (memory.copy and
// memory.fill where that is the same thing). Where a chunk cannot be checked inline — an element straddling a page,
// a page that is not plain RAM for this access (code pages for a store: self-modifying code), a TLB miss — the
// block leaves with the iterations done so far retired and ECX, ESI, EDI and the flags as they left them, and the
// wrapper runs the instruction in the interpreter from there (block.ts), which raises the fault at that iteration
// or goes on as it does when resuming an interrupted REP (SDM 2B, REP: the registers are updated after each
// iteration). Guest time: each iteration is one instruction (as the interpreter counts them), counted in the
// block's retired local as it goes; the iterations are bounded so the block's pass stays within the budget it was
// entered with (the rest of the pass counted one instruction each), and when that bound stops them with ECX not 0
// the block leaves with EIP on the instruction, which the run loop resumes — so nothing happens between iterations
// that the interpreter's run would deliver there (inside wasm nothing sets `attention`; budgets end at device
// deadlines).

import type { Instr } from '../../decode/instr';
import { PF_LOAD_SLOW } from '../../../bus/memory';
import { ARITH, DF, LOP_SUB } from '../../flags';
import { foldRecord } from './flags';
import { GOES_ON, OP, P_A20, P_LEFT, type WasmGen } from './gen';
import { pushLinear } from './operands';

const EAX = 0, ECX = 1, ESI = 6, EDI = 7, ES = 0;

/** memory.copy and memory.fill (bulk memory operations, WebAssembly 2.0 §5.4.6), memory 0. */
const MEMORY_COPY = [0xfc, 10, 0, 0];
const MEMORY_FILL = [0xfc, 11, 0];

/** Whether a wasm block holds string instruction `i` (handler `name`) natively, with flat segments `flat`. */
export function stringSupported(i: Instr, name: string, flat: number): boolean {
  if (!i.as32) return false;
  if (i.rep === 0) return true;
  // REP LODS keeps only its last element: no code does it often. REP forms need flat ES and source segments (an
  // offset then is the linear address, and a chunk within a linear page cannot wrap).
  if (name === 'lods') return false;
  const src = name === 'movs' || name === 'cmps';
  return (flat & (1 << ES)) !== 0 && (!src || (flat & (1 << i.seg)) !== 0);
}

/** The element step (±size by DF) in a new local. */
function stepLocal(g: WasmGen, size: number): number {
  g.f.i32(-size).i32(size).get(g.flags).i32(DF).op(OP.i32And).op(OP.select);
  return g.toLocal();
}

/** The physical address of one `size`-byte element at seg:`reg`, checked (checkAccess), in a new local. */
function element(g: WasmGen, seg: number, reg: number, size: number, write: boolean): number {
  g.f.get(g.g[reg]);
  pushLinear(g, seg, size, write);
  g.checkAccess(size, write);
  g.f.get(g.ph);
  return g.toLocal();
}

/** One execution without REP. */
function once(g: WasmGen, i: Instr, name: string): number {
  const f = g.f;
  const size = i.size;
  const step = stepLocal(g, size);
  // Both operands are checked before anything is written (the source first, as the interpreter reads it first).
  const src = name === 'stos' || name === 'scas' ? -1 : element(g, i.seg, ESI, size, false);
  const dst = name === 'lods' ? -1 : element(g, ES, EDI, size, name === 'movs' || name === 'stos');
  switch (name) {
    case 'movs':
      f.get(dst);
      g.load(size, src);
      g.store(size);
      break;
    case 'stos':
      f.get(dst);
      g.pushReg(size, EAX);
      g.store(size);
      break;
    case 'lods':
      g.load(size, src);
      g.popReg(size, EAX);
      break;
    default: {
      // CMPS: [ESI] − ES:[EDI]; SCAS: eAX − ES:[EDI] (SDM 2A CMPS, 2B SCAS).
      if (name === 'cmps') g.load(size, src);
      else g.pushReg(size, EAX);
      const a = g.toLocal();
      g.load(size, dst);
      const b = g.toLocal();
      f.get(a).get(b).op(OP.i32Sub);
      g.truncate(size);
      g.pending = { op: LOP_SUB, size, mask: ARITH, a, b, r: g.toLocal(), cin: null };
    }
  }
  if (src >= 0) f.get(g.g[ESI]).get(step).op(OP.i32Add).set(g.g[ESI]);
  if (dst >= 0) f.get(g.g[EDI]).get(step).op(OP.i32Add).set(g.g[EDI]);
  return GOES_ON;
}

/**
 * With the linear address of a chunk's first element in `lin` (flat segment): the elements of `size` bytes from
 * there in the direction of `step` that lie in its page (0 when the first straddles the page's end), in a new local.
 */
function inPage(g: WasmGen, lin: number, size: number, step: number): number {
  const f = g.f;
  const log = Math.log2(size);
  const off = g.f.local();
  f.get(lin).i32(4095).op(OP.i32And).set(off);
  // Backward: off / size + 1; forward: (4096 − off) / size; either 0 when the element crosses the page's end.
  f.get(off).i32(log).op(OP.i32ShrU).i32(1).op(OP.i32Add);
  f.i32(4096).get(off).op(OP.i32Sub).i32(log).op(OP.i32ShrU);
  f.get(step).i32(0).op(OP.i32LtS).op(OP.select);
  f.i32(0).get(off).i32(4096 - size).op(OP.i32LeU).op(OP.select);
  return g.toLocal();
}

/**
 * The physical address of the element at linear `lin` (flat segment) for a chunk of elements within its page, in a
 * new local; leaves for the interpreter (at this instruction) unless the page may be accessed inline: with paging,
 * a TLB entry with the right for this access (reads: readRight, writes twice it: protect/tlb.ts); the page wholly
 * in RAM, with no page flag for a write (code, watched, ROM, MMIO pages take the interpreter's path) and no
 * PF_LOAD_SLOW flag for a read, as checkAccess decides for one element. The A20 mask applies to the whole page.
 */
function chunkPhysical(g: WasmGen, lin: number, write: boolean): number {
  const f = g.f;
  const ph = f.local();
  if (g.paging !== null) {
    const t = g.tlbEntry;
    f.get(lin).i32(12).op(OP.i32ShrU).i32(2).op(OP.i32Shl).mem(OP.i32Load, g.paging.tlb).tee(t);
    f.i32(g.paging.readRight << (write ? 1 : 0)).op(OP.i32And).op(OP.i32Eqz);
    g.open(OP.if);
    g.interpretHere();
    g.close();
    f.get(t).i32(-4096).op(OP.i32And).get(lin).i32(4095).op(OP.i32And).op(OP.i32Or);
  } else f.get(lin);
  f.get(P_A20).op(OP.i32And).tee(ph);
  f.i32(12).op(OP.i32ShrU).i32(g.memSize >>> 12).op(OP.i32GeU);
  g.open(OP.if);
  g.interpretHere();
  g.close();
  f.get(ph).i32(12).op(OP.i32ShrU).mem(OP.i32Load8U, g.memSize);
  if (!write) f.i32(PF_LOAD_SLOW).op(OP.i32And);
  g.open(OP.if);
  g.interpretHere();
  g.close();
  return ph;
}

/** With REP: the iterations, chunk by chunk (see the head). */
function repeated(g: WasmGen, i: Instr, name: string): number {
  const f = g.f;
  const size = i.size;
  const log = Math.log2(size);
  const compares = name === 'cmps' || name === 'scas';
  const reads = name === 'movs' || name === 'cmps';
  if (compares) {
    // The flags stay eager through the loop (each chunk's last compare folded in), so every exit inside it is the
    // same whatever the iterations done: the block reads the flags it was entered with.
    g.fold();
    g.readsLocal(g.stale);
    g.stale = 0;
  }
  const step = stepLocal(g, size);
  const any = f.local(); // an iteration has run (0 at each execution: the block may repeat)
  f.i32(0).set(any);
  const chunk = f.local();
  const len = g.instrs.length;
  g.open(OP.block); // done
  const done = g.depth;
  g.open(OP.loop);
  const again = g.depth;
  f.get(g.g[ECX]).op(OP.i32Eqz);
  f.br(OP.brIf, g.depth - done);
  // After an iteration: stop with ECX left when the rest of the pass would no longer fit the budget.
  f.get(any).get(P_LEFT).get(g.n).op(OP.i32Sub).i32(len).op(OP.i32LtS).op(OP.i32And);
  g.open(OP.if);
  g.exit(g.cur.eip, g.k);
  g.close();
  // The chunk: ECX, the iterations the budget allows (P_LEFT − n − len + 1 ≥ 1), each operand's page.
  const minWith = (local: number): void => {
    f.get(chunk).get(local).get(chunk).get(local).op(OP.i32LtU).op(OP.select).set(chunk);
  };
  f.get(g.g[ECX]).set(chunk);
  f.get(P_LEFT).get(g.n).op(OP.i32Sub).i32(len - 1).op(OP.i32Sub);
  minWith(g.toLocal());
  minWith(inPage(g, g.g[EDI], size, step));
  if (reads) minWith(inPage(g, g.g[ESI], size, step));
  f.get(chunk).op(OP.i32Eqz);
  g.open(OP.if);
  g.interpretHere(); // an element across a page's end: the interpreter's
  g.close();
  const src = reads ? chunkPhysical(g, g.g[ESI], false) : -1;
  const dst = chunkPhysical(g, g.g[EDI], name === 'movs' || name === 'stos');
  const did = f.local(); // iterations of this chunk
  const r = f.local(); // (CMPS, SCAS) the last compare's result
  f.get(chunk).set(did);
  const bytes = (): void => void f.get(chunk).i32(log).op(OP.i32Shl);
  /** Pushes the lowest physical address of the chunk whose first element is at `ph`. */
  const low = (ph: number): void => {
    f.get(ph);
    f.i32(0).get(chunk).i32(1).op(OP.i32Sub).i32(log).op(OP.i32Shl).op(OP.i32Sub);
    f.i32(0).get(step).i32(0).op(OP.i32LtS).op(OP.select).op(OP.i32Add);
  };
  if (name === 'movs') {
    // Disjoint ranges: one copy is the element-by-element copy; overlapping ones repeat the pattern element by
    // element, in order.
    const [sLo, dLo] = [f.local(), f.local()];
    low(src);
    f.set(sLo);
    low(dst);
    f.set(dLo);
    f.get(sLo);
    bytes();
    f.op(OP.i32Add).get(dLo).op(OP.i32LeU).get(dLo);
    bytes();
    f.op(OP.i32Add).get(sLo).op(OP.i32LeU).op(OP.i32Or);
    g.open(OP.if);
    f.get(dLo).get(sLo);
    bytes();
    f.code.push(...MEMORY_COPY);
    f.op(OP.else);
    elementLoop(g, chunk, () => {
      f.get(dst);
      g.load(size, src);
      g.store(size);
    }, [src, dst], step);
    g.close();
  } else if (name === 'stos') {
    const v = f.local();
    g.pushReg(size, EAX);
    f.set(v);
    if (size === 1) {
      low(dst);
      f.get(v);
      bytes();
      f.code.push(...MEMORY_FILL);
    } else {
      // A value of equal bytes (0 above all) is a byte fill too.
      f.get(v).get(v).i32(0xff).op(OP.i32And).i32(size === 2 ? 0x0101 : 0x01010101).op(OP.i32Mul).op(OP.i32Eq);
      g.open(OP.if);
      low(dst);
      f.get(v);
      bytes();
      f.code.push(...MEMORY_FILL);
      f.op(OP.else);
      elementLoop(g, chunk, () => {
        f.get(dst).get(v);
        g.store(size);
      }, [dst], step);
      g.close();
    }
  } else {
    // CMPS, SCAS: element by element until the chunk ends or REPE finds a difference / REPNE an equality; `did`
    // counts the elements compared, the last one's record is folded into the flags.
    const [a, b] = [f.local(), f.local()];
    if (name === 'scas') {
      g.pushReg(size, EAX);
      f.set(a);
    }
    f.i32(0).set(did);
    g.open(OP.block);
    const out = g.depth;
    g.open(OP.loop);
    if (name === 'cmps') {
      g.load(size, src);
      f.set(a);
      f.get(src).get(step).op(OP.i32Add).set(src);
    }
    g.load(size, dst);
    f.set(b);
    f.get(dst).get(step).op(OP.i32Add).set(dst);
    f.get(a).get(b).op(OP.i32Sub);
    g.truncate(size);
    f.set(r);
    f.get(did).i32(1).op(OP.i32Add).set(did);
    // REPE (F3) stops when ZF = 0, REPNE (F2) when ZF = 1.
    f.get(r).op(OP.i32Eqz);
    if (i.rep === 1) f.op(OP.i32Eqz);
    f.br(OP.brIf, g.depth - out);
    f.get(did).get(chunk).op(OP.i32LtU);
    f.br(OP.brIf, 0);
    g.close();
    g.close();
    foldRecord(f, g.flags, { op: LOP_SUB, size, mask: ARITH, a, b, r, cin: null }, g.readsLocal);
  }
  // The chunk's iterations retire: registers, count, guest time.
  const moved = (): void => void f.get(did).get(step).op(OP.i32Mul);
  if (reads) {
    f.get(g.g[ESI]);
    moved();
    f.op(OP.i32Add).set(g.g[ESI]);
  }
  f.get(g.g[EDI]);
  moved();
  f.op(OP.i32Add).set(g.g[EDI]);
  f.get(g.g[ECX]).get(did).op(OP.i32Sub).set(g.g[ECX]);
  f.get(g.n).get(did).op(OP.i32Add).set(g.n);
  f.i32(1).set(any);
  if (compares) {
    // Stopped by the condition (fewer than the chunk compared, or the last one met it): done.
    f.get(did).get(chunk).op(OP.i32LtU);
    f.get(r).op(OP.i32Eqz);
    if (i.rep === 1) f.op(OP.i32Eqz);
    f.op(OP.i32Or);
    f.br(OP.brIf, g.depth - done);
  }
  f.br(OP.br, g.depth - again);
  g.close(); // loop
  g.close(); // done
  // The instruction counts once in the pass (k + 1 at the next exit): the iterations beyond the first are extra.
  f.get(g.n).get(any).op(OP.i32Sub).set(g.n);
  return GOES_ON;
}

/** `count` (≥ 1) elements one after another, `body` with the addresses in `addrs`, each moved by `step` after. */
function elementLoop(g: WasmGen, count: number, body: () => void, addrs: number[], step: number): void {
  const f = g.f;
  const k = f.local();
  f.get(count).set(k);
  g.open(OP.loop);
  body();
  for (const a of addrs) f.get(a).get(step).op(OP.i32Add).set(a);
  f.get(k).i32(1).op(OP.i32Sub).tee(k);
  f.br(OP.brIf, 0);
  g.close();
}

/** A string instruction (its handler `name`), once or with REP. */
export function stringOp(g: WasmGen, i: Instr, name: string): number {
  return i.rep === 0 ? once(g, i, name) : repeated(g, i, name);
}
