// Loading the segment registers of a test's initial state.
//
// Real mode (CR0.PE = 0): the caches are implied, base = selector × 16 and limit 0xFFFF (SingleStepTests README).
//
// Protected mode (CR0.PE = 1, Ringside's own vectors): a test is a snapshot of a CPU whose caches were loaded from
// the GDT that lies in its RAM. The convention: the `INIT` chunk carries a `GDTR` chunk (u32 base, u16 limit) and
// each selector names a GDT entry (TI = 0). The runner loads every cache from that entry exactly as the descriptor
// says (base, limit scaled by G, access rights), without the load-time checks and without writing the accessed bit
// — the vector's descriptors carry A = 1 already, as after a real load. A null selector in DS/ES/FS/GS gives an
// unusable cache. CPL is CS.RPL. Paging is not supported for vectors (CR0.PG must be 0).

import { Cpu, CS, SS } from '../cpu/cpu';
import { MooState } from './moo-types';
import { SEGMENT_INDEX } from './register-map';

const SELECTOR_INDEX_SHIFT = 3;
const SELECTOR_TI = 0x4;
const SELECTOR_RPL = 0x3;
const DESCRIPTOR_SIZE = 8;
/** Descriptor high dword: access byte in bits 8–15, AVL/L/D-B/G in bits 20–23; the CPU keeps them as bits 0–7, 12–15. */
const HIGH_AR_SHIFT = 8;
const AR_FIELDS = 0xf0ff;
const DESC_G = 0x00800000;
const PAGE_GRANULE_SHIFT = 12;
const PAGE_GRANULE_LOW = 0xfff;

export class VectorSetupError extends Error {}

/** Loads CS, SS, DS, ES, FS, GS (and GDTR, CPL in protected mode) from the initial state. */
export function loadTestSegments(cpu: Cpu, state: MooState, protectedMode: boolean): void {
  const regs = state.regs!.values;
  if (!protectedMode) {
    for (const [name, seg] of Object.entries(SEGMENT_INDEX)) {
      const sel = regs.get(name);
      if (sel !== undefined) cpu.setSegmentReal(seg, sel & 0xffff);
    }
    return;
  }
  const gdtr = state.gdtr;
  if (!gdtr) throw new VectorSetupError('protected-mode test (CR0.PE = 1) without a GDTR chunk in INIT');
  cpu.gdtrBase = gdtr.base | 0;
  cpu.gdtrLimit = gdtr.limit;
  for (const [name, seg] of Object.entries(SEGMENT_INDEX)) {
    const sel = (regs.get(name) ?? 0) & 0xffff;
    loadFromGdt(cpu, seg, sel, name);
  }
  cpu.cpl = cpu.segSel[CS] & SELECTOR_RPL;
}

function loadFromGdt(cpu: Cpu, seg: number, sel: number, name: string): void {
  const index = sel >>> SELECTOR_INDEX_SHIFT;
  if (index === 0 && (sel & SELECTOR_TI) === 0) {
    if (seg === CS || seg === SS) throw new VectorSetupError(`${name} holds a null selector`);
    cpu.loadSegmentCache(seg, sel, 0, 0, 0, false, 'loader');
    return;
  }
  if ((sel & SELECTOR_TI) !== 0) throw new VectorSetupError(`${name} = 0x${sel.toString(16)} names the LDT; vectors use the GDT`);
  const at = index * DESCRIPTOR_SIZE;
  if (at + DESCRIPTOR_SIZE - 1 > cpu.gdtrLimit) {
    throw new VectorSetupError(`${name} = 0x${sel.toString(16)} lies beyond the GDT limit 0x${cpu.gdtrLimit.toString(16)}`);
  }
  const addr = (cpu.gdtrBase >>> 0) + at;
  const lo = cpu.mem.peek(addr, 4);
  const hi = cpu.mem.peek(addr + 4, 4);
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if ((hi & DESC_G) !== 0) limit = ((limit << PAGE_GRANULE_SHIFT) | PAGE_GRANULE_LOW) >>> 0;
  const ar = (hi >>> HIGH_AR_SHIFT) & AR_FIELDS;
  cpu.loadSegmentCache(seg, sel, base, limit, ar, true, 'loader');
}
