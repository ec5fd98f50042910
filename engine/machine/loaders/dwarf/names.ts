// Which compile units declare a type, enumerator or file-scope variable name, so that looking up a name the current unit lacks (a cast
// to another unit's struct, an enumerator, or a register name that is none of the program's) reads only the units
// that have it instead of every unit. Built once, on the first such lookup, by skimming the units' entries
// (DebugInfo.skim) without building their trees. A unit that cannot be skimmed is listed under every name, so
// the lookup falls back to reading it (and reports it there, once).

import * as C from './constants';
import type { DebugInfo, Unit } from './info';

/** `struct x`, `union x`, `enum x`, or a typedef's or base type's name, as findType spells its keys. */
export function typeKey(tag: number, name: string): string | undefined {
  switch (tag) {
    case C.DW_TAG_structure_type:
      return `struct ${name}`;
    case C.DW_TAG_union_type:
      return `union ${name}`;
    case C.DW_TAG_enumeration_type:
      return `enum ${name}`;
    case C.DW_TAG_typedef:
    case C.DW_TAG_base_type:
      return name;
  }
  return undefined;
}

export class NameIndex {
  private readonly types = new Map<string, Unit[]>();
  private readonly enumerators = new Map<string, Unit[]>();
  private readonly variables = new Map<string, Unit[]>();
  /** Units the skim could not read: every lookup must still try them. */
  private readonly unreadable: Unit[] = [];

  constructor(info: DebugInfo, normalizeBase: (n: string) => string) {
    const add = (map: Map<string, Unit[]>, key: string, u: Unit): void => {
      const list = map.get(key);
      if (!list) map.set(key, [u]);
      else if (list[list.length - 1] !== u) list.push(u);
    };
    const wanted = (tag: number, parentTag: number): boolean =>
      parentTag === C.DW_TAG_compile_unit || parentTag === C.DW_TAG_partial_unit
        ? tag === C.DW_TAG_variable || typeKey(tag, '') !== undefined
        : tag === C.DW_TAG_enumerator && parentTag === C.DW_TAG_enumeration_type;
    for (const u of info.units) {
      try {
        info.skim(u, wanted, (tag, name) => {
          if (tag === C.DW_TAG_enumerator) return add(this.enumerators, name, u);
          if (tag === C.DW_TAG_variable) return add(this.variables, name, u);
          add(this.types, typeKey(tag, tag === C.DW_TAG_base_type ? normalizeBase(name) : name)!, u);
        });
      } catch {
        this.unreadable.push(u);
      }
    }
  }

  /** The units that may declare the type (findType's key), in section order. */
  unitsWithType(key: string): Unit[] {
    return this.merge(this.types.get(key));
  }

  /** The units with a file-scope variable (or its declaration) of that name. */
  unitsWithVariable(name: string): Unit[] {
    return this.merge(this.variables.get(name));
  }

  unitsWithEnumerator(name: string): Unit[] {
    return this.merge(this.enumerators.get(name));
  }

  private merge(found: Unit[] | undefined): Unit[] {
    if (!this.unreadable.length) return found ?? [];
    return [...(found ?? []), ...this.unreadable].sort((a, b) => a.offset - b.offset);
  }
}
