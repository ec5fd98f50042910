// The one instruction table. Each record is one encoding: opcode (0x100 | b for 0F b), the ModRM reg field for group
// opcodes, the mnemonic, the operand form, the handler name, a parameter for the handler, flags, and the EFLAGS bits
// that the SDM leaves undefined for it. The decoder, the disassembler and `conform` all read this table.
//
// Operand forms (after the SDM's opcode-map notation, vol. 2 App. A):
//   E? ModRM r/m       G? ModRM reg (general)      M? ModRM memory only (#UD for a register)
//   S  ModRM reg = segment register   C/D ModRM reg = control / debug register   R ModRM rm = general register
//   I? immediate (Ibs: imm8 sign-extended to the operand size)   J? relative offset   Ap far pointer
//   O? offset (moffs, address-size wide)   Z? register in the opcode's low 3 bits
//   AL, eAX (accumulator of the operand size), CL, DX, 1: fixed operands
// Sizes: b byte, w word, d dword, v word or dword by operand size, p/a/s/q memory shapes.
//
// Handlers are referenced by name and resolved against the handler registry (engine/cpu/ops/index.ts), so a missing
// handler is found by a test, not at run time.

import { AF, CF, OF, PF, SF, ZF } from '../flags';

export interface OpRow {
  /** 0x00–0xFF, or 0x100 | second byte for the 0F map. */
  readonly op: number;
  /** ModRM reg field selecting this row within a group, or -1. */
  readonly reg: number;
  readonly mnemonic: string;
  readonly form: string;
  readonly handler: string;
  readonly arg: number;
  /** LOCK allowed (with a memory destination). */
  readonly lockable: boolean;
  /** Ends straight-line execution (jumps, calls, returns, interrupts, mode and CS changes, HLT). */
  readonly flow: boolean;
  /** EFLAGS bits the SDM leaves undefined after this instruction. */
  readonly undefinedFlags: number;
}

interface Extra {
  lock?: boolean;
  flow?: boolean;
  undef?: number;
}

const rows: OpRow[] = [];
function r(op: number, reg: number, mnemonic: string, form: string, handler: string, arg = 0, x: Extra = {}): void {
  rows.push({
    op,
    reg,
    mnemonic,
    form,
    handler,
    arg,
    lockable: x.lock ?? false,
    flow: x.flow ?? false,
    undefinedFlags: x.undef ?? 0,
  });
}

const LOCK = { lock: true };
const FLOW = { flow: true };

// ---- 00–3F: the eight ALU operations in six forms each ----
export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;
const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
for (let op = 0; op < 8; op++) {
  const b = op << 3;
  const n = ALU_NAMES[op];
  const undef = op === ALU_OR || op === ALU_AND || op === ALU_XOR ? AF : 0;
  const lock = op !== ALU_CMP;
  r(b + 0, -1, n, 'Eb,Gb', 'aluEG', op, { lock, undef });
  r(b + 1, -1, n, 'Ev,Gv', 'aluEG', op, { lock, undef });
  r(b + 2, -1, n, 'Gb,Eb', 'aluGE', op, { undef });
  r(b + 3, -1, n, 'Gv,Ev', 'aluGE', op, { undef });
  r(b + 4, -1, n, 'AL,Ib', 'aluAI', op, { undef });
  r(b + 5, -1, n, 'eAX,Iv', 'aluAI', op, { undef });
  // group 1 (80–83) shares the operation numbering
  r(0x80, op, n, 'Eb,Ib', 'aluEI', op, { lock, undef });
  r(0x81, op, n, 'Ev,Iv', 'aluEI', op, { lock, undef });
  r(0x82, op, n, 'Eb,Ib', 'aluEI', op, { lock, undef });
  r(0x83, op, n, 'Ev,Ibs', 'aluEI', op, { lock, undef });
}
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
r(0x06, -1, 'push', 'ES', 'pushSeg', ES);
r(0x07, -1, 'pop', 'ES', 'popSeg', ES);
r(0x0e, -1, 'push', 'CS', 'pushSeg', CS);
r(0x16, -1, 'push', 'SS', 'pushSeg', SS);
r(0x17, -1, 'pop', 'SS', 'popSeg', SS);
r(0x1e, -1, 'push', 'DS', 'pushSeg', DS);
r(0x1f, -1, 'pop', 'DS', 'popSeg', DS);
r(0x27, -1, 'daa', '', 'daa', 0, { undef: OF });
r(0x2f, -1, 'das', '', 'das', 0, { undef: OF });
r(0x37, -1, 'aaa', '', 'aaa', 0, { undef: OF | SF | ZF | PF });
r(0x3f, -1, 'aas', '', 'aas', 0, { undef: OF | SF | ZF | PF });

// ---- 40–5F ----
for (let n = 0; n < 8; n++) {
  r(0x40 + n, -1, 'inc', 'Zv', 'incZ');
  r(0x48 + n, -1, 'dec', 'Zv', 'decZ');
  r(0x50 + n, -1, 'push', 'Zv', 'pushZ');
  r(0x58 + n, -1, 'pop', 'Zv', 'popZ');
}

// ---- 60–6F ----
r(0x60, -1, 'pusha', '', 'pusha');
r(0x61, -1, 'popa', '', 'popa');
r(0x62, -1, 'bound', 'Gv,Ma', 'bound');
r(0x63, -1, 'arpl', 'Ew,Gw', 'arpl');
r(0x68, -1, 'push', 'Iv', 'pushI');
r(0x69, -1, 'imul', 'Gv,Ev,Iv', 'imulGEI', 0, { undef: SF | ZF | AF | PF });
r(0x6a, -1, 'push', 'Ibs', 'pushI');
r(0x6b, -1, 'imul', 'Gv,Ev,Ibs', 'imulGEI', 0, { undef: SF | ZF | AF | PF });
r(0x6c, -1, 'insb', 'b', 'ins');
r(0x6d, -1, 'ins', 'v', 'ins');
r(0x6e, -1, 'outsb', 'b', 'outs');
r(0x6f, -1, 'outs', 'v', 'outs');

// ---- 70–7F Jcc rel8; condition codes in the SDM's order (o no b ae e ne be a s ns p np l ge le g) ----
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
for (let cc = 0; cc < 16; cc++) {
  r(0x70 + cc, -1, 'j' + CC_NAMES[cc], 'Jb', 'jcc', cc, FLOW);
  r(0x180 + cc, -1, 'j' + CC_NAMES[cc], 'Jv', 'jcc', cc, FLOW);
  r(0x190 + cc, -1, 'set' + CC_NAMES[cc], 'Eb', 'setcc', cc); // SETcc ignores the ModRM reg field (SDM App. A)
}

// ---- 84–8F ----
r(0x84, -1, 'test', 'Eb,Gb', 'testEG', 0, { undef: AF });
r(0x85, -1, 'test', 'Ev,Gv', 'testEG', 0, { undef: AF });
r(0x86, -1, 'xchg', 'Eb,Gb', 'xchgEG', 0, LOCK);
r(0x87, -1, 'xchg', 'Ev,Gv', 'xchgEG', 0, LOCK);
r(0x88, -1, 'mov', 'Eb,Gb', 'movEG');
r(0x89, -1, 'mov', 'Ev,Gv', 'movEG');
r(0x8a, -1, 'mov', 'Gb,Eb', 'movGE');
r(0x8b, -1, 'mov', 'Gv,Ev', 'movGE');
r(0x8c, -1, 'mov', 'Ew,S', 'movES');
r(0x8d, -1, 'lea', 'Gv,M', 'lea');
r(0x8e, -1, 'mov', 'S,Ew', 'movSE', 0, FLOW);
r(0x8f, 0, 'pop', 'Ev', 'popE');

// ---- 90–9F ----
r(0x90, -1, 'nop', '', 'nop');
for (let n = 1; n < 8; n++) r(0x90 + n, -1, 'xchg', 'Zv,eAX', 'xchgZA');
r(0x98, -1, 'cbw', '', 'cbw');
r(0x99, -1, 'cwd', '', 'cwd');
r(0x9a, -1, 'call', 'Ap', 'callFar', 0, FLOW);
r(0x9b, -1, 'wait', '', 'fwait');
r(0x9c, -1, 'pushf', '', 'pushf');
r(0x9d, -1, 'popf', '', 'popf', 0, FLOW);
r(0x9e, -1, 'sahf', '', 'sahf');
r(0x9f, -1, 'lahf', '', 'lahf');

// ---- A0–AF ----
r(0xa0, -1, 'mov', 'AL,Ob', 'movAO');
r(0xa1, -1, 'mov', 'eAX,Ov', 'movAO');
r(0xa2, -1, 'mov', 'Ob,AL', 'movOA');
r(0xa3, -1, 'mov', 'Ov,eAX', 'movOA');
r(0xa4, -1, 'movsb', 'b', 'movs');
r(0xa5, -1, 'movs', 'v', 'movs');
r(0xa6, -1, 'cmpsb', 'b', 'cmps');
r(0xa7, -1, 'cmps', 'v', 'cmps');
r(0xa8, -1, 'test', 'AL,Ib', 'testAI', 0, { undef: AF });
r(0xa9, -1, 'test', 'eAX,Iv', 'testAI', 0, { undef: AF });
r(0xaa, -1, 'stosb', 'b', 'stos');
r(0xab, -1, 'stos', 'v', 'stos');
r(0xac, -1, 'lodsb', 'b', 'lods');
r(0xad, -1, 'lods', 'v', 'lods');
r(0xae, -1, 'scasb', 'b', 'scas');
r(0xaf, -1, 'scas', 'v', 'scas');

// ---- B0–BF ----
for (let n = 0; n < 8; n++) {
  r(0xb0 + n, -1, 'mov', 'Zb,Ib', 'movZI');
  r(0xb8 + n, -1, 'mov', 'Zv,Iv', 'movZI');
}

// ---- C0–CF ----
export const SH_ROL = 0, SH_ROR = 1, SH_RCL = 2, SH_RCR = 3, SH_SHL = 4, SH_SHR = 5, SH_SAL = 6, SH_SAR = 7;
const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
for (let k = 0; k < 8; k++) {
  // Rotates leave OF undefined for counts other than 1; shifts leave AF undefined (and OF for counts other than 1).
  const undef = k < 4 ? OF : AF | OF;
  const n = SHIFT_NAMES[k];
  r(0xc0, k, n, 'Eb,Ib', 'shiftI', k, { undef });
  r(0xc1, k, n, 'Ev,Ib', 'shiftI', k, { undef });
  r(0xd0, k, n, 'Eb,1', 'shift1', k, { undef });
  r(0xd1, k, n, 'Ev,1', 'shift1', k, { undef });
  r(0xd2, k, n, 'Eb,CL', 'shiftCL', k, { undef });
  r(0xd3, k, n, 'Ev,CL', 'shiftCL', k, { undef });
}
r(0xc2, -1, 'ret', 'Iw', 'retNear', 0, FLOW);
r(0xc3, -1, 'ret', '', 'retNear', 0, FLOW);
r(0xc4, -1, 'les', 'Gv,Mp', 'loadFarPointer', ES, FLOW);
r(0xc5, -1, 'lds', 'Gv,Mp', 'loadFarPointer', DS, FLOW);
r(0xc6, 0, 'mov', 'Eb,Ib', 'movEI');
r(0xc7, 0, 'mov', 'Ev,Iv', 'movEI');
r(0xc8, -1, 'enter', 'Iw,Ib', 'enter');
r(0xc9, -1, 'leave', '', 'leave');
r(0xca, -1, 'retf', 'Iw', 'retFar', 0, FLOW);
r(0xcb, -1, 'retf', '', 'retFar', 0, FLOW);
r(0xcc, -1, 'int3', '', 'int3', 0, FLOW);
r(0xcd, -1, 'int', 'Ib', 'intIb', 0, FLOW);
r(0xce, -1, 'into', '', 'into', 0, FLOW);
r(0xcf, -1, 'iret', '', 'iret', 0, FLOW);

// ---- D0–DF ----
r(0xd4, -1, 'aam', 'Ib', 'aam', 0, { undef: OF | AF | CF });
r(0xd5, -1, 'aad', 'Ib', 'aad', 0, { undef: OF | AF | CF });
r(0xd6, -1, 'salc', '', 'salc');
r(0xd7, -1, 'xlat', '', 'xlat');
// D8–DF: x87 escapes. Without an FPU they fault with #NM (EM or TS) or do nothing after the address calculation.
for (let n = 0; n < 8; n++) r(0xd8 + n, -1, 'esc', 'E', 'fpuEscape', n);

// ---- E0–EF ----
r(0xe0, -1, 'loopne', 'Jb', 'loop', 0, FLOW);
r(0xe1, -1, 'loope', 'Jb', 'loop', 1, FLOW);
r(0xe2, -1, 'loop', 'Jb', 'loop', 2, FLOW);
r(0xe3, -1, 'jcxz', 'Jb', 'jcxz', 0, FLOW);
r(0xe4, -1, 'in', 'AL,Ib', 'inI');
r(0xe5, -1, 'in', 'eAX,Ib', 'inI');
r(0xe6, -1, 'out', 'Ib,AL', 'outI');
r(0xe7, -1, 'out', 'Ib,eAX', 'outI');
r(0xe8, -1, 'call', 'Jv', 'callRel', 0, FLOW);
r(0xe9, -1, 'jmp', 'Jv', 'jmpRel', 0, FLOW);
r(0xea, -1, 'jmp', 'Ap', 'jmpFar', 0, FLOW);
r(0xeb, -1, 'jmp', 'Jb', 'jmpRel', 0, FLOW);
r(0xec, -1, 'in', 'AL,DX', 'inDX');
r(0xed, -1, 'in', 'eAX,DX', 'inDX');
r(0xee, -1, 'out', 'DX,AL', 'outDX');
r(0xef, -1, 'out', 'DX,eAX', 'outDX');

// ---- F0–FF ----
r(0xf1, -1, 'int1', '', 'int1', 0, FLOW);
r(0xf4, -1, 'hlt', '', 'hlt', 0, FLOW);
r(0xf5, -1, 'cmc', '', 'cmc');
const GRP3 = ['test', 'test', 'not', 'neg', 'mul', 'imul', 'div', 'idiv'];
const GRP3_H = ['testEI', 'testEI', 'notE', 'negE', 'mulE', 'imulE', 'divE', 'idivE'];
const GRP3_UNDEF = [AF, AF, 0, 0, SF | ZF | AF | PF, SF | ZF | AF | PF, CF | OF | SF | ZF | AF | PF, CF | OF | SF | ZF | AF | PF];
for (let k = 0; k < 8; k++) {
  const lock = k === 2 || k === 3;
  r(0xf6, k, GRP3[k], k < 2 ? 'Eb,Ib' : 'Eb', GRP3_H[k], k, { lock, undef: GRP3_UNDEF[k] });
  r(0xf7, k, GRP3[k], k < 2 ? 'Ev,Iv' : 'Ev', GRP3_H[k], k, { lock, undef: GRP3_UNDEF[k] });
}
r(0xf8, -1, 'clc', '', 'clc');
r(0xf9, -1, 'stc', '', 'stc');
r(0xfa, -1, 'cli', '', 'cli');
r(0xfb, -1, 'sti', '', 'sti');
r(0xfc, -1, 'cld', '', 'cld');
r(0xfd, -1, 'std', '', 'std');
r(0xfe, 0, 'inc', 'Eb', 'incE', 0, LOCK);
r(0xfe, 1, 'dec', 'Eb', 'decE', 0, LOCK);
r(0xff, 0, 'inc', 'Ev', 'incE', 0, LOCK);
r(0xff, 1, 'dec', 'Ev', 'decE', 0, LOCK);
r(0xff, 2, 'call', 'Ev', 'callE', 0, FLOW);
r(0xff, 3, 'call far', 'Mp', 'callFarM', 0, FLOW);
r(0xff, 4, 'jmp', 'Ev', 'jmpE', 0, FLOW);
r(0xff, 5, 'jmp far', 'Mp', 'jmpFarM', 0, FLOW);
r(0xff, 6, 'push', 'Ev', 'pushE');

// ---- 0F map ----
const T = 0x100;
r(T | 0x00, 0, 'sldt', 'Ew', 'sldt');
r(T | 0x00, 1, 'str', 'Ew', 'str');
r(T | 0x00, 2, 'lldt', 'Ew', 'lldt', 0, FLOW);
r(T | 0x00, 3, 'ltr', 'Ew', 'ltr');
r(T | 0x00, 4, 'verr', 'Ew', 'verr');
r(T | 0x00, 5, 'verw', 'Ew', 'verw');
r(T | 0x01, 0, 'sgdt', 'Ms', 'sgdt');
r(T | 0x01, 1, 'sidt', 'Ms', 'sidt');
r(T | 0x01, 2, 'lgdt', 'Ms', 'lgdt', 0, FLOW);
r(T | 0x01, 3, 'lidt', 'Ms', 'lidt');
r(T | 0x01, 4, 'smsw', 'Ew', 'smsw');
r(T | 0x01, 6, 'lmsw', 'Ew', 'lmsw', 0, FLOW);
r(T | 0x01, 7, 'invlpg', 'M', 'invlpg', 0, FLOW);
r(T | 0x02, -1, 'lar', 'Gv,Ew', 'lar');
r(T | 0x03, -1, 'lsl', 'Gv,Ew', 'lsl');
r(T | 0x06, -1, 'clts', '', 'clts');
r(T | 0x08, -1, 'invd', '', 'invd');
r(T | 0x09, -1, 'wbinvd', '', 'wbinvd');
r(T | 0x0b, -1, 'ud2', '', 'ud', 0, FLOW);
// 0F 18–0F 1F: the hint-NOP space of the P6 family. 0F 1F /0 is the multi-byte NOP (NOP r/m); the other
// encodings are reserved NOPs, written `nop r/m, reg` as NASM and the SDM's opcode map do (F3 0F 1E FB is ENDBR32).
for (let n = 0x18; n <= 0x1e; n++) r(T | n, -1, 'nop', 'Ev,Gv', 'hintNop');
r(T | 0x1f, 0, 'nop', 'Ev', 'hintNop');
for (let g = 1; g < 8; g++) r(T | 0x1f, g, 'nop', 'Ev,Gv', 'hintNop');
r(T | 0x20, -1, 'mov', 'Rd,Cd', 'movRC');
r(T | 0x21, -1, 'mov', 'Rd,Dd', 'movRD');
r(T | 0x22, -1, 'mov', 'Cd,Rd', 'movCR', 0, FLOW);
r(T | 0x23, -1, 'mov', 'Dd,Rd', 'movDR', 0, FLOW);
r(T | 0x30, -1, 'wrmsr', '', 'wrmsr');
r(T | 0x31, -1, 'rdtsc', '', 'rdtsc');
r(T | 0x32, -1, 'rdmsr', '', 'rdmsr');
r(T | 0x33, -1, 'rdpmc', '', 'rdpmc');
r(T | 0x34, -1, 'sysenter', '', 'sysenter', 0, FLOW);
r(T | 0x35, -1, 'sysexit', '', 'sysexit', 0, FLOW);
// 0F 40–4F CMOVcc r, r/m (P6), condition codes as Jcc.
for (let cc = 0; cc < 16; cc++) r(T | (0x40 + cc), -1, 'cmov' + CC_NAMES[cc], 'Gv,Ev', 'cmov', cc);
r(T | 0xa0, -1, 'push', 'FS', 'pushSeg', FS);
r(T | 0xa1, -1, 'pop', 'FS', 'popSeg', FS);
r(T | 0xa2, -1, 'cpuid', '', 'cpuid');
export const BT_TEST = 0, BT_SET = 1, BT_RESET = 2, BT_COMPLEMENT = 3;
const BT_UNDEF = OF | SF | AF | PF;
r(T | 0xa3, -1, 'bt', 'Ev,Gv', 'btEG', BT_TEST, { undef: BT_UNDEF });
r(T | 0xa4, -1, 'shld', 'Ev,Gv,Ib', 'shld', 0, { undef: AF | OF });
r(T | 0xa5, -1, 'shld', 'Ev,Gv,CL', 'shld', 0, { undef: AF | OF });
r(T | 0xa8, -1, 'push', 'GS', 'pushSeg', GS);
r(T | 0xa9, -1, 'pop', 'GS', 'popSeg', GS);
r(T | 0xab, -1, 'bts', 'Ev,Gv', 'btEG', BT_SET, { lock: true, undef: BT_UNDEF });
r(T | 0xac, -1, 'shrd', 'Ev,Gv,Ib', 'shrd', 0, { undef: AF | OF });
r(T | 0xad, -1, 'shrd', 'Ev,Gv,CL', 'shrd', 0, { undef: AF | OF });
r(T | 0xaf, -1, 'imul', 'Gv,Ev', 'imulGE', 0, { undef: SF | ZF | AF | PF });
r(T | 0xb0, -1, 'cmpxchg', 'Eb,Gb', 'cmpxchg', 0, LOCK);
r(T | 0xb1, -1, 'cmpxchg', 'Ev,Gv', 'cmpxchg', 0, LOCK);
r(T | 0xb2, -1, 'lss', 'Gv,Mp', 'loadFarPointer', SS, FLOW);
r(T | 0xb3, -1, 'btr', 'Ev,Gv', 'btEG', BT_RESET, { lock: true, undef: BT_UNDEF });
r(T | 0xb4, -1, 'lfs', 'Gv,Mp', 'loadFarPointer', FS, FLOW);
r(T | 0xb5, -1, 'lgs', 'Gv,Mp', 'loadFarPointer', GS, FLOW);
r(T | 0xb6, -1, 'movzx', 'Gv,Eb', 'movzx');
r(T | 0xb7, -1, 'movzx', 'Gv,Ew', 'movzx');
r(T | 0xba, 4, 'bt', 'Ev,Ib', 'btEI', BT_TEST, { undef: BT_UNDEF });
r(T | 0xba, 5, 'bts', 'Ev,Ib', 'btEI', BT_SET, { lock: true, undef: BT_UNDEF });
r(T | 0xba, 6, 'btr', 'Ev,Ib', 'btEI', BT_RESET, { lock: true, undef: BT_UNDEF });
r(T | 0xba, 7, 'btc', 'Ev,Ib', 'btEI', BT_COMPLEMENT, { lock: true, undef: BT_UNDEF });
r(T | 0xbb, -1, 'btc', 'Ev,Gv', 'btEG', BT_COMPLEMENT, { lock: true, undef: BT_UNDEF });
r(T | 0xbc, -1, 'bsf', 'Gv,Ev', 'bsf', 0, { undef: CF | OF | SF | AF | PF });
r(T | 0xbd, -1, 'bsr', 'Gv,Ev', 'bsr', 0, { undef: CF | OF | SF | AF | PF });
r(T | 0xbe, -1, 'movsx', 'Gv,Eb', 'movsx');
r(T | 0xbf, -1, 'movsx', 'Gv,Ew', 'movsx');
r(T | 0xc0, -1, 'xadd', 'Eb,Gb', 'xadd', 0, LOCK);
r(T | 0xc1, -1, 'xadd', 'Ev,Gv', 'xadd', 0, LOCK);
r(T | 0xc7, 1, 'cmpxchg8b', 'Mq', 'cmpxchg8b', 0, LOCK);
for (let n = 0; n < 8; n++) r(T | (0xc8 + n), -1, 'bswap', 'Zd', 'bswap');

export const TABLE: readonly OpRow[] = rows;

/** Prefix bytes (SDM vol. 2 §2.1.1). */
export const PREFIX_OPSIZE = 0x66;
export const PREFIX_ADDRSIZE = 0x67;
export const PREFIX_LOCK = 0xf0;
export const PREFIX_REPNE = 0xf2;
export const PREFIX_REP = 0xf3;
/** Segment-override prefix byte → segment register number. */
export const SEGMENT_PREFIXES: ReadonlyMap<number, number> = new Map([
  [0x26, ES],
  [0x2e, CS],
  [0x36, SS],
  [0x3e, DS],
  [0x64, FS],
  [0x65, GS],
]);
