// The C program as DWARF describes it: functions with their ranges, frame base, parameters and nested lexical
// blocks (and the calls inlined into them), the variables of each compile unit, and types by name. Units are read
// only when a question needs them: by address through .debug_aranges, by name by trying the likely unit first.
// Problems in the data become warnings (once per unit) and missing views, never exceptions.

import { hex } from '../image-error';
import * as C from './constants';
import { DebugInfo, type Die, type Unit } from './info';
import { readAranges, readLocationList, readRanges, type LocationEntry, type PcRange } from './lists';
import { NameIndex } from './names';
import { TypeReader, type CType, VOID } from './types';
import type { DwarfSections } from './sections';

export type VarLocation =
  | { kind: 'expr'; expr: Uint8Array }
  | { kind: 'list'; entries: LocationEntry[] }
  | { kind: 'const'; value: number | Uint8Array }
  | { kind: 'none' };

export interface Variable {
  name: string;
  type: CType;
  location: VarLocation;
  line?: number;
  external: boolean;
}

export interface Block {
  ranges: PcRange[];
  variables: Variable[];
  blocks: Block[];
  inlined: InlinedCall[];
}

export interface InlinedCall extends Block {
  name: string;
  params: Variable[];
  callLine?: number;
}

export interface FunctionInfo extends Block {
  name: string;
  /** The entry address (low_pc, or the first range's start). */
  entry: number;
  frameBase: VarLocation;
  params: Variable[];
  unit: Unit;
}

/** Ranges that cover `pc`. */
export function covers(ranges: readonly PcRange[], pc: number): boolean {
  return ranges.some((r) => pc >= r.low && pc < r.high);
}

interface UnitData {
  functions: FunctionInfo[];
  globals: Variable[];
  ranges: PcRange[];
}

export class DwarfProgram {
  readonly info: DebugInfo;
  readonly types: TypeReader;
  private readonly aranges: { low: number; high: number; unit: number }[] = [];
  private readonly unitData = new Map<number, UnitData>();
  private readonly warned = new Set<string>();
  private nameIndex: NameIndex | null = null;
  /** Per unit, its call sites by return address (callSiteValue). */
  private readonly callSites = new Map<number, Map<number, Die>>();

  constructor(
    sections: DwarfSections,
    private readonly warn: (message: string) => void,
  ) {
    const once = (m: string): void => {
      if (this.warned.has(m) || this.warned.size > 50) return;
      this.warned.add(m);
      warn(m);
    };
    this.info = new DebugInfo(sections, once);
    this.types = new TypeReader(this.info);
    if (sections.aranges) {
      try {
        this.aranges = readAranges(sections.aranges);
      } catch (e) {
        once(`.debug_aranges: ${(e as Error).message}; units are found by reading them instead`);
      }
    }
  }

  get unitCount(): number {
    return this.info.units.length;
  }

  /** The compile unit whose code covers `pc`. */
  unitForPc(pc: number): Unit | undefined {
    for (const a of this.aranges) if (pc >= a.low && pc < a.high) return this.info.unitAt(a.unit);
    const covered = new Set(this.aranges.map((a) => a.unit));
    for (const u of this.info.units) {
      if (covered.has(u.offset)) continue;
      if (covers(this.data(u).ranges, pc)) return u;
    }
    return undefined;
  }

  functionAt(pc: number): FunctionInfo | undefined {
    const u = this.unitForPc(pc);
    if (!u) return undefined;
    return this.data(u).functions.find((f) => covers(f.ranges, pc));
  }

  /** A function by name: through the symbol table's address when it has one, else by reading the units. */
  findFunction(name: string, addressHint?: number): FunctionInfo | undefined {
    if (addressHint !== undefined) {
      const f = this.functionAt(addressHint);
      if (f && f.name === name) return f;
    }
    for (const u of this.info.units) {
      const f = this.data(u).functions.find((x) => x.name === name);
      if (f) return f;
    }
    return undefined;
  }

  globals(u: Unit): Variable[] {
    return this.data(u).globals;
  }

  /** Every unit's variables (reads every unit: for the "all globals" view and names not found nearer). */
  allGlobals(): { unit: Unit; variables: Variable[] }[] {
    return this.info.units.map((unit) => ({ unit, variables: this.data(unit).globals }));
  }

  unitName(u: Unit): string {
    const root = this.info.root(u);
    return (root && this.info.str(root, C.DW_AT_name)) ?? `unit at ${hex(u.offset)}`;
  }

  /**
   * A global by name: the given unit's first, then the other units' (external ones before statics). `elsewhere`
   * says whether the name can be in another unit at all (the ELF symbol table knows every variable with an
   * address), so a name that is no variable (a register) does not make every unit be read.
   */
  findGlobal(name: string, prefer?: Unit, elsewhere: (name: string) => boolean = () => true): Variable | undefined {
    if (prefer) {
      const v = this.globals(prefer).find((x) => x.name === name);
      if (v) return v;
    }
    if (!elsewhere(name)) return undefined;
    let fallback: Variable | undefined;
    for (const u of this.names().unitsWithVariable(name)) {
      if (u === prefer) continue;
      for (const v of this.globals(u)) {
        if (v.name !== name) continue;
        if (v.external) return v;
        fallback ??= v;
      }
    }
    return fallback;
  }

  /**
   * A type by its C name: `struct gdt_entry`, `union u`, `enum e`, a typedef or a base type name; the given unit
   * first. Undefined when no unit has it.
   */
  findType(spelling: string, prefer?: Unit): CType | undefined {
    const m = /^(struct|union|enum)\s+(\w+)$/.exec(spelling.trim());
    const want = m ? m[2] : normalizeBaseName(spelling);
    const tags = m ? [m[1] === 'struct' ? C.DW_TAG_structure_type : m[1] === 'union' ? C.DW_TAG_union_type : C.DW_TAG_enumeration_type] : [C.DW_TAG_typedef, C.DW_TAG_base_type];
    const others = this.names().unitsWithType(m ? `${m[1]} ${m[2]}` : want).filter((u) => u !== prefer);
    const units = prefer ? [prefer, ...others] : others;
    let declaration: Die | undefined;
    for (const u of units) {
      const root = this.info.root(u);
      if (!root) continue;
      for (const d of root.children) {
        if (!tags.includes(d.tag)) continue;
        const n = this.info.str(d, C.DW_AT_name);
        if (n === undefined || (d.tag === C.DW_TAG_base_type ? normalizeBaseName(n) : n) !== want) continue;
        if (this.info.flag(d, C.DW_AT_declaration)) declaration ??= d;
        else return this.types.read(d);
      }
    }
    return declaration && this.types.read(declaration);
  }

  /** True when `name` names a typedef in the program (for telling `(u32)x` casts from parenthesised names). */
  isTypedefName(name: string): boolean {
    for (const u of this.names().unitsWithType(name)) {
      const root = this.info.root(u);
      if (root?.children.some((d) => d.tag === C.DW_TAG_typedef && this.info.str(d, C.DW_AT_name) === name)) return true;
    }
    return false;
  }

  /** The index of type and enumerator names, skimmed from every unit on first use. */
  private names(): NameIndex {
    this.nameIndex ??= new NameIndex(this.info, normalizeBaseName);
    return this.nameIndex;
  }

  /** An enumerator constant by name (`SEG_CODE`), with its enum type; the given unit first. */
  findEnumerator(name: string, prefer?: Unit): { type: CType; value: number } | undefined {
    const others = this.names().unitsWithEnumerator(name).filter((u) => u !== prefer);
    const units = prefer ? [prefer, ...others] : others;
    for (const u of units) {
      const root = this.info.root(u);
      if (!root) continue;
      const stack: Die[] = [...root.children];
      while (stack.length) {
        const d = stack.pop()!;
        if (d.tag === C.DW_TAG_enumeration_type) {
          const t = this.types.read(d);
          if (t.kind === 'enum') {
            const v = t.values.find((x) => x.name === name);
            if (v) return { type: t, value: v.value };
          }
        } else if (d.children.length && d.tag !== C.DW_TAG_subprogram) stack.push(...d.children);
      }
    }
    return undefined;
  }

  /**
   * The expression of the value a caller passed in register `reg` (a DWARF register number) at the call that
   * returns to `returnPc`: DW_AT_call_value of the call site's parameter whose location is that register (DWARF 5
   * §3.4.2; gcc's DW_TAG_GNU_call_site in DWARF 4 alike). DW_OP_entry_value needs it once the callee has
   * overwritten an argument register.
   */
  callSiteValue(returnPc: number, reg: number): Uint8Array | undefined {
    const u = this.unitForPc(returnPc - 1);
    const root = u && this.info.root(u);
    if (!u || !root) return undefined;
    let sites = this.callSites.get(u.offset);
    if (!sites) {
      sites = new Map();
      this.callSites.set(u.offset, sites);
      const stack: Die[] = [...root.children];
      while (stack.length) {
        const d = stack.pop()!;
        if (d.tag === C.DW_TAG_call_site || d.tag === C.DW_TAG_GNU_call_site) {
          const at = this.info.num(d, C.DW_AT_call_return_pc) ?? this.info.num(d, C.DW_AT_low_pc);
          if (at !== undefined) sites.set(at, d);
        } else stack.push(...d.children);
      }
    }
    const site = sites.get(returnPc);
    for (const p of site?.children ?? []) {
      if (p.tag !== C.DW_TAG_call_site_parameter && p.tag !== C.DW_TAG_GNU_call_site_parameter) continue;
      const loc = this.info.bytes(p, C.DW_AT_location);
      const names = loc && ((loc.length === 1 && loc[0] === 0x50 + reg) || (loc.length === 2 && loc[0] === 0x90 && loc[1] === reg));
      if (names) return this.info.bytes(p, C.DW_AT_call_value) ?? this.info.bytes(p, C.DW_AT_GNU_call_site_value);
    }
    return undefined;
  }

  /** Location entries of a variable at `pc` (location lists pick the entry covering it). */
  locationAt(loc: VarLocation, pc: number): Uint8Array | number | 'none' {
    switch (loc.kind) {
      case 'expr':
        return loc.expr;
      case 'list': {
        const e = loc.entries.find((x) => pc >= x.low && pc < x.high);
        return e ? e.expr : 'none';
      }
      case 'const':
        return typeof loc.value === 'number' ? loc.value : loc.value;
      case 'none':
        return 'none';
    }
  }

  // ------------------------------------------------------------ reading a unit

  private data(u: Unit): UnitData {
    const cached = this.unitData.get(u.offset);
    if (cached) return cached;
    const d: UnitData = { functions: [], globals: [], ranges: [] };
    this.unitData.set(u.offset, d);
    const root = this.info.root(u);
    if (!root) return d;
    d.ranges = this.rangesOf(root);
    for (const c of root.children) {
      try {
        if (c.tag === C.DW_TAG_subprogram) {
          const f = this.readFunction(c, u);
          if (f) d.functions.push(f);
        } else if (c.tag === C.DW_TAG_variable) {
          const v = this.readVariable(c);
          if (v && v.location.kind !== 'none') d.globals.push(v);
        }
      } catch (e) {
        this.warn(`.debug_info: the entry at ${hex(c.offset)} cannot be read (${(e as Error).message}); it is left out`);
      }
    }
    return d;
  }

  /** DW_AT_low_pc/high_pc or DW_AT_ranges of a DIE. */
  rangesOf(die: Die): PcRange[] {
    const pc = this.info.pcRange(die);
    if (pc) return pc.high > pc.low ? [pc] : [];
    const a = this.info.attr(die, C.DW_AT_ranges);
    if (!a || typeof a.value !== 'number') return [];
    try {
      return readRanges(this.info, die.unit, a.value, a.form === C.DW_FORM_rnglistx);
    } catch (e) {
      this.warn(`ranges of the entry at ${hex(die.offset)}: ${(e as Error).message}`);
      return [];
    }
  }

  private readFunction(die: Die, u: Unit): FunctionInfo | null {
    const ranges = this.rangesOf(die);
    if (ranges.length === 0) return null; // a declaration or an abstract instance (inlined everywhere)
    const fb = this.info.attr(die, C.DW_AT_frame_base);
    const block = this.readBlock(die, ranges);
    const low = this.info.pcRange(die)?.low ?? Math.min(...ranges.map((r) => r.low));
    return {
      ...block,
      name: this.info.name(die) ?? `<function at ${hex(low)}>`,
      entry: low,
      frameBase: fb ? this.location(die, C.DW_AT_frame_base) : { kind: 'none' },
      params: this.params(die),
      unit: u,
    };
  }

  /** Parameters in declaration order (an inlined copy may list them in another order than its abstract origin). */
  private params(die: Die): Variable[] {
    let list = die.children.filter((c) => c.tag === C.DW_TAG_formal_parameter);
    const origin = this.info.ref(die, C.DW_AT_abstract_origin);
    if (origin) {
      const order = origin.children.filter((c) => c.tag === C.DW_TAG_formal_parameter).map((c) => c.offset);
      const rank = (c: Die): number => {
        const k = order.indexOf(this.info.ref(c, C.DW_AT_abstract_origin)?.offset ?? -1);
        return k < 0 ? order.length : k;
      };
      list = list.slice().sort((a, b) => rank(a) - rank(b));
    }
    return list.map((c) => this.readVariable(c)).filter((v): v is Variable => v !== null);
  }

  /** The variables, nested blocks and inlined calls of a function or block. */
  private readBlock(die: Die, ranges: PcRange[]): Block {
    const b: Block = { ranges, variables: [], blocks: [], inlined: [] };
    for (const c of die.children) {
      if (c.tag === C.DW_TAG_variable) {
        const v = this.readVariable(c);
        if (v) b.variables.push(v);
      } else if (c.tag === C.DW_TAG_lexical_block) {
        const r = this.rangesOf(c);
        // A block without ranges holds variables of the whole enclosing scope (gcc does that at -O2).
        const inner = this.readBlock(c, r.length ? r : ranges);
        b.blocks.push(inner);
      } else if (c.tag === C.DW_TAG_inlined_subroutine) {
        const r = this.rangesOf(c);
        if (r.length === 0) continue;
        const inner = this.readBlock(c, r);
        b.inlined.push({ ...inner, name: this.info.name(c) ?? '<inlined>', params: this.params(c), callLine: this.info.num(c, C.DW_AT_call_line) });
      }
    }
    return b;
  }

  private readVariable(die: Die): Variable | null {
    const name = this.info.name(die);
    if (name === undefined) return null;
    const typed = this.info.inherited(die, C.DW_AT_type);
    const type = typed ? this.types.typeOf(typed) : VOID;
    let location: VarLocation = { kind: 'none' };
    if (this.info.attr(die, C.DW_AT_location)) location = this.location(die, C.DW_AT_location);
    else if (this.info.attr(die, C.DW_AT_const_value)) {
      const bytes = this.info.bytes(die, C.DW_AT_const_value);
      location = { kind: 'const', value: bytes && !(this.info.attr(die, C.DW_AT_const_value)!.form === C.DW_FORM_data8) ? bytes : this.info.signed(die, C.DW_AT_const_value) ?? 0 };
    }
    const external = this.info.flag(die, C.DW_AT_external) || this.info.flag(this.info.ref(die, C.DW_AT_specification) ?? die, C.DW_AT_external);
    return { name, type, location, line: this.info.num(die, C.DW_AT_decl_line), external };
  }

  private location(die: Die, at: number): VarLocation {
    const a = this.info.attr(die, at)!;
    if (a.value instanceof Uint8Array) return { kind: 'expr', expr: a.value };
    if (typeof a.value === 'number') {
      try {
        return { kind: 'list', entries: readLocationList(this.info, die.unit, a.value, a.form === C.DW_FORM_loclistx) };
      } catch (e) {
        this.warn(`the location list of the entry at ${hex(die.offset)}: ${(e as Error).message}`);
      }
    }
    return { kind: 'none' };
  }
}

/** `unsigned` is `unsigned int`, `long` is `long int` … as gcc names its base types. */
export function normalizeBaseName(n: string): string {
  const words = n.trim().split(/\s+/);
  const map: Record<string, string> = {
    unsigned: 'unsigned int',
    signed: 'int',
    'signed int': 'int',
    short: 'short int',
    'unsigned short': 'short unsigned int',
    'short unsigned': 'short unsigned int',
    'unsigned short int': 'short unsigned int',
    'signed short': 'short int',
    long: 'long int',
    'unsigned long': 'long unsigned int',
    'unsigned long int': 'long unsigned int',
    'long long': 'long long int',
    'unsigned long long': 'long long unsigned int',
    'unsigned long long int': 'long long unsigned int',
    'unsigned char': 'unsigned char',
    bool: '_Bool',
  };
  const j = words.join(' ');
  return map[j] ?? j;
}
