// Which instructions SBE (scan-before-execute) binds to the monitor (model.md §3; engine/monitor/README.md "SBE").
//
// SENSITIVE: instructions that do not fault at CPL 3 yet read or depend on state the monitor virtualizes: SMSW,
// PUSHF/POPF (IF, IOPL), MOV from a segment register and PUSH of one (the RPL), far CALL/JMP/RET and IRET (their
// checks use RPL and CPL), CPUID. Added here, because ring compression raises descriptor DPLs to 3: every
// segment-register load (MOV/POP to a segment register, LDS/LES/LFS/LGS/LSS), whose RPL/DPL checks would otherwise
// pass where the guest's table refuses them.
//
// ALWAYS: SGDT, SIDT, SLDT, STR (they store the monitor's own table registers), LAR, LSL, VERR, VERW (they read the
// virtual GDT, whose system and never-accessed entries differ from the guest's), and INT1 (delivered without the
// DPL check, it must reach the guest as INT1, not as a debug trap). No condition of model.md can make these
// transparent, so they stay bound while SBE is off (auto); only `--sbe off` releases them.

import type { Instr } from '../cpu/decode/instr';

export const SENSITIVE_HANDLERS: ReadonlySet<string> = new Set([
  'smsw',
  'pushf',
  'popf',
  'movES',
  'pushSeg',
  'callFar',
  'callFarM',
  'jmpFar',
  'jmpFarM',
  'retFar',
  'iret',
  'cpuid',
  'movSE',
  'popSeg',
  'loadFarPointer',
]);

export const ALWAYS_HANDLERS: ReadonlySet<string> = new Set(['sgdt', 'sidt', 'sldt', 'str', 'lar', 'lsl', 'verr', 'verw', 'int1']);

export function isSensitive(i: Instr): boolean {
  const h = i.row?.handler;
  return h !== undefined && (SENSITIVE_HANDLERS.has(h) || ALWAYS_HANDLERS.has(h));
}

export function isAlwaysSensitive(i: Instr): boolean {
  const h = i.row?.handler;
  return h !== undefined && ALWAYS_HANDLERS.has(h);
}
