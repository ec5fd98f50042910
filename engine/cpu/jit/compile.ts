// Builds a block from the decoded instructions that follow a hot instruction and compiles it with `new Function`.
//
// A block is a trace through one code page (collectBlock): conditional branches are side exits, JMP/CALL/RET
// continue inline where the target is known and in the page, and a branch back to the start repeats the block
// inside the function. It ends before an instruction that may change mode, segments, the interrupt flag or touch
// I/O (those run in the interpreter), at an indirect branch or string instruction (after calling its handler), at
// the page's end, or after MAX_BLOCK_INSTRUCTIONS. Keeping a block inside one page ties its life to that page's
// decoded instructions: a store to the page drops them, and the block with them. Instructions without inline code
// (jit/ops.ts, flag-ops.ts, string-ops.ts) call their interpreter handler in place.

import type { Cpu } from '../cpu';
import { CpuFault } from '../faults';
import { PARITY } from '../flags';
import { slowRead, slowWrite, storeLazyFlags } from './slow';
import { callHandler } from './megamorphic';
import { flagEmitter } from './flag-ops';
import { stringEmitter } from './string-ops';
import type { Instr } from '../decode/instr';
import { HANDLERS } from '../ops';
import { isFastHandler } from '../ops/fast';
import { blockKey, keyFlatSegments, keyPaging, keyStack32, keyUser, makeBlock, MAX_BLOCK_INSTRUCTIONS, NO_BLOCK, type BlockFn, type CompiledBlock } from './block';
import { Emitter, LOAD_REGS, LOOP_CARRIED, RECHECK_IF_CHANGED, STORE_REGS, type BlockInstr } from './emitter';
import {
  branchTarget,
  constantTarget,
  endsBlock,
  FALLS_THROUGH,
  flagEffect,
  interpreterCall,
  LEAVES,
  nativeEmitter,
  NOT_TRANSLATED,
  TRACE_BRANCH,
  TRACE_CALL,
  TRACE_JUMP,
  TRACE_NEXT,
  TRACE_RETURN,
  traceEndSource,
  traceStep,
  translatable,
} from './ops';

const CS = 1;

/**
 * The instructions of the block that starts with `first` at CS:`eip`, in the order one pass executes them: a
 * trace. A conditional branch becomes a side exit and the trace goes on at its fall-through; JMP and CALL to a
 * target in the same page go on at the target; RET goes on at the return address of a CALL earlier in the trace
 * (guarded at run time). The trace stops at a branch back to its start (the block then repeats), at an instruction
 * it has already taken in, outside the page, or at anything that is not translatable (or that `takes` refuses: wasm
 * blocks take port I/O in too, wasm/block.ts).
 */
export function collectBlock(
  cpu: Cpu,
  first: Instr,
  eip: number,
  cut: { at: number } = { at: -1 },
  takes: (i: Instr) => boolean = translatable,
): BlockInstr[] {
  const out: BlockInstr[] = [];
  const base = cpu.segBase[CS];
  const page = ((base + eip) >>> 0) & ~0xfff;
  const wrap = cpu.code32 ? 0x100000000 : 0x10000;
  const taken = new Set<number>();
  const returns: number[] = [];
  let i = first;
  let at = eip;
  for (;;) {
    if (!takes(i) || taken.has(at)) break;
    // A loop that has its own block: the trace leaves for it rather than taking a pass of it in (see loopHead).
    if (at !== eip && loopHead(i)) break;
    const lin = (base + at) >>> 0;
    if (((lin & ~0xfff) >>> 0) !== page >>> 0 || (lin & 0xfff) + i.len > 0x1000) {
      cut.at = at; // (already fetched, just above)
      break;
    }
    const end = at + i.len;
    // Integer operations only: `end % wrap` (wrap 2^32 is no small integer) gave a double, which reached Cpu.eip
    // through the blocks' exits and changed the field's representation mid-run, throwing away the optimised code
    // of every function that reads it.
    const next = cpu.code32 ? end >>> 0 : end & 0xffff;
    out.push({ i, eip: at, next });
    taken.add(at);
    let to: number;
    switch (traceStep(i)) {
      case TRACE_NEXT:
        if (end >= wrap) return out;
        to = next;
        break;
      case TRACE_BRANCH:
        // A conditional branch: the trace goes on where the interpreter went more often (Instr.bias), and the
        // other direction is the side exit.
        if (i.bias > 0) to = branchTarget(i, next);
        else if (end >= wrap) return out;
        else to = next;
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
    if (out.length >= MAX_BLOCK_INSTRUCTIONS) {
      // Only within the page: its translation and decode are at hand, so looking there has no effect a guest could
      // see (a fetch from another page may walk the page tables and set accessed bits the guest never caused).
      if ((((base + to) >>> 0) & ~0xfff) >>> 0 === page >>> 0) cut.at = to;
      break;
    }
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

/**
 * A trace cut by its length or by its page's end goes on at `eip` every time it runs, as hot as the block just
 * built: the instruction there becomes a block head at its next arrival (the block's exit) instead of after
 * hotThreshold more. `eip` is one the trace has fetched already or one in its own page (collectBlock). Otherwise long straight-line code is translated one MAX_BLOCK_INSTRUCTIONS piece per
 * hotThreshold runs (Linux's unrolled crypto transforms run about 2 000 instructions a call).
 */
export function inheritHotness(cpu: Cpu, eip: number): void {
  let next: Instr;
  try {
    next = cpu.fetchInstr(eip);
  } catch (e) {
    if (e instanceof CpuFault) return; // the fault belongs to the guest when (if) it gets there
    throw e;
  }
  if (next.block === null) next.hits = Math.max(next.hits, cpu.hotThreshold - 1);
}

/**
 * Whether `i` heads a translated loop (a block that repeats from it). A trace that reached it would take one pass
 * of the loop in and then leave in the loop's middle — where a MAX_BLOCK_INSTRUCTIONS cut falls, the next block
 * then starts mid-loop and reaches its start by falling through, with the loop's exit test in the middle of its
 * pass (which keeps its accesses' checks from being hoisted, emitter.ts): Linux's lib/mpi multiply functions, whose
 * entry blocks were their prologue and 1.5 passes of their loop. Ending the trace at the loop instead runs the loop
 * in the block made for it, from its head, and compiles its code once.
 */
function loopHead(i: Instr): boolean {
  return i.block !== null && i.block.repeats;
}

/**
 * Whether `i` runs its table row's handler (or a specialised one standing for it), so that translated code may
 * stand for it; an instruction bound to another handler at decode time (the monitor's scan-before-execute) must
 * call what it is bound to. Asked by the JS blocks here and by the wasm blocks (wasm/block.ts).
 */
export function runsTableHandler(i: Instr): boolean {
  return i.exec === HANDLERS[i.row!.handler] || isFastHandler(i.exec);
}

/** Emits the body of a block: one translated or interpreter-called instruction after another. */
function emitBody(g: Emitter): void {
  const instrs = g.instrs;
  for (let k = 0; k < instrs.length; k++) {
    g.k = k;
    g.pendingAtStart[k] = g.pending;
    const { i } = instrs[k];
    const own = runsTableHandler(i);
    const name = i.row!.handler;
    const native = own ? (nativeEmitter(name) ?? flagEmitter(name) ?? stringEmitter(name)) : undefined;
    let result = native ? native(g, i) : NOT_TRANSLATED;
    if (result === NOT_TRANSLATED) {
      g.flush();
      g.emit(interpreterCall(g, i));
      if (endsBlock(i)) {
        g.emit(`return n + ${k + 1};`); // the handler set EIP
        result = LEAVES;
      } else {
        // A store may have hit code (SMC) or raised something that needs attention: leave after this instruction.
        g.emit(`if ((c.attention && c.blockMustLeave()) || c.codeEpoch !== E) return n + ${k + 1};`);
        result = FALLS_THROUGH;
      }
    }
    if (result === LEAVES) return;
  }
  g.emit(traceEndSource(g, instrs[instrs.length - 1].next));
}

/** Names the generated code may take from the Cpu at entry, each loaded only when the body uses it. */
const PROLOGUE: [string, string][] = [
  ['R', 'c.regs'],
  ['M', 'c.mem'],
  ['U8', 'M.u8'],
  ['U16', 'M.u16'],
  ['I32', 'M.i32'],
  ['PFL', 'M.pageFlags'],
  ['MSZ', 'M.size'],
  ['MAX4', 'M.size - 4'],
  ['MAX2', 'M.size - 2'],
  // Emitter.rangeTest; -1 (every inline test fails) should the size not be a power of two after all.
  ['AM', '(M.size & (M.size - 1)) === 0 ? ~(M.size - 1) : -1'],
  ['A20', 'c.a20Mask | 0'],
  ['E', 'c.codeEpoch'],
  ['LIM', 'c.segLimit[1]'],
  ['TLB', 'c.tlb.entries'],
];

/** The identifiers a generated body names. */
function identifiers(body: string): Set<string> {
  return new Set(body.match(/\b[A-Za-z_$][\w$]*/g) ?? []);
}

function assemble(g: Emitter): string {
  const store = g.storeRegsSource();
  // After a handler call the registers are loaded again, and the hoisted checks computed from them; after an
  // out-of-line access, when page flags or the TLB changed since they were (emitter.ts, "Hoisted checks").
  const hoisting = g.hoisted.size > 0;
  const generations = g.paging ? 'hg = M.flagsGeneration; tg = c.tlb.generation;' : 'hg = M.flagsGeneration;';
  const changed = g.paging ? 'M.flagsGeneration !== hg || c.tlb.generation !== tg' : 'M.flagsGeneration !== hg';
  const recheck = hoisting ? `${g.recheckSource()} ${generations}` : '';
  const recheckIfChanged = hoisting ? `if (${changed}) { ${recheck} }` : '';
  const load = `${g.loadRegsSource()} ${recheck}`;
  const body = g.lines
    .map((l) => l.split(STORE_REGS).join(store).split(LOAD_REGS).join(load).split(RECHECK_IF_CHANGED).join(recheckIfChanged))
    .join('\n');
  const used = identifiers(body);
  const head: string[] = [];
  for (const s of g.segments) {
    for (const [stem, field] of [['B', 'segBase'], ['RL', 'readLo'], ['RH', 'readHi'], ['WL', 'writeLo'], ['WH', 'writeHi']]) {
      if (used.has(`${stem}${s}`)) head.push(`${stem}${s} = c.${field}[${s}]`);
    }
  }
  const regs = [...g.usedRegs].sort().map((n) => `g${n} = R[${n}]`);
  // M is needed by the names derived from it; R by the register locals.
  const fromMem = ['U8', 'U16', 'I32', 'PFL', 'MSZ', 'MAX4', 'MAX2', 'AM'];
  const needed = (name: string): boolean =>
    used.has(name) || (name === 'M' && fromMem.some((m) => used.has(m))) || (name === 'R' && regs.length > 0);
  const consts = PROLOGUE.filter(([name]) => needed(name)).map(([name, value]) => `${name} = ${value}`);
  const lets = ['n = 0', 'x = 0', 'lp = 0', 'hg = 0', 'tg = 0', ...regs, ...[...g.locals].map((l) => `${l} = 0`)].filter((d) => used.has(d.split(' ')[0]));
  const out: string[] = [];
  if (consts.length + head.length > 0) out.push(`const ${[...consts, ...head].join(', ')};`);
  if (lets.length > 0) out.push(`let ${lets.join(', ')};`);
  // A block without a branch back to its start runs its body once: no loop.
  if (g.backEdgePending !== null) {
    if (recheck !== '') out.push(recheck);
    out.push('for (;;) {', body, '}');
  }
  else out.push(body);
  return out.join('\n');
}

/**
 * Whether a pass of the trace can leave only at its last instruction (no conditional branch or guarded return
 * before it): a loop counted down to its end, which repeats many times per entry. Only such blocks hoist their
 * access checks (emitter.ts, "Hoisted checks"): GRUB's LZMA loops have data-dependent side exits and run 0.2–1.8
 * passes per entry, so checks computed for a whole pass up front cost them more than they saved (GRUB 5–10 %
 * slower to its kernel when they were hoisted too).
 */
function leavesOnlyAtItsEnd(instrs: BlockInstr[]): boolean {
  for (let k = 0; k < instrs.length - 1; k++) {
    const step = traceStep(instrs[k].i);
    if (step !== TRACE_NEXT && step !== TRACE_JUMP && step !== TRACE_CALL) return false;
  }
  return true;
}

/** Whether the Cpu's memory size is a power of two (Emitter.memPow2). */
function memPow2(cpu: Cpu): boolean {
  return (cpu.mem.size & (cpu.mem.size - 1)) === 0;
}

/** Builds and compiles the block at `first` (CS:`eip`), or returns NO_BLOCK when none can start there. */
export function buildBlock(cpu: Cpu, first: Instr, eip: number): CompiledBlock {
  const cut = { at: -1 };
  const instrs = collectBlock(cpu, first, eip, cut);
  if (instrs.length === 0) return NO_BLOCK;
  if (cut.at >= 0) inheritHotness(cpu, cut.at);
  const key = blockKey(cpu);
  const flat = keyFlatSegments(key);
  let g = new Emitter(instrs, keyPaging(key), keyStack32(key), keyUser(key), flat);
  g.flagEffect = flagEffect;
  g.features = cpu.model.features;
  g.memPow2 = memPow2(cpu);
  emitBody(g);
  if (g.backEdgePending !== null) {
    // The block repeats: emit again with the back edge's flag record carried into the next pass, and with the
    // checks of accesses addressed by registers the block never writes hoisted out of the loop (emitter.ts).
    const carried = g.backEdgePending;
    const record = carried >= 0 ? g.records[carried]! : null;
    const invariant = new Set([0, 1, 2, 3, 4, 5, 6, 7].filter((r) => !g.writtenRegs.has(r)));
    g = new Emitter(instrs, keyPaging(key), keyStack32(key), keyUser(key), flat);
    g.flagEffect = flagEffect;
    g.features = cpu.model.features;
    g.memPow2 = memPow2(cpu);
    if (leavesOnlyAtItsEnd(instrs)) g.invariantRegs = invariant;
    if (record !== null) {
      g.loopCarried = carried;
      g.carriedRecord = record;
      g.pending = LOOP_CARRIED;
    }
    emitBody(g);
  }
  const source = assemble(g);
  const names = g.consts.map((_, k) => `K${k}`);
  const factory = new Function('PARITY', 'RD', 'WR', 'LZ', 'H', ...names, `return function block(c, left) {\n${source}\n};`) as (
    ...args: unknown[]
  ) => BlockFn;
  const run = factory(PARITY, slowRead, slowWrite, storeLazyFlags, callHandler, ...g.consts);
  const { firstByte, lastCodeByte, lastByte } = blockBounds(instrs, eip);
  return makeBlock(eip, instrs.length, firstByte, lastCodeByte, lastByte, key, run, source, g.backEdgePending !== null);
}

/** The byte range a block's instructions occupy and the largest offset the CS limit must cover (CompiledBlock). */
export function blockBounds(instrs: BlockInstr[], eip: number): { firstByte: number; lastCodeByte: number; lastByte: number } {
  let firstByte = eip;
  let lastCodeByte = eip;
  let lastByte = eip;
  for (const bi of instrs) {
    firstByte = Math.min(firstByte, bi.eip);
    lastCodeByte = Math.max(lastCodeByte, bi.eip + bi.i.len - 1);
    const target = constantTarget(bi.i, bi.next);
    if (target !== null) lastByte = Math.max(lastByte, target);
  }
  lastByte = Math.max(lastByte, lastCodeByte);
  return { firstByte, lastCodeByte, lastByte };
}
