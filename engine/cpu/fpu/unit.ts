// What every x87 instruction does around its operation (SDM vol. 1 §8.1.8, §8.5, §8.6; vol. 3A §2.5 CR0):
// availability (#NM from CR0.EM/TS/MP), a pending unmasked exception reported at the next waiting instruction
// (#MF with CR0.NE = 1, FERR# → IRQ13 with CR0.NE = 0), the last-instruction and last-operand pointers, and the
// status-word update that ends an instruction (exception flags, ES/B, C1, stack faults).

import { CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS, type Cpu } from '../cpu';
import { fault, rule, VEC_MF, VEC_NM, R_NM_NO_FPU } from '../faults';
import type { Instr } from '../decode/instr';
import { DE, FpEnv, IE, ZE } from './float80';
import { SW_B, SW_C1, SW_ES, SW_SF, type FpuState } from './state';

export const R_NM_WAIT = rule('fpu.wait', 'WAIT/FWAIT with CR0.MP = 1 and CR0.TS = 1', 'SDM 2 WAIT/FWAIT; SDM 3A Table 2-2');
export const R_MF_PENDING = rule('fpu.pending-error', 'an unmasked x87 exception is pending at a waiting x87 instruction with CR0.NE = 1', 'SDM 1 §8.6; SDM 3A §6.15 #MF');

/** The stack-fault flag travels with the exception flags of one operation (it is the status word's SF bit). */
export const SF = SW_SF;

/** Precision control → significand bits (SDM vol. 1 Table 8-2; the reserved value 01 behaves as 64 bits here). */
const PC_BITS = [24, 64, 53, 64];

const env = new FpEnv();

/** The environment of one operation; `pc` false for operations precision control does not govern. */
export function opEnv(f: FpuState, pc = true): FpEnv {
  const cw = f.cw;
  return env.reset((cw >> 10) & 3, pc ? PC_BITS[(cw >> 8) & 3] : 64, cw & 0x3f);
}

/** #NM for every ESC opcode when CR0.EM or CR0.TS is set (SDM 3A §2.5, Table 2-2). */
export function checkAvailable(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) fault(VEC_NM, -1, R_NM_NO_FPU);
}

/** WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set (SDM 3A Table 2-2). */
export function checkWaitAvailable(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) fault(VEC_NM, -1, R_NM_WAIT);
}

/**
 * A waiting instruction first reports a pending unmasked exception (SDM vol. 1 §8.6). With CR0.NE = 1 that is #MF,
 * a fault on this instruction. With CR0.NE = 0 (PC-compatible reporting, SDM vol. 1 §D.2.1) FERR# was already
 * asserted when the error happened; the instruction then proceeds, as it does on a PC whose chipset answers FERR#
 * with IGNNE# once the IRQ13 handler writes port F0h.
 */
export function checkPending(cpu: Cpu, f: FpuState): void {
  if ((f.sw & SW_ES) === 0) return;
  if ((cpu.cr0 & CR0_NE) !== 0) fault(VEC_MF, -1, R_MF_PENDING);
}

/** Records the last-instruction pointer and opcode, and the last-operand pointer for a memory operand (§8.1.8). */
export function notePointers(cpu: Cpu, f: FpuState, i: Instr, esc: number, modrm: number): void {
  f.fip = cpu.instrStart;
  f.fcs = cpu.segSel[CS];
  f.fop = (esc << 8) | modrm;
  if (i.rm < 0) {
    f.fdp = cpu.ea(i);
    f.fds = cpu.segSel[i.seg];
  }
}

/** The operation raised an unmasked pre-computation exception (invalid, denormal, zero-divide): no result is stored. */
export function blocked(e: FpEnv): boolean {
  return (e.flags & ~e.masks & (IE | DE | ZE)) !== 0;
}

/** Stack underflow (§8.5.1.1): IE and SF set, C1 cleared. */
export function stackUnderflow(e: FpEnv): void {
  e.flags |= IE | SF;
  e.roundedUp = false;
}

/** Stack overflow: IE and SF set, C1 set. */
export function stackOverflow(e: FpEnv): void {
  e.flags |= IE | SF;
  e.roundedUp = true;
}

/**
 * Ends an operation: ORs its exception flags into the status word, sets C1 (round-up, or the stack-fault
 * direction), and on an unmasked exception sets ES and B and reports it (FERR# with CR0.NE = 0).
 */
export function finish(cpu: Cpu, f: FpuState, e: FpEnv, setC1 = true): void {
  f.sw |= e.flags & 0x7f;
  if (setC1) f.sw = e.roundedUp ? f.sw | SW_C1 : f.sw & ~SW_C1;
  if ((e.flags & ~e.masks & 0x3f) !== 0) {
    f.sw |= SW_ES | SW_B;
    raiseFerr(cpu, f);
  }
}

/** Asserts FERR# when CR0.NE = 0: the platform routes it to IRQ13 (SDM vol. 1 §D.2.1). */
export function raiseFerr(cpu: Cpu, f: FpuState): void {
  if ((cpu.cr0 & CR0_NE) !== 0 || f.ferr) return;
  f.ferr = true;
  cpu.onFerr?.(true);
}
