// Builds a block from the decoded instructions that follow a hot instruction and compiles it with `new Function`.
//
// A block is a trace through one code page (collectBlock): conditional branches are side exits, JMP/CALL/RET
// continue inline where the target is known and in the page, and a branch back to the start repeats the block
// inside the function. It ends before an instruction that may change mode, segments, the interrupt flag or touch
// I/O (those run in the interpreter), at an indirect branch or string instruction (after calling its handler), at
// the page's end, or after MAX_BLOCK_INSTRUCTIONS. Keeping a block inside one page ties its life to that page's
// decoded instructions: a store to the page drops them, and the block with them. Instructions without inline code
// (jit/ops.ts) call their interpreter handler in place.

import type { Cpu } from '../cpu';
import { CpuFault } from '../faults';
import { PARITY } from '../flags';
import type { Instr } from '../decode/instr';
import { HANDLERS } from '../ops';
import { isFastHandler } from '../ops/fast';
import { blockKey, keyPaging, keyStack32, keyUser, makeBlock, MAX_BLOCK_INSTRUCTIONS, NO_BLOCK, type BlockFn, type CompiledBlock } from './block';
import { Emitter, LOAD_REGS, LOOP_CARRIED, STORE_REGS, type BlockInstr } from './emitter';
import {
  branchTarget,
  endsBlock,
  FALLS_THROUGH,
  flagEffect,
  interpreterCall,
  LEAVES,
  nativeEmitter,
  NOT_TRANSLATED,
  TRACE_CALL,
  TRACE_JUMP,
  TRACE_NEXT,
  TRACE_RETURN,
  traceStep,
  translatable,
} from './ops';

const CS = 1;

/**
 * The instructions of the block that starts with `first` at CS:`eip`, in the order one pass executes them: a
 * trace. A conditional branch becomes a side exit and the trace goes on at its fall-through; JMP and CALL to a
 * target in the same page go on at the target; RET goes on at the return address of a CALL earlier in the trace
 * (guarded at run time). The trace stops at a branch back to its start (the block then repeats), at an instruction
 * it has already taken in, outside the page, or at anything that is not translatable.
 */
export function collectBlock(cpu: Cpu, first: Instr, eip: number): BlockInstr[] {
  const out: BlockInstr[] = [];
  const base = cpu.segBase[CS];
  const page = ((base + eip) >>> 0) & ~0xfff;
  const wrap = cpu.code32 ? 0x100000000 : 0x10000;
  const taken = new Set<number>();
  const returns: number[] = [];
  let i = first;
  let at = eip;
  for (;;) {
    if (!translatable(i) || taken.has(at)) break;
    const lin = (base + at) >>> 0;
    if (((lin & ~0xfff) >>> 0) !== page >>> 0 || (lin & 0xfff) + i.len > 0x1000) break;
    const end = at + i.len;
    const next = end % wrap;
    out.push({ i, eip: at, next });
    taken.add(at);
    if (out.length >= MAX_BLOCK_INSTRUCTIONS) break;
    let to: number;
    switch (traceStep(i)) {
      case TRACE_NEXT:
        if (end >= wrap) return out;
        to = next;
        break;
      case TRACE_JUMP:
        to = branchTarget(i, next);
        break;
      case TRACE_CALL:
        returns.push(next);
        to = branchTarget(i, next);
        break;
      case TRACE_RETURN:
        if (returns.length === 0) return out;
        to = returns.pop()!;
        break;
      default:
        return out;
    }
    if (to === eip) break; // back at the start: the block repeats
    try {
      i = cpu.fetchInstr(to);
    } catch (e) {
      if (e instanceof CpuFault) break; // the fault belongs to the guest when (if) it gets there
      throw e;
    }
    at = to;
  }
  return out;
}

/** Emits the body of a block: one translated or interpreter-called instruction after another. */
function emitBody(g: Emitter): void {
  const instrs = g.instrs;
  for (let k = 0; k < instrs.length; k++) {
    g.k = k;
    g.pendingAtStart[k] = g.pending;
    const { i } = instrs[k];
    // Inline code stands for the table's handler; an instruction bound to another one at decode time (the
    // monitor's scan-before-execute) calls what it is bound to.
    const own = i.exec === HANDLERS[i.row!.handler] || isFastHandler(i.exec);
    const native = own ? nativeEmitter(i.row!.handler) : undefined;
    let result = native ? native(g, i) : NOT_TRANSLATED;
    if (result === NOT_TRANSLATED) {
      g.flush();
      g.emit(interpreterCall(g, i));
      if (endsBlock(i)) {
        g.emit(`return n + ${k + 1};`); // the handler set EIP
        result = LEAVES;
      } else {
        // A store may have hit code (SMC) or raised something that needs attention: leave after this instruction.
        g.emit(`if (c.attention || c.codeEpoch !== E) return n + ${k + 1};`);
        result = FALLS_THROUGH;
      }
    }
    if (result === LEAVES) return;
  }
  const last = instrs[instrs.length - 1];
  g.emit(g.exitSource(String(last.next), `n + ${instrs.length}`));
}

function assemble(g: Emitter): string {
  const head: string[] = [
    'const R = c.regs, R16 = c.regs16, R8 = c.regs8;',
    'const M = c.mem, U8 = M.u8, U16 = M.u16, I32 = M.i32, PFL = M.pageFlags, MSZ = M.size, MAX4 = MSZ - 4, MAX2 = MSZ - 2;',
    'const A20 = c.a20Mask, E = c.codeEpoch, LIM = c.segLimit[1], TLB = c.tlb.entries;',
  ];
  for (const s of g.segments) {
    head.push(`const B${s} = c.segBase[${s}], RL${s} = c.readLo[${s}], RH${s} = c.readHi[${s}], WL${s} = c.writeLo[${s}], WH${s} = c.writeHi[${s}];`);
    head.push(`const FR${s} = B${s} === 0 && RL${s} === 0 && RH${s} === 4294967295, FW${s} = B${s} === 0 && WL${s} === 0 && WH${s} === 4294967295;`);
  }
  const regs = [...g.usedRegs].sort().map((n) => `g${n} = R[${n}]`);
  head.push(`let n = 0, p = 0, x = 0, lp = 0, ${[...regs, ...[...g.locals].map((l) => `${l} = 0`)].join(', ')};`);
  const cases = g.instrs.map(
    (bi, k) => `case ${k}: ${g.storeRecord(g.pendingAtStart[k] ?? -1)} c.instrStart = ${bi.eip}; c.jitRetired = n + ${k}; break;`,
  );
  const store = g.storeRegsSource();
  const load = g.loadRegsSource();
  const body = g.lines.map((l) => l.split(STORE_REGS).join(store).split(LOAD_REGS).join(load));
  return [
    ...head,
    'try {',
    'for (;;) {',
    ...body,
    '}',
    '} catch (e) {',
    store,
    `switch (p) { ${cases.join(' ')} }`,
    'throw e;',
    '}',
  ].join('\n');
}

/** Builds and compiles the block at `first` (CS:`eip`), or returns NO_BLOCK when none can start there. */
export function buildBlock(cpu: Cpu, first: Instr, eip: number): CompiledBlock {
  const instrs = collectBlock(cpu, first, eip);
  if (instrs.length === 0) return NO_BLOCK;
  const key = blockKey(cpu);
  let g = new Emitter(instrs, keyPaging(key), keyStack32(key), keyUser(key));
  g.flagEffect = flagEffect;
  emitBody(g);
  if (g.backEdgePending !== null && g.backEdgePending >= 0) {
    // The block repeats: emit again with the back edge's flag record carried into the next pass (emitter.ts).
    const carried = g.backEdgePending;
    const record = g.records[carried]!;
    g = new Emitter(instrs, keyPaging(key), keyStack32(key), keyUser(key));
    g.flagEffect = flagEffect;
    g.loopCarried = carried;
    g.carriedRecord = record;
    g.pending = LOOP_CARRIED;
    emitBody(g);
  }
  const source = assemble(g);
  const names = g.consts.map((_, k) => `K${k}`);
  const factory = new Function('PARITY', ...names, `return function block(c, left) {\n${source}\n};`) as (
    ...args: unknown[]
  ) => BlockFn;
  const run = factory(PARITY, ...g.consts);
  let firstByte = eip;
  let lastByte = eip;
  for (const bi of instrs) {
    firstByte = Math.min(firstByte, bi.eip);
    lastByte = Math.max(lastByte, bi.eip + bi.i.len - 1);
  }
  return makeBlock(eip, instrs.length, firstByte, lastByte, key, run, source);
}
