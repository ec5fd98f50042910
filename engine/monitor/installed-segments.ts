// The installed-segment record (monitor.ts): the real segment state the last return to the guest left, and the
// segment registers the guest loaded directly since (at ring 3, or with SBE forced off), taken into its view from the
// live registers — or, for CS and SS changed by a direct far transfer, from the virtual entry they were loaded from.

import type { Cpu } from '../cpu/cpu';
import { CS, DS, ES, ESP, FS, GS, SS } from '../cpu/cpu';
import { IOPL } from '../cpu/flags';
import { decodeDescriptor } from '../cpu/protect/descriptor';
import { GuestState } from './guest-state';
import { slotOf, type VirtualTables } from './virtual-tables';

const DATA_SEGS = [DS, ES, FS, GS];

export class InstalledSegments {
  /**
   * The real segment state the last return left (ES…GS), to recognise loads the guest did directly since: after a
   * direct return, `returnResult` itself (what that return set; nothing copied), else `own`.
   */
  private installed: GuestState;
  private readonly own = new GuestState();

  constructor(
    private readonly cpu: Cpu,
    /** The monitor's view of the guest (GuestState `guest`). */
    private readonly guest: GuestState,
    private readonly tables: VirtualTables,
    /** Called when a register of `guest` changes here (the return shortcut's key no longer holds: `guestIsKey`). */
    private readonly guestSegmentsChanged: () => void,
  ) {
    this.installed = this.own;
  }

  /** The selector the last return installed in register `s`. */
  selector(s: number): number {
    return this.installed.sel[s];
  }

  /** A real return's result: the real CPU's segment registers as the sequence left them. */
  fromReturn(): void {
    const cpu = this.cpu;
    this.installed = this.own;
    this.installed.sel.set(cpu.segSel);
    this.installed.base.set(cpu.segBase);
    this.installed.limit.set(cpu.segLimit);
    this.installed.ar.set(cpu.segAr);
    this.installed.valid.set(cpu.segValid);
  }

  /** A direct return's result (direct-return.ts take): what the loads left (it changes only at the next real return, which replaces this). */
  fromDirectReturn(result: GuestState): void {
    this.installed = result;
  }

  /** The real CPU's register `s` as now installed (a load completed in place, in-place-completion.ts). */
  take(s: number): void {
    this.ownInstalledState();
    this.takeLiveSegment(this.installed, s);
  }

  /** Data segment registers the guest loaded directly since the last return (ring 3, or SBE forced off). */
  adoptDirectLoads(g: GuestState): void {
    for (const s of DATA_SEGS) if (this.loadedSinceReturn(s)) this.takeLiveSegment(g, s);
  }

  /** During direct execution: every segment register loaded directly since the return, into the guest's view. */
  adoptLiveLoads(): void {
    const g = this.guest;
    for (let s = 0; s < 6; s++) {
      if (!this.loadedSinceReturn(s)) continue;
      this.takeLiveSegment(g, s);
      this.ownInstalledState();
      this.takeLiveSegment(this.installed, s);
      if (s === CS) g.cpl = this.cpu.cpl;
    }
  }

  /** `installed` as a record of its own, to be changed (it may be the last return's result). */
  private ownInstalledState(): void {
    if (this.installed === this.own) return;
    this.own.copyFrom(this.installed);
    this.installed = this.own;
  }

  /** Whether the real CPU's register differs from what the last return installed (a direct load since). */
  loadedSinceReturn(s: number): boolean {
    const cpu = this.cpu;
    const inst = this.installed;
    return (
      cpu.segSel[s] !== inst.sel[s] ||
      cpu.segBase[s] !== inst.base[s] ||
      cpu.segLimit[s] !== inst.limit[s] ||
      cpu.segAr[s] !== inst.ar[s] ||
      cpu.segValid[s] !== inst.valid[s]
    );
  }

  /** Copies the real CPU's register `s` (selector and cache) into a guest record. */
  private takeLiveSegment(g: GuestState, s: number): void {
    const cpu = this.cpu;
    if (g === this.guest) this.guestSegmentsChanged();
    g.setSegment(s, cpu.segSel[s], cpu.segBase[s], cpu.segLimit[s], cpu.segAr[s], cpu.segValid[s] !== 0);
  }

  /** CS or SS changed by a direct far transfer: the cache is the virtual entry it was loaded from. */
  adoptFromSlot(g: GuestState, seg: number, selector: number): void {
    if (g === this.guest) this.guestSegmentsChanged();
    const [lo, hi] = this.tables.readSlot(slotOf(selector));
    const d = decodeDescriptor(lo, hi);
    g.setSegment(seg, selector, d.base, d.limit, ((d.hi >>> 8) & 0xf0ff) | 1, true);
    if (seg === CS) g.cpl = selector & 3;
  }

  /** The guest's view, complete, during direct execution: tracked state and live registers. */
  liveGuest(out: GuestState): GuestState {
    const cpu = this.cpu;
    const g = this.guest;
    out.copyFrom(g);
    this.adoptDirectLoads(out);
    for (const s of [CS, SS]) {
      if (cpu.segSel[s] !== this.installed.sel[s]) {
        this.takeLiveSegment(out, s);
        if (s === CS) out.cpl = cpu.cpl;
      }
    }
    out.eip = cpu.eip;
    out.esp = cpu.regs[ESP] >>> 0;
    out.eflags = ((cpu.getEflags() & ~IOPL) | (g.eflags & IOPL)) >>> 0;
    return out;
  }
}
