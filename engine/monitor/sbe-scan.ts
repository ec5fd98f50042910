// Scan-before-execute's binding (engine/monitor/README.md "SBE"): what the decoder binds to the monitor as it
// decodes each instruction — nothing, the always-sensitive set, or every sensitive instruction (the in-place
// handlers of in-place.ts where they exist) — and which pages hold code decoded under which scan, so that a change of
// scan drops exactly the decoded code (and the blocks built from it) that the new scan would bind differently.

import type { Cpu } from '../cpu/cpu';
import type { Handler, Instr } from '../cpu/decode/instr';
import { isAlwaysSensitive, isSensitive } from './sensitive';

/** What the decoder binds: nothing, the always-sensitive set, or everything sensitive. */
export type Scan = 'none' | 'always' | 'all';
const SCANS: readonly Scan[] = ['none', 'always', 'all'];

export class SbeScan {
  current: Scan = 'none';
  /** Set while the monitor's restore() runs: scan changes wait for its end. */
  hold = false;
  /**
   * The physical pages holding instructions decoded under each scan since apply last dropped them (a page may be
   * in two sets: code decoded under both).
   */
  private readonly pages: Record<Scan, Set<number>> = { none: new Set(), always: new Set(), all: new Set() };
  private readonly scanAll = (i: Instr, page: number): void => {
    this.pages.all.add(page);
    const own = i.row === null ? undefined : this.inPlace.get(i.row.handler);
    if (own !== undefined) i.exec = own;
    else if (isSensitive(i)) i.exec = this.bound;
  };
  private readonly scanAlways = (i: Instr, page: number): void => {
    this.pages.always.add(page);
    if (isAlwaysSensitive(i)) i.exec = this.bound;
  };
  /** While nothing is bound: only where code was decoded (an engagement drops those pages). */
  private readonly scanNone = (_i: Instr, page: number): void => {
    this.pages.none.add(page);
  };

  /**
   * `inPlace`: the handlers that complete a sensitive instruction in place, by the name of the handler they stand in
   * for; `bound`: what every other sensitive instruction is bound to (the monitor's entry).
   */
  constructor(
    private readonly cpu: Cpu,
    private readonly inPlace: Map<string, Handler>,
    private readonly bound: Handler,
  ) {
    // What was decoded before the monitor came is recorded under no scan: it goes now, and from here on every page
    // of decoded code is known by the scan it was decoded under (apply).
    cpu.sbeScan = this.scanNone;
    cpu.dropDecodedInstructions();
  }

  /**
   * Binds the decoder's SBE predicate. Engaging (a scan that binds) drops the pages holding code decoded under any
   * other scan, so every instruction there is decoded and scanned again, with the blocks built from them; the pages
   * decoded under this scan in an earlier engagement keep their instructions and blocks. Leaving keeps the binding:
   * a bound instruction runs as a bare CPU's while the monitor does not run the guest deprivileged (sbeEntry and the
   * in-place handlers look first), so what the guest decodes while emulated (its real-mode code, its switch into
   * protected mode) is bound as well and the next engagement finds no page decoded under another scan. A guest that
   * switches modes around its BIOS calls (SYSLINUX: 136 switches to its kernel) used to have all its code decoded
   * and translated again after each; then (scan 'none' while emulated) every page holding code of both modes — the
   * cold-code workload's single page, 20 000 switches — was still dropped at each engagement. Only the code decoded
   * before the first engagement is decoded unbound (scan 'none': a guest that never reaches protected mode runs
   * its sensitive instructions natively in translated code).
   */
  apply(scan: Scan): void {
    if (scan === this.current) return;
    this.current = scan;
    const cpu = this.cpu;
    cpu.sbeScan = scan === 'all' ? this.scanAll : scan === 'always' ? this.scanAlways : this.scanNone;
    if (this.hold) return; // restore() drops them once at its end, if the scan changed
    if (scan === 'none') return;
    // Translated blocks call a sensitive instruction's handler through its decoded record (jit/ops.ts: none of them
    // is translated natively once bound), so the bound trap fires inside blocks too; a block built from unbound
    // instructions goes with the page it was built from.
    const drop: number[] = [];
    for (const other of SCANS) {
      if (other === scan) continue;
      for (const page of this.pages[other]) drop.push(page);
      this.pages[other].clear();
    }
    for (const page of drop) this.pages[scan].delete(page);
    if (drop.length > 0) cpu.dropDecodedPages(drop);
  }

  /** Every decoded instruction dropped: no page holds code of any scan. */
  dropAll(): void {
    this.cpu.dropDecodedInstructions();
    for (const s of SCANS) this.pages[s].clear();
  }
}
