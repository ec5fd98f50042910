// Control instructions (SDM vol. 2 FLDCW, FSTCW/FNSTCW, FSTSW/FNSTSW, FCLEX/FNCLEX, FINIT/FNINIT, FLDENV,
// FSTENV/FNSTENV, FRSTOR, FSAVE/FNSAVE, FNOP) and the four x87 environment layouts (SDM vol. 1 §8.1.10, Figures
// 8-9 to 8-12): 14 or 28 bytes, protected-mode or real/V86-mode pointer formats.

import { EAX, type Cpu } from '../../cpu';
import type { Instr } from '../../decode/instr';
import { f80 } from '../float80';
import { SW_B, SW_ES, type FpuState } from '../state';

/** Keeps ES and B in step with the flags and masks after CW or SW changed; FERR# follows ES (§8.1.3.1, §D.2.1). */
export function recomputeSummary(cpu: Cpu, f: FpuState): void {
  const pending = (f.sw & ~f.cw & 0x3f) !== 0;
  f.sw = pending ? f.sw | SW_ES | SW_B : f.sw & ~(SW_ES | SW_B);
  if (!pending && f.ferr) {
    f.ferr = false;
    cpu.onFerr?.(false);
  }
}

export function fldcw(cpu: Cpu, i: Instr, f: FpuState): void {
  f.cw = cpu.read16(i.seg, cpu.ea(i)) | 0x40;
  recomputeSummary(cpu, f);
}

export function fnstcw(cpu: Cpu, i: Instr, f: FpuState): void {
  cpu.write16(i.seg, cpu.ea(i), f.cw);
}

/** FNSTSW m16, or FNSTSW AX (DF E0). */
export function fnstsw(cpu: Cpu, i: Instr, f: FpuState): void {
  if (i.rm >= 0) cpu.regs16[EAX << 1] = f.status;
  else cpu.write16(i.seg, cpu.ea(i), f.status);
}

export function fnclex(cpu: Cpu, _i: Instr, f: FpuState): void {
  f.sw &= ~(0x7f | SW_ES | SW_B);
  recomputeSummary(cpu, f);
}

export function fninit(cpu: Cpu, _i: Instr, f: FpuState): void {
  f.init();
  recomputeSummary(cpu, f);
}

export function fnop(): void {}

/** Environment layout of this instruction: 28 bytes with a 32-bit operand size, real-mode pointers outside
 *  protected mode. */
function layout(cpu: Cpu, i: Instr): { wide: boolean; real: boolean; size: number } {
  const wide = i.os32;
  return { wide, real: !cpu.protectedMode, size: wide ? 28 : 14 };
}

function storeEnv(cpu: Cpu, i: Instr, f: FpuState, off: number): number {
  const { wide, real, size } = layout(cpu, i);
  cpu.checkWrite(i.seg, off, size);
  const w: number[] = [f.cw, f.status, f.tagWord];
  if (real) {
    const ip = (f.fcs << 4) + f.fip; // the 20/32-bit linear instruction and operand pointers
    const dp = (f.fds << 4) + f.fdp;
    if (wide) w.push(ip & 0xffff, ((ip >>> 16) << 12) | f.fop, dp & 0xffff, (dp >>> 16) << 12);
    else w.push(ip & 0xffff, (((ip >>> 16) & 0xf) << 12) | f.fop, dp & 0xffff, ((dp >>> 16) & 0xf) << 12);
  } else if (wide) w.push(f.fip, f.fcs | (f.fop << 16), f.fdp, f.fds);
  else w.push(f.fip & 0xffff, f.fcs, f.fdp & 0xffff, f.fds);
  for (let k = 0; k < 7; k++) {
    if (wide) cpu.write32(i.seg, off + 4 * k, k < 3 ? w[k] | 0xffff0000 : w[k]);
    else cpu.write16(i.seg, off + 2 * k, w[k] & 0xffff);
  }
  return size;
}

function loadEnv(cpu: Cpu, i: Instr, f: FpuState, off: number): number {
  const { wide, real, size } = layout(cpu, i);
  cpu.checkRead(i.seg, off, size);
  const w: number[] = [];
  for (let k = 0; k < 7; k++) w.push(wide ? cpu.read32(i.seg, off + 4 * k) >>> 0 : cpu.read16(i.seg, off + 2 * k));
  f.cw = (w[0] & 0xffff) | 0x40;
  f.status = w[1] & 0xffff;
  f.tagWord = w[2] & 0xffff;
  if (real) {
    f.fcs = f.fds = 0;
    f.fip = (w[3] & 0xffff) | ((w[4] >>> 12) << 16);
    f.fop = w[4] & 0x7ff;
    f.fdp = (w[5] & 0xffff) | ((w[6] >>> 12) << 16);
  } else {
    f.fip = w[3];
    f.fcs = w[4] & 0xffff;
    f.fop = wide ? (w[4] >>> 16) & 0x7ff : f.fop;
    f.fdp = w[5];
    f.fds = w[6] & 0xffff;
  }
  return size;
}

export function fnstenv(cpu: Cpu, i: Instr, f: FpuState): void {
  storeEnv(cpu, i, f, cpu.ea(i));
  // FNSTENV then masks all exceptions (SDM vol. 2 FSTENV)
  f.cw |= 0x3f;
}

export function fldenv(cpu: Cpu, i: Instr, f: FpuState): void {
  loadEnv(cpu, i, f, cpu.ea(i));
  recomputeSummary(cpu, f);
}

export function fnsave(cpu: Cpu, i: Instr, f: FpuState): void {
  const off = cpu.ea(i);
  const size = layout(cpu, i).size;
  cpu.checkWrite(i.seg, off, size + 80);
  storeEnv(cpu, i, f, off);
  for (let k = 0; k < 8; k++) {
    const p = f.phys(k);
    const at = off + size + 10 * k;
    const sig = f.sig[p];
    cpu.write32(i.seg, at, Number(sig & 0xffffffffn));
    cpu.write32(i.seg, at + 4, Number(sig >> 32n));
    cpu.write16(i.seg, at + 8, f.se[p]);
  }
  fninit(cpu, i, f);
}

export function frstor(cpu: Cpu, i: Instr, f: FpuState): void {
  const off = cpu.ea(i);
  const size = layout(cpu, i).size;
  cpu.checkRead(i.seg, off, size + 80);
  const empty = new Uint8Array(8);
  loadEnv(cpu, i, f, off);
  empty.set(f.empty);
  for (let k = 0; k < 8; k++) {
    const at = off + size + 10 * k;
    const lo = BigInt(cpu.read32(i.seg, at) >>> 0), hi = BigInt(cpu.read32(i.seg, at + 4) >>> 0);
    const se = cpu.read16(i.seg, at + 8);
    const p = f.phys(k);
    f.setReg(p, f80(se >> 15, se & 0x7fff, (hi << 32n) | lo));
  }
  f.empty.set(empty);
  recomputeSummary(cpu, f);
}
