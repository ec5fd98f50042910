// The Disassembly view's request: `count` instructions around a linear address, `skip` instructions before or
// after it. Code is decoded in CS's offsets when the address lies in CS (relative targets then read as the
// program wrote them) and in the mode CS.D gives. Decoding backwards is ambiguous, so the instructions before the
// address are decoded forward from places known to start an instruction (the image's segments, symbols, line
// rows) when one is near, else from a few starts a little more than enough bytes back; a run that lands exactly
// on the address is kept, and what cannot be found is padded with unknown entries.

import { CS, type Cpu } from '../engine/cpu/cpu';
import { disassembleOne, type DisassembledInstruction } from '../engine/cpu/decode/disassemble';
import { linearReader, segmentReader } from './code-reader';

export interface DisassemblyEntry {
  linear: number;
  /** Null for an address before the first instruction that could be found. */
  instruction: DisassembledInstruction | null;
}

/** Linear addresses known to start an instruction. */
export type InstructionStarts = readonly number[];

export function disassembleAround(cpu: Cpu, starts: InstructionStarts, base: number, skip: number, count: number): DisassemblyEntry[] {
  const csBase = cpu.segBase[CS] >>> 0;
  const inCs = base - csBase >= 0 && base - csBase <= cpu.segLimit[CS];
  const d32 = cpu.code32;
  const mask = d32 ? 0xffffffff : 0xffff;
  const read = inCs ? segmentReader(cpu, csBase) : linearReader(cpu);
  const toLinear = (o: number): number => (inCs ? (csBase + o) >>> 0 : o >>> 0);
  const origin = inCs ? base - csBase : base;
  const one = (o: number): DisassembledInstruction => disassembleOne(read, o & mask, d32);
  const anchors = starts.map((lin) => (inCs ? (lin >>> 0) - csBase : lin >>> 0)).filter((o) => o >= 0);

  /** Up to `want` instructions that end exactly at `target`. */
  const runInto = (target: number, want: number, depth: number): DisassembledInstruction[] => {
    const span = Math.min(want * 15 + 16, target);
    const decodeFrom = (start: number): DisassembledInstruction[] | null => {
      const seq: DisassembledInstruction[] = [];
      for (let o = start; o < target; ) {
        const i = one(o);
        seq.push(i);
        o += i.length;
        if (o === target) return seq;
      }
      return start === target ? seq : null;
    };
    const near = [...new Set(anchors.filter((o) => o < target && o >= target - span))].sort((x, y) => x - y);
    for (const anchor of near) {
      const seq = decodeFrom(anchor);
      if (!seq) continue;
      if (seq.length >= want || depth >= 4 || anchor === 0) return seq.slice(-want);
      return [...runInto(anchor, want - seq.length, depth + 1), ...seq];
    }
    for (let t = 0; t < 16 && t <= span; t++) {
      const seq = decodeFrom(target - span + t);
      if (seq) return seq.slice(-want);
    }
    return [];
  };

  const out: DisassemblyEntry[] = [];
  const before = skip < 0 ? runInto(origin, Math.min(-skip, 4096), 0) : [];
  const pad = -skip - before.length;
  for (let k = 0; k < pad && out.length < count; k++) out.push({ linear: toLinear(origin - (pad - k)), instruction: null });
  for (const i of before) if (out.length < count) out.push({ linear: toLinear(i.offset), instruction: i });
  let o = origin;
  for (let k = 0; k < skip; k++) o += one(o).length;
  while (out.length < count) {
    const i = one(o);
    out.push({ linear: toLinear(i.offset), instruction: i });
    o += i.length;
  }
  return out;
}
