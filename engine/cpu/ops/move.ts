// Data movement: MOV in its register, memory, immediate and moffs forms, MOVZX/MOVSX, LEA, XCHG, NOP, XLAT and
// MOV r/m16, Sreg (SDM vol. 2 MOV, MOVZX, MOVSX, LEA, XCHG, NOP, XLAT). None of them changes a flag.

import type { Cpu } from '../cpu';
import { EAX, EBX } from '../cpu';
import type { Handler, Instr } from '../decode/instr';
import { fault, NO_ERROR_CODE, rule, VEC_UD } from '../faults';

const R_UD_SREG = rule('mov.sreg-reserved', 'the ModRM reg field names segment register 6 or 7, which does not exist', 'SDM 2 MOV (#UD "If ... reg field is 6 or 7")');

/** MOVZX/MOVSX 0F B6/BE read a byte, 0F B7/BF a word: the low opcode bit is the source width. */
function extendSourceSize(i: Instr): number {
  return (i.opcode & 1) !== 0 ? 2 : 1;
}

export const handlers: Record<string, Handler> = {
  /** MOV r/m, r (88, 89). */
  movEG(cpu: Cpu, i: Instr): void {
    if (i.size === 4) {
      // The common 32-bit case without the size dispatch of getReg/writeRm (hot in every loop).
      if (i.rm >= 0) cpu.regs[i.rm] = cpu.regs[i.reg];
      else cpu.write32(i.seg, cpu.ea(i), cpu.regs[i.reg]);
      return;
    }
    cpu.writeRm(i, i.size, cpu.getReg(i.size, i.reg));
  },

  /** MOV r, r/m (8A, 8B). */
  movGE(cpu: Cpu, i: Instr): void {
    if (i.size === 4) {
      cpu.regs[i.reg] = i.rm >= 0 ? cpu.regs[i.rm] : cpu.read32(i.seg, cpu.ea(i));
      return;
    }
    cpu.setReg(i.size, i.reg, cpu.readRm(i, i.size));
  },

  /** MOV r/m, imm (C6 /0, C7 /0). */
  movEI(cpu: Cpu, i: Instr): void {
    cpu.writeRm(i, i.size, i.imm);
  },

  /** MOV r, imm (B0–BF): the register is in the opcode. */
  movZI(cpu: Cpu, i: Instr): void {
    cpu.setReg(i.size, i.reg, i.imm);
  },

  /** MOV AL/eAX, moffs (A0, A1): the offset is address-size wide and sits in `disp` (default segment DS). */
  movAO(cpu: Cpu, i: Instr): void {
    cpu.setReg(i.size, EAX, cpu.readMem(i.seg, cpu.ea(i), i.size));
  },

  /** MOV moffs, AL/eAX (A2, A3). */
  movOA(cpu: Cpu, i: Instr): void {
    cpu.writeMem(i.seg, cpu.ea(i), i.size, cpu.getReg(i.size, EAX));
  },

  /** MOVZX r, r/m8 or r/m16 (0F B6, 0F B7). */
  movzx(cpu: Cpu, i: Instr): void {
    cpu.setReg(i.size, i.reg, cpu.readRm(i, extendSourceSize(i)));
  },

  /** MOVSX r, r/m8 or r/m16 (0F BE, 0F BF). */
  movsx(cpu: Cpu, i: Instr): void {
    const v = cpu.readRm(i, extendSourceSize(i));
    const extended = extendSourceSize(i) === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
    cpu.setReg(i.size, i.reg, i.size === 4 ? extended >>> 0 : extended & 0xffff);
  },

  /**
   * LEA (8D). SDM LEA table: the offset is computed at the address size (ea() wraps to 16 bits for a16), then
   * truncated (os16/a32) or zero-extended (os32/a16) to the operand size; setReg of a word keeps EAX's high half.
   */
  lea(cpu: Cpu, i: Instr): void {
    cpu.setReg(i.size, i.reg, cpu.ea(i));
  },

  /**
   * XCHG r/m, r (86, 87). Memory is read and written before the register changes, so a fault on the write leaves
   * the register untouched. (Always locked on real hardware; the engine has a single bus master.)
   */
  xchgEG(cpu: Cpu, i: Instr): void {
    const regValue = cpu.getReg(i.size, i.reg);
    if (i.rm >= 0) {
      const rmValue = cpu.getReg(i.size, i.rm);
      cpu.setReg(i.size, i.rm, regValue);
      cpu.setReg(i.size, i.reg, rmValue);
      return;
    }
    const off = cpu.ea(i);
    const memValue = cpu.readMem(i.seg, off, i.size);
    cpu.writeMem(i.seg, off, i.size, regValue);
    cpu.setReg(i.size, i.reg, memValue);
  },

  /** XCHG r, eAX (91–97). */
  xchgZA(cpu: Cpu, i: Instr): void {
    const a = cpu.getReg(i.size, EAX);
    cpu.setReg(i.size, EAX, cpu.getReg(i.size, i.reg));
    cpu.setReg(i.size, i.reg, a);
  },

  /** NOP (90; also PAUSE, F3 90). XCHG eAX, eAX changes nothing, not even EAX's upper half with 66 90. */
  nop(): void {},

  /** XLAT (D7): AL ← [seg:(E)BX + AL], the sum taken at the address size; DS by default, overridable. */
  xlat(cpu: Cpu, i: Instr): void {
    const sum = cpu.regs[EBX] + cpu.getReg(1, EAX);
    const off = i.as32 ? sum >>> 0 : sum & 0xffff;
    cpu.setReg(1, EAX, cpu.read8(i.seg, off));
  },

  /**
   * MOV r/m16, Sreg (8C). To memory the store is always 16 bits. To a register with a 32-bit operand size the 386
   * and later write the selector zero-extended into all 32 bits (SDM MOV: "the upper bits of the destination are
   * cleared" on processors from the Pentium Pro; the 386/486 do the same in practice); with 16 bits only the low word.
   */
  movES(cpu: Cpu, i: Instr): void {
    if (i.reg > 5) fault(VEC_UD, NO_ERROR_CODE, R_UD_SREG);
    const sel = cpu.segSel[i.reg];
    if (i.rm >= 0) cpu.setReg(i.os32 ? 4 : 2, i.rm, sel);
    else cpu.write16(i.seg, cpu.ea(i), sel);
  },
};
