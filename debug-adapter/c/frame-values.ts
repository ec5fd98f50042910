// The C variables one frame can see: its block-scoped locals (the innermost declaration of a name wins), its
// parameters, the globals of its compile unit and, by name, those of every unit. Each becomes a CValue whose
// place comes from its location expression evaluated with the frame's registers, frame base and CFA.

import type { Cpu } from '../../engine/cpu/cpu';
import { peekLinear } from '../../engine/cpu/protect/peek';
import {
  covers,
  evaluateLocation,
  evaluateValue,
  frameCfa,
  sizeOf,
  unwindOne,
  type Block,
  type CallFrameInfo,
  type DwarfProgram,
  type LocationContext,
  type Place,
  type Variable,
} from '../../engine/machine/loaders/dwarf';
import type { Unit } from '../../engine/machine/loaders/dwarf/info';
import type { ImageSymbol } from '../../engine/machine/loaders';
import { symbolAt } from '../listing';
import { encodeInt, CValue, type CMemory } from './value';
import { readU32, type CFrame } from './frames';

const DWARF_ESP = 4;

export class FrameValues {
  readonly mem: CMemory;
  readonly unit: Unit | undefined;
  private readonly pc: number;

  constructor(
    private readonly cpu: Cpu,
    readonly program: DwarfProgram,
    private readonly cfi: CallFrameInfo | null,
    readonly frame: CFrame,
    symbols: readonly ImageSymbol[],
    /** True when the ELF symbol table has the name (so another unit may define it). */
    private readonly isSymbol: (name: string) => boolean = () => true,
  ) {
    const regs = frame.unwound?.regs;
    this.pc = frame.lineAddress;
    this.mem = {
      byte: (addr) => peekLinear(cpu, addr | 0, 1),
      reg: (n) => regs?.values[n],
      savedAt: (n) => regs?.savedAt[n],
      top: frame.unwound?.how === 'top',
      // Only the innermost frame's x87 stack is known: the i386 ABI leaves it empty at every call.
      fpu: (i) => (frame.unwound?.how === 'top' && cpu.fpuPresent && !cpu.fpu.isEmpty(i) ? cpu.fpu.st(i) : undefined),
      symbolAt: (addr) => {
        const s = symbolAt(symbols, addr);
        return s ? (s.addr === addr ? s.name : `${s.name}+${addr - s.addr}`) : undefined;
      },
    };
    this.unit = frame.fn?.unit ?? program.unitForPc(this.pc) ?? program.info.units[0];
  }

  /** The blocks whose ranges cover the frame's address, innermost first (the inlined call's, or the function's). */
  private scopeBlocks(): Block[] {
    const outer: Block | undefined = this.frame.inline ?? this.frame.fn;
    if (!outer) return [];
    const chain: Block[] = [outer];
    let b: Block = outer;
    for (let depth = 0; depth < 64; depth++) {
      const inner = b.blocks.find((x) => covers(x.ranges, this.pc));
      if (!inner) break;
      chain.push(inner);
      b = inner;
    }
    return chain.reverse();
  }

  locals(): CValue[] {
    const seen = new Set<string>();
    const out: CValue[] = [];
    for (const b of this.scopeBlocks()) {
      for (const v of b.variables) {
        if (seen.has(v.name)) continue;
        seen.add(v.name);
        out.push(this.valueOf(v));
      }
    }
    return out;
  }

  params(): CValue[] {
    const owner = this.frame.inline ?? this.frame.fn;
    return owner ? owner.params.map((v) => this.valueOf(v)) : [];
  }

  globals(): CValue[] {
    return this.unit ? this.program.globals(this.unit).map((v) => this.valueOf(v)) : [];
  }

  /** A name as C would resolve it here: locals, parameters, this unit's globals, then every unit's. */
  lookup(name: string): CValue | undefined {
    for (const b of this.scopeBlocks()) {
      const v = b.variables.find((x) => x.name === name);
      if (v) return this.valueOf(v);
    }
    const owner = this.frame.inline ?? this.frame.fn;
    const p = owner?.params.find((x) => x.name === name);
    if (p) return this.valueOf(p);
    const g = this.program.findGlobal(name, this.unit, this.isSymbol);
    return g ? this.valueOf(g) : undefined;
  }

  valueOf(v: Variable): CValue {
    return new CValue(v.type, this.placeOf(v), this.mem, v.name);
  }

  private placeOf(v: Variable): Place {
    const loc = v.location;
    if (loc.kind === 'const') {
      return { kind: 'bytes', bytes: typeof loc.value === 'number' ? encodeInt(loc.value, Math.max(sizeOf(v.type), 1)) : loc.value };
    }
    const expr = this.program.locationAt(loc, this.pc);
    if (expr === 'none' || typeof expr === 'number') return { kind: 'optimized', why: 'no location at this address' };
    return evaluateLocation(expr, this.locationContext());
  }

  private cachedCfa: number | undefined | null = null;
  private cfa(): number | undefined {
    if (this.cachedCfa === null) this.cachedCfa = this.frame.unwound ? frameCfa(this.frame.unwound, this.cfi, readU32(this.cpu)) : undefined;
    return this.cachedCfa;
  }

  locationContext(): LocationContext {
    const regs = this.frame.unwound?.regs;
    const read = (addr: number, size: number): number | undefined => {
      const v = peekLinear(this.cpu, addr | 0, size);
      return v < 0 ? undefined : v >>> 0;
    };
    const base: LocationContext = {
      reg: (n) => regs?.values[n],
      read,
      cfa: () => this.cfa(),
      addrx: (i) => (this.unit ? this.program.info.addrx(this.unit, i) : undefined),
    };
    const fb = this.frame.fn?.frameBase;
    base.frameBase = () => {
      if (!fb || fb.kind === 'none') return undefined;
      const e = this.program.locationAt(fb, this.pc);
      return e === 'none' || typeof e === 'number' ? undefined : evaluateValue(e, base);
    };
    // Entry values: at the entry ESP pointed at the return address (CFA - 4); registers the callee must keep
    // (EBX, ESI, EDI, EBP) still hold in the caller what they held at the entry.
    base.entryValue = (inner) => {
      const cfa = this.cfa();
      const caller = this.frame.unwound ? unwindOne(this.frame.unwound, this.cfi, readU32(this.cpu)) : null;
      const ctx: LocationContext = {
        reg: (n) => (n === DWARF_ESP ? (cfa === undefined ? undefined : (cfa - 4) >>> 0) : n === 3 || n >= 5 ? caller?.regs.values[n] : undefined),
        read,
      };
      return evaluateValue(inner, ctx);
    };
    return base;
  }
}
