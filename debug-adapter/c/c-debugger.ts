// The C side of a stop: the call stack from CFI and DWARF, the Locals/Arguments/Globals scopes of each frame, the
// C evaluation context of a frame, and where a function breakpoint on a C function goes. The Runtime owns one
// when the image (or the `symbols` file) has DWARF; frames are computed once per stop and dropped on the next
// stop or edit.

import type { Cpu } from '../../engine/cpu/cpu';
import { hasElfMagic, parseElf } from '../../engine/machine/loaders/elf-file';
import { readDwarf, type CallFrameInfo, type DwarfProgram, type FunctionInfo } from '../../engine/machine/loaders/dwarf';
import type { ImageSymbol, LineRow } from '../../engine/machine/loaders';
import type { EvalContext } from '../expression/evaluate';
import type { Container } from '../scopes/variable-store';
import type { InterruptFrameRecord } from '../stack';
import { firstRowAtOrAbove } from '../source-lines';
import { cEvalContext } from './c-context';
import { cStack, type CFrame } from './frames';
import { FrameValues } from './frame-values';
import { CValuesScope, GlobalsScope } from './scopes';

export class CDebugger {
  private stack: CFrame[] | null = null;
  private readonly typedefs = new Map<string, boolean>();
  private symbolNames: Set<string> | null = null;

  constructor(
    readonly program: DwarfProgram | null,
    readonly cfi: CallFrameInfo | null,
    private readonly symbols: readonly ImageSymbol[],
  ) {}

  /** Reads the DWARF of the first ELF file that has some (the program, else the symbols file); null when none has. */
  static fromFiles(files: (Uint8Array | undefined)[], symbols: readonly ImageSymbol[], warn: (m: string) => void): CDebugger | null {
    let program: DwarfProgram | null = null;
    let cfi: CallFrameInfo | null = null;
    for (const bytes of files) {
      if (!bytes || !hasElfMagic(bytes)) continue;
      try {
        const d = readDwarf(parseElf(bytes), warn);
        program ??= d.program;
        cfi ??= d.cfi;
      } catch (e) {
        warn(`no C debugging information: ${(e as Error).message}`);
      }
    }
    return program || cfi ? new CDebugger(program, cfi, symbols) : null;
  }

  invalidate(): void {
    this.stack = null;
  }

  frames(cpu: Cpu, interrupts: readonly InterruptFrameRecord[]): CFrame[] {
    this.stack ??= cStack(cpu, this.program, this.cfi, interrupts);
    return this.stack;
  }

  frameValues(cpu: Cpu, interrupts: readonly InterruptFrameRecord[], index: number): FrameValues | undefined {
    if (!this.program) return undefined;
    const f = this.frames(cpu, interrupts)[index];
    if (!f || f.kind === 'exception') return undefined;
    this.symbolNames ??= new Set(this.symbols.map((s) => s.name));
    const names = this.symbolNames;
    return new FrameValues(cpu, this.program, this.cfi, f, this.symbols, (n) => names.has(n));
  }

  /** Locals, Arguments (frames in a function DWARF describes) and Globals, in that order. */
  scopes(cpu: Cpu, interrupts: readonly InterruptFrameRecord[], index: number): { name: string; container: Container; hint?: string }[] {
    const fv = this.frameValues(cpu, interrupts, index);
    if (!fv) return [];
    const out: { name: string; container: Container; hint?: string }[] = [];
    if (fv.frame.fn) {
      out.push({ name: 'Locals', container: new CValuesScope(() => fv.locals()), hint: 'locals' });
      out.push({ name: 'Arguments', container: new CValuesScope(() => fv.params()), hint: 'arguments' });
    }
    // Assembly with DWARF lines only (nasm -F dwarf) has no C variables: its frames keep Ringside's scopes alone.
    if (fv.frame.fn || fv.globals().length > 0) out.push({ name: 'Globals', container: new GlobalsScope(fv) });
    return out;
  }

  isTypeName(name: string): boolean {
    if (!this.program) return false;
    let known = this.typedefs.get(name);
    if (known === undefined) this.typedefs.set(name, (known = this.program.isTypedefName(name)));
    return known;
  }

  /** The C context of a frame (0: the innermost), or the plain one when DWARF does not describe it. */
  context(cpu: Cpu, interrupts: readonly InterruptFrameRecord[], plain: EvalContext, symbols: ReadonlyMap<string, number>, index = 0): EvalContext {
    const fv = this.frameValues(cpu, interrupts, index);
    if (!fv || !this.program) return plain;
    return cEvalContext(this.program, fv, plain, symbols, (n) => this.isTypeName(n));
  }

  /**
   * Where a breakpoint on C function `name` stops: after its prologue, as gdb does, at the first line-table row
   * of the function whose line differs from the line its code starts on (where the arguments are in place);
   * the entry when there is no such row.
   */
  functionAddress(name: string, lines: readonly LineRow[]): number | undefined {
    const sym = this.symbols.find((s) => s.name === name);
    const fn = this.program?.findFunction(name, sym?.addr);
    return fn ? afterPrologue(fn, lines) : undefined;
  }

  /** When `pc` is the entry of a C function with a prologue, the address after it (stepping in stops there). */
  prologueEnd(pc: number, lines: readonly LineRow[]): number | undefined {
    const fn = this.program?.functionAt(pc);
    if (!fn || fn.entry !== pc) return undefined;
    const end = afterPrologue(fn, lines);
    return end !== pc ? end : undefined;
  }
}

function afterPrologue(fn: FunctionInfo, lines: readonly LineRow[]): number {
  {
    const range = fn.ranges.find((r) => fn.entry >= r.low && fn.entry < r.high) ?? fn.ranges[0];
    const rows = rowsIn(lines, range.low, range.high);
    const first = rows.find((r) => r.addr === fn.entry) ?? rows[0];
    if (!first) return fn.entry;
    let best: number | undefined;
    for (const r of rows) if (r.line !== first.line && r.line !== 0 && (best === undefined || r.addr < best)) best = r.addr;
    return best ?? fn.entry;
  }
}

/** The rows of `lines` (sorted by address) in [low, high), found by bisection: a kernel has rows by the 100,000. */
function rowsIn(lines: readonly LineRow[], low: number, high: number): LineRow[] {
  const out: LineRow[] = [];
  for (let k = firstRowAtOrAbove(lines, low); k < lines.length && lines[k].addr < high; k++) out.push(lines[k]);
  return out;
}
