// .debug_info and .debug_abbrev (DWARF 5 §7.5, and the version 2–4 headers): unit headers are read up front, a
// unit's tree of debugging information entries (DIEs) only when something asks for it, so a large kernel's
// symbols come up without decoding every unit. Attribute values stay raw until asked for: string, address and
// list indexes (strx, addrx, loclistx, rnglistx) are resolved through the unit's bases.

import { ByteReader } from '../byte-reader';
import { ImageError, hex } from '../image-error';
import * as C from './constants';
import type { DwarfSections } from './sections';

export interface Abbrev {
  tag: number;
  hasChildren: boolean;
  specs: { at: number; form: number; implicit: number }[];
  /** The byte size of an entry's attributes when every form has a fixed size in units of this shape (skim). */
  fixed?: { shape: number; size: number | null };
}

/** One attribute as read: `value` is a number (constants, offsets, indexes, addresses), text, or bytes (blocks). */
export interface Attr {
  at: number;
  form: number;
  value: number | string | Uint8Array;
}

export interface Die {
  offset: number;
  tag: number;
  attrs: Attr[];
  children: Die[];
  parent: Die | null;
  unit: Unit;
}

export interface Unit {
  offset: number;
  version: number;
  unitType: number;
  addrSize: number;
  offsetSize: number;
  abbrevOffset: number;
  /** First DIE and the end of the unit, as section offsets. */
  dieStart: number;
  end: number;
  /** Filled when the unit's tree is read. */
  root: Die | null;
  byOffset: Map<number, Die>;
  strOffsetsBase: number;
  addrBase: number;
  loclistsBase: number;
  rnglistsBase: number;
  /** Why the unit could not be read, when it could not. */
  error?: string;
}

export class DebugInfo {
  readonly units: Unit[] = [];
  private readonly info: ByteReader;
  private readonly abbrevCache = new Map<number, Map<number, Abbrev>>();

  constructor(
    readonly sections: DwarfSections,
    private readonly warn: (message: string) => void,
  ) {
    this.info = new ByteReader(sections.info ?? new Uint8Array(0), '.debug_info');
    this.readUnitHeaders();
  }

  private readUnitHeaders(): void {
    const r = this.info;
    let pos = 0;
    while (pos + 11 <= r.length) {
      try {
        const u = this.readUnitHeader(pos);
        this.units.push(u);
        pos = u.end;
      } catch (e) {
        this.warn(`.debug_info: ${(e as Error).message}; the units from ${hex(pos)} on are left out`);
        return;
      }
    }
  }

  private readUnitHeader(offset: number): Unit {
    const r = this.info;
    let pos = offset;
    let length = r.u32(pos, 'unit_length');
    pos += 4;
    let offsetSize = 4;
    if (length === 0xffffffff) {
      length = r.u64(pos, 'unit_length (64-bit)');
      pos += 8;
      offsetSize = 8;
    } else if (length >= 0xfffffff0) throw new ImageError(`reserved unit_length ${hex(length)} at ${hex(offset)}`);
    const end = pos + length;
    r.need(pos, length, `the unit at ${hex(offset)}`);
    const version = r.u16(pos, 'version');
    pos += 2;
    if (version < 2 || version > 5) throw new ImageError(`the unit at ${hex(offset)} has DWARF version ${version} (2 to 5 are read)`);
    let unitType = C.DW_UT_compile;
    let addrSize: number;
    let abbrevOffset: number;
    if (version >= 5) {
      unitType = r.u8(pos++, 'unit_type');
      addrSize = r.u8(pos++, 'address_size');
      abbrevOffset = offsetSize === 8 ? r.u64(pos, 'debug_abbrev_offset') : r.u32(pos, 'debug_abbrev_offset');
      pos += offsetSize;
      if (unitType === C.DW_UT_skeleton || unitType === C.DW_UT_split_compile) pos += 8; // dwo_id
      else if (unitType === C.DW_UT_type || unitType === C.DW_UT_split_type) pos += 8 + offsetSize; // signature, type offset
    } else {
      abbrevOffset = offsetSize === 8 ? r.u64(pos, 'debug_abbrev_offset') : r.u32(pos, 'debug_abbrev_offset');
      pos += offsetSize;
      addrSize = r.u8(pos++, 'address_size');
    }
    if (addrSize !== 4 && addrSize !== 8 && addrSize !== 2) throw new ImageError(`the unit at ${hex(offset)} has address size ${addrSize}`);
    return {
      offset, version, unitType, addrSize, offsetSize, abbrevOffset, dieStart: pos, end,
      root: null, byOffset: new Map(), strOffsetsBase: 8, addrBase: 8, loclistsBase: 12, rnglistsBase: 12,
    };
  }

  /** The unit that holds a section offset. */
  unitAt(offset: number): Unit | undefined {
    let lo = 0;
    let hi = this.units.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = this.units[mid];
      if (offset < u.offset) hi = mid - 1;
      else if (offset >= u.end) lo = mid + 1;
      else return u;
    }
    return undefined;
  }

  /** The unit's root DIE with its whole tree, read on first use; null when the unit is corrupt (warned once). */
  root(u: Unit): Die | null {
    if (u.root || u.error) return u.root;
    try {
      u.root = this.readTree(u);
    } catch (e) {
      u.error = (e as Error).message;
      this.warn(`.debug_info: the unit at ${hex(u.offset)} cannot be read (${u.error}); its variables and types are left out`);
      u.root = null;
    }
    return u.root;
  }

  /** The DIE at a section offset (reading its unit when needed). */
  dieAt(offset: number): Die | undefined {
    const u = this.unitAt(offset);
    if (!u || !this.root(u)) return undefined;
    return u.byOffset.get(offset);
  }

  private abbrevs(offset: number): Map<number, Abbrev> {
    const cached = this.abbrevCache.get(offset);
    if (cached) return cached;
    const r = new ByteReader(this.sections.abbrev ?? new Uint8Array(0), '.debug_abbrev');
    const table = new Map<number, Abbrev>();
    let pos = offset;
    for (;;) {
      const code = r.uleb(pos, 'abbreviation code');
      pos = code.next;
      if (code.value === 0) break;
      const tag = r.uleb(pos, 'abbreviation tag');
      pos = tag.next;
      const hasChildren = r.u8(pos++, 'DW_CHILDREN') !== 0;
      const specs: Abbrev['specs'] = [];
      for (;;) {
        const at = r.uleb(pos, 'attribute name');
        const form = r.uleb(at.next, 'attribute form');
        pos = form.next;
        if (at.value === 0 && form.value === 0) break;
        let implicit = 0;
        if (form.value === C.DW_FORM_implicit_const) {
          const v = r.sleb(pos, 'implicit_const');
          implicit = v.value;
          pos = v.next;
        }
        specs.push({ at: at.value, form: form.value, implicit });
      }
      table.set(code.value, { tag: tag.value, hasChildren, specs });
    }
    this.abbrevCache.set(offset, table);
    return table;
  }

  private readTree(u: Unit): Die {
    const r = this.info;
    const abbrevs = this.abbrevs(u.abbrevOffset);
    let pos = u.dieStart;
    let root: Die | null = null;
    const stack: Die[] = [];
    while (pos < u.end) {
      const at = pos;
      const code = r.uleb(pos, 'abbreviation code');
      pos = code.next;
      if (code.value === 0) {
        stack.pop();
        if (stack.length === 0 && root) break;
        continue;
      }
      const abbrev = abbrevs.get(code.value);
      if (!abbrev) throw new ImageError(`DIE at ${hex(at)} uses abbreviation ${code.value}, which the table does not define`);
      const parent = stack.length ? stack[stack.length - 1] : null;
      const die: Die = { offset: at, tag: abbrev.tag, attrs: [], children: [], parent, unit: u };
      for (const spec of abbrev.specs) {
        const value = this.readForm(u, pos, spec.form, spec.implicit);
        pos = this.next;
        die.attrs.push({ at: spec.at, form: this.form, value });
      }
      u.byOffset.set(at, die);
      if (parent) parent.children.push(die);
      else if (!root) {
        root = die;
        this.readBases(u, die);
      }
      if (abbrev.hasChildren) stack.push(die);
      else if (!parent) break;
    }
    if (!root) throw new ImageError('the unit has no DIE');
    return root;
  }

  /** How many units have had their tree read (the laziness the tests check). */
  get unitsRead(): number {
    let n = 0;
    for (const u of this.units) if (u.root) n++;
    return n;
  }

  /**
   * Walks a unit's entries without building its tree: for each entry whose tag `wanted` accepts, `visit` gets its
   * tag, name and parent's tag. The children of entries other than enumerations (function bodies, struct
   * members) are jumped over through DW_AT_sibling where the compiler wrote it (gcc does), so a unit costs a
   * fraction of reading it. Throws on bad data, as readTree.
   */
  skim(u: Unit, wanted: (tag: number, parentTag: number) => boolean, visit: (tag: number, name: string, parentTag: number) => void): void {
    if (u.root) {
      // Already read: walk the tree instead.
      const walk = (d: Die, parentTag: number): void => {
        if (wanted(d.tag, parentTag)) {
          const n = this.str(d, C.DW_AT_name);
          if (n !== undefined) visit(d.tag, n, parentTag);
        }
        if (d.tag !== C.DW_TAG_subprogram) for (const c of d.children) walk(c, d.tag);
      };
      for (const c of u.root.children) walk(c, u.root.tag);
      return;
    }
    const r = this.info;
    const abbrevs = this.abbrevs(u.abbrevOffset);
    const tags: number[] = [];
    let pos = u.dieStart;
    const probe: Die = { offset: 0, tag: 0, attrs: [], children: [], parent: null, unit: u };
    while (pos < u.end) {
      const at = pos;
      const code = r.uleb(pos, 'abbreviation code');
      pos = code.next;
      if (code.value === 0) {
        tags.pop();
        if (tags.length === 0) break;
        continue;
      }
      const abbrev = abbrevs.get(code.value);
      if (!abbrev) throw new ImageError(`DIE at ${hex(at)} uses abbreviation ${code.value}, which the table does not define`);
      const parentTag = tags.length ? tags[tags.length - 1] : 0;
      const want = tags.length > 0 && wanted(abbrev.tag, parentTag);
      if (!want && !abbrev.hasChildren && tags.length > 0) {
        const size = this.fixedSize(u, abbrev);
        if (size !== null) {
          pos += size; // nothing to read in it: step over its attributes
          continue;
        }
      }
      const isRoot = tags.length === 0;
      const rootAttrs: Attr[] | null = isRoot ? [] : null;
      let name: Attr | undefined;
      let sibling: number | undefined;
      for (const spec of abbrev.specs) {
        const value = this.readForm(u, pos, spec.form, spec.implicit);
        pos = this.next;
        if (rootAttrs) rootAttrs.push({ at: spec.at, form: this.form, value });
        else if (spec.at === C.DW_AT_name && want) name = { at: spec.at, form: this.form, value };
        else if (spec.at === C.DW_AT_sibling && typeof value === 'number') sibling = value;
      }
      // The string offsets base, for names given as strx.
      if (rootAttrs) this.readBases(u, { ...probe, attrs: rootAttrs });
      if (name) {
        probe.offset = at;
        probe.attrs = [name];
        const n = this.str(probe, C.DW_AT_name);
        if (n !== undefined) visit(abbrev.tag, n, parentTag);
      }
      if (!abbrev.hasChildren) {
        if (isRoot) break;
        continue;
      }
      if (!isRoot && abbrev.tag !== C.DW_TAG_enumeration_type && sibling !== undefined && sibling > pos && sibling <= u.end) {
        pos = sibling; // over the children (a body, members): the index wants no names in there
        continue;
      }
      tags.push(abbrev.tag);
    }
  }

  /** The size of an entry's attributes when all of its forms have a fixed size in `u` (null otherwise). */
  private fixedSize(u: Unit, abbrev: Abbrev): number | null {
    const shape = u.addrSize * 100 + u.offsetSize * 10 + (u.version <= 2 ? 1 : 0);
    if (abbrev.fixed?.shape === shape) return abbrev.fixed.size;
    let size: number | null = 0;
    for (const spec of abbrev.specs) {
      const n = formSize(spec.form, u);
      if (n === null) {
        size = null;
        break;
      }
      size += n;
    }
    abbrev.fixed = { shape, size };
    return size;
  }

  private readBases(u: Unit, root: Die): void {
    for (const a of root.attrs) {
      if (typeof a.value !== 'number') continue;
      if (a.at === C.DW_AT_str_offsets_base) u.strOffsetsBase = a.value;
      else if (a.at === C.DW_AT_addr_base) u.addrBase = a.value;
      else if (a.at === C.DW_AT_loclists_base) u.loclistsBase = a.value;
      else if (a.at === C.DW_AT_rnglists_base) u.rnglistsBase = a.value;
    }
  }

  /** Where the last readForm ended, and the form it read (DW_FORM_indirect names it in the data). */
  private next = 0;
  private form = 0;
  private done<T>(value: T, next: number): T {
    this.next = next;
    return value;
  }

  private block(start: number, len: number): Uint8Array {
    this.next = start + len;
    return this.info.slice(start, len, 'a block');
  }

  /** Reads one attribute value of `form` at `pos` (§7.5.6). References become section offsets. */
  private readForm(u: Unit, pos: number, form: number, implicit: number): Attr['value'] {
    const r = this.info;
    this.form = form;
    switch (form) {
      case C.DW_FORM_addr:
        return this.done(u.addrSize === 8 ? r.u64(pos, 'an address') : u.addrSize === 2 ? r.u16(pos, 'an address') : r.u32(pos, 'an address'), pos + u.addrSize);
      case C.DW_FORM_block2:
        return this.block(pos + 2, r.u16(pos, 'a block length'));
      case C.DW_FORM_block4:
        return this.block(pos + 4, r.u32(pos, 'a block length'));
      case C.DW_FORM_data2:
        return this.done(r.u16(pos, 'data2'), pos + 2);
      case C.DW_FORM_data4:
        return this.done(r.u32(pos, 'data4'), pos + 4);
      case C.DW_FORM_data8:
        return this.block(pos, 8);
      case C.DW_FORM_data16:
        return this.block(pos, 16);
      case C.DW_FORM_string: {
        const s = r.cstring(pos, 'a string');
        return this.done(s.text, s.next);
      }
      case C.DW_FORM_block:
      case C.DW_FORM_exprloc: {
        const len = r.uleb(pos, 'a block length');
        return this.block(len.next, len.value);
      }
      case C.DW_FORM_block1:
        return this.block(pos + 1, r.u8(pos, 'a block length'));
      case C.DW_FORM_data1:
      case C.DW_FORM_flag:
        return this.done(r.u8(pos, 'data1'), pos + 1);
      case C.DW_FORM_sdata: {
        const v = r.sleb(pos, 'sdata');
        return this.done(v.value, v.next);
      }
      case C.DW_FORM_udata:
      case C.DW_FORM_strx:
      case C.DW_FORM_addrx:
      case C.DW_FORM_loclistx:
      case C.DW_FORM_rnglistx:
      case C.DW_FORM_GNU_addr_index:
      case C.DW_FORM_GNU_str_index: {
        const v = r.uleb(pos, 'udata');
        return this.done(v.value, v.next);
      }
      case C.DW_FORM_strp:
      case C.DW_FORM_line_strp:
      case C.DW_FORM_strp_sup:
      case C.DW_FORM_GNU_strp_alt:
      case C.DW_FORM_sec_offset:
      case C.DW_FORM_GNU_ref_alt:
        return this.done(u.offsetSize === 8 ? r.u64(pos, 'an offset') : r.u32(pos, 'an offset'), pos + u.offsetSize);
      case C.DW_FORM_ref_addr: {
        // Version 2 wrote ref_addr in the address size, later versions in the offset size (§7.5.4).
        const size = u.version <= 2 ? u.addrSize : u.offsetSize;
        return this.done(size === 8 ? r.u64(pos, 'ref_addr') : r.u32(pos, 'ref_addr'), pos + size);
      }
      case C.DW_FORM_ref1:
        return this.done(u.offset + r.u8(pos, 'ref1'), pos + 1);
      case C.DW_FORM_ref2:
        return this.done(u.offset + r.u16(pos, 'ref2'), pos + 2);
      case C.DW_FORM_ref4:
        return this.done(u.offset + r.u32(pos, 'ref4'), pos + 4);
      case C.DW_FORM_ref8:
        return this.done(u.offset + r.u64(pos, 'ref8'), pos + 8);
      case C.DW_FORM_ref_udata: {
        const v = r.uleb(pos, 'ref_udata');
        return this.done(u.offset + v.value, v.next);
      }
      case C.DW_FORM_ref_sig8:
        return this.block(pos, 8);
      case C.DW_FORM_ref_sup4:
        return this.done(r.u32(pos, 'ref_sup4'), pos + 4);
      case C.DW_FORM_ref_sup8:
        return this.block(pos, 8);
      case C.DW_FORM_indirect: {
        const f = r.uleb(pos, 'an indirect form');
        return this.readForm(u, f.next, f.value, implicit);
      }
      case C.DW_FORM_flag_present:
        return this.done(1, pos);
      case C.DW_FORM_implicit_const:
        return this.done(implicit, pos);
      case C.DW_FORM_strx1:
      case C.DW_FORM_addrx1:
        return this.done(r.u8(pos, 'index1'), pos + 1);
      case C.DW_FORM_strx2:
      case C.DW_FORM_addrx2:
        return this.done(r.u16(pos, 'index2'), pos + 2);
      case C.DW_FORM_strx3:
      case C.DW_FORM_addrx3:
        return this.done(r.u16(pos, 'index3') + r.u8(pos + 2, 'index3') * 0x10000, pos + 3);
      case C.DW_FORM_strx4:
      case C.DW_FORM_addrx4:
        return this.done(r.u32(pos, 'index4'), pos + 4);
    }
    // An unknown form has no known size, so nothing after it in the unit can be read.
    throw new ImageError(`unknown attribute form ${hex(form)}`);
  }

  // ------------------------------------------------------------ attribute access

  attr(die: Die, at: number): Attr | undefined {
    return die.attrs.find((a) => a.at === at);
  }

  /** A string attribute, resolving strp, line_strp and strx through the string sections. */
  str(die: Die, at: number): string | undefined {
    const a = this.attr(die, at);
    if (!a) return undefined;
    if (typeof a.value === 'string') return a.value;
    if (typeof a.value !== 'number') return undefined;
    try {
      switch (a.form) {
        case C.DW_FORM_strp:
          return this.cstr(this.sections.str, '.debug_str', a.value);
        case C.DW_FORM_line_strp:
          return this.cstr(this.sections.lineStr, '.debug_line_str', a.value);
        case C.DW_FORM_strx:
        case C.DW_FORM_strx1:
        case C.DW_FORM_strx2:
        case C.DW_FORM_strx3:
        case C.DW_FORM_strx4:
        case C.DW_FORM_GNU_str_index: {
          const u = die.unit;
          const so = this.reader(this.sections.strOffsets, '.debug_str_offsets');
          const p = u.strOffsetsBase + a.value * u.offsetSize;
          return this.cstr(this.sections.str, '.debug_str', u.offsetSize === 8 ? so.u64(p, 'a string offset') : so.u32(p, 'a string offset'));
        }
      }
    } catch (e) {
      this.warn(`.debug_info: a name of the DIE at ${hex(die.offset)} cannot be read (${(e as Error).message})`);
    }
    return undefined;
  }

  private readonly readers = new Map<string, ByteReader>();
  /** One reader per string or address section (a reader holds a DataView; names are read by the thousand). */
  private reader(data: Uint8Array | undefined, name: string): ByteReader {
    if (!data) throw new ImageError(`the file has no ${name}`);
    let r = this.readers.get(name);
    if (!r) this.readers.set(name, (r = new ByteReader(data, name)));
    return r;
  }

  private cstr(data: Uint8Array | undefined, name: string, offset: number): string {
    return this.reader(data, name).cstring(offset, 'a string').text;
  }

  /** A constant or offset attribute as a number (data8/16 blocks read as little-endian up to 53 bits). */
  num(die: Die, at: number): number | undefined {
    const a = this.attr(die, at);
    if (!a) return undefined;
    if (typeof a.value === 'number') {
      if (this.isAddrIndex(a.form)) return this.addrx(die.unit, a.value);
      return a.value;
    }
    if (a.value instanceof Uint8Array && (a.form === C.DW_FORM_data8 || a.form === C.DW_FORM_data16)) {
      let v = 0;
      for (let k = Math.min(a.value.length, 7) - 1; k >= 0; k--) v = v * 256 + a.value[k];
      return v;
    }
    return undefined;
  }

  /** A signed constant: data1/2/4 forms read as two's complement of their size (DW_AT_const_value, bounds). */
  signed(die: Die, at: number): number | undefined {
    const a = this.attr(die, at);
    const v = this.num(die, at);
    if (a === undefined || v === undefined) return v;
    if (a.form === C.DW_FORM_data1) return (v << 24) >> 24;
    if (a.form === C.DW_FORM_data2) return (v << 16) >> 16;
    if (a.form === C.DW_FORM_data4) return v | 0;
    return v;
  }

  flag(die: Die, at: number): boolean {
    const v = this.num(die, at);
    return v !== undefined && v !== 0;
  }

  /** A reference attribute as the section offset of the DIE it names. */
  ref(die: Die, at: number): Die | undefined {
    const a = this.attr(die, at);
    if (!a || typeof a.value !== 'number') return undefined;
    if (a.form === C.DW_FORM_GNU_ref_alt || a.form === C.DW_FORM_ref_sup4) return undefined; // a supplementary file
    return this.dieAt(a.value);
  }

  bytes(die: Die, at: number): Uint8Array | undefined {
    const a = this.attr(die, at);
    return a && a.value instanceof Uint8Array ? a.value : undefined;
  }

  isAddrIndex(form: number): boolean {
    return form === C.DW_FORM_addrx || form === C.DW_FORM_addrx1 || form === C.DW_FORM_addrx2 || form === C.DW_FORM_addrx3 || form === C.DW_FORM_addrx4 || form === C.DW_FORM_GNU_addr_index;
  }

  /** Entry `index` of the unit's .debug_addr table (DW_FORM_addrx, DW_OP_addrx, DW_LLE_*x). */
  addrx(u: Unit, index: number): number {
    const r = this.reader(this.sections.addr, '.debug_addr');
    const p = u.addrBase + index * u.addrSize;
    return u.addrSize === 8 ? r.u64(p, 'an address') : r.u32(p, 'an address');
  }

  /** The pc attributes of a DIE: low_pc with high_pc (an address, or from version 4 an offset). */
  pcRange(die: Die): { low: number; high: number } | undefined {
    const low = this.num(die, C.DW_AT_low_pc);
    const highAttr = this.attr(die, C.DW_AT_high_pc);
    if (low === undefined || !highAttr) return undefined;
    const high = this.num(die, C.DW_AT_high_pc)!;
    const isAddress = highAttr.form === C.DW_FORM_addr || this.isAddrIndex(highAttr.form);
    return { low, high: isAddress ? high : low + high };
  }

  /** The DIE's name, following abstract_origin and specification (inlined and out-of-line copies). */
  name(die: Die): string | undefined {
    for (let d: Die | undefined = die, k = 0; d && k < 8; k++) {
      const n = this.str(d, C.DW_AT_name);
      if (n !== undefined) return n;
      d = this.ref(d, C.DW_AT_abstract_origin) ?? this.ref(d, C.DW_AT_specification);
    }
    return undefined;
  }

  /** An attribute of the DIE or of the DIE it is a concrete copy of. */
  inherited(die: Die, at: number): Die | undefined {
    for (let d: Die | undefined = die, k = 0; d && k < 8; k++) {
      if (this.attr(d, at)) return d;
      d = this.ref(d, C.DW_AT_abstract_origin) ?? this.ref(d, C.DW_AT_specification);
    }
    return undefined;
  }
}

/** The size of a form whose size does not depend on its data (§7.5.6), or null. */
function formSize(form: number, u: Unit): number | null {
  switch (form) {
    case C.DW_FORM_flag_present:
    case C.DW_FORM_implicit_const:
      return 0;
    case C.DW_FORM_data1:
    case C.DW_FORM_flag:
    case C.DW_FORM_ref1:
    case C.DW_FORM_strx1:
    case C.DW_FORM_addrx1:
      return 1;
    case C.DW_FORM_data2:
    case C.DW_FORM_ref2:
    case C.DW_FORM_strx2:
    case C.DW_FORM_addrx2:
      return 2;
    case C.DW_FORM_strx3:
    case C.DW_FORM_addrx3:
      return 3;
    case C.DW_FORM_data4:
    case C.DW_FORM_ref4:
    case C.DW_FORM_strx4:
    case C.DW_FORM_addrx4:
    case C.DW_FORM_ref_sup4:
      return 4;
    case C.DW_FORM_data8:
    case C.DW_FORM_ref8:
    case C.DW_FORM_ref_sig8:
    case C.DW_FORM_ref_sup8:
      return 8;
    case C.DW_FORM_data16:
      return 16;
    case C.DW_FORM_addr:
      return u.addrSize;
    case C.DW_FORM_strp:
    case C.DW_FORM_line_strp:
    case C.DW_FORM_strp_sup:
    case C.DW_FORM_GNU_strp_alt:
    case C.DW_FORM_sec_offset:
    case C.DW_FORM_GNU_ref_alt:
      return u.offsetSize;
    case C.DW_FORM_ref_addr:
      return u.version <= 2 ? u.addrSize : u.offsetSize;
  }
  return null;
}
