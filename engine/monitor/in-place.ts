// Sensitive instructions the monitor completes in place: inside the deprivileged guest's own execution, as the
// handler bound by SBE, without a monitor entry (delivery through the monitor's IDT, the switch to the guest's
// view, the decode and emulation, the consistency look and a return sequence). A monitor entry costs microseconds;
// these cost what the bare instruction costs.
//
// Only instructions whose whole difference under ring compression is one value the monitor keeps are done so:
// - PUSHF pushes the real EFLAGS with the guest's IOPL in place of the real one (IOPL is 0 while the guest runs at
//   CPL 0–2; IF, TF and the arithmetic flags are the guest's own in the real CPU). The push is the real CPU's,
//   through the guest's SS and ESP, so it faults exactly where the guest's would (and a fault enters the monitor,
//   which emulates the instruction on the guest's view as before).
// - POPF pops through the real CPU, then applies the popped image with the guest's CPL and IOPL (ops/stack.ts
//   popfResult, the rule the engine's own POPF follows): the guest's IOPL goes to the monitor's record, IF to the
//   real CPU (the monitor keeps the real IF the guest's), the real IOPL stays 0 at guest CPL 0–2.
// - IN, OUT, INS, OUTS of a guest whose CPL ≤ IOPL: the guest's permission check passes without its TSS (SDM 3A
//   §19.5.1), so the access is made on the real CPU with its IOPL raised for the instruction's duration; a guest
//   that needs its I/O bitmap consulted gets the real CPU's check (against the monitor's TSS, which has none),
//   whose #GP enters the monitor, which emulates with the guest's TSS.
// - CLI and STI of a guest whose CPL ≤ IOPL: the guest's IF is the real CPU's, so the instruction is the real CPU's
//   with its IOPL raised for its duration (STI's interrupt shadow included); CPL > IOPL faults into the monitor,
//   which emulates with the guest's CR4 (PVI) and EFLAGS.
// - PUSH Sreg and MOV r/m, Sreg: the real instruction with the guest's selector in the register for its duration
//   (while SBE binds them, every segment load enters the monitor, so its record of the guest's selectors is
//   exact); its RPL is the guest's, where the real selector's is the compressed ring's.
// - MOV Sreg and POP Sreg of DS, ES, FS or GS at guest CPL 0–2, when the guest's load is an ordinary one
//   (in-place-segment.ts: a present, accessed, consistent GDT entry that passes every check of the guest's load):
//   the real instruction, loading through the virtual GDT, then the monitor's record of the guest's register and
//   the guest's segment-load event (monitor.ts loadSegmentInPlace). Anything else enters the monitor.
// - IRET at guest CPL 0–2 when it is an ordinary return within the guest's privilege level (in-place-transfer.ts: a
//   present, accessed GDT code descriptor that passes every check of the guest's return, EIP within its limit, NT
//   clear, no return to V86 mode): the frame read by the real CPU, CS loaded through the virtual GDT, EFLAGS by the
//   guest's CPL and IOPL (monitor.ts iretInPlace). Anything else enters the monitor. (The external interrupt the
//   IRET returns from is delivered in place the same way at the boundary: monitor.ts deliverInPlace.)
// - Far RET and far JMP (EA, ptr16:16/32) at guest CPL 0–2 when the transfer stays within the guest's privilege
//   level through an ordinary code descriptor (in-place-transfer.ts ordinarySameLevelReturn, ordinaryFarJump): the
//   return frame read by the real CPU, CS loaded through the virtual GDT (in-place-completion.ts). Mode-switching
//   code jumps far to reload CS and returns far from its thunks: the cold-code workload's two far JMPs and its RETF,
//   60 000 monitor entries of its 200 000.
// Guest time is unchanged: the instruction retires once, and a device it reads sees the time a bare CPU's read sees.
// GRUB's LZMA decoder runs PUSHF/POPF around each range-coder normalisation (2.5 million times to its kernel) and
// boot loaders poll port 0x61 in calibration loops: these were most of the monitor's entries on real boot code.
// Linux's kernel brackets its per-CPU and IRQ-off sections with CLI/STI and its entry code pushes and reads FS, DS
// and ES: in its lib/mpi window these were 57 000 of 111 000 monitor entries per 200 M instructions.

import type { Cpu } from '../cpu/cpu';
import { CS, ESP, SS } from '../cpu/cpu';
import type { Handler, Instr } from '../cpu/decode/instr';
import { IOPL, RF, VM } from '../cpu/flags';
import { HANDLERS } from '../cpu/ops';
import { popfResult } from '../cpu/ops/stack';
import type { SegmentLoadCause } from '../events';
import type { GuestState } from './guest-state';

/** What the in-place handlers need of the monitor. */
export interface InPlaceHost {
  readonly guest: GuestState;
  /** True while the guest runs deprivileged (the CPU holds the real, not the guest's, state). */
  readonly deprivileged: boolean;
  /** The count of instructions completed in place by the handler of `name`, which increments it. */
  inPlaceCounter(name: string): { n: number };
  /**
   * Loads `seg` with `selector` on the real CPU when the guest's load is one it completes in place, and records it as
   * the guest's; false (nothing done) when it must be emulated.
   */
  loadSegmentInPlace(seg: number, selector: number, cause: SegmentLoadCause): boolean;
  /**
   * Completes the guest's IRET on the real CPU when it is an ordinary return within its privilege level; false
   * (nothing changed) when it must be emulated. May throw the real CPU's fault on the frame's reads, before any change.
   */
  iretInPlace(os32: boolean): boolean;
  /** Completes the guest's far RET (RETF, RETF imm16 releasing `release` bytes) as iretInPlace does IRET. */
  farReturnInPlace(os32: boolean, release: number): boolean;
  /** Completes the guest's far JMP to `selector`:`offset` when it is a direct jump within its privilege level. */
  farJumpInPlace(selector: number, offset: number, os32: boolean): boolean;
  /** Enters the monitor for a bound instruction, as SBE's binding does (the emulation then executes it). */
  enterForBound(i: Instr): void;
}

const IO_HANDLERS = ['inI', 'inDX', 'outI', 'outDX', 'ins', 'outs'];

/** The guest's EFLAGS while it runs deprivileged: the real CPU's, with the guest's IOPL. */
export function guestFlags(cpu: Cpu, g: GuestState): number {
  return (cpu.getEflags() & ~IOPL) | (g.eflags & IOPL);
}

/** The in-place handlers by the name of the handler they stand in for. */
export function inPlaceHandlers(host: InPlaceHost): Map<string, Handler> {
  const map = new Map<string, Handler>();
  const pushf = HANDLERS.pushf;
  const popf = HANDLERS.popf;
  const pushfCount = host.inPlaceCounter('pushf');
  map.set('pushf', (cpu: Cpu, i: Instr): void => {
    if (!host.deprivileged) return pushf(cpu, i);
    const flags = guestFlags(cpu, host.guest);
    cpu.push(i.size, i.size === 4 ? (flags & ~(VM | RF)) >>> 0 : flags & 0xffff);
    pushfCount.n++;
  });
  const popfCount = host.inPlaceCounter('popf');
  map.set('popf', (cpu: Cpu, i: Instr): void => {
    if (!host.deprivileged) return popf(cpu, i);
    const g = host.guest;
    const old = guestFlags(cpu, g);
    const v = cpu.pop(i.size);
    const next = popfResult(cpu, old, v, i.size, g.cpl);
    g.eflags = next >>> 0;
    cpu.setEflags(g.cpl === 3 ? next : next & ~IOPL);
    popfCount.n++;
  });
  for (const name of [...IO_HANDLERS, 'cli', 'sti']) {
    const handler = HANDLERS[name];
    const count = host.inPlaceCounter(name);
    map.set(name, (cpu: Cpu, i: Instr): void => {
      const g = host.guest;
      if (!host.deprivileged || g.cpl > (g.eflags & IOPL) >>> 12) return handler(cpu, i);
      const real = cpu.flags & IOPL;
      cpu.flags |= IOPL;
      try {
        handler(cpu, i);
      } finally {
        cpu.flags = (cpu.flags & ~IOPL) | real;
      }
      count.n++;
    });
  }
  for (const name of ['pushSeg', 'movES']) {
    const handler = HANDLERS[name];
    const count = host.inPlaceCounter(name);
    map.set(name, (cpu: Cpu, i: Instr): void => {
      if (!host.deprivileged) return handler(cpu, i);
      const seg = name === 'pushSeg' ? i.arg : i.reg;
      if (seg > 5) return handler(cpu, i); // MOV from Sreg 6/7: #UD, through the monitor
      const real = cpu.segSel[seg];
      cpu.segSel[seg] = host.guest.sel[seg];
      try {
        handler(cpu, i);
      } finally {
        cpu.segSel[seg] = real;
      }
      count.n++;
    });
  }
  for (const name of ['movSE', 'popSeg']) {
    const handler = HANDLERS[name];
    const count = host.inPlaceCounter(name);
    const mov = name === 'movSE';
    map.set(name, (cpu: Cpu, i: Instr): void => {
      if (!host.deprivileged) return handler(cpu, i);
      const seg = mov ? i.reg : i.arg;
      // DS, ES, FS, GS (SS: the stack checks and the interrupt shadow; CS and 6–7: #UD), the selector read once, as
      // the instruction reads it (ops/segment.ts); a fault here enters the monitor through the run loop, nothing
      // changed yet. When the load is left to the monitor, its emulation reads the operand again, as after a fault.
      if (seg !== SS && seg !== CS && seg < 6) {
        const sp = cpu.sp;
        const wide = cpu.stack32;
        const selector = (mov ? cpu.readRm(i, 2) : cpu.readMem(SS, sp, i.size)) & 0xffff;
        if (host.loadSegmentInPlace(seg, selector, mov ? 'mov' : 'pop')) {
          if (!mov && wide) cpu.regs[ESP] = (sp + i.size) | 0;
          else if (!mov) cpu.regs16[ESP << 1] = (sp + i.size) & 0xffff;
          count.n++;
          return;
        }
      }
      host.enterForBound(i);
    });
  }
  const iretCount = host.inPlaceCounter('iret');
  const iret = HANDLERS.iret;
  map.set('iret', (cpu: Cpu, i: Instr): void => {
    if (!host.deprivileged) return iret(cpu, i);
    if (host.iretInPlace(i.os32)) iretCount.n++;
    else host.enterForBound(i);
  });
  const retFarCount = host.inPlaceCounter('retFar');
  const retFar = HANDLERS.retFar;
  map.set('retFar', (cpu: Cpu, i: Instr): void => {
    if (!host.deprivileged) return retFar(cpu, i);
    // CB: RETF; CA: RETF imm16 (ops/far.ts retFar).
    if (host.farReturnInPlace(i.os32, i.opcode === 0xca ? i.imm & 0xffff : 0)) retFarCount.n++;
    else host.enterForBound(i);
  });
  const jmpFarCount = host.inPlaceCounter('jmpFar');
  const jmpFar = HANDLERS.jmpFar;
  map.set('jmpFar', (cpu: Cpu, i: Instr): void => {
    if (!host.deprivileged) return jmpFar(cpu, i);
    // EA: JMP ptr16:16/32 (ops/far.ts jmpFar).
    if (host.farJumpInPlace(i.imm2, i.imm, i.os32)) jmpFarCount.n++;
    else host.enterForBound(i);
  });
  return map;
}
