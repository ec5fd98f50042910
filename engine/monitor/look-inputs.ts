// What the monitor's consistency look read (monitor.ts afterGuestView, recheckConsistency), so that a look whose
// inputs all stand is skipped: each register's consistency (protect/consistency.ts) is a function of the mode
// (CR0, EFLAGS.VM), the CPL, GDTR, A20, every segment register's selector and cache, and the bytes of the
// descriptor each selector names, read through the guest's paging as it stands in memory (a walk, not the TLB).
//
// Without guest paging those bytes change only by a store into the guest's GDT or LDT, which the table watch reports
// (`tableEpoch` counts them). With guest paging the translation can change under the tables without a trap — the
// guest rewrites its page tables, and the consistency look walks them — so each register's descriptor address is
// walked again and compared with the walk of the last look. That walk stands for the descriptor's bytes only while
// the watched page is the one it reaches: the table watch follows the translation the guest's CPU uses (its TLB,
// else the same walk), so a descriptor whose walk differs from the TLB's translation (a stale TLB entry), lies
// across a page boundary or outside RAM, or sits in an LDT the watch leaves out (a null LDTR selector) is never
// taken as unchanged: the look then runs every time, as it did for every paging guest before.
//
// The comparison costs a walk per distinct descriptor page (one for a kernel's GDT): the look it spares walked
// every byte of eight descriptors and built a report per register, about 6 µs of each monitor entry under Linux.

import type { PhysicalMemory } from '../bus/memory';
import { CR0_PE, CR0_PG, LDTR } from '../cpu/cpu';
import { VM } from '../cpu/flags';
import { peekWalk } from '../cpu/protect/peek';
import { TLB_FRAME, type Tlb } from '../cpu/protect/tlb';
import type { GuestState } from './guest-state';

const HEAD = 9;
const PER_REGISTER = 6;
/** A register's walk when its selector names no descriptor (null, or beyond its table): nothing to read. */
const NO_DESCRIPTOR = -2;
/** A register's walk that does not stand for its descriptor's bytes (see above): the look always runs. */
const UNTRACKED = -3;

export class LookInputs {
  private readonly v = new Int32Array(HEAD + 8 * PER_REGISTER);
  /** Whether `v` holds the inputs of the last look (a baseline look records none). */
  known = false;
  /** The page walked last in one comparison (walks of one descriptor page are shared), and its frame. */
  private walkedPage = -1;
  private walkedFrame = -1;

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly guestTlb: Tlb,
  ) {}

  /**
   * Whether any input of the look differs from the recorded ones (always when none are recorded), register `skip`
   * left out (-1: none).
   */
  differs(g: GuestState, a20Mask: number, tableEpoch: number, skip = -1): boolean {
    const v = this.v;
    if (!this.known) return true;
    if (
      v[0] !== tableEpoch ||
      v[1] !== (g.cr0 | 0) ||
      v[2] !== (g.eflags & VM) ||
      v[3] !== g.cpl ||
      v[4] !== (g.gdtrBase | 0) ||
      v[5] !== g.gdtrLimit ||
      v[6] !== (a20Mask | 0) ||
      v[7] !== (g.cr3 | 0) ||
      v[8] !== (g.cr4 | 0)
    ) {
      return true;
    }
    const paging = (g.cr0 & (CR0_PG | CR0_PE)) === (CR0_PG | CR0_PE);
    this.walkedPage = -1;
    for (let reg = 0, k = HEAD; reg < 8; reg++, k += PER_REGISTER) {
      if (reg === skip) continue;
      if (
        v[k] !== g.sel[reg] ||
        v[k + 1] !== g.base[reg] ||
        v[k + 2] !== (g.limit[reg] | 0) ||
        v[k + 3] !== g.ar[reg] ||
        v[k + 4] !== g.valid[reg]
      ) {
        return true;
      }
      if (paging && (v[k + 5] === UNTRACKED || v[k + 5] !== this.descriptorWalk(g, reg, a20Mask))) return true;
    }
    return false;
  }

  /** Records the inputs of a look made now. */
  record(g: GuestState, a20Mask: number, tableEpoch: number): void {
    const v = this.v;
    this.known = true;
    v[0] = tableEpoch;
    v[1] = g.cr0 | 0;
    v[2] = g.eflags & VM;
    v[3] = g.cpl;
    v[4] = g.gdtrBase | 0;
    v[5] = g.gdtrLimit;
    v[6] = a20Mask | 0;
    v[7] = g.cr3 | 0;
    v[8] = g.cr4 | 0;
    this.walkedPage = -1;
    for (let reg = 0; reg < 8; reg++) this.recordRegister(g, reg, a20Mask);
  }

  /** Records register `reg`'s inputs alone (its look was made without a full one: an in-place load). */
  recordRegister(g: GuestState, reg: number, a20Mask: number): void {
    const v = this.v;
    const k = HEAD + reg * PER_REGISTER;
    v[k] = g.sel[reg];
    v[k + 1] = g.base[reg];
    v[k + 2] = g.limit[reg] | 0;
    v[k + 3] = g.ar[reg];
    v[k + 4] = g.valid[reg];
    v[k + 5] = (g.cr0 & (CR0_PG | CR0_PE)) === (CR0_PG | CR0_PE) ? this.descriptorWalk(g, reg, a20Mask) : 0;
  }

  /**
   * Where the look's walk finds the descriptor register `reg`'s selector names (-1: unmapped), NO_DESCRIPTOR, or
   * UNTRACKED (protect/descriptor-table.ts descriptorAddress gives the address).
   */
  private descriptorWalk(g: GuestState, reg: number, a20Mask: number): number {
    const sel = g.sel[reg];
    if ((sel & 0xfffc) === 0) return NO_DESCRIPTOR;
    const offset = sel & 0xfff8;
    let linear: number;
    if ((sel & 4) !== 0) {
      if (!g.valid[LDTR]) return NO_DESCRIPTOR;
      if ((g.sel[LDTR] & 0xfffc) === 0) return UNTRACKED;
      if (offset + 7 > g.limit[LDTR]) return NO_DESCRIPTOR;
      linear = (g.base[LDTR] + offset) >>> 0;
    } else {
      if (offset + 7 > g.gdtrLimit) return NO_DESCRIPTOR;
      linear = (g.gdtrBase + offset) >>> 0;
    }
    if ((linear & 0xfff) > 0xff8) return UNTRACKED;
    const page = linear >>> 12;
    if (page !== this.walkedPage) {
      this.walkedPage = page;
      this.walkedFrame = peekWalk(this.mem, g.cr3, g.cr4, a20Mask, (page << 12) >>> 0);
    }
    const frame = this.walkedFrame;
    const entry = this.guestTlb.entries[page];
    if (frame < 0) return entry === 0 ? -1 : UNTRACKED;
    // A20 masks bit 20 only: the frame's masking holds for every offset in it.
    const walk = frame + (linear & 0xfff);
    if (entry !== 0 && ((((entry & TLB_FRAME) | (linear & 0xfff)) & a20Mask) >>> 0) !== walk) return UNTRACKED;
    if (walk + 7 >= this.mem.size) return UNTRACKED;
    return walk;
  }
}
