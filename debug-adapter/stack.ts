// The call stack of the one thread: CS:EIP, then frames found by following the saved-EBP chain (in 16-bit code
// the BP chain), then one frame per interrupt or exception being handled (delivered and not yet returned from by
// IRET), innermost first. Every frame has a place
// to show: its DWARF line when the image has one, else a disassembly listing (listing.ts).

import type { Cpu } from '../engine/cpu/cpu';
import { CS, EBP, SS } from '../engine/cpu/cpu';
import { peekLinear } from '../engine/cpu/protect/peek';

export interface FrameInfo {
  /** Linear address of the frame's instruction. */
  linear: number;
  cs: number;
  /** Offset within CS (EIP), when known (the EBP chain gives only offsets, taken in the current CS). */
  offset: number;
  /** `exception`: an interrupt or exception frame. */
  kind: 'current' | 'call' | 'exception';
  label?: string;
  /** The C function's name, when DWARF names it (c/frames.ts). */
  name?: string;
  /** The address to find the source line by, when it is not `linear` (a return address's call). */
  lineAddress?: number;
  /** The line to show instead of the row's (the call site of an inlined call). */
  callLine?: number;
}

/** An interrupt or exception delivery seen while the guest ran (its CS load with cause `interrupt`). */
export interface InterruptFrameRecord {
  /** The exception's vector when a cpu-exception event announced it, else -1 (INT n, external interrupts). */
  vector: number;
  /** CS:EIP of the interrupted or faulting instruction, and its linear address. */
  cs: number;
  eip: number;
  linear: number;
}

const MAX_FRAMES = 64;
const VECTOR_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', 'CSO', '#TS', '#NP', '#SS', '#GP', '#PF', '15', '#MF', '#AC'];

export function vectorName(v: number): string {
  return v < VECTOR_NAMES.length ? VECTOR_NAMES[v] : `vector ${v}`;
}

/** Frames from the innermost out. `interrupts` are the deliveries not yet returned from, newest last. */
export function unwindStack(cpu: Cpu, interrupts: readonly InterruptFrameRecord[]): FrameInfo[] {
  const frames: FrameInfo[] = [{ linear: (cpu.segBase[CS] + cpu.eip) >>> 0, cs: cpu.segSel[CS], offset: cpu.eip >>> 0, kind: 'current' }];
  const wide = cpu.stack32;
  const slot = wide ? 4 : 2;
  const ssBase = cpu.segBase[SS];
  const csBase = cpu.segBase[CS];
  let bp = wide ? cpu.regs[EBP] >>> 0 : cpu.regs[EBP] & 0xffff;
  const sp = cpu.sp;
  // Saved-EBP chain: [bp] = caller's bp, [bp + slot] = return address. A chain must climb the stack.
  while (frames.length < MAX_FRAMES && bp !== 0 && bp >= sp) {
    const savedBp = peekLinear(cpu, (ssBase + bp) | 0, slot);
    const ret = peekLinear(cpu, (ssBase + bp + slot) | 0, slot);
    if (savedBp < 0 || ret < 0 || ret === 0) break;
    frames.push({ linear: (csBase + ret) >>> 0, cs: cpu.segSel[CS], offset: ret, kind: 'call' });
    if (savedBp <= bp) break;
    bp = savedBp;
  }
  for (let k = interrupts.length - 1; k >= 0 && frames.length < MAX_FRAMES; k--) {
    const e = interrupts[k];
    const what = e.vector >= 0 ? `exception ${vectorName(e.vector)}` : 'interrupt';
    frames.push({ linear: e.linear, cs: e.cs, offset: e.eip, kind: 'exception', label: `${what} at ${e.cs.toString(16).padStart(4, '0')}:${e.eip.toString(16).padStart(8, '0')}` });
  }
  return frames;
}
