// The DWARF sections of an ELF file, by name. Each is optional: a reader that needs a missing one reports it and
// the views that depend on it are left out, never the session.

import { ElfFile, findSection, sectionBytes } from '../elf-file';

export interface DwarfSections {
  info?: Uint8Array;
  abbrev?: Uint8Array;
  str?: Uint8Array;
  strOffsets?: Uint8Array;
  lineStr?: Uint8Array;
  addr?: Uint8Array;
  loc?: Uint8Array;
  loclists?: Uint8Array;
  ranges?: Uint8Array;
  rnglists?: Uint8Array;
  aranges?: Uint8Array;
  frame?: Uint8Array;
  ehFrame?: Uint8Array;
  /** Address .eh_frame is loaded at (its pointers may be relative to themselves). */
  ehFrameAddr?: number;
}

export function dwarfSections(elf: ElfFile): DwarfSections {
  const get = (name: string): Uint8Array | undefined => {
    const s = findSection(elf, name);
    return s && s.size > 0 ? sectionBytes(elf, s) : undefined;
  };
  const eh = findSection(elf, '.eh_frame');
  return {
    info: get('.debug_info'),
    abbrev: get('.debug_abbrev'),
    str: get('.debug_str'),
    strOffsets: get('.debug_str_offsets'),
    lineStr: get('.debug_line_str'),
    addr: get('.debug_addr'),
    loc: get('.debug_loc'),
    loclists: get('.debug_loclists'),
    ranges: get('.debug_ranges'),
    rnglists: get('.debug_rnglists'),
    aranges: get('.debug_aranges'),
    frame: get('.debug_frame'),
    ehFrame: get('.eh_frame'),
    ehFrameAddr: eh?.addr,
  };
}
