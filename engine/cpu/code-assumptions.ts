// What the run loop's links between decoded instructions, its remembered jump targets and block successors, and a
// translated block that goes on after an interpreter call take as given besides the code bytes themselves (stores to
// code move the code epoch on their own, decode/decode-cache.ts): how CS decodes and where its bytes are (CS's selector
// and cache, the decode and stack sizes, PE and VM), how linear addresses translate (CR0, CR3, CR4, the TLB in use,
// A20, whether accesses take the checked path) and what a block was built for (blockKey: CPL, the flat segments).
//
// The monitor switches the CPU between the deprivileged state and the guest's view twice per entry, and those
// switches (Cpu.restoreSegmentRegisters) leave the code epoch alone: it captures these before an entry and moves the
// epoch after it only if one differs (`settle`). Everything else that changes them during the entry — an emulated
// far transfer or fault delivery loading CS, a control-register write, INVLPG, a shadow page-table drop, an SBE
// rescan — moves the epoch itself, as on a bare CPU.

import { CS, SS, type Cpu } from './cpu';
import { VM } from './flags';
import type { Tlb } from './protect/tlb';

const FIELDS = 18;

export class CodeAssumptions {
  private readonly values = new Int32Array(FIELDS);
  private tlb: Tlb | null = null;

  /** Records the assumptions the CPU's state makes now. */
  capture(cpu: Cpu): void {
    const v = this.values;
    v[0] = cpu.segSel[CS];
    v[1] = cpu.segBase[CS];
    v[2] = cpu.segLimit[CS] | 0;
    v[3] = cpu.segAr[CS];
    v[4] = cpu.segValid[CS];
    v[5] = cpu.segAr[SS];
    v[6] = cpu.cpl;
    v[7] = cpu.cr0 | 0;
    v[8] = cpu.cr3 | 0;
    v[9] = cpu.cr4 | 0;
    v[10] = cpu.flags & VM;
    v[11] = cpu.a20Mask | 0;
    v[12] = cpu.checkLinear ? 1 : 0;
    v[13] = cpu.flatRead;
    v[14] = cpu.flatWrite;
    v[15] = cpu.code32 ? 1 : 0;
    v[16] = cpu.stack32 ? 1 : 0;
    v[17] = cpu.pagingOn ? 1 : 0;
    this.tlb = cpu.tlb;
  }

  /** Whether anything captured differs now. */
  differs(cpu: Cpu): boolean {
    const v = this.values;
    return (
      cpu.tlb !== this.tlb ||
      v[0] !== cpu.segSel[CS] ||
      v[1] !== cpu.segBase[CS] ||
      v[2] !== (cpu.segLimit[CS] | 0) ||
      v[3] !== cpu.segAr[CS] ||
      v[4] !== cpu.segValid[CS] ||
      v[5] !== cpu.segAr[SS] ||
      v[6] !== cpu.cpl ||
      v[7] !== (cpu.cr0 | 0) ||
      v[8] !== (cpu.cr3 | 0) ||
      v[9] !== (cpu.cr4 | 0) ||
      v[10] !== (cpu.flags & VM) ||
      v[11] !== (cpu.a20Mask | 0) ||
      v[12] !== (cpu.checkLinear ? 1 : 0) ||
      v[13] !== cpu.flatRead ||
      v[14] !== cpu.flatWrite ||
      v[15] !== (cpu.code32 ? 1 : 0) ||
      v[16] !== (cpu.stack32 ? 1 : 0) ||
      v[17] !== (cpu.pagingOn ? 1 : 0)
    );
  }

  /** Moves the code epoch when anything captured differs now; true when it did. */
  settle(cpu: Cpu): boolean {
    if (!this.differs(cpu)) return false;
    cpu.mappingsChanged();
    return true;
  }
}
