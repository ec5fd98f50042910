// How the register names of MOO chunks map onto Ringside's CPU state, both ways. General registers use the SDM
// encoding order (EAX ECX EDX EBX ESP EBP ESI EDI), segment registers the SDM sreg order (ES CS SS DS FS GS).

import { Cpu, CR0_ET, CR0_EM, CR0_MP, CR0_PE, CR0_PG, CR0_TS } from '../cpu/cpu';

const GENERAL: Record<string, number> = {
  eax: 0, ecx: 1, edx: 2, ebx: 3, esp: 4, ebp: 5, esi: 6, edi: 7,
  ax: 0, cx: 1, dx: 2, bx: 3, sp: 4, bp: 5, si: 6, di: 7,
};

export const SEGMENT_INDEX: Record<string, number> = { es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5 };

/**
 * The CR0 bits a 386 defines. The capture holds the reserved bits as the 386EX dumped them (0x7FFEFFF0 in every
 * test of the shared set); they are loaded as they are, so SMSW and MOV r32, CR0 see what the chip saw, but a
 * final CR0 is compared on the defined bits only.
 */
export const CR0_386_BITS = (CR0_PG | CR0_ET | CR0_TS | CR0_EM | CR0_MP | CR0_PE) >>> 0;

export function isSegmentName(name: string): boolean {
  return name in SEGMENT_INDEX;
}

/** Reads the CPU register a chunk calls `name`, unsigned, full width (callers mask to the chunk's width). */
export function readCpuRegister(cpu: Cpu, name: string): number {
  if (name in GENERAL) return cpu.regs[GENERAL[name]] >>> 0;
  if (name in SEGMENT_INDEX) return cpu.segSel[SEGMENT_INDEX[name]];
  switch (name) {
    case 'eip': case 'ip': return cpu.eip >>> 0;
    case 'eflags': case 'flags': return cpu.getEflags() >>> 0;
    case 'cr0': return cpu.cr0 >>> 0;
    case 'cr3': return cpu.cr3 >>> 0;
    case 'dr6': return cpu.dr[6] >>> 0;
    case 'dr7': return cpu.dr[7] >>> 0;
    default: throw new Error(`unknown register '${name}'`);
  }
}

/**
 * Writes a general register, EIP or a debug/control register (segments and flags have their own setup). 16-bit
 * names set the whole 32-bit register: the 16-bit sets start from a state whose upper halves are 0.
 */
export function writeCpuRegister(cpu: Cpu, name: string, value: number): void {
  if (name in GENERAL) { cpu.regs[GENERAL[name]] = value | 0; return; }
  switch (name) {
    case 'eip': case 'ip': cpu.eip = value >>> 0; return;
    case 'cr0': cpu.cr0 = value | 0; return;
    case 'cr3': cpu.cr3 = value | 0; return;
    case 'dr6': cpu.dr[6] = value | 0; return;
    case 'dr7': cpu.dr[7] = value | 0; return;
    default: throw new Error(`register '${name}' is not written by writeCpuRegister`);
  }
}
