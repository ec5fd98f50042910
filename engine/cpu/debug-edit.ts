// Changes the debugger makes to a stopped guest (setVariable, writeMemory): registers, flags, control registers,
// hidden-cache fields and descriptor-table fields. Each goes through the engine's own writers, so derived state
// stays right: caches through loadSegmentCache (cause "debugger", so the load is reported like any other), EFLAGS
// through setEflags, mode-dependent state through modeChanged, memory through the host path that drops decoded
// instructions on the pages it touches. Writing the selector alone keeps the cache: that is how a user makes a
// register inconsistent on purpose.

import { AR_AVL, AR_DB, AR_DPL, AR_DPL_SHIFT, AR_G, AR_P, AR_S, AR_TYPE, CS, type Cpu } from './cpu';
import { IOPL, IOPL_SHIFT } from './flags';
import { decodeDescriptor, encodeGate, encodeSegment, accessRightsOf } from './protect/descriptor';
import { peekLinear, peekTranslate } from './protect/peek';

export const CACHE_FIELDS = ['base', 'limit', 'type', 's', 'dpl', 'p', 'db', 'g', 'avl', 'usable'] as const;
export type CacheField = (typeof CACHE_FIELDS)[number];

const AR_BITS: Record<string, number> = { s: AR_S, p: AR_P, db: AR_DB, g: AR_G, avl: AR_AVL };

function checkRange(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be a whole number from 0 to 0x${max.toString(16)}`);
}

export function setGeneralRegister(cpu: Cpu, n: number, value: number, size: 1 | 2 | 4 = 4): void {
  const max = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  // A negative number is taken as its two's complement (-1 → 0xFFFFFFFF), as a user typing it means.
  if (!Number.isInteger(value) || value > max || value < -(max + 1) / 2) throw new RangeError(`the value must fit in ${size * 8} bits`);
  cpu.setReg(size, n, (value >>> 0) & max);
}

export function setInstructionPointer(cpu: Cpu, value: number): void {
  checkRange('EIP', value, cpu.code32 ? 0xffffffff : 0xffff);
  cpu.eip = value >>> 0;
}

export function setEflagsValue(cpu: Cpu, value: number): void {
  checkRange('EFLAGS', value, 0xffffffff);
  const before = cpu.mode;
  cpu.setEflags(value >>> 0);
  cpu.modeChanged();
  cpu.noteModeChange(before);
}

/** Sets one flag bit (or IOPL, 0–3) by its EFLAGS mask. */
export function setFlag(cpu: Cpu, mask: number, value: number): void {
  const f = cpu.getEflags();
  if (mask === IOPL) {
    checkRange('IOPL', value, 3);
    return setEflagsValue(cpu, ((f & ~IOPL) | (value << IOPL_SHIFT)) >>> 0);
  }
  checkRange('a flag', value, 1);
  setEflagsValue(cpu, (value ? f | mask : f & ~mask) >>> 0);
}

/** Changes only the visible selector; the hidden cache keeps what it holds. */
export function setSelector(cpu: Cpu, reg: number, selector: number): void {
  checkRange('a selector', selector, 0xffff);
  cpu.loadSegmentCache(reg, selector, cpu.segBase[reg], cpu.segLimit[reg], cpu.segAr[reg], cpu.segValid[reg] !== 0, 'debugger');
  if (reg === CS) cpu.flushDecodeCache();
}

/** Changes one field of a hidden cache. */
export function setCacheField(cpu: Cpu, reg: number, field: CacheField, value: number): void {
  let base = cpu.segBase[reg] >>> 0;
  let limit = cpu.segLimit[reg];
  let ar = cpu.segAr[reg];
  let usable = cpu.segValid[reg] !== 0;
  switch (field) {
    case 'base':
      checkRange('base', value, 0xffffffff);
      base = value;
      break;
    case 'limit':
      checkRange('limit', value, 0xffffffff);
      limit = value;
      break;
    case 'type':
      checkRange('type', value, 15);
      ar = (ar & ~AR_TYPE) | value;
      break;
    case 'dpl':
      checkRange('dpl', value, 3);
      ar = (ar & ~AR_DPL) | (value << AR_DPL_SHIFT);
      break;
    case 'usable':
      checkRange('usable', value, 1);
      usable = value !== 0;
      break;
    default:
      checkRange(field, value, 1);
      ar = value ? ar | AR_BITS[field] : ar & ~AR_BITS[field];
  }
  cpu.loadSegmentCache(reg, cpu.segSel[reg], base | 0, limit, ar, usable, 'debugger');
  cpu.modeChanged();
  if (reg === CS) cpu.flushDecodeCache();
}

export function setControlRegister(cpu: Cpu, n: 0 | 2 | 3 | 4, value: number): void {
  checkRange(`CR${n}`, value, 0xffffffff);
  const before = cpu.mode;
  if (n === 0) cpu.cr0 = value | 0;
  else if (n === 2) cpu.cr2 = value | 0;
  else if (n === 3) cpu.cr3 = value | 0;
  else cpu.cr4 = value | 0;
  cpu.modeChanged();
  cpu.noteModeChange(before);
  cpu.flushDecodeCache();
}

export function setTableRegister(cpu: Cpu, table: 'gdtr' | 'idtr', field: 'base' | 'limit', value: number): void {
  checkRange(field, value, field === 'base' ? 0xffffffff : 0xffff);
  if (table === 'gdtr') {
    if (field === 'base') cpu.gdtrBase = value | 0;
    else cpu.gdtrLimit = value;
  } else if (field === 'base') cpu.idtrBase = value | 0;
  else cpu.idtrLimit = value;
}

/** Writes bytes at a linear address through the current paging; returns how many were written (stops at an unmapped page). */
export function writeLinearBytes(cpu: Cpu, linear: number, bytes: Uint8Array): number {
  let done = 0;
  while (done < bytes.length) {
    const lin = (linear + done) >>> 0;
    const phys = peekTranslate(cpu, lin);
    const n = Math.min(bytes.length - done, 0x1000 - (lin & 0xfff));
    if (phys < 0 || phys + n > cpu.mem.size) break;
    cpu.mem.load(phys, bytes.subarray(done, done + n));
    done += n;
  }
  return done;
}

export const DESCRIPTOR_FIELDS = ['base', 'limit', 'type', 's', 'dpl', 'p', 'db', 'g', 'avl', 'selector', 'offset'] as const;
export type DescriptorField = (typeof DESCRIPTOR_FIELDS)[number];

/** Changes one field of the 8-byte descriptor at a linear address (a GDT, LDT or IDT entry). */
export function setDescriptorField(cpu: Cpu, linear: number, field: DescriptorField, value: number): void {
  const lo = peekLinear(cpu, linear, 4);
  const hi = peekLinear(cpu, linear + 4, 4);
  if (lo < 0 || hi < 0) throw new RangeError(`the descriptor at linear 0x${(linear >>> 0).toString(16)} is not mapped`);
  const d = decodeDescriptor(lo, hi);
  const gate = d.kind === 'call-gate' || d.kind === 'interrupt-gate' || d.kind === 'trap-gate' || d.kind === 'task-gate';
  let words: [number, number];
  if (gate && (field === 'selector' || field === 'offset' || field === 'dpl' || field === 'p' || field === 'type')) {
    const sel = field === 'selector' ? value : d.selector;
    const off = field === 'offset' ? value : d.offset;
    const type = field === 'type' ? value : d.type;
    checkRange(field, value, field === 'offset' ? 0xffffffff : field === 'selector' ? 0xffff : field === 'type' ? 15 : field === 'dpl' ? 3 : 1);
    words = encodeGate(type, sel, off, { dpl: field === 'dpl' ? value : d.dpl, present: field === 'p' ? value !== 0 : d.p, paramCount: d.paramCount });
  } else if (field === 'selector' || field === 'offset') {
    throw new RangeError(`${field} is a field of gates; this entry is a ${d.kind} descriptor`);
  } else {
    let base = d.base;
    let limit = d.limit;
    let ar = accessRightsOf(d);
    if (field === 'base') (checkRange('base', value, 0xffffffff), (base = value));
    else if (field === 'limit') {
      checkRange('limit', value, 0xffffffff);
      // A byte limit above 1 MiB can only be stored with G = 1 (4 KiB units); say so rather than truncate.
      if (value > 0xfffff && (ar & AR_G) === 0) throw new RangeError('a limit above 0xFFFFF needs g = 1 (set g first)');
      if ((ar & AR_G) !== 0 && (value & 0xfff) !== 0xfff) throw new RangeError('with g = 1 the limit must end in 0xFFF');
      limit = value;
    } else if (field === 'type') (checkRange('type', value, 15), (ar = (ar & ~AR_TYPE) | value));
    else if (field === 'dpl') (checkRange('dpl', value, 3), (ar = (ar & ~AR_DPL) | (value << AR_DPL_SHIFT)));
    else {
      checkRange(field, value, 1);
      const bit = AR_BITS[field];
      if (field === 'g' && value !== ((ar & AR_G) !== 0 ? 1 : 0)) {
        // Keep the stored 20-bit limit field; G only changes its unit.
        limit = value ? ((d.rawLimit << 12) | 0xfff) >>> 0 : d.rawLimit;
      }
      ar = value ? ar | bit : ar & ~bit;
    }
    words = encodeSegment(base, limit, ar);
  }
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setUint32(0, words[0] >>> 0, true);
  new DataView(bytes.buffer).setUint32(4, words[1] >>> 0, true);
  if (writeLinearBytes(cpu, linear, bytes) !== 8) throw new RangeError('the descriptor could not be written (unmapped page)');
}
