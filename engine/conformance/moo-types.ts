// The content of a MOO test file (the binary format of the SingleStepTests corpora), as the reader returns it.
//
// Format: `doc/moo_format_v1.md` of dbalsom/moo (MOO 1.1). A file is a `MOO ` header chunk, an optional `META`
// chunk, an optional file-wide register mask (`RMSK` / `RM32`), then one `TEST` chunk per test. Registers come in two
// layouts: `REGS` (16-bit, the 8088/286 sets) and `RG32` (32-bit, the 386 set); a u16/u32 bitmask says which ones a
// chunk holds, in the fixed order below. Final states list only what changed.

/** Register order of a `REGS` / `RMSK` chunk, bit 0 first. */
export const REGS16_ORDER = [
  'ax', 'bx', 'cx', 'dx', 'cs', 'ss', 'ds', 'es', 'sp', 'bp', 'si', 'di', 'ip', 'flags',
] as const;

/** Register order of a `RG32` / `RM32` chunk, bit 0 first. Segment registers use the low 16 bits only. */
export const REGS32_ORDER = [
  'cr0', 'cr3', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp',
  'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'eip', 'eflags', 'dr6', 'dr7',
] as const;

export type Reg16Name = (typeof REGS16_ORDER)[number];
export type Reg32Name = (typeof REGS32_ORDER)[number];

/** A register chunk: its width and the registers it holds (unsigned values). */
export interface MooRegisters {
  width: 16 | 32;
  values: Map<string, number>;
}

/** `EA32`: the effective address of the instruction's ModR/M operand (386 tests only; informational). */
export interface MooEffectiveAddress {
  /** 0 CS, 1 SS, 2 DS, 3 ES, 4 FS, 5 GS (the MOO enumeration, not the SDM's sreg order). */
  segment: number;
  selector: number;
  base: number;
  limit: number;
  offset: number;
  linear: number;
  physical: number;
}

/** Descriptor-table registers of a protected-mode vector (Ringside's own `GDTR` / `IDTR` chunks, see moo-reader). */
export interface MooTableRegister {
  base: number;
  limit: number;
}

export interface MooState {
  regs: MooRegisters | null;
  /** Per-test undefined-register masks (`RMSK` / `RM32` inside `FINA`): AND masks, 1 = defined bit. */
  regMask: MooRegisters | null;
  /** Physical address / byte pairs, in file order. */
  ram: { address: number; value: number }[];
  queue: Uint8Array | null;
  ea: MooEffectiveAddress | null;
  gdtr: MooTableRegister | null;
  idtr: MooTableRegister | null;
}

export interface MooException {
  vector: number;
  /** Physical address of the FLAGS image the exception pushed. */
  flagAddress: number;
}

export interface MooTest {
  index: number;
  name: string;
  /** The instruction bytes as the file gives them (the 286/386 sets append the terminating HLT, F4). */
  bytes: Uint8Array;
  initial: MooState;
  final: MooState;
  exception: MooException | null;
  /** SHA-1 of the test as lower-case hex (the revocation lists use it), or null when the file has no `HASH`. */
  hash: string | null;
  /** Number of bus cycles recorded (the cycles themselves are not kept). */
  cycleCount: number;
}

export interface MooMeta {
  setVersion: { major: number; minor: number };
  cpuType: number;
  /** 0xFFFFFFFF when the file mixes opcodes. */
  opcode: number;
  mnemonic: string;
  /** A generator counter in some sets; the header's count is the authority. */
  testCount: number;
  seed: bigint;
  cpuMode: number;
}

export interface MooFile {
  version: { major: number; minor: number };
  /** Test count from the `MOO ` header. */
  count: number;
  /** `8088`, `8086`, `V20`, `V30`, `186`, `C286`, `386E` (trailing spaces removed). */
  cpuId: string;
  meta: MooMeta | null;
  /** File-wide undefined-register mask (`RMSK` / `RM32` at top level). */
  fileMask: MooRegisters | null;
  tests: MooTest[];
}
