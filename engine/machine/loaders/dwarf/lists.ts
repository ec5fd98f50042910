// Address ranges and location lists: .debug_ranges and .debug_loc (DWARF 2–4, pairs of addresses relative to the
// unit's base), .debug_rnglists and .debug_loclists (DWARF 5 §2.17.3 and §2.6.2, entries with a kind byte).

import { ByteReader } from '../byte-reader';
import { ImageError, hex } from '../image-error';
import { DW_AT_low_pc } from './constants';
import type { DebugInfo, Unit } from './info';

export interface PcRange {
  low: number;
  high: number;
}

export interface LocationEntry extends PcRange {
  expr: Uint8Array;
}

// DW_RLE_* (§7.25) and DW_LLE_* (§7.7.3) share their numbering for the kinds both have.
const END = 0;
const BASE_ADDRESSX = 1;
const STARTX_ENDX = 2;
const STARTX_LENGTH = 3;
const OFFSET_PAIR = 4;
const DEFAULT_LOCATION = 5; // DW_LLE_default_location (DW_RLE_base_address in range lists)
const BASE_ADDRESS = 6; // DW_LLE_base_address / DW_RLE_start_end
const START_END = 7; // DW_LLE_start_end / DW_RLE_start_length
const START_LENGTH = 8; // DW_LLE_start_length
/** DW_LLE_GNU_view_pair: gcc's location views (two view numbers) before the entry they qualify; views are not used. */
const GNU_VIEW_PAIR = 9;
const MAX_ENTRIES = 100000;

function addr(r: ByteReader, p: number, u: Unit): number {
  return u.addrSize === 8 ? r.u64(p, 'an address') : u.addrSize === 2 ? r.u16(p, 'an address') : r.u32(p, 'an address');
}

/** The unit's base address: its DW_AT_low_pc (§3.1.1), 0 without one. */
function unitBase(info: DebugInfo, u: Unit): number {
  const root = info.root(u);
  return (root && info.num(root, DW_AT_low_pc)) ?? 0;
}

/** Ranges of DW_AT_ranges: a section offset, or in version 5 with DW_FORM_rnglistx an index. */
export function readRanges(info: DebugInfo, u: Unit, value: number, isIndex: boolean): PcRange[] {
  if (u.version >= 5) return readRnglist(info, u, isIndex ? listOffset(info.sections.rnglists, '.debug_rnglists', u.rnglistsBase, value, u.offsetSize) : value);
  const data = info.sections.ranges;
  if (!data) throw new ImageError('DW_AT_ranges refers to .debug_ranges, which the file does not have');
  const r = new ByteReader(data, '.debug_ranges');
  const out: PcRange[] = [];
  const all1 = u.addrSize === 8 ? Number.MAX_SAFE_INTEGER : u.addrSize === 2 ? 0xffff : 0xffffffff;
  let base = unitBase(info, u);
  for (let p = value, n = 0; n < MAX_ENTRIES; n++, p += 2 * u.addrSize) {
    const a = addr(r, p, u);
    const b = addr(r, p + u.addrSize, u);
    if (a === 0 && b === 0) break;
    if (a === all1) base = b;
    else if (b > a) out.push({ low: base + a, high: base + b });
  }
  return out;
}

/** Where list `index` starts: after the offsets table at `base` (§7.28/§7.29), relative to that base. */
function listOffset(data: Uint8Array | undefined, name: string, base: number, index: number, offsetSize: number): number {
  if (!data) throw new ImageError(`a list index refers to ${name}, which the file does not have`);
  const r = new ByteReader(data, name);
  const p = base + index * offsetSize;
  return base + (offsetSize === 8 ? r.u64(p, 'a list offset') : r.u32(p, 'a list offset'));
}

function readRnglist(info: DebugInfo, u: Unit, offset: number): PcRange[] {
  // DW_RLE_base_address, _start_end and _start_length (5, 6, 7) are the location lists' kinds 6, 7 and 8.
  return readListV5(info, u, info.sections.rnglists, '.debug_rnglists', offset, false, (kind) => (kind >= 5 && kind <= 7 ? kind + 1 : kind));
}

/** A location list: DW_AT_location with a section offset (loclistx index in version 5). */
export function readLocationList(info: DebugInfo, u: Unit, value: number, isIndex: boolean): LocationEntry[] {
  if (u.version >= 5) return readLoclist(info, u, isIndex ? listOffset(info.sections.loclists, '.debug_loclists', u.loclistsBase, value, u.offsetSize) : value);
  const data = info.sections.loc;
  if (!data) throw new ImageError('a location list refers to .debug_loc, which the file does not have');
  const r = new ByteReader(data, '.debug_loc');
  const out: LocationEntry[] = [];
  const all1 = u.addrSize === 8 ? Number.MAX_SAFE_INTEGER : 0xffffffff;
  let base = unitBase(info, u);
  let p = value;
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const a = addr(r, p, u);
    const b = addr(r, p + u.addrSize, u);
    p += 2 * u.addrSize;
    if (a === 0 && b === 0) break;
    if (a === all1) {
      base = b;
      continue;
    }
    const len = r.u16(p, 'a location expression length');
    out.push({ low: base + a, high: base + b, expr: r.slice(p + 2, len, 'a location expression') });
    p += 2 + len;
  }
  return out;
}

function readLoclist(info: DebugInfo, u: Unit, offset: number): LocationEntry[] {
  return readListV5(info, u, info.sections.loclists, '.debug_loclists', offset, true, (kind) => kind) as LocationEntry[];
}

/**
 * The entries of a version 5 range or location list (§2.17.3, §2.6.2): each starts with a kind byte; location
 * entries end with a counted expression. `kindOf` maps the range lists' numbering onto the location lists'.
 */
function readListV5(info: DebugInfo, u: Unit, data: Uint8Array | undefined, name: string, offset: number, withExpr: boolean, kindOf: (k: number) => number): (PcRange | LocationEntry)[] {
  if (!data) throw new ImageError(`a list refers to ${name}, which the file does not have`);
  const r = new ByteReader(data, name);
  const out: (PcRange | LocationEntry)[] = [];
  let base = unitBase(info, u);
  let p = offset;
  const uleb = (): number => {
    const v = r.uleb(p, 'a list operand');
    p = v.next;
    return v.value;
  };
  const address = (): number => {
    const v = addr(r, p, u);
    p += u.addrSize;
    return v;
  };
  const push = (low: number, high: number): void => {
    if (!withExpr) {
      out.push({ low, high });
      return;
    }
    const len = uleb();
    out.push({ low, high, expr: r.slice(p, len, 'a location expression') });
    p += len;
  };
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const raw = r.u8(p++, 'a list entry kind');
    switch (kindOf(raw)) {
      case END:
        return out;
      case BASE_ADDRESSX:
        base = info.addrx(u, uleb());
        break;
      case STARTX_ENDX: {
        const a = info.addrx(u, uleb());
        push(a, info.addrx(u, uleb()));
        break;
      }
      case STARTX_LENGTH: {
        const a = info.addrx(u, uleb());
        push(a, a + uleb());
        break;
      }
      case OFFSET_PAIR: {
        const a = uleb();
        push(base + a, base + uleb());
        break;
      }
      case DEFAULT_LOCATION:
        push(0, Number.MAX_SAFE_INTEGER);
        break;
      case BASE_ADDRESS:
        base = address();
        break;
      case START_END: {
        const a = address();
        push(a, address());
        break;
      }
      case START_LENGTH: {
        const a = address();
        push(a, a + uleb());
        break;
      }
      case GNU_VIEW_PAIR:
        uleb();
        uleb();
        break;
      default:
        throw new ImageError(`${name}: unknown entry kind ${raw} at ${hex(p - 1)}`);
    }
  }
  return out;
}

/** .debug_aranges (§6.1.2): address ranges → the unit's .debug_info offset. */
export function readAranges(data: Uint8Array): { low: number; high: number; unit: number }[] {
  const r = new ByteReader(data, '.debug_aranges');
  const out: { low: number; high: number; unit: number }[] = [];
  let pos = 0;
  while (pos + 4 <= r.length) {
    let length = r.u32(pos, 'unit_length');
    let p = pos + 4;
    let offsetSize = 4;
    if (length === 0xffffffff) {
      length = r.u64(p, 'unit_length');
      p += 8;
      offsetSize = 8;
    }
    const end = p + length;
    r.need(p, length, 'an aranges set');
    p += 2; // version
    const unit = offsetSize === 8 ? r.u64(p, 'debug_info_offset') : r.u32(p, 'debug_info_offset');
    p += offsetSize;
    const addrSize = r.u8(p++, 'address_size');
    p++; // segment_selector_size
    const tuple = 2 * addrSize;
    p = Math.ceil(p / tuple) * tuple; // tuples are aligned to their own size from the section start
    while (p + tuple <= end) {
      const a = addrSize === 8 ? r.u64(p, 'an address') : r.u32(p, 'an address');
      const len = addrSize === 8 ? r.u64(p + addrSize, 'a length') : r.u32(p + addrSize, 'a length');
      p += tuple;
      if (a === 0 && len === 0) break;
      out.push({ low: a, high: a + len, unit });
    }
    pos = end;
  }
  return out.sort((x, y) => x.low - y.low);
}
