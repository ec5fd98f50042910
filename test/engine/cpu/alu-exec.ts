// Helpers for the arithmetic/logic/shift/BCD/bit tests: run one instruction many times on a real-mode machine with
// chosen registers and flags, and reference computations that do not use the engine's helpers.

import { realMode, type TestMachine } from './harness';
import type { CpuModelName } from '../../../engine/cpu/cpu';

export const CODE = 0x1000;
/** Where the #DE / #GP test handler lives: a HLT reached through the IVT. */
export const HANDLER = 0x3000;

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** A real-mode machine with `code` followed by HLT at CODE, and every IVT vector pointing at a HLT at HANDLER. */
export function machineFor(code: number[], model?: CpuModelName): TestMachine {
  const m = realMode([...code, 0xf4], CODE, model);
  for (let v = 0; v < 32; v++) {
    m.mem.write16(v * 4, HANDLER);
    m.mem.write16(v * 4 + 2, 0);
  }
  m.mem.write8(HANDLER, 0xf4);
  return m;
}

/** Runs the instruction at CODE once with the given flags (the arithmetic six; others 0), to its HLT. */
export function runOnce(m: TestMachine, flags: number): void {
  const cpu = m.cpu;
  cpu.halted = false;
  cpu.eip = CODE;
  cpu.regs[4] = 0x8000;
  cpu.setEflags(flags);
  cpu.run(3);
}

/** True when the last runOnce ended in the IVT handler (an exception), with the faulting IP pushed. */
export function faulted(m: TestMachine): boolean {
  return m.cpu.eip === HANDLER + 1;
}

/** Even parity of the low byte, counted bit by bit. */
export function parity(v: number): boolean {
  let n = 0;
  for (let b = 0; b < 8; b++) n += (v >> b) & 1;
  return n % 2 === 0;
}

/** SF ZF PF of a result of `bits` width, computed plainly. */
export function szp(res: number, bits: number): number {
  let f = 0;
  if (res === 0) f |= ZF;
  if (Math.floor(res / 2 ** (bits - 1)) % 2 === 1) f |= SF;
  if (parity(res % 256)) f |= PF;
  return f;
}

/** Interprets an unsigned `bits`-wide value as signed. */
export function sx(v: number, bits: number): number {
  return v >= 2 ** (bits - 1) ? v - 2 ** bits : v;
}

export function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

/** Collects mismatches (up to a few) so an exhaustive loop reports a readable failure. */
export class Mismatches {
  readonly list: string[] = [];
  count = 0;
  check(what: string, got: number, want: number): void {
    if (got !== want) {
      this.count++;
      if (this.list.length < 8) this.list.push(`${what}: got ${hex(got)}, want ${hex(want)}`);
    }
  }
  toString(): string {
    return `${this.count} mismatches\n${this.list.join('\n')}`;
  }
}
