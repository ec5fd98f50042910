// Segment register loads from instructions: MOV Sreg, r/m16 (8E), POP Sreg (07 17 1F 0F A1 0F A9), and the far
// pointer loads LES/LDS/LSS/LFS/LGS (C4 C5 0F B2 0F B4 0F B5). The checks live in protect/segment-load.ts.
//
// MOV SS and POP SS inhibit interrupts (and debug traps) until the next instruction has run, so that SS:ESP can be
// loaded as a pair (SDM 3A §6.8.3); LSS does not need it and does not do it.

import type { Cpu } from '../cpu';
import { CS, ESP, SS } from '../cpu';
import type { SegmentLoadCause } from '../../events';
import type { Handler, Instr } from '../decode/instr';
import { fault, R_UD_OPCODE, VEC_UD } from '../faults';
import { loadSegment } from '../protect/segment-load';

const FAR_POINTER_CAUSE: SegmentLoadCause[] = ['les', 'mov', 'lss', 'lds', 'lfs', 'lgs'];

function setInterruptShadow(cpu: Cpu): void {
  cpu.interruptShadow = true;
  cpu.attention = true;
}

/** 8E: MOV Sreg, r/m16. Sreg 1 (CS) and 6–7 are undefined (#UD). */
function movSE(cpu: Cpu, i: Instr): void {
  const seg = i.reg;
  if (seg === CS || seg > 5) fault(VEC_UD, -1, R_UD_OPCODE, `MOV to segment register ${seg}`);
  const selector = cpu.readRm(i, 2);
  loadSegment(cpu, seg, selector, 'mov');
  if (seg === SS) setInterruptShadow(cpu);
}

/**
 * POP ES/SS/DS/FS/GS: reads the selector (operand size 2 or 4 bytes, low 16 bits used), loads the register, and only
 * then moves SP — by the stack size in force before the load, since a POP SS may change SS.B.
 */
function popSeg(cpu: Cpu, i: Instr): void {
  const seg = i.arg;
  const size = i.size;
  const wide = cpu.stack32;
  const sp = cpu.sp;
  const selector = cpu.readMem(SS, sp, size) & 0xffff;
  loadSegment(cpu, seg, selector, 'pop');
  if (wide) cpu.regs[ESP] = (sp + size) | 0;
  else cpu.regs16[ESP << 1] = (sp + size) & 0xffff;
  if (seg === SS) setInterruptShadow(cpu);
}

/** LES/LDS/LSS/LFS/LGS r, m16:16 or m16:32: offset first, then the selector; the register is written last. */
function loadFarPointer(cpu: Cpu, i: Instr): void {
  const size = i.size;
  const off = cpu.ea(i);
  const offset = cpu.readMem(i.seg, off, size);
  const selector = cpu.readMem(i.seg, i.as32 ? (off + size) >>> 0 : (off + size) & 0xffff, 2);
  loadSegment(cpu, i.arg, selector, FAR_POINTER_CAUSE[i.arg]);
  cpu.setReg(size, i.reg, offset);
}

export const handlers: Record<string, Handler> = { movSE, popSeg, loadFarPointer };
