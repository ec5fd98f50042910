// Call frame information (DWARF 5 §6.4) from .debug_frame and .eh_frame (the LSB's variant: CIE id 0, CIE
// pointers relative to themselves, 'z' augmentation data with the FDE pointer encoding). For an address it
// gives the row of the table the CIE's and FDE's instructions build: how to compute the canonical frame address
// (CFA) and where the caller's registers were saved. Entries that cannot be read are skipped with one warning.

import { ByteReader } from '../byte-reader';
import { ImageError, hex } from '../image-error';

export type RegisterRule =
  | { kind: 'undefined' }
  | { kind: 'same' }
  | { kind: 'offset'; offset: number }
  | { kind: 'val_offset'; offset: number }
  | { kind: 'register'; reg: number }
  | { kind: 'expression'; expr: Uint8Array }
  | { kind: 'val_expression'; expr: Uint8Array };

export interface CfaRule {
  reg: number;
  offset: number;
  expr?: Uint8Array;
}

export interface CfiRow {
  cfa: CfaRule;
  regs: Map<number, RegisterRule>;
  /** The register holding the return address (CIE return_address_register: 8, EIP, on i386). */
  returnRegister: number;
  /** The FDE's start (the function's entry). */
  start: number;
}

interface Cie {
  codeAlign: number;
  dataAlign: number;
  returnRegister: number;
  initial: Uint8Array;
  pointerEncoding: number;
  hasAugmentationData: boolean;
  addrSize: number;
}

interface Fde {
  cie: Cie;
  low: number;
  high: number;
  instructions: Uint8Array;
}

const DW_EH_PE_omit = 0xff;
const DW_EH_PE_pcrel = 0x10;
const DW_EH_PE_datarel = 0x30;

export class CallFrameInfo {
  private readonly fdes: Fde[] = [];

  constructor(sections: { frame?: Uint8Array; ehFrame?: Uint8Array; ehFrameAddr?: number }, warn: (m: string) => void) {
    for (const [data, eh, name] of [[sections.frame, false, '.debug_frame'], [sections.ehFrame, true, '.eh_frame']] as const) {
      if (!data) continue;
      try {
        this.read(data, eh, eh ? sections.ehFrameAddr ?? 0 : 0, name);
      } catch (e) {
        const m = (e as Error).message;
        warn(`${m.startsWith(name) ? m : `${name}: ${m}`}; the call stack falls back to the EBP chain where it has no entry`);
      }
    }
    this.fdes.sort((a, b) => a.low - b.low);
  }

  get size(): number {
    return this.fdes.length;
  }

  private read(data: Uint8Array, eh: boolean, sectionAddr: number, name: string): void {
    const r = new ByteReader(data, name);
    const cies = new Map<number, Cie>();
    let pos = 0;
    while (pos + 4 <= r.length) {
      const start = pos;
      let length = r.u32(pos, 'length');
      pos += 4;
      if (length === 0) {
        if (eh) break; // the .eh_frame terminator
        continue;
      }
      let offsetSize = 4;
      if (length === 0xffffffff) {
        length = r.u64(pos, 'length (64-bit)');
        pos += 8;
        offsetSize = 8;
      }
      const end = pos + length;
      r.need(pos, length, `the entry at ${hex(start)}`);
      const idPos = pos;
      const id = offsetSize === 8 ? r.u64(pos, 'CIE id') : r.u32(pos, 'CIE id');
      pos += offsetSize;
      const isCie = eh ? id === 0 : id === 0xffffffff || (offsetSize === 8 && id === Number.MAX_SAFE_INTEGER);
      if (isCie) {
        cies.set(start, this.readCie(r, pos, end, eh));
      } else {
        const cieAt = eh ? idPos - id : id;
        let cie = cies.get(cieAt);
        if (!cie) {
          // A CIE after its FDE: read it where it is.
          const len = r.u32(cieAt, 'CIE length');
          cie = this.readCie(r, cieAt + 8, cieAt + 4 + len, eh);
          cies.set(cieAt, cie);
        }
        let p = pos;
        const enc = eh ? cie.pointerEncoding : 0;
        const begin = readPointer(r, p, enc, sectionAddr, cie.addrSize);
        p = begin.next;
        const range = readPointer(r, p, enc & 0x0f, sectionAddr, cie.addrSize);
        p = range.next;
        if (cie.hasAugmentationData) {
          const len = r.uleb(p, 'augmentation length');
          p = len.next + len.value;
        }
        if (range.value > 0) this.fdes.push({ cie, low: begin.value >>> 0, high: (begin.value + range.value) >>> 0, instructions: r.slice(p, end - p, 'FDE instructions') });
      }
      pos = end;
    }
  }

  private readCie(r: ByteReader, start: number, end: number, eh: boolean): Cie {
    let p = start;
    const version = r.u8(p++, 'CIE version');
    const aug = r.cstring(p, 'augmentation');
    p = aug.next;
    let addrSize = 4;
    if (!eh && version >= 4) {
      addrSize = r.u8(p++, 'address_size');
      p++; // segment_selector_size
    }
    const code = r.uleb(p, 'code_alignment_factor');
    const data = r.sleb(code.next, 'data_alignment_factor');
    p = data.next;
    let returnRegister: number;
    if (version === 1) returnRegister = r.u8(p++, 'return_address_register');
    else {
      const v = r.uleb(p, 'return_address_register');
      returnRegister = v.value;
      p = v.next;
    }
    let pointerEncoding = 0;
    const hasAugmentationData = aug.text.startsWith('z');
    if (hasAugmentationData) {
      const len = r.uleb(p, 'augmentation length');
      let q = len.next;
      const after = len.next + len.value;
      for (const ch of aug.text.slice(1)) {
        if (ch === 'R') pointerEncoding = r.u8(q++, 'FDE pointer encoding');
        else if (ch === 'L') q++;
        else if (ch === 'P') {
          const penc = r.u8(q++, 'personality encoding');
          q = readPointer(r, q, penc & 0x0f, 0, addrSize).next;
        } else if (ch === 'S' || ch === 'B') continue;
        else break;
      }
      p = after;
    } else if (aug.text !== '' && eh) {
      throw new ImageError(`CIE at ${hex(start)} has augmentation "${aug.text}", which cannot be skipped`);
    }
    return { codeAlign: code.value, dataAlign: data.value, returnRegister, initial: r.slice(p, end - p, 'CIE instructions'), pointerEncoding, hasAugmentationData, addrSize };
  }

  /** The CFI row in effect at `pc`, or undefined when no FDE covers it. */
  rowAt(pc: number): CfiRow | undefined {
    let lo = 0;
    let hi = this.fdes.length - 1;
    let found: Fde | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const f = this.fdes[mid];
      if (pc < f.low) hi = mid - 1;
      else if (pc >= f.high) lo = mid + 1;
      else {
        found = f;
        break;
      }
    }
    if (!found) return undefined;
    try {
      return execute(found, pc);
    } catch {
      return undefined;
    }
  }
}

function readPointer(r: ByteReader, p: number, enc: number, sectionAddr: number, addrSize: number): { value: number; next: number } {
  if (enc === DW_EH_PE_omit) return { value: 0, next: p };
  let v: number;
  let next: number;
  switch (enc & 0x0f) {
    case 0x00:
      v = addrSize === 8 ? r.u64(p, 'a pointer') : r.u32(p, 'a pointer');
      next = p + addrSize;
      break;
    case 0x01: {
      const x = r.uleb(p, 'a pointer');
      v = x.value;
      next = x.next;
      break;
    }
    case 0x02:
      v = r.u16(p, 'a pointer');
      next = p + 2;
      break;
    case 0x03:
      v = r.u32(p, 'a pointer');
      next = p + 4;
      break;
    case 0x09: {
      const x = r.sleb(p, 'a pointer');
      v = x.value;
      next = x.next;
      break;
    }
    case 0x0a:
      v = (r.u16(p, 'a pointer') << 16) >> 16;
      next = p + 2;
      break;
    case 0x0b:
      v = r.u32(p, 'a pointer') | 0;
      next = p + 4;
      break;
    case 0x04:
    case 0x0c:
      v = r.u32(p, 'a pointer');
      next = p + 8;
      break;
    default:
      throw new ImageError(`pointer encoding ${hex(enc)} is not supported`);
  }
  const app = enc & 0x70;
  if (app === DW_EH_PE_pcrel) v += sectionAddr + p;
  else if (app === DW_EH_PE_datarel) v += sectionAddr;
  return { value: v >>> 0, next };
}

/** Runs the CIE's initial instructions, then the FDE's up to `pc` (§6.4.2). */
function execute(f: Fde, pc: number): CfiRow {
  const row: CfiRow = { cfa: { reg: 4, offset: 4 }, regs: new Map(), returnRegister: f.cie.returnRegister, start: f.low };
  const stack: { cfa: CfaRule; regs: Map<number, RegisterRule> }[] = [];
  run(f.cie.initial, f.cie, row, stack, Infinity, f.low, null);
  const initial = new Map(row.regs);
  run(f.instructions, f.cie, row, stack, pc, f.low, initial);
  return row;
}

function run(code: Uint8Array, cie: Cie, row: CfiRow, stack: { cfa: CfaRule; regs: Map<number, RegisterRule> }[], pc: number, start: number, initial: Map<number, RegisterRule> | null): void {
  const r = new ByteReader(code, 'CFI instructions');
  let loc = start;
  let p = 0;
  const uleb = (): number => {
    const v = r.uleb(p, 'an operand');
    p = v.next;
    return v.value;
  };
  const sleb = (): number => {
    const v = r.sleb(p, 'an operand');
    p = v.next;
    return v.value;
  };
  const block = (): Uint8Array => {
    const len = uleb();
    const b = r.slice(p, len, 'an expression');
    p += len;
    return b;
  };
  const restore = (reg: number): void => {
    const v = initial?.get(reg);
    if (v) row.regs.set(reg, v);
    else row.regs.delete(reg);
  };
  while (p < r.length) {
    const op = r.u8(p++, 'a CFA instruction');
    const high = op & 0xc0;
    const low = op & 0x3f;
    if (high === 0x40) {
      loc += low * cie.codeAlign; // DW_CFA_advance_loc
      if (loc > pc) return;
      continue;
    }
    if (high === 0x80) {
      row.regs.set(low, { kind: 'offset', offset: uleb() * cie.dataAlign }); // DW_CFA_offset
      continue;
    }
    if (high === 0xc0) {
      restore(low); // DW_CFA_restore
      continue;
    }
    switch (op) {
      case 0x00: // nop
        break;
      case 0x01: // set_loc
        loc = r.u32(p, 'set_loc');
        p += cie.addrSize;
        if (loc > pc) return;
        break;
      case 0x02:
        loc += r.u8(p++, 'advance_loc1') * cie.codeAlign;
        if (loc > pc) return;
        break;
      case 0x03:
        loc += r.u16(p, 'advance_loc2') * cie.codeAlign;
        p += 2;
        if (loc > pc) return;
        break;
      case 0x04:
        loc += r.u32(p, 'advance_loc4') * cie.codeAlign;
        p += 4;
        if (loc > pc) return;
        break;
      case 0x05: {
        const reg = uleb();
        row.regs.set(reg, { kind: 'offset', offset: uleb() * cie.dataAlign });
        break;
      }
      case 0x06:
        restore(uleb());
        break;
      case 0x07:
        row.regs.set(uleb(), { kind: 'undefined' });
        break;
      case 0x08:
        row.regs.set(uleb(), { kind: 'same' });
        break;
      case 0x09: {
        const reg = uleb();
        row.regs.set(reg, { kind: 'register', reg: uleb() });
        break;
      }
      case 0x0a: // remember_state
        stack.push({ cfa: { ...row.cfa }, regs: new Map(row.regs) });
        break;
      case 0x0b: {
        // restore_state
        const s = stack.pop();
        if (s) {
          row.cfa = s.cfa;
          row.regs = s.regs;
        }
        break;
      }
      case 0x0c: {
        const reg = uleb();
        row.cfa = { reg, offset: uleb() };
        break;
      }
      case 0x0d:
        row.cfa = { reg: uleb(), offset: row.cfa.offset };
        break;
      case 0x0e:
        row.cfa = { reg: row.cfa.reg, offset: uleb() };
        break;
      case 0x0f:
        row.cfa = { reg: -1, offset: 0, expr: block() };
        break;
      case 0x10: {
        const reg = uleb();
        row.regs.set(reg, { kind: 'expression', expr: block() });
        break;
      }
      case 0x11: {
        const reg = uleb();
        row.regs.set(reg, { kind: 'offset', offset: sleb() * cie.dataAlign });
        break;
      }
      case 0x12: {
        const reg = uleb();
        row.cfa = { reg, offset: sleb() * cie.dataAlign };
        break;
      }
      case 0x13:
        row.cfa = { reg: row.cfa.reg, offset: sleb() * cie.dataAlign };
        break;
      case 0x14: {
        const reg = uleb();
        row.regs.set(reg, { kind: 'val_offset', offset: uleb() * cie.dataAlign });
        break;
      }
      case 0x15: {
        const reg = uleb();
        row.regs.set(reg, { kind: 'val_offset', offset: sleb() * cie.dataAlign });
        break;
      }
      case 0x16: {
        const reg = uleb();
        row.regs.set(reg, { kind: 'val_expression', expr: block() });
        break;
      }
      case 0x2e: // GNU_args_size: the bytes of outgoing arguments pushed; the CFA rule already accounts for them
        uleb();
        break;
      case 0x2f: {
        // GNU_negative_offset_extended
        const reg = uleb();
        row.regs.set(reg, { kind: 'offset', offset: -uleb() * cie.dataAlign });
        break;
      }
      default:
        throw new ImageError(`unknown CFA instruction ${hex(op)}`);
    }
  }
}
