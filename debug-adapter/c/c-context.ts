// C expressions over a frame: names resolve as C resolves them (locals, parameters, the unit's globals, every
// unit's globals, enumerators), then the image's symbols, then Ringside's own names (registers, `ds.base`,
// `gdt[3]`). A `$` prefix skips the program: `$gdt[3]` is the CPU's GDT entry even when the program has a `gdt`.
// The C operators (`*`, `&`, `->`, casts, sizeof, pointer arithmetic) work on CValues (value.ts).

import { sizeOf, stripType, type CType, type DwarfProgram } from '../../engine/machine/loaders/dwarf';
import { normalizeBaseName } from '../../engine/machine/loaders/dwarf/program';
import { isComposite, toNumber, type CSupport, type EvalContext, type Value } from '../expression/evaluate';
import { ExpressionError, type TypeSpec } from '../expression/parse';
import { CValue, isCValue, valueOfType, type CMemory } from './value';
import type { FrameValues } from './frame-values';

const BUILTIN: Record<string, CType> = {};
for (const [name, size, encoding] of [
  ['char', 1, 'signed char'],
  ['signed char', 1, 'signed char'],
  ['unsigned char', 1, 'unsigned char'],
  ['short int', 2, 'signed'],
  ['short unsigned int', 2, 'unsigned'],
  ['int', 4, 'signed'],
  ['unsigned int', 4, 'unsigned'],
  ['long int', 4, 'signed'],
  ['long unsigned int', 4, 'unsigned'],
  ['long long int', 8, 'signed'],
  ['long long unsigned int', 8, 'unsigned'],
  ['float', 4, 'float'],
  ['double', 8, 'float'],
  ['long double', 12, 'float'],
  ['_Bool', 1, 'bool'],
] as const) {
  BUILTIN[name] = { kind: 'base', name, size, encoding };
}

/** The C type a cast or sizeof names: the program's (its unit first), else C's own base types. */
export function resolveType(program: DwarfProgram, spec: TypeSpec, frame: FrameValues): CType {
  let t: CType | undefined;
  if (spec.base === 'void') t = { kind: 'void' };
  else t = program.findType(spec.base, frame.unit) ?? BUILTIN[normalizeBaseName(spec.base)];
  if (!t) throw new ExpressionError(`the program has no type "${spec.base}"`);
  for (let k = 0; k < spec.pointers; k++) t = { kind: 'pointer', size: 4, target: t };
  return t;
}

function pointerTo(t: CType): CType {
  return { kind: 'pointer', size: 4, target: t };
}

export function cSupport(program: DwarfProgram, frame: FrameValues, isTypeName: (n: string) => boolean): CSupport {
  const mem: CMemory = frame.mem;
  const needC = (v: Value, what: string): CValue => {
    if (isCValue(v)) return v;
    throw new ExpressionError(`${what} needs a C value; cast a number first, as in *(int *)0x1000`);
  };
  return {
    isTypeName,
    deref(v) {
      const c = needC(v, 'dereferencing');
      const t = stripType(c.type);
      if (t.kind !== 'pointer' && t.kind !== 'array') throw new ExpressionError(`${c.name} is not a pointer`);
      if (t.kind === 'pointer' && stripType(t.target).kind === 'void') throw new ExpressionError(`${c.name} points to void; cast it first`);
      const d = c.deref();
      if (!d) throw new ExpressionError(`${c.name} cannot be read`);
      return d;
    },
    addressOf(v) {
      const c = needC(v, '&');
      const a = c.address;
      if (a === undefined) throw new ExpressionError(`${c.name} has no address (${c.bits ? 'a bitfield' : 'it lives in a register or is computed'})`);
      return valueOfType(pointerTo(c.type), a, mem, `&${c.name}`);
    },
    cast(spec, v) {
      const t = resolveType(program, spec, frame);
      const s = stripType(t);
      const label = `(${spec.base}${spec.pointers ? ' ' + '*'.repeat(spec.pointers) : ''})`;
      if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'array') {
        // Reinterpreting an object in place: it must have an address.
        const a = isCValue(v) ? v.address : undefined;
        if (a === undefined) throw new ExpressionError(`only an object in memory can be cast to ${spec.base}`);
        return new CValue(t, { kind: 'memory', addr: a }, mem, `${label}${(v as CValue).name}`);
      }
      const n = toNumber(v, 'the value cast');
      return valueOfType(t, n, mem, `${label}${isCValue(v) ? v.name : String(n)}`);
    },
    sizeofType(spec) {
      return sizeOf(resolveType(program, spec, frame));
    },
    sizeofValue(v) {
      if (isCValue(v)) return sizeOf(v.type);
      return 4;
    },
    binary(op, a, b) {
      if (op !== '+' && op !== '-') return undefined;
      const pa = isCValue(a) ? stripType(a.type) : undefined;
      const pb = isCValue(b) ? stripType(b.type) : undefined;
      const isPtr = (t: CType | undefined): t is CType & { kind: 'pointer' | 'array' } => t?.kind === 'pointer' || t?.kind === 'array';
      const elem = (t: CType & { kind: 'pointer' | 'array' }): CType => (t.kind === 'pointer' ? t.target : t.element);
      if (isPtr(pa) && isPtr(pb) && op === '-') {
        const size = sizeOf(elem(pa)) || 1;
        return Math.trunc((toNumber(a) - toNumber(b)) / size);
      }
      const [p, n, pt] = isPtr(pa) ? [a as CValue, b, pa] : isPtr(pb) && op === '+' ? [b as CValue, a, pb] : [undefined, undefined, undefined];
      if (!p || !pt || isComposite(n!) && !isCValue(n)) return undefined;
      const size = sizeOf(elem(pt)) || 1;
      const base = toNumber(p, 'the pointer');
      const k = toNumber(n!, 'the offset');
      const target = (op === '+' ? base + k * size : base - k * size) >>> 0;
      return valueOfType(pointerTo(elem(pt)), target, mem, `${p.name} ${op} ${k}`);
    },
  };
}

/**
 * The evaluation context of a frame: C names first, then the image's symbols, then Ringside's names; `$name`
 * goes straight to Ringside's.
 */
export function cEvalContext(program: DwarfProgram, frame: FrameValues, cpu: EvalContext, symbols: ReadonlyMap<string, number>, isTypeName: (n: string) => boolean): EvalContext {
  return {
    lookup(name) {
      if (name.startsWith('$')) return cpu.lookup(name.slice(1));
      return frame.lookup(name) ?? enumerator(program, frame, name) ?? symbols.get(name) ?? cpu.lookup(name);
    },
    segmentedAddress: (s, o) => cpu.segmentedAddress(s, o),
    readLinear: (l, s) => cpu.readLinear(l, s),
    c: cSupport(program, frame, isTypeName),
  };
}

function enumerator(program: DwarfProgram, frame: FrameValues, name: string): Value | undefined {
  const found = program.findEnumerator(name, frame.unit);
  return found ? valueOfType(found.type, found.value, frame.mem, name) : undefined;
}
