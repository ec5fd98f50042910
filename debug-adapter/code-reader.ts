// Reading guest code and memory for the debugger without side effects: bytes at linear addresses through the
// current paging (protect/peek.ts), and the instruction at CS:offset through the disassembler.

import type { Cpu } from '../engine/cpu/cpu';
import { CS } from '../engine/cpu/cpu';
import { disassembleOne, type ByteReader, type DisassembledInstruction } from '../engine/cpu/decode/disassemble';
import { peekLinear } from '../engine/cpu/protect/peek';

/** Reads code bytes at offsets within a segment of the given base (-1 where unmapped). */
export function segmentReader(cpu: Cpu, base: number): ByteReader {
  return (offset) => peekLinear(cpu, (base + offset) | 0, 1);
}

/** Reads bytes at linear addresses (-1 where unmapped). */
export function linearReader(cpu: Cpu): ByteReader {
  return (linear) => peekLinear(cpu, linear | 0, 1);
}

/** The instruction at CS:EIP as the CPU would decode it now (16/32-bit by CS.D). */
export function currentInstruction(cpu: Cpu): DisassembledInstruction {
  return disassembleOne(segmentReader(cpu, cpu.segBase[CS]), cpu.eip >>> 0, cpu.code32);
}

/** Linear address of CS:EIP. */
export function currentLinear(cpu: Cpu): number {
  return (cpu.segBase[CS] + cpu.eip) >>> 0;
}

/** Reads `length` bytes at a linear address; `null` entries are unmapped. */
export function readLinearBytes(cpu: Cpu, linear: number, length: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let k = 0; k < length; k++) {
    const b = peekLinear(cpu, (linear + k) | 0, 1);
    out.push(b < 0 ? null : b);
  }
  return out;
}
