// The return shortcut (engine/monitor/README.md "The cost of one entry"): a return that would repeat the last real
// consistent return's loads sets the CPU to their result without running them (monitor.ts returnToGuest).

import type { Cpu } from '../cpu/cpu';
import { CS, ESP, LDTR } from '../cpu/cpu';
import { FIXED1, IOPL, VM } from '../cpu/flags';
import { protectedEflags } from '../cpu/protect/iret';
import { GuestState } from './guest-state';
import type { HiddenMemory } from './hidden-memory';
import type { ReturnSequence } from './return-sequence';
import type { VirtualTables } from './virtual-tables';

export class DirectReturn {
  /**
   * The last real consistent return (returnToGuest): the guest's segment registers, CPL and LDTR it returned to, and
   * the monitor's GDT limit and window address then (`key`), and the real CPU's segment registers it left
   * (`result`). Valid while `valid`. A later return to the same guest state, with every virtual entry
   * still holding what those loads read, gives the same caches: take sets them without the loads.
   */
  private readonly key = new GuestState();
  private readonly result = new GuestState();
  private gdtLimit = -1;
  private linear = -1;
  private valid = false;
  /** The virtual tables' version when every register's slot last held its cache for `key` (take). */
  private slots = -1;
  /**
   * Whether `guest`'s segment registers (LDTR included) held `key`'s when the current entry put them into the
   * CPU, and `enteredSegments` the registers the entry's emulation wrote since (Cpu.segmentsWritten): the others still
   * hold the key's, so take compares only these. Anything else that changes `guest`'s registers clears it.
   */
  guestIsKey = false;
  enteredSegments = 0xff;

  constructor(
    private readonly cpu: Cpu,
    private readonly guest: GuestState,
    private readonly tables: VirtualTables,
    private readonly hidden: HiddenMemory,
    private readonly sequence: ReturnSequence,
  ) {}

  /** No return to repeat (the monitor leaves direct execution). */
  forget(): void {
    this.valid = false;
    this.guestIsKey = false;
  }

  /** After a real return: what it returned to and what it left in the CPU, for take (consistent ones, with the shortcuts on). */
  remember(consistent: boolean): void {
    this.valid = consistent;
    if (!this.valid) {
      this.guestIsKey = false;
      return;
    }
    this.key.copyFrom(this.guest);
    this.result.captureFrom(this.cpu);
    this.gdtLimit = this.tables.gdtLimit;
    this.linear = this.hidden.linear;
    this.slots = this.tables.version; // a consistent return: every slot loaded its register's cache
    this.guestIsKey = true;
  }

  /**
   * The return without the monitor's context switch, its frame, its four pops and its IRET, when they would load
   * exactly what the last real consistent return loaded (remember): the guest is in direct execution, its
   * segment registers, CPL and LDTR are those of that return, the monitor's GDT limit and window have not moved, no
   * slot is dirty or marked, and each register's virtual entry still holds the descriptor of its cache — so each
   * load reads the same descriptor words as then and gives the same cache, and the IRET's checks pass as then (its
   * EIP checked against CS's limit here). The CPU gets what the real sequence leaves (and the caller the
   * record of the registers it left): the monitor's tables and the
   * real control registers, those caches, CPL 3, EFLAGS by IRET's own rule at CPL 0, the guest's EIP and ESP.
   * `test/engine/monitor/shortcuts.test.ts` compares the whole real CPU state with and without this after every
   * instruction.
   */
  take(direct: boolean): GuestState | null {
    const cpu = this.cpu;
    const g = this.guest;
    const k = this.key;
    const t = this.tables;
    if (!this.valid || !direct || t.dirty.size !== 0 || t.marked.size !== 0) return null;
    if (t.gdtLimit !== this.gdtLimit || this.hidden.linear !== this.linear || g.cpl !== k.cpl) return null;
    const changed = this.guestIsKey ? this.enteredSegments : 0xff;
    for (let s = 0; s <= LDTR; s++) {
      if ((changed & (1 << s)) === 0) continue;
      if (g.sel[s] !== k.sel[s] || g.base[s] !== k.base[s] || g.limit[s] !== k.limit[s] || g.ar[s] !== k.ar[s] || g.valid[s] !== k.valid[s]) {
        this.guestIsKey = false;
        return null;
      }
    }
    // The slots as the last look found them (no write since: the same words), else each one looked at again.
    if (t.version !== this.slots) {
      for (let s = 0; s < 6; s++) if (!this.sequence.slotLoads(s)) return null;
      this.slots = t.version;
    }
    const r = this.result;
    if (g.eip > r.limit[CS]) return null; // the real IRET faults: the real sequence says so (a panic)
    this.sequence.installMonitorRegisters();
    // IRET at CPL 0 from the monitor's EFLAGS (FIXED1) with the frame's image (returnToGuest's frame + 24).
    cpu.cpl = 0;
    cpu.setEflags(FIXED1);
    const realIopl = g.cpl === 3 ? g.eflags & IOPL : 0;
    cpu.setEflags(protectedEflags(cpu, ((g.eflags & ~(IOPL | VM)) | realIopl) >>> 0, 4));
    cpu.cpl = r.cpl;
    cpu.eip = g.eip >>> 0;
    cpu.regs[ESP] = g.esp | 0;
    // The six loads' caches, and TR and LDTR as installMonitorTables loads them (from the same GDT limit, window
    // and guest LDTR, all in the key); then the mode.
    cpu.restoreSegmentRegisters(r.sel, r.base, r.limit, r.ar, r.valid);
    this.guestIsKey = true;
    return r;
  }
}
