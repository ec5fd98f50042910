// Disassembler for the debugger: the same table (table.ts) and the same prefix, ModRM and SIB rules as the decoder,
// rendered in NASM's Intel syntax (`mov eax, [es:ebx+esi*4+0x10]`). It reads bytes through a callback and never
// faults: bytes that do not form an instruction the table knows come back as `db 0x..` of length 1.

import { fpuText } from '../fpu/disassemble';
import { lookupRow } from './decoder';
import { MAX_INSTRUCTION_LENGTH } from './decoder';
import { PREFIX_ADDRSIZE, PREFIX_LOCK, PREFIX_OPSIZE, PREFIX_REP, PREFIX_REPNE, SEGMENT_PREFIXES, type OpRow } from './table';

/** How an instruction changes the flow of control, for stepping and the call stack. */
export type FlowKind = 'call' | 'return' | 'interrupt' | 'jump' | 'other';

export interface DisassembledInstruction {
  /** Offset (within CS) of the first byte. */
  offset: number;
  length: number;
  bytes: number[];
  mnemonic: string;
  operands: string;
  /** `mnemonic operands` with prefixes such as `rep` or `lock` in front. */
  text: string;
  kind: FlowKind;
  /** Near relative jumps and calls: the target offset. */
  target?: number;
  /** False for `db` (bytes that are not an instruction, or run past readable memory). */
  valid: boolean;
}

/** Returns the byte at a code offset, or -1 when it cannot be read. */
export type ByteReader = (offset: number) => number;

const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const SREG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
const BASE16 = ['bx+si', 'bx+di', 'bp+si', 'bp+di', 'si', 'di', 'bp', 'bx'];
const SIZE_NAME: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword' };

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

function regName(size: number, n: number): string {
  return (size === 1 ? REG8 : size === 2 ? REG16 : REG32)[n & 7];
}

class OutOfBytes extends Error {}

class Cursor {
  len = 0;
  readonly bytes: number[] = [];
  constructor(
    private readonly read: ByteReader,
    private readonly start: number,
    private readonly ipMask: number,
  ) {}
  peek(): number {
    return this.read(((this.start + this.len) & this.ipMask) >>> 0);
  }
  next(): number {
    if (this.len >= MAX_INSTRUCTION_LENGTH) throw new OutOfBytes();
    const b = this.peek();
    if (b < 0) throw new OutOfBytes();
    this.len++;
    this.bytes.push(b);
    return b;
  }
  u16(): number {
    return this.next() | (this.next() << 8);
  }
  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }
}

interface Prefixes {
  os32: boolean;
  as32: boolean;
  seg: number;
  rep: number;
  lock: boolean;
}

function sizeOf(letter: string, os32: boolean): number {
  switch (letter) {
    case 'b':
      return 1;
    case 'w':
      return 2;
    case 'd':
      return 4;
    case 'q':
      return 8;
    case 'v':
    case 'bs':
      return os32 ? 4 : 2;
    default:
      return 0;
  }
}

/** The ModRM memory operand as NASM writes it, without the size keyword. */
function memoryOperand(c: Cursor, mod: number, rm: number, p: Prefixes, showSegment: boolean): string {
  const seg = p.seg >= 0 && showSegment ? `${SREG[p.seg]}:` : '';
  const parts: string[] = [];
  let disp = 0;
  let dispBits = 0;
  if (!p.as32) {
    if (mod === 0 && rm === 6) {
      return `[${seg}${hex(c.u16())}]`;
    }
    parts.push(BASE16[rm]);
    if (mod === 1) (disp = (c.next() << 24) >> 24), (dispBits = 8);
    else if (mod === 2) (disp = (c.u16() << 16) >> 16), (dispBits = 16);
  } else {
    if (rm === 4) {
      const sib = c.next();
      const base = sib & 7;
      const index = (sib >> 3) & 7;
      const scale = 1 << (sib >> 6);
      if (base === 5 && mod === 0) {
        disp = c.u32() | 0;
        dispBits = 32;
      } else {
        parts.push(REG32[base]);
      }
      if (index !== 4) parts.push(scale === 1 ? REG32[index] : `${REG32[index]}*${scale}`);
      if (base === 5 && mod === 0 && parts.length === 0) return `[${seg}${hex(disp)}]`;
    } else if (rm === 5 && mod === 0) {
      return `[${seg}${hex(c.u32())}]`;
    } else {
      parts.push(REG32[rm]);
    }
    if (mod === 1) (disp = (c.next() << 24) >> 24), (dispBits = 8);
    else if (mod === 2) (disp = c.u32() | 0), (dispBits = 32);
  }
  let text = parts.join('+');
  if (dispBits > 0 && disp !== 0) text += disp < 0 ? `-${hex(-disp)}` : `+${hex(disp)}`;
  return `[${seg}${text}]`;
}

/** Operand forms that take a ModRM byte: E, G, M, R, C, D with their size letters. */
const MODRM_FORM = /^[EGMRCD][a-z]*$/;

/** Instructions with an implicit DS source, the only memory a segment override changes for them: MOVS CMPS LODS
 * OUTS (DS:(E)SI) and XLAT (DS:(E)BX). */
const DS_SI_STRING_OPS = new Set([0xa4, 0xa5, 0xa6, 0xa7, 0xac, 0xad, 0x6e, 0x6f, 0xd7]);

/** Instructions whose 16-bit register operand is shown at the operand size, as NASM writes them: MOV r/m, Sreg and
 * MOV Sreg, r/m (the upper half is zero-filled or ignored), SLDT, STR, SMSW, and the selector source of LAR/LSL. */
const SELECTOR_REGISTER_MNEMONICS = new Set(['sldt', 'str', 'smsw', 'lar', 'lsl']);
const SELECTOR_REGISTER_OPS = new Set([0x8c, 0x8e]);

const SIZE_SUFFIXED_OPS = new Set([0x60, 0x61, 0x9c, 0x9d, 0xcf, 0xc2, 0xc3, 0xca, 0xcb]);

const RETURN_OPS = new Set([0xc2, 0xc3, 0xca, 0xcb, 0xcf]);
const INTERRUPT_OPS = new Set([0xcc, 0xcd, 0xce, 0xf1]);

function flowOf(row: OpRow): FlowKind {
  if (row.mnemonic.startsWith('call')) return 'call';
  if (RETURN_OPS.has(row.op)) return 'return';
  if (INTERRUPT_OPS.has(row.op)) return 'interrupt';
  if (row.flow && (row.mnemonic.startsWith('j') || row.mnemonic.startsWith('loop'))) return 'jump';
  return 'other';
}

/** Mnemonics whose name carries the operand size instead of an operand (string ops, PUSHA, CBW …). */
function sizedMnemonic(row: OpRow, p: Prefixes, d32: boolean): string {
  const m = row.mnemonic;
  const o32 = p.os32;
  switch (row.form === 'v' ? m : row.op) {
    case 'movs':
    case 'cmps':
    case 'stos':
    case 'lods':
    case 'scas':
    case 'ins':
    case 'outs':
      return m + (o32 ? 'd' : 'w');
  }
  // PUSHA POPA PUSHF POPF IRET and the returns keep their plain name at the code's own size and take w/d when an
  // operand-size prefix changes it (NASM's pushaw/pushad, iretd, retd, retfw …).
  if (SIZE_SUFFIXED_OPS.has(row.op)) return p.os32 === d32 ? m : m + (o32 ? 'd' : 'w');
  switch (row.op) {
    case 0x98:
      return o32 ? 'cwde' : 'cbw';
    case 0x99:
      return o32 ? 'cdq' : 'cwd';
    case 0xe3:
      return p.as32 ? 'jecxz' : 'jcxz';
    case 0xd7:
      return 'xlatb';
  }
  return m;
}

/**
 * Disassembles the instruction at `offset`. `d32` is the code segment's default size (CS.D); offsets wrap at 64 KiB
 * in 16-bit code as IP does.
 */
export function disassembleOne(read: ByteReader, offset: number, d32: boolean): DisassembledInstruction {
  const ipMask = d32 ? 0xffffffff : 0xffff;
  const c = new Cursor(read, offset, ipMask);
  try {
    return decodeAt(c, offset, d32, ipMask);
  } catch (e) {
    if (!(e instanceof OutOfBytes) && !(e instanceof BadEncoding)) throw e;
    const b = read(offset >>> 0);
    const bytes = b < 0 ? [] : [b];
    const text = b < 0 ? '??' : `db ${hex(b)}`;
    return { offset, length: 1, bytes, mnemonic: b < 0 ? '??' : 'db', operands: b < 0 ? '' : hex(b), text, kind: 'other', valid: false };
  }
}

class BadEncoding extends Error {}

/** 0F 1E, the hint NOP that ENDBR32/ENDBR64 are encoded in. */
const ENDBR_OPCODE = 0x11e;

function decodeAt(c: Cursor, offset: number, d32: boolean, ipMask: number): DisassembledInstruction {
  const p: Prefixes = { os32: d32, as32: d32, seg: -1, rep: 0, lock: false };
  let b: number;
  for (;;) {
    b = c.next();
    if (b === PREFIX_OPSIZE) p.os32 = !d32;
    else if (b === PREFIX_ADDRSIZE) p.as32 = !d32;
    else if (b === PREFIX_LOCK) p.lock = true;
    else if (b === PREFIX_REP) p.rep = 1;
    else if (b === PREFIX_REPNE) p.rep = 2;
    else {
      const s = SEGMENT_PREFIXES.get(b);
      if (s === undefined) break;
      p.seg = s;
    }
  }
  const opcode = b === 0x0f ? 0x100 | c.next() : b;
  const peeked = c.peek();
  const row = lookupRow(opcode, peeked < 0 ? 0 : (peeked >> 3) & 7);
  if (!row || (row.reg >= 0 && peeked < 0)) throw new BadEncoding();
  const operands = row.form.split(',').filter((s) => s.length > 0);
  const needsModrm = row.reg >= 0 || operands.some((o) => MODRM_FORM.test(o) || o === 'S');
  let mod = 3;
  let reg = 0;
  let rm = 0;
  if (needsModrm) {
    const modrm = c.next();
    mod = modrm >> 6;
    reg = (modrm >> 3) & 7;
    rm = modrm & 7;
  }
  const registerSizes: number[] = [];
  let memoryIndex = -1;
  let memorySize = 0;
  let target: number | undefined;
  const rendered: string[] = [];
  for (const o of operands) {
    // Fixed operands (AL, DX, CL, ES, CS …) share first letters with operand kinds; only `Kind+lowercase` is a kind.
    const kind = /^[EGMRCDZIJO][a-z]*$/.test(o) || o === 'S' ? o[0] : 'fixed';
    const letter = o.slice(1);
    let text: string;
    switch (kind) {
      case 'E':
      case 'M': {
        const size = sizeOf(letter, p.os32);
        const rmIsReg = mod === 3;
        if (rmIsReg && kind === 'M') throw new BadEncoding();
        if (rmIsReg) {
          // MOV r, Sreg / SLDT / STR / SMSW to a register take the operand size (the upper half zero-filled).
          const wide = size === 2 && (SELECTOR_REGISTER_OPS.has(row.op) || SELECTOR_REGISTER_MNEMONICS.has(row.mnemonic)) ? (p.os32 ? 4 : 2) : size;
          text = regName(wide || (p.os32 ? 4 : 2), rm);
          registerSizes.push(size);
        } else {
          // LEA computes an offset only: a segment override has no effect on it.
          text = memoryOperand(c, mod, rm, p, row.op !== 0x8d);
          memoryIndex = rendered.length;
          memorySize = kind === 'E' ? size : 0;
        }
        break;
      }
      case 'G': {
        const size = sizeOf(letter, p.os32);
        text = regName(size, reg);
        registerSizes.push(size);
        break;
      }
      case 'S':
        // Six segment registers; and MOV cannot load CS (#UD, SDM 2 MOV).
        if (reg > 5 || (row.op === 0x8e && reg === 1)) throw new BadEncoding();
        text = SREG[reg];
        registerSizes.push(2);
        break;
      case 'R':
        text = REG32[rm];
        registerSizes.push(4);
        break;
      case 'C':
        // CR1 and CR5–CR7 are reserved: MOV to or from them raises #UD (SDM 2 MOV—Move to/from Control Registers).
        if (reg === 1 || reg > 4) throw new BadEncoding();
        text = `cr${reg}`;
        break;
      case 'D':
        text = `dr${reg}`;
        break;
      case 'Z': {
        const size = sizeOf(letter, p.os32);
        text = regName(size, opcode & 7);
        registerSizes.push(size);
        break;
      }
      case 'I': {
        let v: number;
        if (letter === 'b') v = c.next();
        else if (letter === 'bs') {
          const s8 = (c.next() << 24) >> 24;
          v = p.os32 ? s8 >>> 0 : s8 & 0xffff;
        } else if (letter === 'w') v = c.u16();
        else v = p.os32 ? c.u32() : c.u16();
        text = hex(v);
        break;
      }
      case 'J': {
        const rel = letter === 'b' ? (c.next() << 24) >> 24 : p.os32 ? c.u32() | 0 : (c.u16() << 16) >> 16;
        const next = offset + c.len;
        // The operand size, not the code size, decides the wrap (SDM Jcc/JMP: EIP ← tempEIP AND 0000FFFFH if 16).
        target = p.os32 ? (next + rel) >>> 0 : (next + rel) & 0xffff;
        text = hex(target);
        break;
      }
      case 'O': {
        const size = sizeOf(letter, p.os32);
        const seg = p.seg >= 0 ? `${SREG[p.seg]}:` : '';
        text = `[${seg}${hex(p.as32 ? c.u32() : c.u16())}]`;
        memoryIndex = rendered.length;
        memorySize = size;
        break;
      }
      default:
        if (o === 'Ap') {
          const off = p.os32 ? c.u32() : c.u16();
          const sel = c.u16();
          text = `${hex(sel)}:${hex(off)}`;
        } else if (o === 'AL') {
          text = 'al';
          registerSizes.push(1);
        } else if (o === 'eAX') {
          text = p.os32 ? 'eax' : 'ax';
          registerSizes.push(p.os32 ? 4 : 2);
        } else if (o === 'CL' || o === 'DX') {
          text = o.toLowerCase();
        } else if (o === '1') {
          text = '1';
        } else if (SREG.includes(o.toLowerCase())) {
          text = o.toLowerCase();
        } else {
          // String instructions carry their size in the mnemonic ('b'/'v' forms).
          continue;
        }
    }
    rendered.push(text);
  }
  if (row.handler === 'fpuEscape') {
    const f = fpuText(row.arg, mod, reg, rm, rendered[0] ?? '');
    if (!f) throw new BadEncoding();
    return { offset, length: c.len, bytes: c.bytes, mnemonic: f.mnemonic, operands: f.operands, text: f.text, kind: 'other', valid: true };
  }
  // NASM needs a size keyword on a memory operand when no register operand fixes the size (or one of another
  // size sits beside it, as in MOVZX).
  if (memoryIndex >= 0 && memorySize > 0 && (registerSizes.length === 0 || registerSizes.some((s) => s !== memorySize))) {
    rendered[memoryIndex] = `${SIZE_NAME[memorySize]} ${rendered[memoryIndex]}`;
  }
  // LOCK is allowed only on the lockable rows with a memory destination (the decoder raises #UD otherwise).
  if (p.lock && (!row.lockable || memoryIndex < 0)) throw new BadEncoding();
  // F3 0F 1E FB executes as a hint NOP; NASM and the CET documentation call it ENDBR32 (FA: ENDBR64).
  if (opcode === ENDBR_OPCODE && p.rep === 1 && mod === 3 && reg === 7 && (rm === 3 || rm === 2)) {
    const name = rm === 3 ? 'endbr32' : 'endbr64';
    return { offset, length: c.len, bytes: c.bytes, mnemonic: name, operands: '', text: name, kind: 'other', valid: true };
  }
  const mnemonic = sizedMnemonic(row, p, d32);
  const prefix = (p.lock ? 'lock ' : '') + (p.rep === 1 ? (/^(cmps|scas)/.test(mnemonic) ? 'repe ' : 'rep ') : p.rep === 2 ? 'repne ' : '');
  // A segment override matters without a ModRM memory operand only for string instructions (their DS:(E)SI
  // source); elsewhere it does nothing and, as NASM would, is not shown.
  const segPrefix = p.seg >= 0 && memoryIndex < 0 && DS_SI_STRING_OPS.has(row.op) ? `${SREG[p.seg]} ` : '';
  // LOOPcc counts in CX or ECX by address size; NASM names the counter when an override changes it.
  if (row.op >= 0xe0 && row.op <= 0xe2 && p.as32 !== d32) rendered.push(p.as32 ? 'ecx' : 'cx');
  const operandText = rendered.join(', ');
  const text = `${segPrefix}${prefix}${mnemonic}${operandText ? ' ' + operandText : ''}`;
  return { offset, length: c.len, bytes: c.bytes, mnemonic, operands: operandText, text, kind: flowOf(row), target, valid: true };
}

/** Disassembles `count` instructions from `offset` on. */
export function disassembleRange(read: ByteReader, offset: number, d32: boolean, count: number): DisassembledInstruction[] {
  const out: DisassembledInstruction[] = [];
  const ipMask = d32 ? 0xffffffff : 0xffff;
  for (let k = 0; k < count; k++) {
    const i = disassembleOne(read, offset, d32);
    out.push(i);
    offset = ((offset + i.length) & ipMask) >>> 0;
  }
  return out;
}
