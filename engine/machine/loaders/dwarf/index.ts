// DWARF debugging information of an ELF file: the program's functions, variables and types (program.ts), call
// frame information for unwinding (cfi.ts, unwind.ts) and location expressions (location.ts). Reading is lazy
// and never throws for bad data: problems go to `warn` and the affected views are left out.

import type { ElfFile } from '../elf-file';
import { CallFrameInfo } from './cfi';
import { DwarfProgram } from './program';
import { dwarfSections } from './sections';

export interface DwarfDebugInfo {
  program: DwarfProgram | null;
  cfi: CallFrameInfo | null;
}

export function readDwarf(elf: ElfFile, warn: (message: string) => void): DwarfDebugInfo {
  const sections = dwarfSections(elf);
  let program: DwarfProgram | null = null;
  let cfi: CallFrameInfo | null = null;
  if (sections.info && sections.abbrev) {
    try {
      program = new DwarfProgram(sections, warn);
    } catch (e) {
      warn(`.debug_info cannot be read (${(e as Error).message}); variables and types are not shown`);
    }
  }
  if (sections.frame || sections.ehFrame) cfi = new CallFrameInfo(sections, warn);
  return { program, cfi };
}

export { DwarfProgram, covers, type FunctionInfo, type Variable, type Block, type InlinedCall, type VarLocation } from './program';
export { CallFrameInfo } from './cfi';
export { evaluateLocation, evaluateValue, type Place, type LocationContext } from './location';
export { unwindOne, frameCfa, lookupPc, DWARF_EIP, type UnwoundFrame, type FrameRegisters, type ReadU32 } from './unwind';
export { stripType, sizeOf, typeName, VOID, type CType, type Member, type BaseEncoding } from './types';
export type { PcRange } from './lists';
