// Interrupt and exception delivery (SDM 3A ch. 6): the entry point for faults caught at the instruction boundary,
// software interrupts and external interrupts, the double-fault rule, and real-mode delivery through the IVT.
// Protected-mode delivery through IDT gates lives in protect/interrupt.ts.

import type { Cpu } from './cpu';
import { CS } from './cpu';
import { EV_CPU_EXCEPTION, EV_TRIPLE_FAULT } from '../events';
import { CpuFault, fault, rule, VEC_DF, VEC_GP, VEC_NMI, VEC_PF, VEC_DE, VEC_TS, VEC_NP, VEC_SS } from './faults';
import { AC, IF, RF, TF, VM } from './flags';
import { deliverProtected } from './protect/interrupt';
import { branchFarReal } from './protect/code-segment';

/** Where an interrupt comes from; decides the return address, EXT bit and privilege checks. */
export const SOURCE_EXCEPTION = 0; // a fault or trap raised by the CPU (EXT = 1 in error codes)
export const SOURCE_SOFTWARE = 1; // INT n, INT3, INTO (gate DPL checked against CPL)
export const SOURCE_EXTERNAL = 2; // INTR or NMI (EXT = 1)
export const SOURCE_ICEBP = 3; // INT1 / F1: a trap, no DPL check (EXT = 1)
export type InterruptSource = number;

const R_IVT_LIMIT = rule('interrupt.ivt-limit', 'the interrupt vector lies beyond the IVT limit (IDTR.limit)', 'SDM 3A §20.1.4');

/** Contributory exceptions for the double-fault rule (SDM 3A Table 6-4). */
function isContributory(v: number): boolean {
  return v === VEC_DE || v === VEC_TS || v === VEC_NP || v === VEC_SS || v === VEC_GP;
}

/** Called by the run loop for a fault thrown by an instruction (EIP already rolled back to the instruction). */
export function deliverFault(cpu: Cpu, f: CpuFault): void {
  if (cpu.events.active[EV_CPU_EXCEPTION]) {
    cpu.events.emit(EV_CPU_EXCEPTION, {
      vector: f.vector,
      errorCode: f.errorCode,
      ruleId: f.rule.id,
      rule: f.rule.text,
      sdm: f.rule.sdm,
      detail: f.detail,
      cs: cpu.segSel[CS],
      eip: cpu.instrStart,
    });
  }
  raiseException(cpu, f.vector, f.errorCode);
}

/**
 * Delivers exception `vector`, applying the double-fault rule when it arises while another exception is being
 * delivered (SDM 3A §6.15, Table 6-5): contributory + contributory, or #PF + (contributory or #PF) → #DF(0);
 * any fault while delivering #DF → triple fault (shutdown).
 */
export function raiseException(cpu: Cpu, vector: number, errorCode: number): void {
  const first = cpu.deliveringVector;
  if (first >= 0) {
    if (first === VEC_DF) {
      tripleFault(cpu, `exception ${vector} while delivering a double fault`);
      return;
    }
    const second = vector;
    if ((isContributory(first) && isContributory(second)) || (first === VEC_PF && (isContributory(second) || second === VEC_PF))) {
      vector = VEC_DF;
      errorCode = 0;
    }
  }
  const saved = cpu.deliveringVector;
  cpu.deliveringVector = vector;
  try {
    deliverInterrupt(cpu, vector, errorCode, SOURCE_EXCEPTION);
    cpu.deliveringVector = -1;
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    // A fault while delivering: state was not committed (check-then-commit), so deliver the new one under the rule.
    if (cpu.events.active[EV_CPU_EXCEPTION]) {
      cpu.events.emit(EV_CPU_EXCEPTION, {
        vector: e.vector,
        errorCode: e.errorCode,
        ruleId: e.rule.id,
        rule: e.rule.text,
        sdm: e.rule.sdm,
        detail: `while delivering exception ${vector}: ${e.detail}`,
        cs: cpu.segSel[CS],
        eip: cpu.instrStart,
      });
    }
    raiseException(cpu, e.vector, e.errorCode);
    cpu.deliveringVector = saved >= 0 ? saved : -1;
    if (cpu.deliveringVector >= 0 && !cpu.shutdown) cpu.deliveringVector = -1;
  }
}

export function tripleFault(cpu: Cpu, detail: string): void {
  cpu.shutdown = true;
  cpu.halted = true;
  cpu.deliveringVector = -1;
  if (cpu.events.active[EV_TRIPLE_FAULT]) {
    cpu.events.emit(EV_TRIPLE_FAULT, { cs: cpu.segSel[CS], eip: cpu.instrStart, detail });
  }
}

/** INTR or NMI, taken between instructions (the caller checked IF for INTR). */
export function deliverExternalInterrupt(cpu: Cpu): void {
  cpu.halted = false;
  if (cpu.nmiPending) {
    cpu.nmiPending = false;
    cpu.updateAttention();
    deliverInterrupt(cpu, VEC_NMI, -1, SOURCE_EXTERNAL);
    return;
  }
  const vector = cpu.acknowledgeInterrupt ? cpu.acknowledgeInterrupt() & 0xff : 0;
  cpu.updateAttention();
  deliverInterrupt(cpu, vector, -1, SOURCE_EXTERNAL);
}

/**
 * Transfers control to the handler of `vector`. The return address is the current EIP: the run loop has already
 * rolled it back to the faulting instruction for faults, and advanced it past INT n for software interrupts.
 * `errorCode` is -1 when none is pushed.
 */
export function deliverInterrupt(cpu: Cpu, vector: number, errorCode: number, source: InterruptSource): void {
  // The handler starts without the interrupted instruction's debug traps: INT n with TF = 1 is not followed by a
  // single-step trap in its handler (TF is clear there; the trap comes after the instruction IRET returns to).
  cpu.pendingDebugTraps = 0;
  if ((cpu.cr0 & 1) !== 0) {
    deliverProtected(cpu, vector, errorCode, source);
    return;
  }
  deliverReal(cpu, vector);
}

/** Real-address-mode delivery (SDM 2 INT n, "REAL-ADDRESS-MODE"; SDM 3A §20.1.4): no error code is pushed. */
function deliverReal(cpu: Cpu, vector: number): void {
  const entry = vector * 4;
  if (entry + 3 > cpu.idtrLimit) fault(VEC_GP, 0, R_IVT_LIMIT);
  const offset = cpu.readLinear16(cpu.idtrBase + entry);
  const selector = cpu.readLinear16(cpu.idtrBase + entry + 2);
  const flags = cpu.getEflags();
  // Check that all three words fit on the stack before writing any of them (SP wraps within 64 KiB).
  const sp = cpu.sp;
  for (let k = 2; k <= 6; k += 2) cpu.checkWrite(2, cpu.stack32 ? (sp - k) >>> 0 : (sp - k) & 0xffff, 2);
  cpu.push(2, flags & 0xffff);
  cpu.push(2, cpu.segSel[CS]);
  cpu.push(2, cpu.eip & 0xffff);
  cpu.setEflags(flags & ~(IF | TF | AC | RF) & ~VM);
  // CS = selector (base × 16, limit and attributes kept, model.md §1), IP = offset: the shared far-transfer step.
  branchFarReal(cpu, selector, offset, 'interrupt');
}
