// Poll loops (issue 13, docs/speed-history.md "Fifteenth session: grub"): a loop of three instructions that reads
// one port and branches back on bits of what it read,
//
//     head: IN AL, imm8 | IN AL, DX
//           TEST AL, imm8 | AND AL, imm8
//           Jcc head
//
// GRUB's TSC calibration waits so for PIT channel 2 (port 61h, bit 5): 174 762 passes of 3 instructions, each a read
// of the port from translated code. The value such a port returns is a function of guest time (system-port-b.ts),
// so how many passes the loop makes is fixed in advance; the block here runs the passes whose outcome is known
// without running them.
//
// Why a pass may be left out (passes are the interpreter's, one after another at 3 instructions each):
// - a pass's effects are AL (the read), the flags (TEST/AND of AL with the constant) and EIP (the branch): all of
//   them are overwritten by the next pass, so the state after a run of passes is the state the last pass leaves;
// - the branch depends only on the bits of AL under the constant (`mask`): the flags TEST and AND write are
//   functions of AL AND imm8 (AF, undefined, is read by no condition);
// - the device answers for a read now until when reads of the port keep those bits and leave it as it was (no
//   state of its own moved, no interrupt raised: IoBus.readsSteadyUntil); reads in that time take the branch as the
//   read now did, and leaving them out changes nothing a later read sees;
// - no one observes the reads: the bus answers only while no port listener, `port-io` event or `in` replaced in
//   place would see each read (as for REP INS runs), and the block looks only after a pass that left `attention`
//   clear (an I/O breakpoint of DR0–DR3 matching the port, a stop request, a pending interrupt: the block leaves);
// - the time the left-out passes take is counted as they would have: the block retires 3 instructions for each, the
//   devices' clock (icount + jitRetired) moves past them, and the last pass before the loop's exit or the budget's
//   end always runs (its read at its own guest time), so AL and the flags are what that pass leaves. The permission
//   checks of IN (IOPL, the TSS's I/O bitmap) cannot change between passes: nothing in the loop writes memory,
//   EFLAGS.IOPL or the CPL.
// The budget is kept as a block keeps it: only whole passes within `left`; nothing else in the machine moves during
// Cpu.run (device events fire between slices, Machine.runSlice).

import type { Cpu } from '../cpu';
import type { Instr } from '../decode/instr';
import { blockKey, makeBlock, type CompiledBlock } from './block';
import { collectBlock, runsTableHandler } from './compile';
import { branchTarget } from './ops';
import type { BlockInstr } from './emitter';

/** Instructions in a pass. */
const PASS = 3;
const EDX = 2;
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

/** The instructions a poll loop's trace may hold. */
function pollStep(i: Instr): boolean {
  return readsPortIntoAl(i) || testsAl(i) || (i.row !== null && i.row.handler === 'jcc');
}

class PollLoop {
  constructor(
    readonly instrs: BlockInstr[],
    readonly head: number,
    /** The port of IN AL, imm8; -1 for IN AL, DX (DX, which the loop does not write, at each pass). */
    readonly port: number,
    readonly mask: number,
  ) {}
}

/**
 * The poll-loop block at `first` (CS:`eip`), or null when the code there is not one: the three instructions above,
 * each running its table's handler (not one the monitor bound at decode), the branch back to `eip`.
 */
export function buildPollBlock(cpu: Cpu, first: Instr, eip: number): CompiledBlock | null {
  if (!readsPortIntoAl(first)) return null;
  const instrs = collectBlock(cpu, first, eip, { at: -1 }, pollStep);
  if (instrs.length !== PASS || !testsAl(instrs[1].i) || instrs[2].i.row!.handler !== 'jcc') return null;
  if (!instrs.every((bi) => runsTableHandler(bi.i))) return null;
  // The trace follows the branch's likelier direction: either way, the block needs it to lead back to the head.
  const jcc = instrs[2];
  if (branchTarget(jcc.i, jcc.next) !== eip || instrs[0].next !== instrs[1].eip || instrs[1].next !== jcc.eip) return null;
  const loop = new PollLoop(instrs, eip, first.row!.handler === 'inI' ? first.imm & 0xff : -1, instrs[1].i.imm & 0xff);
  const last = jcc.eip + jcc.i.len - 1;
  const source = `poll: ${instrs.map((bi) => bi.i.row!.handler).join(' ')} (port ${loop.port < 0 ? 'DX' : loop.port.toString(16)}, mask ${loop.mask.toString(16)})`;
  return makeBlock(eip, PASS, eip, last, last, blockKey(cpu), runPoll.bind(loop), source, true);
}

/**
 * The BlockFn of a poll loop: passes in the interpreter's handlers, with the passes whose reads the device says
 * return the same bits left out (as the file's head says). `left` ≥ 3.
 */
function runPoll(this: PollLoop, c: Cpu, left: number): number {
  const instrs = this.instrs;
  let n = 0;
  for (;;) {
    // One pass, each instruction as a block's interpreter call makes it (jit/ops.ts interpreterCall): instrStart and
    // EIP on it, `jitRetired` the instructions before it in this run (a fault's count, the devices' clock).
    for (let k = 0; k < PASS; k++) {
      const bi = instrs[k];
      c.instrStart = bi.eip;
      c.eip = bi.next;
      c.jitRetired = n + k;
      bi.i.exec(c, bi.i);
    }
    c.jitRetired = 0;
    n += PASS;
    if (c.eip !== this.head || (c.attention === true && c.blockMustLeave())) return n;
    const passes = Math.floor((left - n) / PASS);
    if (passes === 0) return n;
    // The read of the pass just made was at guest time `at`; the next pass's read is PASS later. Every pass that
    // reads before `until` takes the branch back as this one did.
    const at = c.icount + n - PASS;
    c.jitRetired = n - PASS;
    const until = c.io.readsSteadyUntil(this.port >= 0 ? this.port : c.regs[EDX] & 0xffff, 1, this.mask);
    c.jitRetired = 0;
    const settled = until === Infinity ? passes : Math.ceil((until - at) / PASS) - 1;
    // Leave out all but the last of them (which runs, above): its read is the state the run leaves.
    const skip = Math.min(settled, passes) - 1;
    if (skip > 0) n += skip * PASS;
  }
}
