// Port I/O and the interrupt flag: IN, OUT (immediate and DX port forms), CLI, STI (SDM vol. 2 IN, OUT, CLI, STI;
// vol. 1 §19.5 for the I/O permission rules). INS/OUTS are in ops/string.ts.

import type { Cpu } from '../cpu';
import { CR0_PE, EAX, EDX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, R_GP_IOPL, rule, VEC_GP } from '../faults';
import { IF, IOPL, IOPL_SHIFT, VM } from '../flags';
import { checkIoPermission } from '../protect/io-permission';
import { matchIoBreakpoints } from '../debug-registers';

const R_GP_V86_IF = rule('interrupt-flag.v86-iopl', 'CLI or STI in virtual-8086 mode with IOPL < 3 (CR4.VME = 0)', 'SDM 2 CLI/STI');

/**
 * CLI/STI privilege (SDM 2 CLI, STI, without VME/PVI): real mode always; protected mode needs CPL ≤ IOPL;
 * virtual-8086 mode needs IOPL = 3. Otherwise #GP(0).
 */
function checkInterruptFlagAccess(cpu: Cpu): void {
  if ((cpu.cr0 & CR0_PE) === 0) return;
  const iopl = (cpu.flags & IOPL) >> IOPL_SHIFT;
  if ((cpu.flags & VM) !== 0) {
    if (iopl < 3) fault(VEC_GP, 0, R_GP_V86_IF);
  } else if (cpu.cpl > iopl) {
    fault(VEC_GP, 0, R_GP_IOPL, `CPL ${cpu.cpl} > IOPL ${iopl}`);
  }
}

function portIn(cpu: Cpu, port: number, size: number): void {
  checkIoPermission(cpu, port, size);
  cpu.setReg(size, EAX, cpu.io.in(port, size));
  matchIoBreakpoints(cpu, port, size);
}

function portOut(cpu: Cpu, port: number, size: number): void {
  checkIoPermission(cpu, port, size);
  cpu.io.out(port, cpu.getReg(size, EAX), size);
  matchIoBreakpoints(cpu, port, size);
}

export const handlers: Record<string, Handler> = {
  /** IN AL/eAX, imm8 (E4, E5). */
  inI(cpu: Cpu, i: Instr): void {
    portIn(cpu, i.imm, i.size);
  },

  /** IN AL/eAX, DX (EC, ED). */
  inDX(cpu: Cpu, i: Instr): void {
    portIn(cpu, cpu.getReg(2, EDX), i.size);
  },

  /** OUT imm8, AL/eAX (E6, E7). */
  outI(cpu: Cpu, i: Instr): void {
    portOut(cpu, i.imm, i.size);
  },

  /** OUT DX, AL/eAX (EE, EF). */
  outDX(cpu: Cpu, i: Instr): void {
    portOut(cpu, cpu.getReg(2, EDX), i.size);
  },

  /** CLI (FA). */
  cli(cpu: Cpu): void {
    checkInterruptFlagAccess(cpu);
    cpu.setFlagBits(IF, 0);
    cpu.updateAttention();
  },

  /**
   * STI (FB). When it sets IF from 0 to 1, interrupts stay inhibited until after the next instruction (SDM 2 STI;
   * SDM 3A §6.8.3), so "STI; HLT" or "STI; RET" complete before an interrupt is taken.
   */
  sti(cpu: Cpu): void {
    checkInterruptFlagAccess(cpu);
    if ((cpu.flags & IF) !== 0) return;
    cpu.setFlagBits(IF, IF);
    cpu.interruptShadow = true;
    cpu.updateAttention();
    cpu.attention = true;
  },
};
