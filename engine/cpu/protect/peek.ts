// Side-effect-free reads of linear memory for the debugger, the consistency check and the monitor: the same
// two-level page walk as paging.ts (SDM 3A §4.3), but it never sets accessed/dirty bits, never raises #PF and never
// touches CR2. An address whose page is not present reads as "unmapped".

import type { Cpu } from '../cpu';
import type { PhysicalMemory } from '../../bus/memory';

const PTE_P = 1;
const PDE_PS = 0x80;
const CR4_PSE = 0x10;

/** Physical address of a linear address as the CPU would translate it now, or -1 when a page is not present. */
export function peekTranslate(cpu: Cpu, linear: number): number {
  if (!cpu.pagingOn) return ((linear >>> 0) & cpu.a20Mask) >>> 0;
  return peekWalk(cpu.mem, cpu.cr3, cpu.cr4, cpu.a20Mask, linear);
}

/** The side-effect-free walk of the tables at `cr3` (the monitor uses it with the guest's CR3 and CR4). */
export function peekWalk(mem: PhysicalMemory, cr3: number, cr4: number, a20Mask: number, linear: number): number {
  linear >>>= 0;
  const pde = mem.peek(((cr3 & 0xfffff000) + ((linear >>> 22) << 2)) >>> 0, 4);
  if ((pde & PTE_P) === 0) return -1;
  if ((pde & PDE_PS) !== 0 && (cr4 & CR4_PSE) !== 0) {
    return (((pde & 0xffc00000) | (linear & 0x3fffff)) & a20Mask) >>> 0;
  }
  const pte = mem.peek(((pde & 0xfffff000) + (((linear >>> 12) & 0x3ff) << 2)) >>> 0, 4);
  if ((pte & PTE_P) === 0) return -1;
  return (((pte & 0xfffff000) | (linear & 0xfff)) & a20Mask) >>> 0;
}

/** Reads `size` (1, 2 or 4) bytes at a linear address without side effects; -1 when any byte is unmapped. */
export function peekLinear(cpu: Cpu, linear: number, size: number): number {
  let v = 0;
  for (let k = size - 1; k >= 0; k--) {
    const phys = peekTranslate(cpu, (linear + k) | 0);
    if (phys < 0) return -1;
    v = v * 256 + cpu.mem.peek(phys, 1);
  }
  return v;
}
