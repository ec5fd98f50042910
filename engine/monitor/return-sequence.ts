// The real CPU operations of the monitor's return to the guest (model.md §3, monitor.ts returnToGuest and
// directReturn): the switch to the monitor's context (its tables, CPL 0, its code and stack segments), the frame
// [DS ES FS GS EIP CS EFLAGS ESP SS] on the monitor stack, the return code's pops and IRET run as the CPU's own
// instructions, and the virtual-table writes of the inconsistent path (a register's cache written at its
// selector, the slot marked not present once loaded). The monitor decides which path to take and records what it
// did; this module holds no state of its own but the decoded return code.

import type { PhysicalMemory } from '../bus/memory';
import type { Cpu } from '../cpu/cpu';
import { AR_P, CR0_PE, CR0_PG, CS, DS, ES, ESP, FS, GS, LDTR, SEGMENT_NAMES, SS, TR } from '../cpu/cpu';
import { decode } from '../cpu/decode/decoder';
import { Instr } from '../cpu/decode/instr';
import { CpuFault } from '../cpu/faults';
import { FIXED1, IOPL, VM } from '../cpu/flags';
import { encodeSegment } from '../cpu/protect/descriptor';
import type { Tlb } from '../cpu/protect/tlb';
import type { GuestState } from './guest-state';
import type { HiddenMemory } from './hidden-memory';
import { IDT_OFFSET, MON_VECTORS, RETURN_CODE, RETURN_CODE_OFFSET, STACK_OFFSET, STACK_SIZE, TSS_LIMIT, TSS_OFFSET, VGDT_OFFSET, VLDT_OFFSET } from './layout';
import type { ShadowPaging } from './shadow-paging';
import { LDT_SLOT, slotOf, type VirtualTables } from './virtual-tables';
import { virtualizeAccessRights } from './virtualize';

const CR4_VME = 0x1;
const CR4_PVI = 0x2;
const CR4_PSE = 0x10;
const CR4_PGE = 0x80;

export class ReturnSequence {
  private readonly returnCode: Instr[] = [];
  private readonly returnOffsets: number[] = [];
  private readonly mem: PhysicalMemory;
  /** A reused descriptor pair for the slot checks (encodeSegment's `out`). */
  private readonly pair: [number, number] = [0, 0];

  constructor(
    private readonly cpu: Cpu,
    private readonly guest: GuestState,
    private readonly tables: VirtualTables,
    private readonly hidden: HiddenMemory,
    private readonly shadow: ShadowPaging,
    private readonly guestTlb: Tlb,
  ) {
    this.mem = cpu.mem;
    this.decodeReturnCode();
  }

  /** The return frame on the monitor stack, from the guest's view, and ESP at it (after monitorContext). */
  writeFrame(): void {
    const cpu = this.cpu;
    const g = this.guest;
    const h = this.hidden;
    const top = STACK_SIZE - 36;
    const frame = STACK_OFFSET + top;
    const realIopl = g.cpl === 3 ? g.eflags & IOPL : 0;
    h.write32(frame, g.sel[DS]);
    h.write32(frame + 4, g.sel[ES]);
    h.write32(frame + 8, g.sel[FS]);
    h.write32(frame + 12, g.sel[GS]);
    h.write32(frame + 16, g.eip);
    h.write32(frame + 20, g.sel[CS] | 3);
    h.write32(frame + 24, ((g.eflags & ~(IOPL | VM)) | realIopl) >>> 0);
    h.write32(frame + 28, g.esp);
    h.write32(frame + 32, g.sel[SS] | 3);
    cpu.regs[ESP] = top;
  }

  private decodeReturnCode(): void {
    const bytes = RETURN_CODE;
    let off = 0;
    while (off < bytes.length) {
      const start = off;
      const i = decode((o) => bytes[o - RETURN_CODE_OFFSET] ?? 0, RETURN_CODE_OFFSET + start, true, new Instr());
      this.returnCode.push(i);
      this.returnOffsets.push(RETURN_CODE_OFFSET + start);
      off += i.len;
    }
  }

  /** Runs instruction `k` of the return code (pop ds, pop es, pop fs, pop gs, iretd) on the CPU. */
  execReturn(k: number): boolean {
    const cpu = this.cpu;
    const i = this.returnCode[k];
    const at = this.returnOffsets[k];
    cpu.instrStart = at;
    cpu.eip = at + i.len;
    try {
      i.exec(cpu, i);
      return true;
    } catch (e) {
      if (e instanceof CpuFault) return false;
      throw e;
    }
  }

  /** Switches the CPU to the monitor's context: its tables, CPL 0, its code and stack segments. */
  monitorContext(): void {
    const cpu = this.cpu;
    const t = this.tables;
    this.mem.hiddenData = true;
    this.installMonitorTables();
    cpu.setEflags(FIXED1);
    cpu.cpl = 0;
    const code = t.monitorCode;
    const stack = t.monitorStack;
    cpu.loadSegmentCache(CS, t.codeSelector, code.base, code.limit, code.ar, true, 'monitor');
    cpu.loadSegmentCache(SS, t.stackSelector, stack.base, stack.limit, stack.ar, true, 'monitor');
    cpu.regs[ESP] = STACK_SIZE;
    cpu.modeChanged();
  }

  /**
   * What the deprivileged guest runs on, set by the monitor's context switch and kept by its return: the real
   * control registers, the monitor's GDT, IDT and TSS, the virtual LDT, and the TLB the CPU walks with.
   */
  installMonitorTables(): void {
    const cpu = this.cpu;
    const g = this.guest;
    const h = this.hidden;
    const t = this.tables;
    this.installMonitorRegisters();
    cpu.loadSegmentCache(TR, t.tssSelector, h.linear + TSS_OFFSET, TSS_LIMIT, AR_P | 0xb, true, 'monitor');
    if (g.valid[LDTR] && (g.sel[LDTR] & 0xfffc) !== 0) {
      cpu.loadSegmentCache(LDTR, g.sel[LDTR], h.linear + VLDT_OFFSET, Math.min(g.limit[LDTR], 0xffff), AR_P | 0x2, true, 'monitor');
    } else {
      cpu.loadSegmentCache(LDTR, g.sel[LDTR], 0, 0, 0, false, 'monitor');
    }
  }

  /** installMonitorTables but TR and LDTR: the control registers, table registers and TLB of direct execution. */
  installMonitorRegisters(): void {
    const cpu = this.cpu;
    const g = this.guest;
    const h = this.hidden;
    const t = this.tables;
    this.mem.hiddenSystem = true;
    const paging = (g.cr0 & CR0_PG) !== 0;
    // A paging guest runs on the shadow tables (shadow-paging.ts), 4 KiB pages only, none global.
    cpu.tlb = paging ? this.shadow.realTlb : this.guestTlb;
    cpu.cr0 = (g.cr0 | CR0_PE) | 0;
    cpu.cr2 = g.cr2 | 0;
    cpu.cr3 = (paging ? this.shadow.directory : g.cr3) | 0;
    cpu.cr4 = ((g.cpl < 3 ? g.cr4 & ~(CR4_VME | CR4_PVI) : g.cr4) & (paging ? ~(CR4_PSE | CR4_PGE) : -1)) | 0;
    cpu.gdtrBase = (h.linear + VGDT_OFFSET) | 0;
    cpu.gdtrLimit = t.gdtLimit;
    cpu.idtrBase = (h.linear + IDT_OFFSET) | 0;
    cpu.idtrLimit = MON_VECTORS * 8 - 1;
    // SYSENTER with IA32_SYSENTER_CS[15:2] = 0 raises #GP(0) at any CPL: the guest's SYSENTER traps to the monitor.
    cpu.sysenterCs = 0;
  }

  /** Whether register `seg`'s virtual entry holds its (virtualized) cache, so a load gives it (null: nothing to load). */
  slotLoads(seg: number): boolean {
    const g = this.guest;
    const sel = g.sel[seg];
    if ((sel & 0xfffc) === 0) return true;
    const [lo, hi] = encodeSegment(g.base[seg], g.limit[seg], virtualizeAccessRights(g.ar[seg], g.cpl), this.pair);
    return this.tables.slotHolds(slotOf(sel), lo, hi);
  }

  /** Writes a register's (virtualized) cache into the virtual table at its selector when its entry would not load it. */
  placeCache(seg: number, written: Map<number, string[]>): void {
    const g = this.guest;
    const t = this.tables;
    const sel = g.sel[seg];
    if ((sel & 0xfffc) === 0) return; // a null selector loads the unusable cache the guest holds
    const slot = slotOf(sel);
    const [lo, hi] = encodeSegment(g.base[seg], g.limit[seg], virtualizeAccessRights(g.ar[seg], g.cpl), this.pair);
    if (t.slotHolds(slot, lo, hi)) return;
    t.writeSlot(slot, lo, hi);
    t.dirty.add(slot);
    const names = written.get(slot) ?? [];
    names.push(SEGMENT_NAMES[seg]);
    written.set(slot, names);
  }

  mark(slot: number): string {
    const t = this.tables;
    const [lo, hi] = t.readSlot(slot);
    t.writeSlot(slot, lo, (hi & ~0x8000) >>> 0);
    t.marked.add(slot);
    return `${(slot & LDT_SLOT) !== 0 ? 'LDT' : 'GDT'}[${slot & 0xffff}]`;
  }
}
