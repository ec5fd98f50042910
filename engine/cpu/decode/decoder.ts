// Decodes one instruction at CS:EIP into an Instr record, driven by the table (table.ts). Called only when the
// decoded-instruction cache misses.
//
// Order of work follows SDM vol. 2 ch. 2: legacy prefixes (any order, the last of a kind wins), opcode (one byte or
// 0F + byte), ModRM, SIB, displacement, immediates. Fetching a byte past the CS limit raises #GP(0) (SDM 3A §5.3);
// an instruction longer than 15 bytes raises #GP(0) (SDM 2 §2.3.11); a LOCK prefix on an instruction that cannot be
// locked, or on a register destination, raises #UD.

import { fault, R_GP_INSTR_LENGTH, R_UD_LOCK, R_UD_OPCODE, R_UD_REG_OPERAND, VEC_GP, VEC_UD } from '../faults';
import type { Cpu } from '../cpu';
import { Instr, type Handler } from './instr';
import {
  PREFIX_ADDRSIZE,
  PREFIX_LOCK,
  PREFIX_OPSIZE,
  PREFIX_REP,
  PREFIX_REPNE,
  SEGMENT_PREFIXES,
  TABLE,
  type OpRow,
} from './table';

export const MAX_INSTRUCTION_LENGTH = 15;

const EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
const SS = 2, DS = 3;

/** What the decoder must read for a row, compiled once from its form string. */
interface CompiledForm {
  modrm: boolean;
  /** The ModRM operand must be memory (#UD for mod = 3). */
  memoryOnly: boolean;
  /** The ModRM rm field names a register whatever mod says (MOV to/from CRn/DRn). */
  rmIsRegister: boolean;
  /** Register encoded in the opcode's low three bits. */
  opcodeRegister: boolean;
  /** Operand size: 1, 2, 4, or 0 for "by operand-size attribute", -1 for none. */
  size: number;
  immediates: string[];
}

interface CompiledRow {
  row: OpRow;
  form: CompiledForm;
  handler: Handler | undefined;
}

const FIXED_REGISTER_OPERANDS = new Set(['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'DX', 'CL']);

function compileForm(form: string): CompiledForm {
  const c: CompiledForm = {
    modrm: false,
    memoryOnly: false,
    rmIsRegister: false,
    opcodeRegister: false,
    size: -1,
    immediates: [],
  };
  const sizeOf = (letter: string): number =>
    letter === 'b' ? 1 : letter === 'w' ? 2 : letter === 'd' ? 4 : letter === 'v' ? 0 : -1;
  for (const operand of form.split(',').filter((s) => s.length > 0)) {
    // Fixed register operands (PUSH ES, IN AL,DX, SHL r/m,CL) add no ModRM byte, whatever their first letter.
    if (FIXED_REGISTER_OPERANDS.has(operand)) continue;
    const kind = operand[0];
    const letter = operand.slice(1);
    let size = -1;
    switch (kind) {
      case 'E':
      case 'G':
        c.modrm = true;
        size = sizeOf(letter);
        break;
      case 'M':
        c.modrm = true;
        c.memoryOnly = true;
        break;
      case 'S':
        c.modrm = true;
        size = 2;
        break;
      case 'R':
        c.modrm = true;
        c.rmIsRegister = true;
        size = 4;
        break;
      case 'C':
      case 'D':
        c.modrm = true;
        break;
      case 'Z':
        c.opcodeRegister = true;
        size = sizeOf(letter);
        break;
      case 'I':
      case 'J':
      case 'O':
        c.immediates.push(operand);
        size = kind === 'O' ? sizeOf(letter) : -1;
        break;
      case 'A':
        if (operand === 'Ap') c.immediates.push(operand);
        else if (operand === 'AL') size = 1;
        break;
      default:
        if (operand === 'eAX') size = 0;
        else if (operand === 'b' || operand === 'v') size = sizeOf(operand); // string instructions
        break;
    }
    if (c.size === -1 && size !== -1) c.size = size;
  }
  return c;
}

/** Lookup: 512 opcodes, each a row or 8 rows by ModRM reg field. */
const primary: (CompiledRow | (CompiledRow | undefined)[] | undefined)[] = new Array(512);
let handlersResolved = false;

for (const row of TABLE) {
  const entry: CompiledRow = { row, form: compileForm(row.form), handler: undefined };
  if (row.reg < 0) {
    primary[row.op] = entry;
  } else {
    let group = primary[row.op];
    if (!Array.isArray(group)) {
      group = new Array(8);
      primary[row.op] = group;
    }
    group[row.reg] = entry;
  }
}

/** Binds handler names to functions (the registry in ops/index.ts); returns the names it could not find. */
export function resolveHandlers(registry: Readonly<Record<string, Handler>>): string[] {
  const missing = new Set<string>();
  for (const e of primary) {
    const list = Array.isArray(e) ? e : [e];
    for (const c of list) {
      if (!c) continue;
      c.handler = registry[c.row.handler];
      if (!c.handler) missing.add(c.row.handler);
    }
  }
  handlersResolved = true;
  return [...missing].sort();
}

/** The table row an opcode (and ModRM reg field) selects, or undefined. For the disassembler and tools. */
export function lookupRow(opcode: number, reg: number): OpRow | undefined {
  const e = primary[opcode];
  if (Array.isArray(e)) return e[reg & 7]?.row;
  return e?.row;
}

/**
 * Decodes the instruction at CS:`eip`. `fetch(offset)` returns the code byte at CS:offset and raises #GP(0) past
 * the CS limit (the Cpu supplies it). `d32` is the code segment's default size (CS.D). `specialize`, when given,
 * may replace the table's handler with one specialised for the decoded form (ops/fast.ts).
 */
export function decode(
  fetch: (offset: number) => number,
  eip: number,
  d32: boolean,
  out: Instr,
  specialize?: (i: Instr) => Handler | undefined,
): Instr {
  if (!handlersResolved) throw new Error('decoder used before resolveHandlers()');
  const ipMask = d32 ? 0xffffffff : 0xffff;
  let len = 0;
  const next = (): number => {
    if (len >= MAX_INSTRUCTION_LENGTH) fault(VEC_GP, 0, R_GP_INSTR_LENGTH);
    const b = fetch(((eip + len) & ipMask) >>> 0);
    len++;
    return b;
  };

  let os32 = d32;
  let as32 = d32;
  let segOverride = -1;
  let rep = 0;
  let lock = false;
  let b: number;
  for (;;) {
    b = next();
    if (b === PREFIX_OPSIZE) os32 = !d32;
    else if (b === PREFIX_ADDRSIZE) as32 = !d32;
    else if (b === PREFIX_LOCK) lock = true;
    else if (b === PREFIX_REP) rep = 1;
    else if (b === PREFIX_REPNE) rep = 2;
    else {
      const s = SEGMENT_PREFIXES.get(b);
      if (s === undefined) break;
      segOverride = s;
    }
  }
  let opcode = b;
  if (b === 0x0f) opcode = 0x100 | next();

  let entry = primary[opcode];
  let modrm = -1;
  if (Array.isArray(entry)) {
    modrm = next();
    entry = entry[(modrm >> 3) & 7];
  }
  if (entry === undefined || entry.handler === undefined) {
    return fault(VEC_UD, -1, R_UD_OPCODE, `opcode ${opcode > 0xff ? '0F ' : ''}${hex2(opcode & 0xff)}`);
  }
  const form = entry.form;
  const i = out;
  i.row = entry.row;
  i.exec = entry.handler;
  i.opcode = opcode;
  i.d32 = d32;
  i.os32 = os32;
  i.as32 = as32;
  i.rep = rep;
  i.lock = lock;
  i.arg = entry.row.arg;
  i.segOverride = segOverride;
  i.seg = segOverride >= 0 ? segOverride : DS;
  i.size = form.size === 0 ? (os32 ? 4 : 2) : form.size < 0 ? (os32 ? 4 : 2) : form.size;
  i.reg = form.opcodeRegister ? opcode & 7 : 0;
  i.modrm = -1;
  i.mod = 3;
  i.rm = -1;
  i.base = -1;
  i.index = -1;
  i.scale = 0;
  i.disp = 0;
  i.imm = 0;
  i.imm2 = 0;

  if (form.modrm) {
    if (modrm < 0) modrm = next();
    i.modrm = modrm;
    const mod = modrm >> 6;
    const rm = modrm & 7;
    i.mod = mod;
    i.reg = (modrm >> 3) & 7;
    if (mod === 3 || form.rmIsRegister) {
      i.mod = 3;
      i.rm = rm;
      if (form.memoryOnly) fault(VEC_UD, -1, R_UD_REG_OPERAND);
    } else if (as32) {
      decodeAddress32(i, mod, rm, next);
    } else {
      decodeAddress16(i, mod, rm, next);
    }
  }
  if (lock && (!entry.row.lockable || i.rm >= 0 || !form.modrm)) fault(VEC_UD, -1, R_UD_LOCK);

  for (let k = 0; k < form.immediates.length; k++) {
    const v = readImmediate(form.immediates[k], i, next);
    if (k === 0) i.imm = v;
    else i.imm2 = v;
  }
  i.len = len;
  if (specialize !== undefined) {
    const fast = specialize(i);
    if (fast !== undefined) i.exec = fast;
  }
  return i;
}

function readImmediate(kind: string, i: Instr, next: () => number): number {
  const u16 = (): number => next() | (next() << 8);
  // int32, not the unsigned value: Instr's number fields stay small integers (decode/instr.ts).
  const u32 = (): number => u16() | (u16() << 16);
  switch (kind) {
    case 'Ib':
      return next();
    case 'Ibs':
    case 'Jb':
      return (next() << 24) >> 24;
    case 'Iw':
      return u16();
    case 'Iv':
      return i.os32 ? u32() : u16();
    case 'Jv':
      return i.os32 ? u32() : (u16() << 16) >> 16;
    case 'Ob':
    case 'Ov':
      // moffs: an address-size offset with no ModRM; it is the memory operand's displacement.
      i.disp = i.as32 ? u32() : u16();
      i.mod = 0;
      return 0;
    case 'Ap': {
      const offset = i.os32 ? u32() : u16();
      i.imm2 = u16();
      return offset;
    }
    default:
      throw new Error(`table: unknown immediate kind ${kind}`);
  }
}

/** 16-bit ModRM addressing (SDM 2 Table 2-1): BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 when mod=0), BX. */
const BASE16 = [EBX, EBX, EBP, EBP, ESI, EDI, EBP, EBX];
const INDEX16 = [ESI, EDI, ESI, EDI, -1, -1, -1, -1];

function decodeAddress16(i: Instr, mod: number, rm: number, next: () => number): void {
  if (mod === 0 && rm === 6) {
    i.disp = next() | (next() << 8);
    return;
  }
  i.base = BASE16[rm];
  i.index = INDEX16[rm];
  if (mod === 1) i.disp = (next() << 24) >> 24;
  else if (mod === 2) i.disp = next() | (next() << 8);
  if (i.base === EBP && i.segOverride < 0) i.seg = SS;
}

/** 32-bit ModRM/SIB addressing (SDM 2 Tables 2-2 and 2-3). */
function decodeAddress32(i: Instr, mod: number, rm: number, next: () => number): void {
  const u32 = (): number => (next() | (next() << 8) | (next() << 16) | (next() << 24)) | 0;
  if (rm === 4) {
    const sib = next();
    const base = sib & 7;
    const index = (sib >> 3) & 7;
    i.scale = sib >> 6;
    i.index = index === 4 ? -1 : index;
    if (base === 5 && mod === 0) {
      i.base = -1;
      i.disp = u32();
    } else {
      i.base = base;
    }
  } else if (rm === 5 && mod === 0) {
    i.disp = u32();
    return;
  } else {
    i.base = rm;
  }
  if (mod === 1) i.disp = (next() << 24) >> 24;
  else if (mod === 2) i.disp = u32();
  if ((i.base === EBP || i.base === ESP) && i.segOverride < 0) i.seg = SS;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
