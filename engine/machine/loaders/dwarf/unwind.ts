// One step of stack unwinding: from a frame's registers to its caller's, by the CFI row at the frame's address
// (DWARF 5 §6.4), else by the saved-EBP chain (push ebp; mov ebp, esp). Registers are DWARF-numbered i386
// registers 0 EAX … 7 EDI, 8 EIP. Each caller register also records where it was saved, so a debugger edit of
// a variable that lives in a register of an outer frame can write that stack slot.

import type { CallFrameInfo, RegisterRule } from './cfi';
import { evaluateValue, type LocationContext } from './location';

export const DWARF_EIP = 8;
const DWARF_ESP = 4;
const DWARF_EBP = 5;
/** EAX, ECX, EDX: the caller cannot expect them kept across a call (System V i386 ABI), so they are unknown. */
const CALL_CLOBBERED = [0, 1, 2];

export interface FrameRegisters {
  values: (number | undefined)[];
  /** Where an inner frame saved this frame's value of each register (undefined: still in the register, or lost). */
  savedAt: (number | undefined)[];
}

export interface UnwoundFrame {
  pc: number;
  regs: FrameRegisters;
  /** True when `pc` is the instruction that runs next (the top frame, an interrupted frame); false for a return address. */
  exactPc: boolean;
  /** This frame's canonical frame address, when known (DW_OP_call_frame_cfa, entry values). */
  cfa?: number;
  how: 'top' | 'cfi' | 'ebp';
}

export type ReadU32 = (addr: number) => number | undefined;

/** The address to look a frame's code up by: a return address points after the call, so one byte before it. */
export function lookupPc(f: UnwoundFrame): number {
  return f.exactPc ? f.pc : f.pc - 1;
}

/** The frame's CFA from its CFI row, if it has one. */
export function frameCfa(f: UnwoundFrame, cfi: CallFrameInfo | null, read: ReadU32): number | undefined {
  const row = cfi?.rowAt(lookupPc(f));
  if (!row) return undefined;
  if (row.cfa.expr) return evaluateValue(row.cfa.expr, contextOf(f.regs, read));
  const base = f.regs.values[row.cfa.reg];
  return base === undefined ? undefined : (base + row.cfa.offset) >>> 0;
}

function contextOf(regs: FrameRegisters, read: ReadU32): LocationContext {
  return { reg: (n) => regs.values[n], read: (a, size) => (size === 4 ? read(a) : undefined) };
}

/** The caller of `f`, or null at the outermost frame (no rule, no chain, or a chain that stops climbing). */
export function unwindOne(f: UnwoundFrame, cfi: CallFrameInfo | null, read: ReadU32): UnwoundFrame | null {
  const row = cfi?.rowAt(lookupPc(f));
  if (row) {
    const cfa = frameCfa(f, cfi, read);
    if (cfa === undefined) return null;
    const values: (number | undefined)[] = [];
    const savedAt: (number | undefined)[] = [];
    for (let n = 0; n <= DWARF_EIP; n++) {
      const rule: RegisterRule | undefined = row.regs.get(n);
      const r = applyRule(rule, n, f.regs, cfa, read);
      values[n] = r.value;
      savedAt[n] = r.savedAt;
    }
    // The return address column gives the caller's EIP; the caller's ESP is the CFA unless a rule says otherwise.
    const ra = applyRule(row.regs.get(row.returnRegister), row.returnRegister, f.regs, cfa, read);
    values[DWARF_EIP] = ra.value;
    savedAt[DWARF_EIP] = ra.savedAt;
    if (!row.regs.has(DWARF_ESP)) {
      values[DWARF_ESP] = cfa;
      savedAt[DWARF_ESP] = undefined;
    }
    if (values[DWARF_EIP] === undefined || values[DWARF_EIP] === 0) return null;
    // A frame must move up the stack, or the table describes a loop.
    const sp = f.regs.values[DWARF_ESP];
    if (sp !== undefined && values[DWARF_ESP] !== undefined && values[DWARF_ESP]! <= sp && f.how !== 'top') return null;
    return { pc: values[DWARF_EIP]!, regs: { values, savedAt }, exactPc: false, cfa, how: 'cfi' };
  }
  return unwindByEbp(f, read);
}

function applyRule(rule: RegisterRule | undefined, n: number, regs: FrameRegisters, cfa: number, read: ReadU32): { value?: number; savedAt?: number } {
  if (!rule) {
    if (CALL_CLOBBERED.includes(n) || n === DWARF_EIP) return {};
    return { value: regs.values[n], savedAt: regs.savedAt[n] };
  }
  switch (rule.kind) {
    case 'undefined':
      return {};
    case 'same':
      return { value: regs.values[n], savedAt: regs.savedAt[n] };
    case 'offset': {
      const at = (cfa + rule.offset) >>> 0;
      return { value: read(at), savedAt: at };
    }
    case 'val_offset':
      return { value: (cfa + rule.offset) >>> 0 };
    case 'register':
      return { value: regs.values[rule.reg], savedAt: regs.savedAt[rule.reg] };
    case 'expression': {
      const at = evaluateValue(rule.expr, { ...contextOf(regs, read), cfa: () => cfa });
      return at === undefined ? {} : { value: read(at), savedAt: at };
    }
    case 'val_expression':
      return { value: evaluateValue(rule.expr, { ...contextOf(regs, read), cfa: () => cfa }) };
  }
}

/** The saved-EBP chain: [EBP] = the caller's EBP, [EBP+4] = the return address; the caller's ESP is EBP+8. */
function unwindByEbp(f: UnwoundFrame, read: ReadU32): UnwoundFrame | null {
  const ebp = f.regs.values[DWARF_EBP];
  const esp = f.regs.values[DWARF_ESP];
  if (ebp === undefined || ebp === 0 || (esp !== undefined && ebp < esp)) return null;
  const savedEbp = read(ebp);
  const ret = read((ebp + 4) >>> 0);
  if (savedEbp === undefined || ret === undefined || ret === 0) return null;
  if (savedEbp !== 0 && savedEbp <= ebp) return null;
  const values = f.regs.values.slice();
  const savedAt = f.regs.savedAt.slice();
  for (const n of CALL_CLOBBERED) values[n] = savedAt[n] = undefined;
  values[DWARF_EBP] = savedEbp;
  savedAt[DWARF_EBP] = ebp;
  values[DWARF_ESP] = (ebp + 8) >>> 0;
  savedAt[DWARF_ESP] = undefined;
  values[DWARF_EIP] = ret;
  savedAt[DWARF_EIP] = (ebp + 4) >>> 0;
  return { pc: ret, regs: { values, savedAt }, exactPc: false, cfa: (ebp + 8) >>> 0, how: 'ebp' };
}
