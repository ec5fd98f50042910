// The guest's descriptor tables as the deprivileged CPU needs them (model.md §3): the GDT, LDT and IDT watched for
// stores (table-watch.ts) and the virtual GDT and LDT built from them (virtual-tables.ts), done again only when
// something they follow from has changed.

import { CR0_PG, LDTR } from '../cpu/cpu';
import type { GuestState } from './guest-state';
import type { TableWatch, WatchedRange } from './table-watch';
import type { VirtualTables } from './virtual-tables';

export class TablePreparation {
  /** What prepare last watched and built from (unchanged); NaN: look again. */
  private readonly key = new Float64Array(10).fill(NaN);
  /** The ranges prepare watches, reused: the watch keeps these objects and rebuilds whenever their values change. */
  private readonly ranges: WatchedRange[] = [
    { table: 'GDT', base: 0, limit: 0 },
    { table: 'LDT', base: 0, limit: 0 },
    { table: 'IDT', base: 0, limit: 0 },
  ];
  private readonly rangesNoLdt = [this.ranges[0], this.ranges[2]];

  constructor(
    private readonly watch: TableWatch,
    private readonly tables: VirtualTables,
  ) {}

  /** Whether the virtual tables were rebuilt (their contents may differ: the monitor moves its `tableEpoch`). */
  prepare(g: GuestState, a20Mask: number, force: boolean): boolean {
    const ldtValid = g.valid[LDTR] !== 0 && (g.sel[LDTR] & 0xfffc) !== 0;
    if (!force && this.unchanged(g, a20Mask, ldtValid)) return false;
    const [gdt, ldt, idt] = this.ranges;
    gdt.base = g.gdtrBase;
    gdt.limit = g.gdtrLimit;
    ldt.base = g.base[LDTR] >>> 0;
    ldt.limit = Math.min(g.limit[LDTR], 0xffff);
    idt.base = g.idtrBase;
    idt.limit = g.idtrLimit;
    const ranges = ldtValid ? this.ranges : this.rangesNoLdt;
    // With guest paging the pages behind the tables can change (CR3, INVLPG): the tables are read again then.
    const mapping = this.watch.watch(ranges, this.tables.translate);
    const rebuilt = this.tables.sync(g.gdtrBase, g.gdtrLimit, ldtValid, g.base[LDTR], g.limit[LDTR], g.cpl, mapping);
    this.remember(g, a20Mask, ldtValid, mapping);
    return rebuilt;
  }

  /**
   * Whether prepare would find what it found last time: without guest paging the watched pages and the
   * virtual tables follow from the table registers, the LDT's cache, the guest's CPL and A20 alone (the watch's
   * `unchanged` and the tables' `sync` compare the same), and nothing since unwatched the pages or invalidated the
   * tables (`forget`). With guest paging the translation may have moved: it always looks.
   */
  private unchanged(g: GuestState, a20Mask: number, ldtValid: boolean): boolean {
    const k = this.key;
    return (
      (g.cr0 & CR0_PG) === 0 &&
      k[0] === g.gdtrBase &&
      k[1] === g.gdtrLimit &&
      k[2] === (ldtValid ? 1 : 0) &&
      k[3] === g.base[LDTR] &&
      k[4] === g.limit[LDTR] &&
      k[5] === g.idtrBase &&
      k[6] === g.idtrLimit &&
      k[7] === g.cpl &&
      k[8] === a20Mask &&
      k[9] === this.watch.currentVersion
    );
  }

  private remember(g: GuestState, a20Mask: number, ldtValid: boolean, mapping: number): void {
    const k = this.key;
    if ((g.cr0 & CR0_PG) !== 0) {
      k[0] = NaN;
      return;
    }
    k[0] = g.gdtrBase;
    k[1] = g.gdtrLimit;
    k[2] = ldtValid ? 1 : 0;
    k[3] = g.base[LDTR];
    k[4] = g.limit[LDTR];
    k[5] = g.idtrBase;
    k[6] = g.idtrLimit;
    k[7] = g.cpl;
    k[8] = a20Mask;
    k[9] = mapping;
  }

  /** The virtual tables read again at the next prepare (a new engagement, a debugger edit, leaving). */
  forget(): void {
    this.tables.invalidate();
    this.key[0] = NaN;
  }
}
