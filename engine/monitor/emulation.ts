// The monitor's emulation of one guest event on the CPU holding the guest's view (monitor.ts entryBody): the
// instruction that trapped, executed by the engine's own handler, or an interrupt or exception reflected into the
// guest's IDT — exactly what a bare CPU does, the faults it raises included.

import type { Cpu } from '../cpu/cpu';
import { CS } from '../cpu/cpu';
import { decode } from '../cpu/decode/decoder';
import { Instr } from '../cpu/decode/instr';
import { DR6_BS } from '../cpu/debug-registers';
import { CpuFault, fault, NO_ERROR_CODE, R_GP_CS_LIMIT, VEC_GP } from '../cpu/faults';
import { RF, TF } from '../cpu/flags';
import { deliverFault, deliverInterrupt } from '../cpu/interrupt';
import { HANDLERS } from '../cpu/ops';
import { ACCESS_FETCH } from '../cpu/protect/paging';

export class Emulation {
  constructor(private readonly cpu: Cpu) {}

  /** Reflects an interrupt or exception into the guest's IDT as bare hardware delivers it. */
  reflect(vector: number, source: number): void {
    const cpu = this.cpu;
    try {
      cpu.halted = false;
      deliverInterrupt(cpu, vector, NO_ERROR_CODE, source);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      deliverFault(cpu, e);
    }
  }

  /**
   * Executes the guest's instruction at CS:EIP on the CPU holding the guest's view, with the engine's own handler:
   * exactly what a bare CPU does, including the exception it raises (delivered through the guest's IDT).
   */
  emulateOne(rf: number, kept: Instr | null): void {
    const cpu = this.cpu;
    cpu.flags = (cpu.flags & ~RF) | rf;
    const start = cpu.eip;
    cpu.instrStart = start;
    // Single-step armed as the run loop arms it before an instruction (the real CPU's arming was dropped with the
    // fault that brought the monitor in): TF at the start traps after it, unless the instruction itself cancels
    // the trap (INT n). It is taken at the next boundary, through the monitor.
    if ((cpu.flags & TF) !== 0) cpu.pendingDebugTraps |= DR6_BS;
    // Guest time while it executes is what a bare CPU sees, the instructions before it (the time-stamp counter that
    // RDTSC and RDMSR read and WRMSR sets, device time for port I/O): the run loop's fault path counts the trapped
    // instruction only after this emulation (Cpu.run).
    // An SBE trap brings the instruction the CPU decoded (`kept`, monitor.ts sbeEntry): the same bytes in the same mode, executed by its
    // own handler; other entries decode it from the guest's view.
    try {
      if (kept !== null && kept.d32 === cpu.code32 && kept.row !== null) {
        cpu.eip = cpu.code32 ? (start + kept.len) >>> 0 : (start + kept.len) & 0xffff;
        HANDLERS[kept.row.handler](cpu, kept);
      } else {
        const i = decode(this.fetchGuestByte, start, cpu.code32, new Instr());
        cpu.eip = cpu.code32 ? (start + i.len) >>> 0 : (start + i.len) & 0xffff;
        i.exec(cpu, i);
      }
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      cpu.eip = cpu.instrStart;
      cpu.pendingDebugTraps = 0;
      cpu.flags |= RF;
      deliverFault(cpu, e);
    }
  }

  private readonly fetchGuestByte = (offset: number): number => {
    const cpu = this.cpu;
    if (offset > cpu.segLimit[CS]) fault(VEC_GP, 0, R_GP_CS_LIMIT);
    return cpu.mem.read8(cpu.translate((cpu.segBase[CS] + offset) | 0, ACCESS_FETCH));
  };
}
