// The call stack of a C program: frames unwound by CFI (or the saved-EBP chain where no FDE covers the code),
// each with its function from DWARF, and one frame per call inlined into it that covers its address, innermost
// first. Where an interrupt handler returns into the code it interrupted, a label frame for the interrupt stands
// between them (as the EBP-chain stack shows them, stack.ts), and the interrupted frame's ESP skips the CS and
// EFLAGS the CPU pushed after EIP.

import type { Cpu } from '../../engine/cpu/cpu';
import { CS } from '../../engine/cpu/cpu';
import { peekLinear } from '../../engine/cpu/protect/peek';
import {
  covers,
  DWARF_EIP,
  unwindOne,
  lookupPc,
  type Block,
  type CallFrameInfo,
  type DwarfProgram,
  type FunctionInfo,
  type InlinedCall,
  type UnwoundFrame,
} from '../../engine/machine/loaders/dwarf';
import { vectorName, type FrameInfo, type InterruptFrameRecord } from '../stack';

export interface CFrame extends FrameInfo {
  /** The function the frame runs in (the outer one for an inlined call's frame). */
  fn?: FunctionInfo;
  /** Set on the frame of an inlined call. */
  inline?: InlinedCall;
  /** The registers as unwound (undefined for interrupt label frames). */
  unwound?: UnwoundFrame;
  /** The address to find the frame's line by (a return address's call instruction, the call site of an inlined call). */
  lineAddress: number;
  /** For the frame a call was inlined into: the line of the call. */
  callLine?: number;
  name?: string;
}

const MAX_FRAMES = 64;
const DWARF_ESP = 4;

export function readU32(cpu: Cpu): (addr: number) => number | undefined {
  return (addr) => {
    const v = peekLinear(cpu, addr | 0, 4);
    return v < 0 ? undefined : v >>> 0;
  };
}

/** The inlined calls covering `pc` inside a block, outermost first. */
function inlinedChain(block: Block, pc: number): InlinedCall[] {
  const chain: InlinedCall[] = [];
  let b: Block | undefined = block;
  for (let depth = 0; b && depth < 32; depth++) {
    const inner: InlinedCall | undefined = b.inlined.find((i) => covers(i.ranges, pc));
    if (inner) {
      chain.push(inner);
      b = inner;
      continue;
    }
    b = b.blocks.find((x) => covers(x.ranges, pc));
  }
  return chain;
}

export function cStack(cpu: Cpu, program: DwarfProgram | null, cfi: CallFrameInfo | null, interrupts: readonly InterruptFrameRecord[]): CFrame[] {
  const read = readU32(cpu);
  const values: (number | undefined)[] = [];
  for (let n = 0; n < 8; n++) values[n] = cpu.regs[n] >>> 0;
  const linear = (cpu.segBase[CS] + cpu.eip) >>> 0;
  values[DWARF_EIP] = linear;
  let f: UnwoundFrame | null = { pc: linear, regs: { values, savedAt: [] }, exactPc: true, how: 'top' };
  const pending = interrupts.slice();
  const frames: CFrame[] = [];
  while (f && frames.length < MAX_FRAMES) {
    const pc = lookupPc(f);
    const fn = program?.functionAt(pc);
    const kind = frames.length === 0 ? 'current' : 'call';
    // A C caller shows the line of its call (the byte before the return address, as gdb does); code DWARF does
    // not describe as a function (assembly) keeps the line of the return address, as the EBP-chain stack shows it.
    const base: CFrame = { linear: f.pc, cs: cpu.segSel[CS], offset: (f.pc - cpu.segBase[CS]) >>> 0, kind, fn, unwound: f, lineAddress: fn ? pc : f.pc };
    if (fn) {
      const chain = inlinedChain(fn, pc);
      // Innermost inlined call first; each outer one shows the line it was called from.
      for (let k = chain.length - 1; k >= 0; k--) {
        frames.push({ ...base, kind: frames.length === 0 ? 'current' : 'call', inline: chain[k], name: chain[k].name, callLine: k + 1 < chain.length ? chain[k + 1].callLine : undefined });
      }
      frames.push({ ...base, kind: frames.length === 0 ? 'current' : 'call', name: fn.name, callLine: chain.length ? chain[0].callLine : undefined });
    } else {
      frames.push(base);
    }
    const next: UnwoundFrame | null = unwindOne(f, cfi, read);
    if (!next) break;
    // Returning into code an interrupt interrupted: the handler's return address is the interrupted EIP.
    // A fault returns to the faulting instruction itself; INT n and external interrupts to the one after the
    // instruction the record names (at most 15 bytes on).
    const k = pending.length - 1;
    const past = k >= 0 ? next.pc - pending[k].linear : -1;
    if (k >= 0 && past >= 0 && past <= 15) {
      const e = pending.pop()!;
      frames.push(labelFrame(e));
      next.exactPc = past === 0;
      const sp = next.regs.values[DWARF_ESP];
      if (sp !== undefined) next.regs.values[DWARF_ESP] = (sp + 8) >>> 0; // CS and EFLAGS after EIP
    }
    f = next;
  }
  for (let k = pending.length - 1; k >= 0 && frames.length < MAX_FRAMES; k--) frames.push(labelFrame(pending[k]));
  return frames;
}

function labelFrame(e: InterruptFrameRecord): CFrame {
  const what = e.vector >= 0 ? `exception ${vectorName(e.vector)}` : 'interrupt';
  return {
    linear: e.linear,
    cs: e.cs,
    offset: e.eip,
    kind: 'exception',
    label: `${what} at ${e.cs.toString(16).padStart(4, '0')}:${e.eip.toString(16).padStart(8, '0')}`,
    lineAddress: e.linear,
  };
}
