// The guest's virtual CPU: everything the guest would see in the CPU on bare hardware that differs from the real
// CPU while the guest runs deprivileged — CPL, EFLAGS (IF, IOPL), CR0/2/3/4, GDTR, IDTR, and every segment
// register's selector and hidden cache (LDTR and TR included). General registers are not kept here: they live in
// the CPU, except ESP while the monitor runs on its own stack.
//
// The monitor moves the whole state between this record and the CPU ("the guest view" on the CPU) to emulate an
// instruction or deliver an exception exactly as the engine does on a bare machine.

import type { Cpu } from '../cpu/cpu';
import { ESP } from '../cpu/cpu';
import type { CacheSnapshot } from '../events';

export class GuestState {
  cpl = 0;
  eflags = 0;
  eip = 0;
  esp = 0;
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  gdtrBase = 0;
  gdtrLimit = 0;
  idtrBase = 0;
  idtrLimit = 0;
  /**
   * IA32_SYSENTER_CS as the guest wrote it. While the guest runs deprivileged the CPU's own MSR holds 0, so that
   * SYSENTER faults (#GP(0), SDM 2 SYSENTER) into the monitor instead of entering ring 0; ESP and EIP stay live.
   */
  sysenterCs = 0;
  readonly sel = new Uint16Array(8);
  readonly base = new Int32Array(8);
  readonly limit = new Uint32Array(8);
  readonly ar = new Uint16Array(8);
  readonly valid = new Uint8Array(8);

  cache(seg: number): CacheSnapshot {
    return { base: this.base[seg] >>> 0, limit: this.limit[seg], ar: this.ar[seg], valid: this.valid[seg] !== 0 };
  }

  setSegment(seg: number, sel: number, base: number, limit: number, ar: number, valid: boolean): void {
    this.sel[seg] = sel;
    this.base[seg] = base | 0;
    this.limit[seg] = limit >>> 0;
    this.ar[seg] = ar;
    this.valid[seg] = valid ? 1 : 0;
  }

  copyFrom(o: GuestState): void {
    this.cpl = o.cpl;
    this.eflags = o.eflags;
    this.eip = o.eip;
    this.esp = o.esp;
    this.cr0 = o.cr0;
    this.cr2 = o.cr2;
    this.cr3 = o.cr3;
    this.cr4 = o.cr4;
    this.gdtrBase = o.gdtrBase;
    this.gdtrLimit = o.gdtrLimit;
    this.idtrBase = o.idtrBase;
    this.idtrLimit = o.idtrLimit;
    this.sysenterCs = o.sysenterCs;
    // Element loops, not TypedArray.set: for eight elements the call costs more than the copy (the monitor and the
    // lockstep copy these records at every entry and every instruction).
    for (let s = 0; s < 8; s++) {
      this.sel[s] = o.sel[s];
      this.base[s] = o.base[s];
      this.limit[s] = o.limit[s];
      this.ar[s] = o.ar[s];
      this.valid[s] = o.valid[s];
    }
  }

  /**
   * Reads the guest view from a CPU that holds it (bare-like execution, or the monitor's emulation step); of the
   * segment registers only those in `segments` (bits by number: the others are known to hold what this record does).
   */
  captureFrom(cpu: Cpu, segments = 0xff): void {
    this.cpl = cpu.cpl;
    this.eflags = cpu.getEflags();
    this.eip = cpu.eip;
    this.esp = cpu.regs[ESP] >>> 0;
    this.cr0 = cpu.cr0 >>> 0;
    this.cr2 = cpu.cr2 >>> 0;
    this.cr3 = cpu.cr3 >>> 0;
    this.cr4 = cpu.cr4 >>> 0;
    this.gdtrBase = cpu.gdtrBase >>> 0;
    this.gdtrLimit = cpu.gdtrLimit;
    this.idtrBase = cpu.idtrBase >>> 0;
    this.idtrLimit = cpu.idtrLimit;
    this.sysenterCs = cpu.sysenterCs;
    for (let s = 0; s < 8; s++) {
      if ((segments & (1 << s)) === 0) continue;
      this.sel[s] = cpu.segSel[s];
      this.base[s] = cpu.segBase[s];
      this.limit[s] = cpu.segLimit[s];
      this.ar[s] = cpu.segAr[s];
      this.valid[s] = cpu.segValid[s];
    }
  }

  /** Puts the guest view into the CPU (the caller mutes events: this is the monitor's bookkeeping, not a load). */
  installOn(cpu: Cpu): void {
    cpu.cr0 = this.cr0 | 0;
    cpu.cr2 = this.cr2 | 0;
    cpu.cr3 = this.cr3 | 0;
    cpu.cr4 = this.cr4 | 0;
    cpu.gdtrBase = this.gdtrBase | 0;
    cpu.gdtrLimit = this.gdtrLimit;
    cpu.idtrBase = this.idtrBase | 0;
    cpu.idtrLimit = this.idtrLimit;
    cpu.sysenterCs = this.sysenterCs;
    cpu.setEflags(this.eflags);
    cpu.cpl = this.cpl;
    cpu.eip = this.eip >>> 0;
    cpu.regs[ESP] = this.esp | 0;
    cpu.restoreSegmentRegisters(this.sel, this.base, this.limit, this.ar, this.valid); // then the mode (modeChanged)
  }
}
