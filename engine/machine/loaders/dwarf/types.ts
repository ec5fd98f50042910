// C types from DWARF type DIEs (DWARF 5 §5): base, pointer, qualifiers, typedef, array with bounds, struct and
// union with members and bitfields, enum, function. Each DIE becomes one CType, memoized; a struct is registered
// before its members are read, so a type that points to itself (a list node) ends.

import * as C from './constants';
import type { DebugInfo, Die } from './info';

export type BaseEncoding = 'signed' | 'unsigned' | 'signed char' | 'unsigned char' | 'bool' | 'float' | 'address';

export interface Member {
  name: string;
  type: CType;
  /** Byte offset from the start of the aggregate. */
  offset: number;
  /** Bitfields: size in bits and the offset of the lowest bit from the start of the aggregate (little-endian). */
  bitSize?: number;
  bitOffset?: number;
}

export type CType =
  | { kind: 'void' }
  | { kind: 'base'; name: string; size: number; encoding: BaseEncoding }
  | { kind: 'pointer'; size: number; target: CType }
  | { kind: 'qualified'; qualifier: 'const' | 'volatile' | 'restrict' | '_Atomic'; target: CType }
  | { kind: 'typedef'; name: string; target: CType }
  | { kind: 'array'; element: CType; count: number | undefined }
  | { kind: 'struct' | 'union'; name?: string; size: number; members: Member[]; incomplete: boolean }
  | { kind: 'enum'; name?: string; size: number; values: { name: string; value: number }[]; signed: boolean }
  | { kind: 'function'; returns: CType; params: CType[]; variadic: boolean };

export const VOID: CType = { kind: 'void' };

/** The type under typedefs and qualifiers (what decides layout and format). */
export function stripType(t: CType): CType {
  let k = 0;
  while ((t.kind === 'typedef' || t.kind === 'qualified') && k++ < 64) t = t.target;
  return t;
}

export function sizeOf(t: CType): number {
  const s = stripType(t);
  switch (s.kind) {
    case 'void':
      return 1;
    case 'base':
    case 'pointer':
    case 'struct':
    case 'union':
    case 'enum':
      return s.size;
    case 'array':
      return (s.count ?? 0) * sizeOf(s.element);
    case 'function':
      return 1;
    default:
      return 0;
  }
}

/** The C spelling of a type, as a declaration of nothing (`struct gdt_entry *`, `u8 [4]`). */
export function typeName(t: CType): string {
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'base':
      return t.name;
    case 'typedef':
      return t.name;
    case 'qualified':
      return `${t.qualifier} ${typeName(t.target)}`;
    case 'pointer': {
      const inner = stripType(t.target);
      if (inner.kind === 'function') return `${typeName(inner.returns)} (*)(${inner.params.map(typeName).join(', ')}${inner.variadic ? ', ...' : ''})`;
      return `${typeName(t.target)} *`;
    }
    case 'array':
      return `${typeName(t.element)} [${t.count ?? ''}]`;
    case 'struct':
    case 'union':
      return `${t.kind} ${t.name ?? '{...}'}`;
    case 'enum':
      return `enum ${t.name ?? '{...}'}`;
    case 'function':
      return `${typeName(t.returns)} (${t.params.map(typeName).join(', ')})`;
  }
}

export class TypeReader {
  private readonly cache = new Map<number, CType>();

  constructor(private readonly info: DebugInfo) {}

  /** The type a DIE's DW_AT_type names (void when it has none). */
  typeOf(die: Die): CType {
    const t = this.info.ref(die, C.DW_AT_type);
    return t ? this.read(t) : VOID;
  }

  read(die: Die): CType {
    const cached = this.cache.get(die.offset);
    if (cached) return cached;
    const info = this.info;
    const name = info.str(die, C.DW_AT_name);
    switch (die.tag) {
      case C.DW_TAG_base_type: {
        const t: CType = { kind: 'base', name: name ?? 'int', size: info.num(die, C.DW_AT_byte_size) ?? 4, encoding: encodingOf(info.num(die, C.DW_AT_encoding)) };
        this.cache.set(die.offset, t);
        return t;
      }
      case C.DW_TAG_pointer_type:
      case C.DW_TAG_reference_type: {
        const t = { kind: 'pointer', size: info.num(die, C.DW_AT_byte_size) ?? die.unit.addrSize, target: VOID } as CType & { kind: 'pointer' };
        this.cache.set(die.offset, t);
        t.target = this.typeOf(die);
        return t;
      }
      case C.DW_TAG_const_type:
      case C.DW_TAG_volatile_type:
      case C.DW_TAG_restrict_type:
      case C.DW_TAG_atomic_type: {
        const qualifier = die.tag === C.DW_TAG_const_type ? 'const' : die.tag === C.DW_TAG_volatile_type ? 'volatile' : die.tag === C.DW_TAG_restrict_type ? 'restrict' : '_Atomic';
        const t = { kind: 'qualified', qualifier, target: VOID } as CType & { kind: 'qualified' };
        this.cache.set(die.offset, t);
        t.target = this.typeOf(die);
        return t;
      }
      case C.DW_TAG_typedef: {
        const t = { kind: 'typedef', name: name ?? '<typedef>', target: VOID } as CType & { kind: 'typedef' };
        this.cache.set(die.offset, t);
        t.target = this.typeOf(die);
        return t;
      }
      case C.DW_TAG_array_type:
        return this.array(die);
      case C.DW_TAG_structure_type:
      case C.DW_TAG_union_type:
        return this.aggregate(die, name);
      case C.DW_TAG_enumeration_type: {
        const under = info.ref(die, C.DW_AT_type);
        const underType = under ? stripType(this.read(under)) : undefined;
        const values = die.children.filter((c) => c.tag === C.DW_TAG_enumerator).map((c) => ({ name: info.str(c, C.DW_AT_name) ?? '?', value: info.signed(c, C.DW_AT_const_value) ?? 0 }));
        const signed = underType?.kind === 'base' ? underType.encoding === 'signed' : values.some((v) => v.value < 0);
        const t: CType = { kind: 'enum', name, size: info.num(die, C.DW_AT_byte_size) ?? 4, values, signed };
        this.cache.set(die.offset, t);
        return t;
      }
      case C.DW_TAG_subroutine_type: {
        const t = { kind: 'function', returns: VOID, params: [], variadic: false } as CType & { kind: 'function' };
        this.cache.set(die.offset, t);
        t.returns = this.typeOf(die);
        for (const c of die.children) {
          if (c.tag === C.DW_TAG_formal_parameter) t.params.push(this.typeOf(c));
          else if (c.tag === C.DW_TAG_unspecified_parameters) t.variadic = true;
        }
        return t;
      }
      default: {
        // A tag this reader does not model (a C++ class, a Fortran string): shown as bytes of its size.
        const t: CType = { kind: 'base', name: name ?? `<tag 0x${die.tag.toString(16)}>`, size: info.num(die, C.DW_AT_byte_size) ?? 0, encoding: 'unsigned' };
        this.cache.set(die.offset, t);
        return t;
      }
    }
  }

  /** Multi-dimensional arrays become arrays of arrays, one subrange per dimension (§5.5). */
  private array(die: Die): CType {
    const info = this.info;
    const dims = die.children.filter((c) => c.tag === C.DW_TAG_subrange_type).map((c) => {
      const count = info.num(c, C.DW_AT_count);
      if (count !== undefined) return count;
      const upper = info.signed(c, C.DW_AT_upper_bound);
      // An upper bound given as an expression or a variable (VLA) is not a constant: unknown length.
      return upper !== undefined && info.attr(c, C.DW_AT_upper_bound)?.value instanceof Uint8Array === false ? upper + 1 : undefined;
    });
    let t: CType = this.typeOf(die);
    for (let k = Math.max(dims.length, 1) - 1; k >= 0; k--) t = { kind: 'array', element: t, count: dims[k] };
    this.cache.set(die.offset, t);
    return t;
  }

  private aggregate(die: Die, name: string | undefined): CType {
    const info = this.info;
    const t = {
      kind: die.tag === C.DW_TAG_union_type ? 'union' : 'struct',
      name,
      size: info.num(die, C.DW_AT_byte_size) ?? 0,
      members: [],
      incomplete: info.flag(die, C.DW_AT_declaration),
    } as CType & { kind: 'struct' | 'union' };
    this.cache.set(die.offset, t);
    for (const c of die.children) {
      if (c.tag !== C.DW_TAG_member) continue;
      const type = this.typeOf(c);
      const m: Member = { name: info.str(c, C.DW_AT_name) ?? '', type, offset: memberOffset(info, c) };
      const bitSize = info.num(c, C.DW_AT_bit_size);
      if (bitSize !== undefined) {
        m.bitSize = bitSize;
        const dataBit = info.num(c, C.DW_AT_data_bit_offset);
        if (dataBit !== undefined) {
          m.bitOffset = dataBit;
        } else {
          // DWARF 2/3: DW_AT_bit_offset counts from the most significant bit of a storage unit of DW_AT_byte_size
          // (or the member type's size) at data_member_location; on a little-endian machine the lowest bit is
          // then at storage_bits - bit_offset - bit_size.
          const storage = (info.num(c, C.DW_AT_byte_size) ?? sizeOf(type)) * 8;
          m.bitOffset = m.offset * 8 + storage - (info.num(c, C.DW_AT_bit_offset) ?? 0) - bitSize;
        }
        m.offset = Math.floor(m.bitOffset / 8);
      }
      t.members.push(m);
    }
    return t;
  }
}

/**
 * DW_AT_data_member_location: a constant, or (DWARF 2, and unions in some producers) a location description that
 * adds the offset to the structure's address, `DW_OP_plus_uconst N` or `DW_OP_constu N; DW_OP_plus`.
 */
function memberOffset(info: DebugInfo, die: Die): number {
  const n = info.num(die, C.DW_AT_data_member_location);
  if (n !== undefined) return n;
  const b = info.bytes(die, C.DW_AT_data_member_location);
  if (!b || b.length < 2 || (b[0] !== 0x23 && b[0] !== 0x10)) return 0;
  let v = 0;
  let scale = 1;
  for (let k = 1; k < b.length; k++) {
    v += (b[k] & 0x7f) * scale;
    scale *= 128;
    if ((b[k] & 0x80) === 0) break;
  }
  return v;
}

function encodingOf(e: number | undefined): BaseEncoding {
  switch (e) {
    case C.DW_ATE_boolean:
      return 'bool';
    case C.DW_ATE_float:
      return 'float';
    case C.DW_ATE_signed:
      return 'signed';
    case C.DW_ATE_signed_char:
      return 'signed char';
    case C.DW_ATE_unsigned_char:
      return 'unsigned char';
    case C.DW_ATE_address:
      return 'address';
    case C.DW_ATE_UTF:
    case C.DW_ATE_unsigned:
    default:
      return 'unsigned';
  }
}
