// String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, alone or with REP/REPE/REPNE (SDM vol. 2 MOVS,
// CMPS, STOS, LODS, SCAS, INS, OUTS, REP/REPE/REPZ/REPNE/REPNZ).
//
// The source is seg:(E)SI with seg = DS unless overridden; the destination is always ES:(E)DI. The address size
// picks SI/DI/CX or ESI/EDI/ECX; DF picks the direction. Repeated forms are restartable: each iteration commits
// its index and count registers only after its memory and port accesses succeeded, so a fault leaves the
// registers at the faulting iteration and the run loop returns EIP to the instruction. At most REP_BATCH
// iterations run per execution (one while TF is set); then EIP is put back on the instruction, which resumes on
// the next step (pending interrupts and traps are taken in between, as on real hardware).

import type { Cpu } from '../cpu';
import { EAX, ECX, EDI, EDX, ES, ESI, REP_BATCH } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { DF, LOP_SUB, sizeMask, TF } from '../flags';
import { checkIoPermission } from '../protect/io-permission';

/** The value of index register SI/DI (or ESI/EDI with a 32-bit address size). */
function index(cpu: Cpu, i: Instr, reg: number): number {
  return i.as32 ? cpu.regs[reg] >>> 0 : cpu.regs16[reg << 1];
}

/** Moves an index register by one element in the direction DF says, wrapping at the address size. */
function advance(cpu: Cpu, i: Instr, reg: number): void {
  const delta = (cpu.flags & DF) !== 0 ? -i.size : i.size;
  if (i.as32) cpu.regs[reg] = cpu.regs[reg] + delta;
  else cpu.regs16[reg << 1] = cpu.regs16[reg << 1] + delta;
}

type Iteration = (cpu: Cpu, i: Instr) => void;

/**
 * Runs `body` once, or (with a REP prefix) while the count register is not zero, decrementing it after each
 * completed iteration. `compares`: REPE (F3) stops when ZF = 0, REPNE (F2) when ZF = 1 (CMPS, SCAS only).
 */
function repeat(cpu: Cpu, i: Instr, body: Iteration, compares: boolean): void {
  if (i.rep === 0) {
    body(cpu, i);
    return;
  }
  // With TF set the single-step trap comes after every iteration (SDM 3A §17.3.1.4), so run one at a time.
  const batch = (cpu.flags & TF) !== 0 ? 1 : REP_BATCH;
  for (let n = 0; ; n++) {
    const count = i.as32 ? cpu.regs[ECX] >>> 0 : cpu.regs16[ECX << 1];
    if (count === 0) return;
    if (n === batch) {
      cpu.eip = cpu.instrStart;
      return;
    }
    body(cpu, i);
    if (i.as32) cpu.regs[ECX] = count - 1;
    else cpu.regs16[ECX << 1] = count - 1;
    if (compares && cpu.getZF() !== (i.rep === 1)) return;
  }
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
  advance(cpu, i, EDI);
}

function outsOnce(cpu: Cpu, i: Instr): void {
  const port = cpu.getReg(2, EDX);
  checkIoPermission(cpu, port, i.size);
  cpu.io.out(port, cpu.readMem(i.seg, index(cpu, i, ESI), i.size), i.size);
  advance(cpu, i, ESI);
}

export const handlers: Record<string, Handler> = {
  /** MOVS (A4, A5). */
  movs(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, movsOnce, false);
  },
  /** CMPS (A6, A7): REPE/REPNE. */
  cmps(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, cmpsOnce, true);
  },
  /** STOS (AA, AB). */
  stos(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, stosOnce, false);
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
    repeat(cpu, i, insOnce, false);
  },
  /** OUTS (6E, 6F): seg:(E)SI to port DX. */
  outs(cpu: Cpu, i: Instr): void {
    repeat(cpu, i, outsOnce, false);
  },
};
