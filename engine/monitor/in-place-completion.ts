// The real CPU's side of what the monitor completes in place (in-place.ts): the guest's data-segment loads
// (in-place-segment.ts), its IRETs and the delivery of its external interrupts (in-place-transfer.ts), by a guest
// running deprivileged at CPL 0–2. The guest-side modules decide that the guest's operation is an ordinary one and
// read its descriptors as a bare CPU reads them; this module checks what it asks of the monitor's own state (no
// entry under way, the registers as the last return installed them and reported consistent, the virtual entry
// holding the guest's descriptor as ring compression makes it, the consistency look's inputs unchanged), makes the
// real CPU's load or transfer, and records the result in the monitor's view of the guest as its emulation would.
// It sees the monitor through InPlaceMonitorState only.

import type { PhysicalMemory } from '../bus/memory';
import type { Cpu } from '../cpu/cpu';
import { CS, SS } from '../cpu/cpu';
import { IF, IOPL, NT, RF, TF, VM } from '../cpu/flags';
import { iretEflags } from '../cpu/protect/iret';
import { adjustSp, checkPops, peekSlot, stackOffset } from '../cpu/protect/stack-frame';
import { TLB_USER_WRITE, type Tlb } from '../cpu/protect/tlb';
import { accessRightsOf, decodeDescriptor, Descriptor } from '../cpu/protect/descriptor';
import { loadSegment } from '../cpu/protect/segment-load';
import { EV_SEGMENT_LOAD, type EventHub, type SegmentLoadCause } from '../events';
import type { GuestState } from './guest-state';
import { guestFlags } from './in-place';
import { ordinaryFarJump, ordinaryInterruptGate, ordinarySameLevelReturn } from './in-place-transfer';
import { ordinaryDataLoad } from './in-place-segment';
import type { LookInputs } from './look-inputs';
import type { VirtualTables } from './virtual-tables';
import { virtualizeHigh } from './virtualize';

/** What the in-place completions read and change of the monitor (monitor.ts builds it over its private state). */
export interface InPlaceMonitorState {
  readonly cpu: Cpu;
  readonly mem: PhysicalMemory;
  /** The monitor's view of the guest (its CPL, IOPL, selectors and caches, table registers). */
  readonly guest: GuestState;
  readonly guestTlb: Tlb;
  readonly tables: VirtualTables;
  /** The inputs of the last consistency look. */
  readonly look: LookInputs;
  /** Per register: 'consistent' or the differing fields, as last reported. */
  readonly consistency: readonly string[];
  /** The version of the guest's tables' contents the look compares (every watched store and rebuild counts). */
  readonly tableEpoch: number;
  /** True while a monitor entry is under way (the CPU holds the guest's own state). */
  readonly inEntry: boolean;
  /** Where the debugger listens: the guest's events. */
  readonly guestEvents: EventHub;
  /** Whether the real CPU's register `seg` differs from what the last return installed (a direct load since). */
  loadedSinceReturn(seg: number): boolean;
  /** The real register `seg`, just loaded in place, taken into the record of what the last return installed. */
  takeInstalled(seg: number): void;
  /** The guest's segment registers changed (the last return's key no longer describes them). */
  guestSegmentsChanged(): void;
  /** The CPU's events go to the monitor's internal hub until the matching unmute. */
  mute(): void;
  unmute(): void;
}

export class InPlaceCompletion {
  /** The guest's descriptor of the current in-place segment load or transfer. */
  private readonly descriptor = new Descriptor();
  /** The guest's IDT gate of the current in-place delivery, and the real CPU's descriptor of an in-place CS load. */
  private readonly gate = new Descriptor();
  private readonly realDescriptor = new Descriptor();
  /** External interrupts delivered in place (deliver). */
  private readonly interrupts: { n: number };

  constructor(
    private readonly m: InPlaceMonitorState,
    interruptCounter: { n: number },
  ) {
    this.interrupts = interruptCounter;
  }

  /**
   * A data segment load by the deprivileged guest at CPL 0–2, completed in place (in-place.ts): when the guest's load
   * is an ordinary one (in-place-segment.ts), the register was last reported consistent and holds what the last
   * return installed, and its virtual entry holds the guest's entry as ring compression makes it (no return's
   * cache written there), the real CPU's load (protect/segment-load.ts) loads the register from that entry — the
   * cache a consistent return's pop gives it — and the guest's record, the installed state and the guest's
   * segment-load event follow, as the emulation gives them. Nothing else of an entry's work is due: at CPL 0–2 SBE stays on
   * whatever the registers hold, whyNotDirect asks of a data register only a usable, readable cache within the
   * guest's table (which the load's checks ensure), and the register stays consistent, as reported.
   */
  loadSegment(seg: number, selector: number, cause: SegmentLoadCause): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const d = this.descriptor;
    if (!this.loadable(seg)) return false;
    if (!ordinaryDataLoad(m.mem, m.guest, m.guestTlb, cpu.a20Mask, selector, d) || !this.slotHoldsGuest(selector, d)) return false;
    // The look an entry makes after the load would find every other register as last reported (its inputs stand:
    // look-inputs.ts) and this one consistent: nothing to report. Otherwise the entry reports what changed.
    if (m.look.differs(m.guest, cpu.a20Mask, m.tableEpoch, seg)) return false;
    m.mute();
    try {
      loadSegment(cpu, seg, selector, cause);
    } finally {
      m.unmute();
    }
    this.recordLoad(seg, selector, d, cause);
    return true;
  }

  /**
   * The guest's IRET completed in place (in-place.ts): a protected-mode return within its privilege level through an
   * ordinary code descriptor (in-place-transfer.ts ordinarySameLevelReturn), CS and SS as the last return installed
   * them and reported consistent. False (nothing changed) when it must be emulated. The frame is read by the real
   * CPU, whose SS has the guest's base, limit and type and whose pages are the guest's TLB's: a fault there (the
   * guest's #SS or #PF, or a shadow miss) is thrown before anything changed, and the run loop hands it to the
   * monitor, whose emulation of the IRET on the guest's view raises the guest's own.
   */
  iret(os32: boolean): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const g = m.guest;
    // NT = 1: a task return through the TSS's back link (protect/task-switch.ts).
    if (!this.loadable(CS) || m.loadedSinceReturn(SS) || (cpu.flags & NT) !== 0) return false;
    const size = os32 ? 4 : 2;
    // IF top 6 (12) bytes of stack not within stack limits THEN #SS(0)
    checkPops(cpu, 3, size);
    const eip = peekSlot(cpu, 0, size);
    const selector = cpu.peekStack(size, 2);
    const popped = peekSlot(cpu, 2 * size, size);
    // IF tempEFLAGS(VM) = 1 and CPL = 0 (32-bit): RETURN-TO-VIRTUAL-8086-MODE
    if (size === 4 && (popped & VM) !== 0 && g.cpl === 0) return false;
    const d = this.descriptor;
    if (!ordinarySameLevelReturn(m.mem, g, m.guestTlb, cpu.a20Mask, selector, eip, d) || !this.slotHoldsGuest(selector, d)) return false;
    if (m.look.differs(g, cpu.a20Mask, m.tableEpoch, CS)) return false;
    // EFLAGS by the guest's CPL and IOPL (protect/iret.ts), computed before the transfer as bare IRET computes them.
    const flags = iretEflags(cpu, guestFlags(cpu, g), g.cpl, popped, size);
    this.loadCode(selector, d, 'iret');
    cpu.eip = eip >>> 0;
    adjustSp(cpu, 3 * size);
    g.eflags = flags;
    cpu.setEflags(flags & ~IOPL);
    return true;
  }

  /**
   * The guest's far RET (RETF, RETF imm16) completed in place: a return within its privilege level through an
   * ordinary code descriptor, checked as IRET's (in-place-transfer.ts ordinarySameLevelReturn; SDM 2 RET shares
   * IRET's return-CS checks, protect/protected-return.ts), CS and SS as the last return installed them and reported
   * consistent. The frame is read by the real CPU as in iret (a fault there is thrown before anything changed); then
   * CS:EIP and SP += 2 slots + imm16, as RETURN-TO-SAME-PRIVILEGE-LEVEL commits them. False (nothing changed) when
   * it must be emulated.
   */
  farReturn(os32: boolean, release: number): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const g = m.guest;
    if (!this.loadable(CS) || m.loadedSinceReturn(SS)) return false;
    const size = os32 ? 4 : 2;
    // IF top 2 slots of stack not within stack limits THEN #SS(0)
    checkPops(cpu, 2, size);
    const eip = peekSlot(cpu, 0, size);
    const selector = cpu.peekStack(size, 2);
    const d = this.descriptor;
    if (!ordinarySameLevelReturn(m.mem, g, m.guestTlb, cpu.a20Mask, selector, eip, d) || !this.slotHoldsGuest(selector, d)) return false;
    if (m.look.differs(g, cpu.a20Mask, m.tableEpoch, CS)) return false;
    this.loadCode(selector, d, 'far-ret');
    cpu.eip = eip >>> 0;
    adjustSp(cpu, 2 * size + release);
    return true;
  }

  /**
   * The guest's far JMP to `selector`:`offset` completed in place: a direct jump to a code segment at its own
   * privilege level through an ordinary descriptor (in-place-transfer.ts ordinaryFarJump), CS as the last return
   * installed it and reported consistent; then CS:EIP as protect/far-jmp.ts commits them (code-segment.ts
   * branchFar, CS.RPL ← CPL). False (nothing changed) when it must be emulated.
   */
  farJump(selector: number, offset: number, os32: boolean): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const g = m.guest;
    if (!this.loadable(CS)) return false;
    // A 16-bit operand size truncates the offset (SDM 2 JMP: tempEIP ← tempEIP AND 0000FFFFH).
    const eip = os32 ? offset >>> 0 : offset & 0xffff;
    selector &= 0xffff;
    const d = this.descriptor;
    if (!ordinaryFarJump(m.mem, g, m.guestTlb, cpu.a20Mask, selector, eip, d) || !this.slotHoldsGuest(selector, d)) return false;
    if (m.look.differs(g, cpu.a20Mask, m.tableEpoch, CS)) return false;
    this.loadCode(selector, d, 'far-jmp');
    cpu.eip = eip;
    return true;
  }

  /**
   * External interrupt `vector` delivered in place at this boundary: through an ordinary interrupt or trap gate of
   * the guest's IDT to a handler at its own privilege level (in-place-transfer.ts ordinaryInterruptGate), CS and SS
   * as the last return installed them and reported consistent, and the frame's slots within SS and writable in the
   * real CPU's TLB (a miss there is a shadow fill the entry makes). The frame is pushed by the real CPU through the
   * guest's stack, then CS:EIP and EFLAGS as bare delivery sets them (protect/interrupt.ts deliverSamePrivilege).
   * False (nothing changed) when the monitor's entry must deliver it.
   */
  deliver(vector: number): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const g = m.guest;
    if (!this.loadable(CS) || m.loadedSinceReturn(SS)) return false;
    const gate = this.gate;
    const d = this.descriptor;
    if (!ordinaryInterruptGate(m.mem, g, m.guestTlb, cpu.a20Mask, vector, gate, d) || !this.slotHoldsGuest(gate.selector, d)) return false;
    const size = gate.is32 ? 4 : 2;
    // IF current stack does not have room for the frame THEN #SS(EXT): left to the emulation, as a page the frame
    // would reach without a writable translation in the real TLB.
    if (!this.framePushable(3, size)) return false;
    if (m.look.differs(g, cpu.a20Mask, m.tableEpoch, CS)) return false;
    // (Debug traps of the instruction before were taken first at this boundary: none is pending to drop, as bare
    // delivery drops them, interrupt.ts deliverInterrupt.)
    const flags = guestFlags(cpu, g);
    cpu.push(size, size === 4 ? flags : flags & 0xffff);
    cpu.push(size, g.sel[CS]);
    cpu.push(size, size === 4 ? cpu.eip : cpu.eip & 0xffff);
    this.loadCode(gate.selector, d, 'interrupt');
    cpu.eip = gate.offset >>> 0;
    // TF, NT, RF, VM ← 0; an interrupt gate also clears IF, a trap gate does not.
    const next = (flags & ~(gate.kind === 'interrupt-gate' ? TF | NT | RF | VM | IF : TF | NT | RF | VM)) >>> 0;
    g.eflags = next;
    cpu.setEflags(next & ~IOPL);
    this.interrupts.n++;
    return true;
  }

  /**
   * What every load of `seg` completed in place asks of the monitor's state: no entry under way, the guest at CPL
   * 0–2 (SBE stays on whatever the registers hold), the register last reported consistent and holding what the last
   * return installed.
   */
  private loadable(seg: number): boolean {
    const m = this.m;
    return !m.inEntry && m.guest.cpl !== 3 && m.consistency[seg] === 'consistent' && !m.loadedSinceReturn(seg);
  }

  /** Whether `selector`'s virtual entry holds the guest's descriptor `d` as ring compression makes it (no return's cache written there). */
  private slotHoldsGuest(selector: number, d: Descriptor): boolean {
    const slot = selector >>> 3;
    const t = this.m.tables;
    return !t.dirty.has(slot) && t.slotHolds(slot, d.lo, virtualizeHigh(d.hi, this.m.guest.cpl));
  }

  /**
   * After a load of `seg` completed in place on the real CPU: the guest's record of the register (`selector` and the
   * cache its descriptor `d` gives), the installed state when the real register moved, the look's record of it, and
   * the guest's segment-load event, as the emulation gives them.
   */
  private recordLoad(seg: number, selector: number, d: Descriptor, cause: SegmentLoadCause): void {
    const m = this.m;
    const g = m.guest;
    const cpu = m.cpu;
    const ar = accessRightsOf(d);
    const ev = m.guestEvents;
    const report = ev.active[EV_SEGMENT_LOAD] !== 0;
    const oldSelector = g.sel[seg];
    const oldCache = report ? g.cache(seg) : null;
    if (oldSelector !== selector || g.base[seg] !== (d.base | 0) || g.limit[seg] !== d.limit || g.ar[seg] !== ar || g.valid[seg] !== 1) {
      g.setSegment(seg, selector, d.base, d.limit, ar, true);
      m.guestSegmentsChanged();
    }
    if (m.loadedSinceReturn(seg)) m.takeInstalled(seg);
    m.look.recordRegister(g, seg, cpu.a20Mask);
    if (report) {
      ev.emit(EV_SEGMENT_LOAD, { reg: seg, oldSelector, newSelector: selector, oldCache: oldCache!, newCache: g.cache(seg), cause, cs: g.sel[CS], eip: cpu.instrStart });
    }
  }

  /**
   * CS loaded in place by a transfer within the guest's privilege level (in-place-transfer.ts): the real CPU's load
   * from the virtual entry (slotHoldsGuest) through the compressed selector, as its own far transfer commits one
   * (protect/code-segment.ts branchFar; the accessed bit is set already), then the guest's record with RPL = CPL.
   */
  private loadCode(selector: number, d: Descriptor, cause: SegmentLoadCause): void {
    const m = this.m;
    const cpu = m.cpu;
    const g = m.guest;
    const v = decodeDescriptor(d.lo, virtualizeHigh(d.hi, g.cpl), this.realDescriptor);
    if ((cpu.segBase[CS] | 0) !== (v.base | 0)) cpu.mappingsChanged();
    m.mute();
    try {
      cpu.loadSegmentCache(CS, (selector & 0xfffc) | 3, v.base, v.limit, accessRightsOf(v), true, cause);
    } finally {
      m.unmute();
    }
    this.recordLoad(CS, (selector & 0xfffc) | g.cpl, d, cause);
  }

  /** Whether `count` pushes of `size` bytes by the deprivileged CPU pass SS's checks and its TLB without a fault. */
  private framePushable(count: number, size: number): boolean {
    const cpu = this.m.cpu;
    const entries = cpu.tlb.entries;
    for (let k = 1; k <= count; k++) {
      const off = stackOffset(cpu, -k * size);
      if (off < cpu.writeLo[SS] || off + size - 1 > cpu.writeHi[SS]) return false;
      if (!cpu.pagingOn) continue;
      const lin = (cpu.segBase[SS] + off) >>> 0;
      // The real CPU runs the guest at CPL 3: a user write.
      if ((entries[lin >>> 12] & TLB_USER_WRITE) === 0 || (entries[((lin + size - 1) >>> 0) >>> 12] & TLB_USER_WRITE) === 0) return false;
    }
    return true;
  }
}
