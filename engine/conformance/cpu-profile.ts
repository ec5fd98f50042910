// What a captured chip means for running its tests on Ringside's 386/486: the register view, the address space,
// how a test ends and which of its tests cannot match a 386 (reported as skipped with the reason).
//
// - 386E (80386EX, RG32 chunks): the full register file; EFLAGS bits 0–17 are real, the bits above are capture
//   noise (shared/conformance/README.md). Each test ends with HLT; the final EIP points past it.
// - C286 (80C286, REGS chunks): a 16-bit view; the final state gives the low 16 bits. Real mode with 24 address
//   lines (no wrap at 1 MiB). The instruction is followed by HLT, exceptions go through the IVT to a HLT placed at
//   the handler. FLAGS bits 12–15 are forced to 0 by the 286 in real mode, so the state it really had holds 0 there
//   (its README: the initial value is the random LOADALL image; mask those bits when loading).
// - 8088 / 8086 / V20 / V30 / 186 (REGS chunks): one instruction, no HLT; 20 address lines (A20 off). FLAGS bits
//   12–15 are hard-wired to 1 on these chips, while a 386 in real mode with IOPL 0 and NT 0 reads them as 0; the
//   expected value is translated to the 386 view before the comparison.

import { MooFile, MooTest } from './moo-types';
import { differenceFrom286 } from './cpu286-differences';
import { differenceFrom8088 } from './cpu8088-differences';

export type CpuFamily = '386' | '286' | '8086';

export interface CpuProfile {
  family: CpuFamily;
  registerWidth: 16 | 32;
  a20: boolean;
  /** True when each test runs until a HLT executes; false: exactly one instruction. */
  endsWithHalt: boolean;
  /** Bits of the initial FLAGS image the chip really held (the rest were not loadable). */
  initialFlagsMask: number;
  /** The FLAGS bits a comparison looks at (before undefined-flag masks). */
  comparedFlags: number;
  /** Turns the chip's final FLAGS value into what a 386 shows for the same state. */
  expectedFlags(value: number): number;
  /** Why this test cannot match a 386, or null. */
  difference(test: MooTest): string | null;
}

/** EFLAGS bits 0–17 (CF … VM): the 386's register; the capture's higher bits are noise. */
export const EFLAGS_386_BITS = 0x3ffff;
const FLAGS_16_BITS = 0xffff;
/** FLAGS bits 12–15 (IOPL, NT, bit 15). */
const FLAGS_HIGH_NIBBLE = 0xf000;

const PROFILE_386: CpuProfile = {
  family: '386', registerWidth: 32, a20: true, endsWithHalt: true,
  initialFlagsMask: EFLAGS_386_BITS, comparedFlags: EFLAGS_386_BITS,
  expectedFlags: (v) => v, difference: () => null,
};

const PROFILE_286: CpuProfile = {
  family: '286', registerWidth: 16, a20: true, endsWithHalt: true,
  initialFlagsMask: FLAGS_16_BITS & ~FLAGS_HIGH_NIBBLE, comparedFlags: FLAGS_16_BITS,
  expectedFlags: (v) => v, difference: differenceFrom286,
};

const PROFILE_8086: CpuProfile = {
  family: '8086', registerWidth: 16, a20: false, endsWithHalt: false,
  initialFlagsMask: FLAGS_16_BITS & ~FLAGS_HIGH_NIBBLE, comparedFlags: FLAGS_16_BITS,
  expectedFlags: (v) => v & ~FLAGS_HIGH_NIBBLE, difference: differenceFrom8088,
};

const FAMILY_OF_CPU_ID: Record<string, CpuProfile> = {
  '386E': PROFILE_386,
  C286: PROFILE_286, '286': PROFILE_286,
  '8088': PROFILE_8086, '8086': PROFILE_8086, V20: PROFILE_8086, V30: PROFILE_8086, '186': PROFILE_8086,
};

/** The profile for a file: by its CPU id, else by the width of its register chunks. */
export function profileFor(file: MooFile): CpuProfile {
  const known = FAMILY_OF_CPU_ID[file.cpuId];
  if (known) return known;
  const width = file.tests[0]?.initial.regs?.width;
  return width === 32 ? PROFILE_386 : PROFILE_286;
}
