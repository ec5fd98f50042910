// The P6 integer additions (SDM 2 CMOVcc, NOP, RDPMC): CMOVcc (0F 40–4F), the hint-NOP space 0F 18–0F 1F (the
// multi-byte NOP 0F 1F /0; ENDBR32 F3 0F 1E FB executes as one, as on every P6 and later), and RDPMC.
// SYSENTER/SYSEXIT live in protect/sysenter.ts. On a model without them each raises #UD (model.ts): CMOVcc
// follows CPUID.CMOV, the hint NOPs and RDPMC the P6 family.

import type { Cpu } from '../cpu';
import { EAX, ECX, EDX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, rule, VEC_GP, VEC_UD } from '../faults';
import { CPUID_CMOV, CR4_PCE } from '../model';
import { sysenter, sysexit } from '../protect/sysenter';

const R_UD_NO_CMOV = rule('p6.cmov-without-cmov', 'CMOVcc on a processor without it (CPUID.01H:EDX.CMOV = 0: before the P6 family)', 'SDM 2 CMOVcc — IA-32 Architecture Compatibility');
const R_UD_NOT_P6 = rule('p6.not-on-this-model', 'the instruction exists from the P6 family on (Pentium Pro); earlier processors raise #UD', 'SDM 2 NOP (0F 1F), RDPMC — IA-32 Architecture Compatibility');
const R_GP_RDPMC_PCE = rule('rdpmc.pce', 'RDPMC with CPL > 0 and CR4.PCE = 0 (in real mode CPL is 0)', 'SDM 2 RDPMC — Protected Mode Exceptions');
const R_GP_RDPMC_COUNTER = rule('rdpmc.counter', 'ECX does not name a valid performance counter (P6: 0 or 1)', 'SDM 2 RDPMC — Operation');

/** P6 performance counters: PerfCtr0 and PerfCtr1 (SDM 3B §20.6, P6 family). */
const P6_COUNTERS = 2;

function requireP6(cpu: Cpu): void {
  if (!cpu.p6) fault(VEC_UD, -1, R_UD_NOT_P6, cpu.model.name);
}

export const handlers: Record<string, Handler> = {
  sysenter,
  sysexit,

  /**
   * CMOVcc r, r/m: the source is read whatever the condition (a memory operand faults even when the condition is
   * false, SDM 2 CMOVcc: "the source operand is read … regardless of the condition"); the destination is
   * written only when the condition holds (outside 64-bit mode a false condition leaves it unchanged).
   */
  cmov(cpu: Cpu, i: Instr): void {
    if ((cpu.model.features & CPUID_CMOV) === 0) fault(VEC_UD, -1, R_UD_NO_CMOV, cpu.model.name);
    const v = cpu.readRm(i, i.size);
    if (cpu.condition(i.arg)) cpu.setReg(i.size, i.reg, v);
  },

  /**
   * 0F 18–0F 1F with any ModRM: no operation. The ModRM and any displacement are decoded, but nothing is read:
   * the memory operand is never accessed, so it cannot fault (SDM 2 NOP: "does not … access memory").
   */
  hintNop(cpu: Cpu): void {
    requireP6(cpu);
  },

  /**
   * RDPMC: EDX:EAX ← performance counter ECX (40 bits on the P6). The order of the SDM's Operation section: CPL >
   * 0 with CR4.PCE = 0 → #GP(0), then ECX beyond the counters → #GP(0). No event counting is modelled: the
   * counters hold 0 (their event-select and counter MSRs are not implemented, msr.ts).
   */
  rdpmc(cpu: Cpu): void {
    requireP6(cpu);
    if (cpu.cpl !== 0 && (cpu.cr4 & CR4_PCE) === 0) fault(VEC_GP, 0, R_GP_RDPMC_PCE, `CPL ${cpu.cpl}`);
    const counter = cpu.regs[ECX] >>> 0;
    if (counter >= P6_COUNTERS) fault(VEC_GP, 0, R_GP_RDPMC_COUNTER, `ECX 0x${counter.toString(16)}`);
    cpu.regs[EAX] = 0;
    cpu.regs[EDX] = 0;
  },
};
