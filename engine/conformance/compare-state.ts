// Comparing the CPU and memory after a test with the test's final state. The final state lists only what changed,
// so every register of the chunk layout is compared: the final value when listed, else the initial one. Masks come
// from the CPU profile (the bits the chip really has), the undefined-flag tables and the file's / test's RMSK/RM32
// chunks; all are AND masks. Memory: every byte of the final RAM list, plus every byte of the initial list that the
// final list does not name (it must be unchanged). When the test records an exception, the FLAGS image it pushed
// is compared under the same flag mask (the README's advice for undefined flags).

import { Cpu } from '../cpu/cpu';
import { CpuProfile } from './cpu-profile';
import { MooRegisters, MooTest, REGS16_ORDER, REGS32_ORDER } from './moo-types';
import { analyzeInstruction } from './instruction-form';
import { CR0_386_BITS, isSegmentName, readCpuRegister } from './register-map';

export interface Difference {
  kind: 'register' | 'memory';
  /** Register name, or the physical address in hex. */
  where: string;
  expected: number;
  actual: number;
  /** Bits compared. */
  mask: number;
}

const FLAG_NAMES: [number, string][] = [
  [0x1, 'CF'], [0x4, 'PF'], [0x10, 'AF'], [0x40, 'ZF'], [0x80, 'SF'], [0x100, 'TF'], [0x200, 'IF'], [0x400, 'DF'],
  [0x800, 'OF'], [0x3000, 'IOPL'], [0x4000, 'NT'], [0x10000, 'RF'], [0x20000, 'VM'],
];

export function describeDifference(d: Difference): string {
  const width = d.kind === 'memory' ? 2 : d.mask > 0xffff ? 8 : 4;
  const h = (v: number) => '0x' + (v >>> 0).toString(16).padStart(width, '0');
  let text = d.kind === 'memory'
    ? `memory [${d.where}]: expected ${h(d.expected)}, got ${h(d.actual)}`
    : `${d.where}: expected ${h(d.expected & d.mask)}, got ${h(d.actual & d.mask)}`;
  if (d.kind === 'register' && (d.where === 'flags' || d.where === 'eflags')) {
    const diff = (d.expected ^ d.actual) & d.mask;
    const names = FLAG_NAMES.filter(([bit]) => (diff & bit) !== 0).map(([, n]) => n);
    text += ` (differs in ${names.join(' ')})`;
  }
  return text;
}

const FULL = 0xffffffff;
const WORD = 0xffff;
const BYTE = 0xff;

/** The AND mask for one register before undefined-register chunks. */
function baseMask(profile: CpuProfile, name: string, flagMask: number): number {
  if (name === 'flags' || name === 'eflags') return (profile.comparedFlags & flagMask) >>> 0;
  if (profile.registerWidth === 16 || isSegmentName(name)) return WORD;
  if (name === 'cr0') return CR0_386_BITS;
  return FULL;
}

function chunkMask(chunk: MooRegisters | null, name: string): number {
  const m = chunk?.values.get(name);
  return m === undefined ? FULL : m >>> 0;
}

/**
 * The first register that differs, or null. `flagMask` is the undefined-flag AND mask for this instruction
 * (all ones when none applies).
 */
export function compareRegisters(cpu: Cpu, test: MooTest, profile: CpuProfile, flagMask: number, fileMask: MooRegisters | null): Difference | null {
  const order = profile.registerWidth === 32 ? REGS32_ORDER : REGS16_ORDER;
  const initial = test.initial.regs!.values;
  const final = test.final.regs?.values;
  for (const name of order) {
    const isFlags = name === 'flags' || name === 'eflags';
    let expected = final?.get(name);
    if (expected === undefined) {
      expected = initial.get(name);
      if (expected === undefined) continue;
      if (isFlags) expected &= profile.initialFlagsMask;
    }
    if (isFlags) expected = profile.expectedFlags(expected);
    const mask = (baseMask(profile, name, flagMask) & chunkMask(fileMask, name) & chunkMask(test.final.regMask, name)) >>> 0;
    const actual = readCpuRegister(cpu, name);
    if (((expected ^ actual) & mask) !== 0) return { kind: 'register', where: name, expected: expected >>> 0, actual, mask };
  }
  return null;
}

/** The first memory byte that differs, or null. */
export function compareMemory(cpu: Cpu, test: MooTest, profile: CpuProfile, flagMask: number): Difference | null {
  const expected = new Map<number, number>();
  for (const e of test.initial.ram) expected.set(e.address, e.value);
  for (const e of test.final.ram) expected.set(e.address, e.value);
  const flagsAt = pushedFlagsAddress(test) ?? (profile.endsWithHalt ? undefined : softwareFlagsImage(test));
  const pushedFlagsMask = (profile.comparedFlags & flagMask) & WORD;
  for (const [address, value] of expected) {
    let want = value;
    let mask = BYTE;
    if (flagsAt !== undefined && (address === flagsAt || address === flagsAt + 1)) {
      const shift = address === flagsAt ? 0 : 8;
      mask = (pushedFlagsMask >>> shift) & BYTE;
      want = (profile.expectedFlags(value << shift) >>> shift) & BYTE;
    }
    const got = cpu.mem.peek(address, 1);
    if (((want ^ got) & mask) !== 0) {
      return { kind: 'memory', where: '0x' + address.toString(16), expected: want, actual: got, mask };
    }
  }
  return null;
}

/**
 * Where the exception's FLAGS image lies. The EXCP chunk records it, but the 286 capture rounds it down to the
 * even bus address when the stack pointer is odd; in real mode the image is the word at SS:(final SP + 4) (the
 * delivery pushed FLAGS, CS, IP), so when that lies one byte above the record, it is the true address.
 */
export function pushedFlagsAddress(test: MooTest): number | undefined {
  const recorded = test.exception?.flagAddress;
  if (recorded === undefined) return undefined;
  const reg = (a: string, b: string) =>
    test.final.regs?.values.get(a) ?? test.final.regs?.values.get(b) ?? test.initial.regs!.values.get(a) ?? test.initial.regs!.values.get(b) ?? 0;
  const computed = (reg('ss', 'ss') & 0xffff) * 16 + ((reg('sp', 'esp') + 4) & 0xffff);
  return computed === recorded + 1 ? computed : recorded;
}

/** Bytes of the FLAGS, CS, IP frame an interrupt pushes in real mode. */
const REAL_MODE_FRAME = 6;

/**
 * The 8088-class files carry no EXCP chunk; the FLAGS images they push are found from the instruction: PUSHF
 * leaves it at SS:SP, a taken INT / INT3 / INTO (SP went down by a whole frame) at SS:SP+4. Their bits 12–15 are
 * the chip's fixed ones, so the comparison translates them like the FLAGS register.
 */
function softwareFlagsImage(test: MooTest): number | undefined {
  const op = analyzeInstruction(test.bytes).opcode;
  const regs = (name: string) => test.final.regs?.values.get(name) ?? test.initial.regs!.values.get(name) ?? 0;
  const ss = regs('ss') * 16;
  const sp = regs('sp');
  if (op === 0x9c) return ss + sp;
  const taken = ((test.initial.regs!.values.get('sp') ?? 0) - sp) & 0xffff;
  if ((op === 0xcc || op === 0xcd || op === 0xce) && taken === REAL_MODE_FRAME) return ss + ((sp + 4) & 0xffff);
  return undefined;
}
