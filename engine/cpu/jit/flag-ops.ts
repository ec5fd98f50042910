// Inline translations of the instructions that read or write EFLAGS as a whole or by condition: CMOVcc, SETcc,
// CLC/STC/CMC, PUSHF and POPF (issue 13). Without them a block called the interpreter's handler for each, storing
// its registers and pending flag record before the call and reloading the registers after: Linux's multi-precision
// arithmetic (lib/mpi) runs a SETB and a CMOVAE in its hottest loops, GRUB's LZMA decoder a PUSHF/POPF pair and
// CLC/STC. Each emitter does what the handler does (ops/p6.ts cmov, alu.ts setcc/clc/stc/cmc, stack.ts pushf/popf),
// with the conditions read from the pending record as Jcc reads them (Emitter.condition).

import type { Instr } from '../decode/instr';
import { ARITH, CF, IOPL, RF, VM } from '../flags';
import { CPUID_CMOV } from '../model';
import { popfResult } from '../ops/stack';
import { LOOP_CARRIED, type Emitter, type FlagRecord } from './emitter';
import { afterMemory, FALLS_THROUGH, interpreterCall, NOT_TRANSLATED, readRm, type EmitResult, type OpEmitter } from './ops';

const SS = 2;

/**
 * Source of a guard whose branch calls the interpreter's handler, which raises the fault the guard detects (the
 * handler then does not return). One line, beginning with `if (`, so tests can tell it from an ordinary call.
 */
function faultingCall(g: Emitter, i: Instr, condition: string): void {
  g.emit(`if (${condition}) { ${interpreterCall(g, i)} }`);
}

/** V86 mode with IOPL < 3, where PUSHF and POPF raise #GP(0) (SDM 2 PUSHF, POPF; CR4.VME is not modelled). */
const V86_IOPL_BELOW_3 = `(c.flags & ${VM}) !== 0 && (c.flags & ${IOPL}) !== ${IOPL}`;

/** The arithmetic flags of a pending record over the other bits of cpu.flags: Cpu.getEflags for that record. */
function eflagsFromRecord(g: Emitter, rec: FlagRecord): string {
  let bits = `(c.flags & ${~rec.mask})`;
  for (let flag = 1; flag <= 0x800; flag <<= 1) {
    if ((rec.mask & flag) !== 0) bits += ` | (${g.flagExpr(rec, flag)} ? ${flag} : 0)`;
  }
  return `(${bits})`;
}

/** EFLAGS with the lazy flags computed (Cpu.getEflags), at this point of the block, without storing anything. */
function eflags(g: Emitter): string {
  if (g.pending >= 0) return eflagsFromRecord(g, g.records[g.pending]!);
  if (g.pending === LOOP_CARRIED) return `(lp ? ${eflagsFromRecord(g, g.carriedRecord!)} : (c.getEflags() | 0))`;
  return '(c.getEflags() | 0)';
}

/**
 * CLC, STC, CMC: CF ← `value` (a 0/1 expression). With a record pending, the record keeps its other five flags and
 * CF goes to cpu.flags, as Cpu.setFlagBits leaves it (lazyMask without CF): the record's mask loses CF.
 */
function setCarry(g: Emitter, value: string): EmitResult {
  const rec = g.pending >= 0 ? g.records[g.pending]! : null;
  if (rec !== null && (rec.mask & CF) !== 0) {
    g.emit(`c.flags = (c.flags & ${~CF}) | (${value});`);
    g.records[g.k] = { ...rec, mask: rec.mask & ~CF };
    g.pending = g.k;
    return FALLS_THROUGH;
  }
  g.setFlagBits(CF, value);
  return FALLS_THROUGH;
}

const FLAG_EMITTERS: Record<string, OpEmitter> = {
  /**
   * CMOVcc r, r/m: the source is read whatever the condition (SDM 2 CMOVcc); a false condition leaves the
   * destination alone. On a model without CMOV the handler is called: it raises #UD.
   */
  cmov(g, i) {
    if ((g.features & CPUID_CMOV) === 0) return NOT_TRANSLATED;
    const v = readRm(g, i, i.size, 'v');
    g.emit(`if (${g.condition(i.arg)}) { ${g.writeRegSource(i.size, i.reg, v)} }`);
    return afterMemory(g, i);
  },
  /** SETcc r/m8: 1 or 0 by the condition, flags unchanged. */
  setcc(g, i) {
    const v = g.local('v');
    g.emit(`${v} = ${g.condition(i.arg)} ? 1 : 0;`);
    if (i.rm >= 0) {
      g.writeReg(1, i.rm, v);
      return FALLS_THROUGH;
    }
    const off = g.local('o');
    g.emit(`${off} = ${g.ea(i)};`);
    g.write(i.seg, off, 1, v);
    g.exitIfAsked();
    return FALLS_THROUGH;
  },
  clc: (g) => setCarry(g, '0'),
  stc: (g) => setCarry(g, '1'),
  cmc: (g) => setCarry(g, `${g.cf()} ? 0 : 1`),

  /** PUSHF/PUSHFD: the image of a 32-bit push has VM and RF cleared (SDM 2 PUSHF); flags stay as they are. */
  pushf(g, i) {
    faultingCall(g, i, V86_IOPL_BELOW_3);
    const v = g.local('v');
    g.emit(`${v} = ${eflags(g)} & ${i.size === 4 ? ~(VM | RF) : 0xffff};`);
    g.push(i.size, v);
    g.exitIfAsked();
    return FALLS_THROUGH;
  },

  /**
   * POPF/POPFD: the popped image through popfResult (ops/stack.ts: which bits this CPL, IOPL and model let it
   * change) into Cpu.setEflags, which replaces every arithmetic flag, so the pending record is dropped unstored. An
   * IF or TF it sets may need the run loop (a pending interrupt, the single-step trap after the next instruction):
   * the block leaves after the POPF when the Cpu asks for attention, as after a handler call.
   */
  popf(g, i) {
    faultingCall(g, i, V86_IOPL_BELOW_3);
    const sp = g.local('s');
    const v = g.local('v');
    g.emit(`${sp} = ${g.readSp()};`);
    g.read(SS, sp, i.size, v);
    g.writeSp(g.spPlus(sp, i.size));
    // An image that changes only arithmetic flags (GRUB's PUSHF … POPF around code that must keep CF) needs
    // nothing of setEflags but the store: its other bits are cpu.flags' own, already normalised (FIXED1, reserved
    // and model bits), and no mode or attention input moved. Any other change goes through setEflags.
    const t = g.local('t');
    g.emit(`${t} = ${g.constant(popfResult)}(c, c.flags >>> 0, ${v} >>> 0, ${i.size}, c.cpl);`);
    g.emit(`if (((${t} ^ c.flags) & ${~ARITH}) === 0) { c.flags = ${t}; c.lazyMask = 0; } else c.setEflags(${t});`);
    g.pending = -1;
    g.emit(`if (x !== 0 || (c.attention && c.blockMustLeave())) { ${g.exitSource(String(g.cur.next), `n + ${g.k + 1}`)} }`);
    return FALLS_THROUGH;
  },
};

/** The inline emitter of one of these handlers, or undefined. */
export function flagEmitter(name: string): OpEmitter | undefined {
  return FLAG_EMITTERS[name];
}
