// What the monitor asks of the guest's state before it runs it deprivileged (model.md §3, engine/monitor/README.md):
// protected mode outside V86 mode, room for the monitor's region and its window, and segment registers the
// virtual tables can give back by the return sequence's loads. Anything else runs emulated, as a bare CPU.

import { CR0_PE, CR0_PG, CS, LDTR, SEGMENT_NAMES, SS, AR_S } from '../cpu/cpu';
import { VM } from '../cpu/flags';
import type { GuestState } from './guest-state';
import type { HiddenMemory } from './hidden-memory';
import { MONITOR_BYTES, monitorBaseIndex } from './layout';
import type { ShadowPaging } from './shadow-paging';
import { VirtualTables } from './virtual-tables';

/** Why the guest's state (in `guest`) cannot run deprivileged now, or null when it can. */
export function whyNotDirect(g: GuestState, a20Enabled: boolean, hidden: HiddenMemory, shadow: ShadowPaging): string | null {
  if ((g.cr0 & CR0_PE) === 0) return 'real mode';
  if ((g.eflags & VM) !== 0) return 'virtual-8086 mode';
  const noRoom = noWindowRoom(g, shadow);
  if (noRoom !== null) return noRoom;
  const top = hidden.base + MONITOR_BYTES - 1;
  if (!a20Enabled && ((hidden.base | top) & 0x100000) !== 0) return 'A20 is masked over the monitor region';
  if (!VirtualTables.fits(g.gdtrLimit)) return 'the guest GDT leaves no room for the monitor entries';
  const monitorIndex = monitorBaseIndex(g.gdtrLimit);
  for (let s = 0; s < 6; s++) {
    const name = SEGMENT_NAMES[s];
    const sel = g.sel[s];
    const ar = g.ar[s];
    if ((sel & 0xfffc) === 0) {
      if (s === CS || s === SS) return `${name} holds a null selector (protected mode not entered yet)`;
      if (g.valid[s]) return `${name} holds a usable cache behind a null selector`;
      continue;
    }
    if (!g.valid[s] || (ar & AR_S) === 0) return `${name} holds an unusable or system cache`;
    const code = (ar & 0x8) !== 0;
    if (s === CS && !code) return 'CS holds a data segment cache';
    if (s === SS && (code || (ar & 0x2) === 0)) return 'SS holds a cache that is not writable data';
    if (s !== CS && code && (ar & 0x2) === 0) return `${name} holds an execute-only code cache`;
    if ((sel & 4) === 0) {
      if (sel >>> 3 >= monitorIndex) return `${name} selector 0x${sel.toString(16)} lies beyond the guest's GDT limit`;
    } else if (!g.valid[LDTR] || (g.sel[LDTR] & 0xfffc) === 0 || (sel & 0xfff8) + 7 > g.limit[LDTR]) {
      return `${name} selector 0x${sel.toString(16)} lies beyond the guest's LDT`;
    }
  }
  // One IRET loads CS and SS from their entries of the virtual table: two selectors naming one entry cannot give
  // a code cache and a data cache at once (one of them is stale; GRUB hands over to a multiboot kernel so). The
  // data registers can share, since each is popped in turn.
  if (((g.sel[CS] ^ g.sel[SS]) & 0xfffc) === 0) return `CS and SS share the descriptor of selector 0x${(g.sel[CS] & 0xfffc).toString(16)}`;
  return null;
}

/** With guest paging, why the monitor's window finds no free slot (whyNotDirect); null when it does. */
export function noWindowRoom(g: GuestState, shadow: ShadowPaging): string | null {
  if ((g.cr0 & CR0_PG) === 0 || shadow.hasRoom(g.cr3)) return null;
  return "guest paging maps every 4 MiB of linear space (no room for the monitor's window)";
}
