// The x87 register file and its control, status and tag words (SDM vol. 1 §8.1): eight 80-bit data registers used
// as a stack through TOP, and the last-instruction and last-operand pointers (§8.1.8).
//
// Tags are kept as empty / not empty per physical register (the abridged form); the full 2-bit tag FSTENV/FSAVE
// store is computed from each register's contents, as the P6 family does (SDM vol. 1 §8.1.7).

import { Cls, classify, EXP_MAX, f80, type F80 } from './float80';

export const SW_IE = 0x0001, SW_SF = 0x0040, SW_ES = 0x0080, SW_B = 0x8000;
export const SW_C0 = 0x0100, SW_C1 = 0x0200, SW_C2 = 0x0400, SW_C3 = 0x4000;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
export const SW_TOP_SHIFT = 11;
export const SW_TOP = 0x3800;
export const TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;
/** FNINIT's control word: all exceptions masked, 64-bit precision, round to nearest (SDM vol. 1 §8.1.5). */
export const CW_INIT = 0x037f;

export class FpuState {
  cw = CW_INIT;
  /** Status word without TOP (bits 11–13 are kept in `top`). */
  sw = 0;
  top = 0;
  /** Per physical register: sign << 15 | biased exponent, and the 64-bit significand. */
  readonly se = new Uint16Array(8);
  readonly sig: bigint[] = new Array<bigint>(8).fill(0n);
  /** Per physical register: 1 when empty (abridged tag). */
  readonly empty = new Uint8Array(8).fill(1);
  /** Last instruction pointer (offset and CS selector), opcode (11 bits), last data pointer (offset and selector). */
  fip = 0;
  fcs = 0;
  fop = 0;
  fdp = 0;
  fds = 0;
  /** FERR# output level (CR0.NE = 0 reporting, SDM vol. 1 §D.2). */
  ferr = false;

  /** State after RESET (SDM 3A Table 9-1): CW 0040H, SW 0, every register +0 and tagged valid (TW 5555H). */
  powerOn(): void {
    this.init();
    this.cw = 0x0040;
    this.se.fill(0);
    this.sig.fill(0n);
    this.empty.fill(0);
    this.ferr = false;
  }

  init(): void {
    this.cw = CW_INIT;
    this.sw = 0;
    this.top = 0;
    this.empty.fill(1);
    this.fip = this.fcs = this.fop = this.fdp = this.fds = 0;
  }

  /** Status word as the guest reads it (TOP merged in). */
  get status(): number {
    return (this.sw & ~SW_TOP) | (this.top << SW_TOP_SHIFT);
  }

  set status(v: number) {
    this.sw = v & ~SW_TOP & 0xffff;
    this.top = (v & SW_TOP) >> SW_TOP_SHIFT;
  }

  phys(i: number): number {
    return (this.top + i) & 7;
  }

  isEmpty(i: number): boolean {
    return this.empty[(this.top + i) & 7] === 1;
  }

  st(i: number): F80 {
    return this.reg(this.phys(i));
  }

  reg(p: number): F80 {
    const se = this.se[p];
    return f80(se >> 15, se & EXP_MAX, this.sig[p]);
  }

  setReg(p: number, v: F80): void {
    this.se[p] = (v.sign << 15) | v.exp;
    this.sig[p] = v.sig;
    this.empty[p] = 0;
  }

  setSt(i: number, v: F80): void {
    this.setReg(this.phys(i), v);
  }

  push(v: F80): void {
    this.top = (this.top - 1) & 7;
    this.setReg(this.top, v);
  }

  pop(): void {
    this.empty[this.top] = 1;
    this.top = (this.top + 1) & 7;
  }

  /** The 2-bit tag of a physical register computed from its contents (SDM vol. 1 Figure 8-7). */
  tagOf(p: number): number {
    if (this.empty[p]) return TAG_EMPTY;
    const c = classify(this.reg(p));
    return c === Cls.Normal ? TAG_VALID : c === Cls.Zero ? TAG_ZERO : TAG_SPECIAL;
  }

  get tagWord(): number {
    let tw = 0;
    for (let p = 0; p < 8; p++) tw |= this.tagOf(p) << (2 * p);
    return tw;
  }

  /** Loads a tag word: 11 marks a register empty, any other value not empty (its real tag follows its contents). */
  set tagWord(tw: number) {
    for (let p = 0; p < 8; p++) this.empty[p] = ((tw >> (2 * p)) & 3) === TAG_EMPTY ? 1 : 0;
  }

  copyFrom(o: FpuState): void {
    this.cw = o.cw;
    this.sw = o.sw;
    this.top = o.top;
    this.se.set(o.se);
    for (let p = 0; p < 8; p++) this.sig[p] = o.sig[p];
    this.empty.set(o.empty);
    this.fip = o.fip;
    this.fcs = o.fcs;
    this.fop = o.fop;
    this.fdp = o.fdp;
    this.fds = o.fds;
    this.ferr = o.ferr;
  }

  /** A plain-data copy for machine snapshots (BigInts as hex strings so the snapshot stays JSON-able). */
  save(): FpuSnapshot {
    return {
      cw: this.cw,
      sw: this.status,
      regs: Array.from({ length: 8 }, (_, p) => [this.se[p], this.sig[p].toString(16), this.empty[p]] as [number, string, number]),
      fip: this.fip,
      fcs: this.fcs,
      fop: this.fop,
      fdp: this.fdp,
      fds: this.fds,
      ferr: this.ferr,
    };
  }

  load(s: FpuSnapshot): void {
    this.cw = s.cw;
    this.status = s.sw;
    s.regs.forEach(([se, sig, empty], p) => {
      this.se[p] = se;
      this.sig[p] = BigInt('0x' + sig);
      this.empty[p] = empty;
    });
    this.fip = s.fip;
    this.fcs = s.fcs;
    this.fop = s.fop;
    this.fdp = s.fdp;
    this.fds = s.fds;
    this.ferr = s.ferr;
  }
}

export interface FpuSnapshot {
  cw: number;
  sw: number;
  regs: [number, string, number][];
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
  ferr: boolean;
}
