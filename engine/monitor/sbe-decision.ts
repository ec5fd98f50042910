// When scan-before-execute is on (model.md §3): the guest's sensitive instructions are bound to the monitor unless
// every selector has RPL 3, every loaded descriptor DPL 3 and every cache is consistent — then what the
// deprivileged CPU does with them is what the guest's CPU does.

import { AR_DPL, AR_DPL_SHIFT, CR0_PG, CS, LDTR, SEGMENT_NAMES } from '../cpu/cpu';
import type { Tlb } from '../cpu/protect/tlb';
import type { GuestState } from './guest-state';

export type SbeMode = 'auto' | 'on' | 'off';

export class SbeDecision {
  /** The answer while the guest runs at CPL 0–2, and the CPL and CS RPL it was made for. */
  private cplDecision: [boolean, string] = [true, ''];
  private cplDecisionKey = -1;

  /** Model.md §3: SBE is off only while every selector has RPL 3, every loaded descriptor DPL 3, every cache is consistent. */
  decide(sbeMode: SbeMode, g: GuestState, consistency: readonly string[], guestTlb: Tlb): [boolean, string] {
    if (sbeMode === 'on') return [true, 'forced on (--sbe on)'];
    if (sbeMode === 'off') return [false, 'forced off (--sbe off)'];
    if (g.cpl !== 3) {
      // The decision of every entry from ring-0 code: its text is built once per CPL and RPL, not per entry.
      const key = g.cpl * 4 + (g.sel[CS] & 3);
      if (key !== this.cplDecisionKey) {
        this.cplDecisionKey = key;
        this.cplDecision = [true, `guest CPL ${g.cpl} (CS RPL ${g.sel[CS] & 3})`];
      }
      return this.cplDecision;
    }
    for (let s = 0; s < 6; s++) {
      const sel = g.sel[s];
      if ((sel & 0xfffc) !== 0 && (sel & 3) !== 3) return [true, `${SEGMENT_NAMES[s]} selector 0x${hex4(sel)} has RPL ${sel & 3}`];
    }
    for (let s = 0; s < 6; s++) {
      const dpl = (g.ar[s] & AR_DPL) >>> AR_DPL_SHIFT;
      if (g.valid[s] && dpl !== 3) return [true, `${SEGMENT_NAMES[s]} descriptor DPL ${dpl}`];
    }
    for (let s = 0; s < 6; s++) {
      if (consistency[s] !== 'consistent') return [true, `${SEGMENT_NAMES[s]} cache inconsistent (${consistency[s]})`];
    }
    if ((g.cr0 & CR0_PG) !== 0) {
      const page = tablePageOutsideTlb(g, guestTlb);
      if (page !== null) return [true, page];
    }
    return [false, 'all selectors RPL 3, all descriptors DPL 3, all caches consistent'];
  }
}

/**
 * With guest paging, a direct segment load reads the virtual GDT, not the guest's table through its TLB; a bare
 * CPU whose TLB lacks the table's page would walk and set the accessed bits there (SDM 3A §4.8). So SBE stays on
 * (loads trap and are emulated through the guest's paging) until every page of the GDT and LDT is in its TLB.
 */
function tablePageOutsideTlb(g: GuestState, guestTlb: Tlb): string | null {
  const ranges: [string, number, number][] = [['GDT', g.gdtrBase, g.gdtrLimit]];
  if (g.valid[LDTR] && (g.sel[LDTR] & 0xfffc) !== 0) ranges.push(['LDT', g.base[LDTR] >>> 0, Math.min(g.limit[LDTR], 0xffff)]);
  for (const [table, base, limit] of ranges) {
    for (let page = base >>> 12; page <= ((base + limit) >>> 0) >>> 12; page++) {
      if (guestTlb.entries[page] === 0) return `${table} page 0x${((page << 12) >>> 0).toString(16)} not in the guest's TLB`;
    }
  }
  return null;
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}
