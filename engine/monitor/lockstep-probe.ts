// The lockstep's per-instruction comparison, without allocation (issue 16: the real guests' lockstep in `npm test`).
// visibleState() builds an object of arrays and strings for a report; doing that twice per instruction cost about
// 20 µs, far more than the two instructions themselves (0.1–0.2 µs each). The probe reads the same fields — the
// general registers, EIP, EFLAGS as the guest sees them, CPL, CR0–CR4, GDTR, IDTR, the SYSENTER MSRs, every
// segment register's selector and hidden cache, halt/shutdown, the instruction count, the pending debug traps and the
// x87 state — into two reused GuestState records and compares them field by field. It is a filter: when anything
// differs, the caller builds both VisibleStates and names the field with firstDifference(), exactly as before. It
// serves two comparisons: a bare machine against a monitored guest's view (the lockstep), and two real CPUs
// (test/engine/monitor/shortcuts.test.ts: the deprivileged CPUs of two monitored machines, with and without the
// monitor's shortcuts).

import type { Cpu } from '../cpu/cpu';
import { ESP } from '../cpu/cpu';
import type { FpuState } from '../cpu/fpu/state';
import type { Machine } from '../machine/machine';
import { GuestState } from './guest-state';
import type { Monitor } from './monitor';

export class StateProbe {
  private readonly a = new GuestState();
  private readonly b = new GuestState();

  /**
   * True when everything visibleState() shows is equal on both machines: each as its CPU holds it, or, with its
   * monitor given, in the guest's view.
   */
  same(first: Machine, firstMonitor: Monitor | null, second: Machine, secondMonitor: Monitor | null): boolean {
    const x = first.cpu;
    const y = second.cpu;
    const a = this.a;
    const b = this.b;
    if (firstMonitor === null) a.captureFrom(x);
    else firstMonitor.currentGuest(a);
    if (secondMonitor === null) b.captureFrom(y);
    else secondMonitor.currentGuest(b);
    for (let r = 0; r < 8; r++) if (r !== ESP && x.regs[r] !== y.regs[r]) return false;
    if (a.esp !== b.esp || a.eip !== b.eip || a.eflags !== b.eflags || a.cpl !== b.cpl) return false;
    if (a.cr0 !== b.cr0 || a.cr2 !== b.cr2 || a.cr3 !== b.cr3 || a.cr4 !== b.cr4) return false;
    if (a.gdtrBase !== b.gdtrBase || a.gdtrLimit !== b.gdtrLimit || a.idtrBase !== b.idtrBase || a.idtrLimit !== b.idtrLimit) return false;
    if (a.sysenterCs !== b.sysenterCs || x.sysenterEsp !== y.sysenterEsp || x.sysenterEip !== y.sysenterEip) return false;
    for (let s = 0; s < 8; s++) {
      if (a.sel[s] !== b.sel[s] || a.base[s] !== b.base[s] || a.limit[s] !== b.limit[s] || a.ar[s] !== b.ar[s] || a.valid[s] !== b.valid[s]) return false;
    }
    if (x.halted !== y.halted || x.shutdown !== y.shutdown || x.icount !== y.icount || x.pendingDebugTraps !== y.pendingDebugTraps) return false;
    return sameFpu(x, y);
  }
}

/** The x87 fields visibleState shows (FCS and FDS left out, as there), compared raw. */
function sameFpu(x: Cpu, y: Cpu): boolean {
  const f: FpuState = x.fpu;
  const g: FpuState = y.fpu;
  if (f.cw !== g.cw || f.sw !== g.sw || f.top !== g.top || f.fip !== g.fip || f.fop !== g.fop || f.fdp !== g.fdp) return false;
  for (let p = 0; p < 8; p++) if (f.se[p] !== g.se[p] || f.sig[p] !== g.sig[p] || f.empty[p] !== g.empty[p]) return false;
  return true;
}
