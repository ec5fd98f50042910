// Exceptions raised by instruction execution (SDM vol. 3A ch. 6).
//
// A check that fails calls `fault(vector, errorCode, rule)`. The rule names the check in the SDM's words so the
// debugger's fault explainer and the `cpu-exception` event can say *which* condition failed. `CpuFault` is thrown
// only here and caught only at the instruction boundary (Cpu.step), where the instruction is rolled back to its
// start (faults) and the exception is delivered.

export const VEC_DE = 0; // divide error
export const VEC_DB = 1; // debug
export const VEC_NMI = 2;
export const VEC_BP = 3; // breakpoint (INT3)
export const VEC_OF = 4; // overflow (INTO)
export const VEC_BR = 5; // BOUND range exceeded
export const VEC_UD = 6; // invalid opcode
export const VEC_NM = 7; // device not available
export const VEC_DF = 8; // double fault
export const VEC_TS = 10; // invalid TSS
export const VEC_NP = 11; // segment not present
export const VEC_SS = 12; // stack-segment fault
export const VEC_GP = 13; // general protection
export const VEC_PF = 14; // page fault
export const VEC_MF = 16; // x87 floating-point error
export const VEC_AC = 17; // alignment check

/** No error code is pushed for this exception. */
export const NO_ERROR_CODE = -1;

export interface FaultRule {
  /** Stable id, e.g. `segment-load.data.dpl` — used by tests and conditions. */
  readonly id: string;
  /** The failed condition in the SDM's words. */
  readonly text: string;
  /** Where the SDM states it. */
  readonly sdm: string;
}

export function rule(id: string, text: string, sdm: string): FaultRule {
  return { id, text, sdm };
}

export class CpuFault {
  constructor(
    readonly vector: number,
    readonly errorCode: number,
    readonly rule: FaultRule,
    /** Extra detail for the explainer (e.g. "DS load: descriptor DPL 0 < max(CPL 3, RPL 3)"). */
    readonly detail: string = '',
  ) {}
}

export function fault(vector: number, errorCode: number, r: FaultRule, detail = ''): never {
  throw new CpuFault(vector, errorCode, r, detail);
}

/** Error code naming a selector (SDM §6.13): index and TI of the selector, RPL bits cleared. EXT is added at delivery. */
export function selectorError(selector: number): number {
  return selector & 0xfffc;
}

/** Error code naming an IDT entry (SDM §6.13: IDT bit set). */
export function idtError(vector: number): number {
  return ((vector & 0xff) << 3) | 2;
}

/** Exceptions that push an error code (SDM Table 6-1). */
export function pushesErrorCode(vector: number): boolean {
  return vector === VEC_DF || (vector >= VEC_TS && vector <= VEC_PF) || vector === VEC_AC;
}

// Rules used across mechanisms. Mechanism-specific rules live beside their checks.
export const R_UD_OPCODE = rule('decode.undefined-opcode', 'the opcode is reserved or undefined', 'SDM 2 App. A');
export const R_UD_LOCK = rule('decode.lock', 'LOCK prefix used with an instruction or operand that cannot be locked', 'SDM 2 §2.1.1 LOCK');
export const R_UD_REG_OPERAND = rule('decode.memory-operand-required', 'a register operand is used where the instruction requires memory', 'SDM 2 App. A');
export const R_GP_INSTR_LENGTH = rule('decode.length', 'instruction longer than 15 bytes', 'SDM 2 §2.3.11');
export const R_GP_CS_LIMIT = rule('fetch.cs-limit', 'instruction bytes lie beyond the CS limit', 'SDM 3A §5.3');
export const R_DE_DIVIDE = rule('div.divide-error', 'divisor is 0 or the quotient is too large for the destination', 'SDM 2 DIV/IDIV');
export const R_GP_PRIVILEGED = rule('privilege.cpl-not-0', 'privileged instruction executed with CPL > 0', 'SDM 3A §5.9');
export const R_GP_IOPL = rule('privilege.iopl', 'IOPL-sensitive instruction executed with CPL > IOPL', 'SDM 1 §19.5.1');
export const R_NM_NO_FPU = rule('fpu.not-available', 'x87 instruction with CR0.EM = 1 or CR0.TS = 1', 'SDM 3A §2.5 CR0.EM/TS');
