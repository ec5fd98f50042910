// Poll loops (issue 13, docs/speed-history.md "Fifteenth session: grub"): a loop that reads one port and branches
// back on bits of what it read, perhaps counting its passes in a register,
//
//     head: [INC r | DEC r]  IN AL, imm8 | IN AL, DX  [INC r | DEC r]  TEST AL, imm8 | AND AL, imm8  Jcc head
//
// GRUB's TSC calibration waits so for PIT channel 2 (port 61h, bit 5): 174 762 passes of 3 instructions, each a read
// of the port from translated code; memtest86+ counts the passes of the same wait in EBX (119 061 of 4). The value
// such a port returns is a function of guest time (system-port-b.ts), so how many passes the loop makes is fixed in
// advance; the block here runs the passes whose outcome is known without running them.
//
// Why a pass may be left out (passes are the interpreter's, one after another):
// - a pass's effects are AL (the read), the flags (TEST/AND of AL with the constant, after the count's INC/DEC),
//   EIP (the branch) and the count register (one more or one less): all but the count are overwritten by the next
//   pass, so the state after a run of passes is the state the last pass leaves, with the count moved once per pass;
// - the branch depends only on the bits of AL under the constant (`mask`): the flags TEST and AND write are
//   functions of AL AND imm8 (AF, undefined, is read by no condition), and they overwrite all the INC/DEC wrote that
//   a condition reads (OF, SF, ZF, PF; CF, which INC/DEC keep, TEST/AND clear);
// - the device answers for a read now until when reads of the port keep those bits and leave it as it was (no
//   state of its own moved, no interrupt raised: IoBus.readsSteadyUntil); reads in that time take the branch as the
//   read now did, and leaving them out changes nothing a later read sees;
// - no one observes the reads: the bus answers only while no port listener, `port-io` event or `in` replaced in
//   place would see each read (as for REP INS runs), and the block looks only after a pass that left `attention`
//   clear (an I/O breakpoint of DR0–DR3 matching the port, a stop request, a pending interrupt: the block leaves);
// - the time the left-out passes take is counted as they would have: the block retires a pass's instructions for each,
//   the devices' clock (icount + jitRetired) moves past them, and the last pass before the loop's exit or the
//   budget's end always runs (its read at its own guest time), so AL and the flags are what that pass leaves. The
//   permission checks of IN (IOPL, the TSS's I/O bitmap) cannot change between passes: nothing in the loop writes
//   memory, EFLAGS.IOPL or the CPL.
// The budget is kept as a block keeps it: only whole passes within `left`; nothing else in the machine moves during
// Cpu.run (device events fire between slices, Machine.runSlice).

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import { blockKey, makeBlock, type CompiledBlock } from './block';
import { collectBlock, runsTableHandler } from './compile';
import { branchTarget } from './ops';
import type { BlockInstr } from './emitter';

const EAX = 0;
const EDX = 2;
const ESP = 4;
/** ALU operation number of AND (aluAI's row parameter). */
const ALU_AND = 4;

/** Whether `i` is IN AL, imm8 or IN AL, DX. */
function readsPortIntoAl(i: Instr): boolean {
  return i.row !== null && (i.row.handler === 'inI' || i.row.handler === 'inDX') && i.size === 1;
}

/** Whether `i` is TEST AL, imm8 or AND AL, imm8: flags (and AL) from AL AND imm8 alone. */
function testsAl(i: Instr): boolean {
  return i.row !== null && i.size === 1 && (i.row.handler === 'testAI' || (i.row.handler === 'aluAI' && i.arg === ALU_AND));
}

/** Whether `i` is INC r or DEC r (one-byte forms) of a register other than EAX, ESP and EDX: a pass count. */
function counts(i: Instr): boolean {
  return i.row !== null && (i.row.handler === 'incZ' || i.row.handler === 'decZ') && i.reg !== EAX && i.reg !== EDX && i.reg !== ESP;
}

/** The instructions a poll loop's trace may hold. */
function pollStep(i: Instr): boolean {
  return readsPortIntoAl(i) || testsAl(i) || counts(i) || (i.row !== null && i.row.handler === 'jcc');
}

class PollLoop {
  constructor(
    readonly instrs: BlockInstr[],
    readonly head: number,
    /** The port of IN AL, imm8; -1 for IN AL, DX (DX, which the loop does not write, at each pass). */
    readonly port: number,
    readonly mask: number,
    /** Where the IN is in a pass. */
    readonly readAt: number,
    /** The count's INC or DEC, or null. */
    readonly count: Instr | null,
  ) {}
}

/** The shapes of a pass: IN, TEST/AND and Jcc, with a count before the IN or between it and the test. */
function passShape(instrs: BlockInstr[]): { readAt: number; count: Instr | null } | null {
  const h = instrs.map((bi) => bi.i);
  const n = h.length;
  if (n < 3 || n > 4 || h[n - 1].row!.handler !== 'jcc' || !testsAl(h[n - 2])) return null;
  if (n === 3) return readsPortIntoAl(h[0]) ? { readAt: 0, count: null } : null;
  if (counts(h[0]) && readsPortIntoAl(h[1])) return { readAt: 1, count: h[0] };
  if (readsPortIntoAl(h[0]) && counts(h[1])) return { readAt: 0, count: h[1] };
  return null;
}

/**
 * The poll-loop block at `first` (CS:`eip`), or null when the code there is not one: the instructions above, one
 * after another, each running its table's handler (not one the monitor bound at decode), the branch back to `eip`.
 */
export function buildPollBlock(cpu: Cpu, first: Instr, eip: number): CompiledBlock | null {
  if (!readsPortIntoAl(first) && !counts(first)) return null;
  // The pass is the trace's run up to its first branch, whichever way the trace went on from there (Instr.bias).
  const trace = collectBlock(cpu, first, eip, { at: -1 }, pollStep);
  const instrs = trace.slice(0, trace.findIndex((bi) => bi.i.row!.handler === 'jcc') + 1);
  const shape = passShape(instrs);
  if (shape === null || !instrs.every((bi) => runsTableHandler(bi.i))) return null;
  // The branch must lead back to the head, and the instructions follow one another.
  const jcc = instrs[instrs.length - 1];
  if (branchTarget(jcc.i, jcc.next) !== eip || !instrs.every((bi, k) => k === 0 || instrs[k - 1].next === bi.eip)) return null;
  const read = instrs[shape.readAt].i;
  const port = read.row!.handler === 'inI' ? read.imm & 0xff : -1;
  const loop = new PollLoop(instrs, eip, port, instrs[instrs.length - 2].i.imm & 0xff, shape.readAt, shape.count);
  const last = jcc.eip + jcc.i.len - 1;
  const source = `poll: ${instrs.map((bi) => bi.i.row!.handler).join(' ')} (port ${port < 0 ? 'DX' : port.toString(16)}, mask ${loop.mask.toString(16)})`;
  return makeBlock(eip, instrs.length, eip, last, last, blockKey(cpu), runPoll.bind(loop), source, true);
}

/**
 * The BlockFn of a poll loop: passes in the interpreter's handlers, with the passes whose reads the device says
 * return the same bits left out (as the file's head says). `left` covers a pass.
 */
function runPoll(this: PollLoop, c: Cpu, left: number): number {
  const instrs = this.instrs;
  const pass = instrs.length;
  let n = 0;
  for (;;) {
    // One pass, each instruction as a block's interpreter call makes it (jit/ops.ts interpreterCall): instrStart and
    // EIP on it, `jitRetired` the instructions before it in this run (a fault's count, the devices' clock).
    for (let k = 0; k < pass; k++) {
      const bi = instrs[k];
      c.instrStart = bi.eip;
      c.eip = bi.next;
      c.jitRetired = n + k;
      bi.i.exec(c, bi.i);
    }
    c.jitRetired = 0;
    n += pass;
    if (c.eip !== this.head || (c.attention === true && c.blockMustLeave())) return n;
    const passes = Math.floor((left - n) / pass);
    if (passes === 0) return n;
    // The read of the pass just made was at guest time `at`; the next pass's read is a pass later. Every pass that
    // reads before `until` takes the branch back as this one did.
    c.jitRetired = n - pass + this.readAt;
    const at = c.icount + c.jitRetired;
    const until = c.io.readsSteadyUntil(this.port >= 0 ? this.port : c.regs[EDX] & 0xffff, 1, this.mask);
    c.jitRetired = 0;
    const settled = until === Infinity ? passes : Math.ceil((until - at) / pass) - 1;
    // Leave out all but the last of them (which runs, above): its read is the state the run leaves.
    const skip = Math.min(settled, passes) - 1;
    if (skip > 0) {
      n += skip * pass;
      const count = this.count;
      if (count !== null) {
        const step = count.row!.handler === 'incZ' ? skip : -skip;
        c.setReg(count.size, count.reg, c.getReg(count.size, count.reg) + step);
      }
    }
  }
}
