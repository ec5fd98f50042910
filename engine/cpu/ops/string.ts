// String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, alone or with REP/REPE/REPNE (SDM vol. 2 MOVS,
// CMPS, STOS, LODS, SCAS, INS, OUTS, REP/REPE/REPZ/REPNE/REPNZ).
//
// The source is seg:(E)SI with seg = DS unless overridden; the destination is always ES:(E)DI. The address size
// picks SI/DI/CX or ESI/EDI/ECX; DF picks the direction. Repeated forms are restartable: each iteration commits
// its index and count registers only after its memory and port accesses succeeded, so a fault leaves the
// registers at the faulting iteration and the run loop returns EIP to the instruction.
//
// Guest time: each iteration is one instruction (as Bochs' ticks and QEMU's icount count them). An execution runs
// at most the iterations left in the run's budget (`cpu.runEnd - cpu.icount`: budgets end at device deadlines) and
// advances `cpu.icount` before each iteration after the first; the run loop counts the last one, or the faulting
// one. When it stops with the count register not zero, EIP is put back on the instruction, which resumes on the
// next step: timers fire and interrupts and traps are taken between iterations, with EIP at the instruction and the
// registers updated, as on real hardware (SDM vol. 2 REP: "interrupts ... between iterations"). One iteration runs
// per execution while TF is set (SDM 3A §17.3.1.4).

import type { Cpu } from '../cpu';
import { PAGE_SHIFT, PF_CODE, PF_LOAD_SLOW } from '../../bus/memory';
import { ACCESS_READ, ACCESS_WRITE } from '../protect/paging';
import { EAX, ECX, EDI, EDX, ES, ESI } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { DF, IF, LOP_SUB, sizeMask, TF } from '../flags';
import { checkIoPermission } from '../protect/io-permission';
import { matchIoBreakpoints } from '../debug-registers';

/** The value of index register SI/DI (or ESI/EDI with a 32-bit address size). */
function index(cpu: Cpu, i: Instr, reg: number): number {
  return i.as32 ? cpu.regs[reg] >>> 0 : cpu.regs16[reg << 1];
}

/** Moves an index register by `n` elements in the direction DF says, wrapping at the address size. */
function advance(cpu: Cpu, i: Instr, reg: number, n = 1): void {
  const delta = ((cpu.flags & DF) !== 0 ? -i.size : i.size) * n;
  if (i.as32) cpu.regs[reg] = cpu.regs[reg] + delta;
  else cpu.regs16[reg << 1] = cpu.regs16[reg << 1] + delta;
}

/** The count register (CX or ECX by address size). */
function countRegister(cpu: Cpu, i: Instr): number {
  return i.as32 ? cpu.regs[ECX] >>> 0 : cpu.regs16[ECX << 1];
}

function setCount(cpu: Cpu, i: Instr, count: number): void {
  if (i.as32) cpu.regs[ECX] = count;
  else cpu.regs16[ECX << 1] = count;
}

type Iteration = (cpu: Cpu, i: Instr) => void;

/** How many iterations this execution of a REP instruction may run: what is left of the run's budget (at least 1). */
function iterationsAllowed(cpu: Cpu): number {
  if ((cpu.flags & TF) !== 0) return 1;
  const left = cpu.runEnd - cpu.icount;
  return left > 1 ? left : 1;
}

/**
 * Whether something that a bare CPU takes between two iterations became due during this execution: an interrupt
 * it can take, a stop request (an earlier device deadline, the debugger), a data breakpoint's trap (SDM 3A
 * §17.3.1.2), or a look the monitor asked for. Stopping is always safe (time is counted per iteration), so the
 * test may be coarse: any `attention` that was not there when the execution began.
 */
function interruptedBetween(cpu: Cpu, calm: boolean, traps: number): boolean {
  if (cpu.attention !== true) return false;
  return calm || cpu.stopRequested || cpu.pendingDebugTraps !== traps || cpu.monitorPending || cpu.nmiPending || (cpu.intrLine && (cpu.flags & IF) !== 0);
}

/**
 * Runs `body` once, or (with a REP prefix) while the count register is not zero, decrementing it after each
 * completed iteration. `compares`: REPE (F3) stops when ZF = 0, REPNE (F2) when ZF = 1 (CMPS, SCAS only).
 */
function repeat(cpu: Cpu, i: Instr, body: Iteration, compares: boolean, most = Infinity): void {
  if (i.rep === 0) {
    body(cpu, i);
    return;
  }
  if (iterate(cpu, i, body, compares, most) > 1) timeAdvanced(cpu);
}

/** The REP loop of `repeat`, at most `most` iterations in this execution; returns the iterations it ran. */
function iterate(cpu: Cpu, i: Instr, body: Iteration, compares: boolean, most: number): number {
  const budget = iterationsAllowed(cpu);
  const allowed = budget < most ? budget : most;
  const traps = cpu.pendingDebugTraps;
  const calm = cpu.attention !== true;
  for (let n = 0; ; n++) {
    const count = countRegister(cpu, i);
    if (count === 0) return n;
    if (n > 0) {
      if (n >= allowed || interruptedBetween(cpu, calm, traps)) {
        cpu.eip = cpu.instrStart;
        return n;
      }
      // The previous iteration retired: one instruction of guest time, before this one runs (and reads a port).
      cpu.icount++;
    }
    body(cpu, i);
    setCount(cpu, i, count - 1);
    if (compares && cpu.getZF() !== (i.rep === 1)) return n + 1;
  }
}

/**
 * This execution advanced guest time by more than the one instruction the run loop counts: the run loop keeps its
 * own count of the budget, which it takes again from `icount` when it looks between instructions.
 */
function timeAdvanced(cpu: Cpu): void {
  cpu.attention = true;
}

function compare(cpu: Cpu, a: number, b: number, size: number): void {
  cpu.setLazyFlags(LOP_SUB, a, b, (a - b) & sizeMask(size), size, 0);
}

function movsOnce(cpu: Cpu, i: Instr): void {
  const v = cpu.readMem(i.seg, index(cpu, i, ESI), i.size);
  cpu.writeMem(ES, index(cpu, i, EDI), i.size, v);
  advance(cpu, i, ESI);
  advance(cpu, i, EDI);
}

/** CMPS compares [src] − [dst] (SDM CMPS: "SRC1 − SRC2" with SRC1 = DS:(E)SI). */
function cmpsOnce(cpu: Cpu, i: Instr): void {
  const a = cpu.readMem(i.seg, index(cpu, i, ESI), i.size);
  const b = cpu.readMem(ES, index(cpu, i, EDI), i.size);
  compare(cpu, a >>> 0, b >>> 0, i.size);
  advance(cpu, i, ESI);
  advance(cpu, i, EDI);
}

function stosOnce(cpu: Cpu, i: Instr): void {
  cpu.writeMem(ES, index(cpu, i, EDI), i.size, cpu.getReg(i.size, EAX));
  advance(cpu, i, EDI);
}

function lodsOnce(cpu: Cpu, i: Instr): void {
  cpu.setReg(i.size, EAX, cpu.readMem(i.seg, index(cpu, i, ESI), i.size));
  advance(cpu, i, ESI);
}

/** SCAS compares eAX − ES:[(E)DI]. */
function scasOnce(cpu: Cpu, i: Instr): void {
  const b = cpu.readMem(ES, index(cpu, i, EDI), i.size);
  compare(cpu, cpu.getReg(i.size, EAX), b >>> 0, i.size);
  advance(cpu, i, EDI);
}

/** INS: the destination is probed before the port is read, so a fault does not lose a port read's side effect. */
function insOnce(cpu: Cpu, i: Instr): void {
  const port = cpu.getReg(2, EDX);
  checkIoPermission(cpu, port, i.size);
  const di = index(cpu, i, EDI);
  cpu.checkWrite(ES, di, i.size);
  cpu.writeMem(ES, di, i.size, cpu.io.in(port, i.size));
  matchIoBreakpoints(cpu, port, i.size);
  advance(cpu, i, EDI);
}

function outsOnce(cpu: Cpu, i: Instr): void {
  const port = cpu.getReg(2, EDX);
  checkIoPermission(cpu, port, i.size);
  cpu.io.out(port, cpu.readMem(i.seg, index(cpu, i, ESI), i.size), i.size);
  matchIoBreakpoints(cpu, port, i.size);
  advance(cpu, i, ESI);
}

// ---- block fast path for REP MOVS and REP STOS (memcpy and memset of boot loaders and kernels) ----

/** Most elements one block transfer handles per execution, so interrupts are not held off for long. */
const BLOCK_MAX = 0x10000;

/**
 * First offset of the `n` elements a string operand walks from `start` (downwards with DF = 1), or -1 when the
 * range would wrap at the address size.
 */
function blockLow(cpu: Cpu, i: Instr, start: number, n: number): number {
  const span = (n - 1) * i.size;
  const lo = (cpu.flags & DF) !== 0 ? start - span : start;
  const hi = lo + span + i.size - 1;
  return lo < 0 || hi > (i.as32 ? 0xffffffff : 0xffff) ? -1 : lo;
}

/**
 * Physical address of `bytes` bytes at seg:lo when they pass the segment window and lie in RAM whose pages have
 * none of the flags in `refuse` (such pages take the per-element path and its side effects); -1 otherwise.
 * Without paging (A20 on: blockAllowed) linear = physical. With paging the bytes lie in one linear page (blockCount
 * keeps a block within a page) and the page is translated once, at `first` — the offset of the element the
 * per-element path accesses first —, with that path's access kind: a fault is the first element's, with its CR2 and
 * error code, and the TLB and accessed/dirty bits end as that path leaves them (every element is in the same page).
 */
function blockPhysical(cpu: Cpu, seg: number, lo: number, bytes: number, write: boolean, refuse: number, first: number): number {
  const winLo = write ? cpu.writeLo[seg] : cpu.readLo[seg];
  const winHi = write ? cpu.writeHi[seg] : cpu.readHi[seg];
  if (lo < winLo || lo + bytes - 1 > winHi) return -1;
  let phys: number;
  if (cpu.pagingOn) {
    const lin = (cpu.segBase[seg] + lo) | 0;
    if (lin >>> PAGE_SHIFT !== (lin + bytes - 1) >>> PAGE_SHIFT) return -1;
    phys = cpu.translate((cpu.segBase[seg] + first) | 0, write ? ACCESS_WRITE : ACCESS_READ) - (first - lo);
  } else {
    phys = (cpu.segBase[seg] + lo) >>> 0;
  }
  if (phys + bytes > cpu.mem.size) return -1;
  const flags = cpu.mem.pageFlags;
  for (let p = phys >>> PAGE_SHIFT, last = (phys + bytes - 1) >>> PAGE_SHIFT; p <= last; p++) {
    if ((flags[p] & refuse) !== 0) return -1;
  }
  return phys;
}

/**
 * Whether a block transfer may stand in for the iterations (nothing that observes single accesses is active).
 * Without paging A20 must be on (a block would not wrap at 1 MiB); with paging translate applies the A20 mask, which
 * is the same for every byte of a page.
 */
function blockAllowed(cpu: Cpu, i: Instr): boolean {
  return i.rep !== 0 && (cpu.pagingOn || cpu.a20Mask === 0xffffffff) && (cpu.flags & TF) === 0 && (cpu.dr[7] & 0xff) === 0;
}

/**
 * A block store needs RAM whose stores do nothing but store, or drop decoded code: a watched, ROM or MMIO page (or
 * one with a flag added later) takes the per-element path, as it takes the memory's own slow store path. A code page
 * takes the block, and `codeStored` then drops what the single stores would have dropped.
 */
const STORE_REFUSED = 0xff & ~PF_CODE;

/**
 * After a block stored `bytes` bytes at physical `dst`: the memory's code-store hook (decode/decode-cache.ts) for the
 * whole range when a page of it holds decoded code. The single stores would each have dropped the decoded
 * instructions they overlap (or a page with blocks whole, at its first such store); nothing runs between them, so
 * dropping the union once, at the end of the execution, leaves the same cache; and the iterations go on from the
 * same decoded record either way (an execution does not fetch again; the next one does, and sees the new bytes).
 */
function codeStored(cpu: Cpu, dst: number, bytes: number): void {
  const mem = cpu.mem;
  if (bytes <= 0 || mem.onCodeStore === null) return;
  for (let p = dst >>> PAGE_SHIFT, last = (dst + bytes - 1) >>> PAGE_SHIFT; p <= last; p++) {
    if ((mem.pageFlags[p] & PF_CODE) !== 0) {
      mem.onCodeStore(dst, bytes);
      return;
    }
  }
}

/**
 * What a block path returns: the iterations the per-element path runs in this execution. BLOCK_DONE: the block ran
 * (none); NO_BLOCK: all of them; PAGE_EDGE: at most two — with paging, the element or two at a page boundary
 * (one left before it, one straddling it), after which the next execution takes a block again.
 */
const BLOCK_DONE = 0;
const NO_BLOCK = Infinity;
const PAGE_EDGE = 2;

/**
 * Elements of `size` bytes a string operand at linear address `lin` can walk within its page in the direction DF
 * says, the first included (0 when the first straddles the page's end).
 */
function elementsInPage(cpu: Cpu, lin: number, size: number): number {
  const at = lin & 0xfff;
  if (at + size > 0x1000) return 0;
  return (cpu.flags & DF) !== 0 ? Math.floor(at / size) + 1 : Math.floor((0x1000 - at) / size);
}

/**
 * How many elements one block does: the count, at most BLOCK_MAX and the budget's `allowed`, and with paging at most
 * what stays within the page of each operand (`seg`:`offset` pairs). Below 2 the per-element path is used: NO_BLOCK
 * when the count or the budget is that small, PAGE_EDGE (returned negated) when a page boundary is.
 */
function blockCount(cpu: Cpu, i: Instr, count: number, allowed: number, dstOff: number, srcSeg: number, srcOff: number): number {
  let n = count < BLOCK_MAX ? count : BLOCK_MAX;
  if (n > allowed) n = allowed;
  if (n < 2) return 0;
  if (!cpu.pagingOn) return n;
  const inDst = elementsInPage(cpu, (cpu.segBase[ES] + dstOff) | 0, i.size);
  if (inDst < n) n = inDst;
  if (srcSeg >= 0) {
    const inSrc = elementsInPage(cpu, (cpu.segBase[srcSeg] + srcOff) | 0, i.size);
    if (inSrc < n) n = inSrc;
  }
  return n < 2 ? -PAGE_EDGE : n;
}

/** Physical address of the `n` destination elements at ES:(E)DI, or -1 when the block path cannot store there. */
function blockDestination(cpu: Cpu, i: Instr, n: number): number {
  const di = index(cpu, i, EDI);
  const lo = blockLow(cpu, i, di, n);
  return lo < 0 ? -1 : blockPhysical(cpu, ES, lo, n * i.size, true, STORE_REFUSED, di);
}

/**
 * REP MOVS as one copy when source and destination do not overlap, or overlap with the destination on the side the
 * iterations move away from (below the source upwards, above it downwards): each element is read before any
 * element stores over its bytes (an element is read whole before it is stored, SDM 2 MOVS), so the iterations leave
 * what a copy through a buffer leaves (Uint8Array.copyWithin). Linux's boot moves 12.8 MB 4 KiB down with REP MOVSD
 * after 2.25 G instructions (issue 13). The other way round the iterations repeat the first elements' pattern,
 * element by element, which the per-element path does. Leaves the registers exactly as the iterations would.
 * Returns the iterations left to the per-element path (BLOCK_DONE, NO_BLOCK, PAGE_EDGE).
 */
function movsBlock(cpu: Cpu, i: Instr): number {
  const count = countRegister(cpu, i);
  const si = index(cpu, i, ESI);
  const n = blockCount(cpu, i, count, iterationsAllowed(cpu), index(cpu, i, EDI), i.seg, si);
  if (n <= 0) return n === 0 ? NO_BLOCK : -n;
  const bytes = n * i.size;
  // The source first, as the first element reads it before it stores (a fault there is the read's).
  const srcLo = blockLow(cpu, i, si, n);
  const src = srcLo < 0 ? -1 : blockPhysical(cpu, i.seg, srcLo, bytes, false, PF_LOAD_SLOW, si);
  if (src < 0) return NO_BLOCK;
  const dst = blockDestination(cpu, i, n);
  if (dst < 0 || (src < dst + bytes && dst < src + bytes && ((cpu.flags & DF) === 0 ? dst > src : dst < src))) return NO_BLOCK;
  cpu.mem.u8.copyWithin(dst, src, src + bytes);
  codeStored(cpu, dst, bytes);
  advance(cpu, i, ESI, n);
  advance(cpu, i, EDI, n);
  setCount(cpu, i, count - n);
  blockRetired(cpu, i, n);
  return BLOCK_DONE;
}

/**
 * After a block of `n` iterations: counts them as `repeat` would have (all but the last: the run loop counts one),
 * and puts EIP back on the instruction when elements are left, so the next execution tries a block again.
 */
function blockRetired(cpu: Cpu, i: Instr, n: number): void {
  cpu.icount += n - 1;
  timeAdvanced(cpu);
  if (countRegister(cpu, i) !== 0) cpu.eip = cpu.instrStart;
}

/** REP STOS as one fill; returns the iterations left to the per-element path, as movsBlock. */
function stosBlock(cpu: Cpu, i: Instr): number {
  const count = countRegister(cpu, i);
  const n = blockCount(cpu, i, count, iterationsAllowed(cpu), index(cpu, i, EDI), -1, 0);
  if (n <= 0) return n === 0 ? NO_BLOCK : -n;
  const dst = blockDestination(cpu, i, n);
  if (dst < 0) return NO_BLOCK;
  const bytes = n * i.size;
  const v = cpu.getReg(i.size, EAX);
  const u8 = cpu.mem.u8;
  if (i.size === 1) {
    u8.fill(v, dst, dst + bytes);
  } else {
    for (let k = 0; k < i.size; k++) u8[dst + k] = v >>> (8 * k);
    // Double the filled prefix until the block is full: every element gets the same little-endian bytes.
    for (let done = i.size; done < bytes; done *= 2) u8.copyWithin(dst + done, dst, dst + Math.min(done, bytes - done));
  }
  codeStored(cpu, dst, bytes);
  advance(cpu, i, EDI, n);
  setCount(cpu, i, count - n);
  blockRetired(cpu, i, n);
  return BLOCK_DONE;
}

/**
 * REP INS into plain RAM: the port is read once per element, in order, with guest time advanced before each read
 * after the first and the same stop between elements as `iterate` (a device that raises its interrupt at a sector's
 * end stops the instruction there, as on a bare CPU), or a run of elements at once from a device that offers it
 * (io-bus.ts portInBlock); what the block saves is the per-element store (segment checks, translation, page flags)
 * and register updates. The destination is checked once, as movsBlock's, after the first element's I/O permission
 * check, the per-element order. Returns the iterations left to the per-element path (BLOCK_DONE, NO_BLOCK,
 * PAGE_EDGE).
 */
function insBlock(cpu: Cpu, i: Instr): number {
  const count = countRegister(cpu, i);
  const n = blockCount(cpu, i, count, iterationsAllowed(cpu), index(cpu, i, EDI), -1, 0);
  if (n <= 0) return n === 0 ? NO_BLOCK : -n;
  const port = cpu.getReg(2, EDX);
  const size = i.size;
  checkIoPermission(cpu, port, size);
  const lo = blockDestination(cpu, i, n);
  if (lo < 0) return NO_BLOCK;
  const down = (cpu.flags & DF) !== 0;
  const step = down ? -size : size;
  const u8 = cpu.mem.u8;
  const traps = cpu.pendingDebugTraps;
  const calm = cpu.attention !== true;
  let done = 0;
  while (done < n) {
    if (done > 0 && interruptedBetween(cpu, calm, traps)) break;
    // No I/O breakpoint can match (blockAllowed: DR7 enables none); the permission is the first element's, since
    // nothing an element does changes CPL, IOPL or the TSS.
    const at = lo + (down ? n - 1 - done : done) * size;
    // A device that reads a run of elements itself (an ATA sector: io-bus.ts portInBlock) stops after any element
    // that raised its interrupt, where the test above stops the instruction; its reads do not depend on guest time,
    // which advances by the elements afterwards.
    const run = cpu.io.inBlock(port, size, n - done, u8, at, step);
    if (run > 0) {
      cpu.icount += done > 0 ? run : run - 1;
      done += run;
      continue;
    }
    if (done > 0) cpu.icount++;
    const v = cpu.io.in(port, size);
    u8[at] = v;
    if (size > 1) {
      u8[at + 1] = v >>> 8;
      if (size === 4) {
        u8[at + 2] = v >>> 16;
        u8[at + 3] = v >>> 24;
      }
    }
    done++;
  }
  codeStored(cpu, down ? lo + (n - done) * size : lo, done * size);
  advance(cpu, i, EDI, done);
  setCount(cpu, i, count - done);
  // Counted as `iterate` counts: each element but the last advanced time already (the run loop counts that one).
  timeAdvanced(cpu);
  if (countRegister(cpu, i) !== 0) cpu.eip = cpu.instrStart;
  return BLOCK_DONE;
}

export const handlers: Record<string, Handler> = {
  /** MOVS (A4, A5). */
  movs(cpu: Cpu, i: Instr): void {
    const left = blockAllowed(cpu, i) ? movsBlock(cpu, i) : NO_BLOCK;
    if (left !== BLOCK_DONE) repeat(cpu, i, movsOnce, false, left);
  },
  /** CMPS (A6, A7): REPE/REPNE. */
  cmps(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, cmpsOnce, true);
  },
  /** STOS (AA, AB). */
  stos(cpu: Cpu, i: Instr): void {
    const left = blockAllowed(cpu, i) ? stosBlock(cpu, i) : NO_BLOCK;
    if (left !== BLOCK_DONE) repeat(cpu, i, stosOnce, false, left);
  },
  /** LODS (AC, AD). */
  lods(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, lodsOnce, false);
  },
  /** SCAS (AE, AF): REPE/REPNE. */
  scas(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, scasOnce, true);
  },
  /** INS (6C, 6D): port DX into ES:(E)DI. */
  ins(cpu: Cpu, i: Instr): void {
    const left = blockAllowed(cpu, i) ? insBlock(cpu, i) : NO_BLOCK;
    if (left !== BLOCK_DONE) repeat(cpu, i, insOnce, false, left);
  },
  /** OUTS (6E, 6F): seg:(E)SI to port DX. */
  outs(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, outsOnce, false);
  },
};
