// Operands of the instruction forms WebAssembly blocks translate (wasm/instrs.ts): registers and constants in
// locals, and memory operands through their segment. A segment the block key says is flat (ES, SS, DS: base 0, the
// whole 4 GiB window) adds nothing; any other (Linux's per-CPU FS, a data segment with a base) adds its base, read
// from the state area where the wrapper puts it at each entry (segmentsToState): the key does not cover such a
// segment, so a block may run under several loads of it. Its window is checked as the interpreter checks it only
// when trivially satisfied (the whole 4 GiB window for this access, and the access does not wrap past 4 GiB);
// else the block leaves for the interpreter, whose access raises #GP or #SS at this instruction (SDM 3A §5.3).

import type { Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import { OP, type WasmGen } from './gen';
import { S_SEG_BASE, S_SEG_WINDOW } from './state';

/** Window bits in the state area: the segment's window is the whole 4 GiB for reads (1), for writes (2). */
const WHOLE_FOR_READS = 1;
const WHOLE_FOR_WRITES = 2;

/** Pushes the offset (effective address) of the memory operand (32-bit address size: `supported`). */
export function pushEa(g: WasmGen, i: Instr): void {
  const f = g.f;
  let terms = 0;
  if (i.disp !== 0 || (i.base < 0 && i.index < 0)) {
    f.i32(i.disp);
    terms++;
  }
  if (i.base >= 0) {
    f.get(g.g[i.base]);
    if (terms++ > 0) f.op(OP.i32Add);
  }
  if (i.index >= 0) {
    f.get(g.g[i.index]);
    if (i.scale !== 0) f.i32(i.scale).op(OP.i32Shl);
    if (terms++ > 0) f.op(OP.i32Add);
  }
}

/** With an offset through segment `seg` on the stack: replaces it by the linear address (see the head). */
export function pushLinear(g: WasmGen, seg: number, size: number, write: boolean): void {
  if ((g.flat & (1 << seg)) !== 0) return;
  g.segments |= 1 << seg;
  const f = g.f;
  const off = g.toLocal();
  f.i32(0).mem(OP.i32Load, g.state + (S_SEG_WINDOW + seg) * 4).i32(write ? WHOLE_FOR_WRITES : WHOLE_FOR_READS).op(OP.i32And).op(OP.i32Eqz);
  f.get(off).i32(-size).op(OP.i32GtU).op(OP.i32Or);
  g.open(OP.if);
  g.interpretHere();
  g.close();
  f.get(off).i32(0).mem(OP.i32Load, g.state + (S_SEG_BASE + seg) * 4).op(OP.i32Add);
}

/** Checks the memory operand of `i` for a `size`-byte access; sets WasmGen.ph to its physical address. */
export function address(g: WasmGen, i: Instr, size: number, write: boolean): void {
  pushEa(g, i);
  pushLinear(g, i.seg, size, write);
  g.checkAccess(size, write);
}

/** The wrapper's part at entry: base and window of each segment in `segments` (bits by number). */
export function segmentsToState(c: Cpu, S: Int32Array, segments: number): void {
  for (let seg = 0; seg < 6; seg++) {
    if ((segments & (1 << seg)) === 0) continue;
    S[S_SEG_BASE + seg] = c.segBase[seg];
    const reads = c.readLo[seg] === 0 && c.readHi[seg] === 0xffffffff ? WHOLE_FOR_READS : 0;
    S[S_SEG_WINDOW + seg] = reads | (c.writeLo[seg] === 0 && c.writeHi[seg] === 0xffffffff ? WHOLE_FOR_WRITES : 0);
  }
}

/** Reads the r/m operand of `size` bytes into a new local. */
export function readRm(g: WasmGen, i: Instr, size: number): number {
  if (i.rm >= 0) g.pushReg(size, i.rm);
  else {
    address(g, i, size, false);
    g.load(size);
  }
  return g.toLocal();
}

/** Reads the r/m operand of a read-modify-write form (one check for both accesses) into a new local. */
export function readRmForWrite(g: WasmGen, i: Instr): number {
  if (i.rm >= 0) g.pushReg(i.size, i.rm);
  else {
    address(g, i, i.size, true);
    g.load(i.size);
  }
  return g.toLocal();
}

/** Writes local `v` back to the operand readRmForWrite read. */
export function writeBack(g: WasmGen, i: Instr, v: number): void {
  if (i.rm >= 0) {
    g.f.get(v);
    g.popReg(i.size, i.rm);
  } else {
    g.f.get(g.ph).get(v);
    g.store(i.size);
  }
}

/** Writes local `v` to the r/m operand. */
export function writeRm(g: WasmGen, i: Instr, size: number, v: number): void {
  if (i.rm >= 0) {
    g.f.get(v);
    g.popReg(size, i.rm);
    return;
  }
  address(g, i, size, true);
  g.f.get(g.ph).get(v);
  g.store(size);
}

export function constLocal(g: WasmGen, size: number, v: number): number {
  g.pushConst(size, v);
  return g.toLocal();
}

export function regLocal(g: WasmGen, size: number, n: number): number {
  g.pushReg(size, n);
  return g.toLocal();
}
