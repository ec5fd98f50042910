// Ring compression applied to descriptors and caches (model.md §3, engine/monitor/README.md "Ring compression").
//
// While the guest runs at CPL 0–2 the real CPU runs it at CPL 3, so its code and data descriptors must carry DPL 3
// to be usable there. While the guest runs at CPL 3 nothing needs compressing: its descriptors are used as they
// are, and the privilege checks of the real CPU are the guest's own. In both cases
//   - system descriptors (LDT, TSS, call and task gates) are made not present: the CPU must not use the guest's
//     directly; using one traps to the monitor, which emulates the operation against the guest's tables;
//   - a code or data descriptor whose accessed bit is clear is made not present: the first load traps, and the
//     monitor's emulated load sets the bit in the guest's table, where bare hardware sets it.

import { AR_ACCESSED, AR_DPL, AR_P, AR_S } from '../cpu/cpu';

const HI_P = 0x8000;
const HI_S = 0x1000;
const HI_DPL = 0x6000;
const HI_ACCESSED = 0x100;

/** The high dword of the virtual entry for a guest descriptor (the low dword is copied unchanged). */
export function virtualizeHigh(hi: number, guestCpl: number): number {
  if ((hi & HI_S) === 0) return (hi & ~HI_P) >>> 0;
  if ((hi & HI_ACCESSED) === 0) return (hi & ~HI_P) >>> 0;
  if (guestCpl < 3) return (hi | HI_DPL) >>> 0;
  return hi >>> 0;
}

/** The access rights a register's cache needs in the real CPU for the guest's cache `ar` (accessed bit set). */
export function virtualizeAccessRights(ar: number, guestCpl: number): number {
  let out = ar | AR_P;
  if ((ar & AR_S) !== 0) {
    out |= AR_ACCESSED;
    if (guestCpl < 3) out |= AR_DPL;
  }
  return out;
}
