// What a store did to a descriptor table, for `descriptor-write` events (model.md §5): the bytes it replaced, and
// an entry as it was before. Shared by the bare CPU's consistency tracker (consistency-events.ts) and the monitor's
// table watch (engine/monitor/table-watch.ts). A store may straddle a page boundary, and only one of the two pages
// may hold a table; each byte is placed by its own page's mapping.

/** One replaced byte: its linear address (through the table's mapping) and the value it held. */
export type ReplacedByte = [linear: number, old: number];

/** The old value of byte `k` of a store's `oldValue` (little-endian). */
export function oldByte(oldValue: number, k: number): number {
  return Math.floor(oldValue / 2 ** (8 * k)) & 0xff;
}

/** The 8-byte entry at `entry` (linear) as it was before the store: `after` with the bytes the store replaced put back. */
export function descriptorBefore(after: readonly [number, number], entry: number, replaced: readonly ReplacedByte[]): [number, number] {
  const before: [number, number] = [after[0], after[1]];
  for (const [linear, old] of replaced) {
    const at = (linear - entry) >>> 0;
    if (at > 7) continue;
    const shift = 8 * (at & 3);
    before[at >> 2] = ((before[at >> 2] & ~(0xff << shift)) | (old << shift)) >>> 0;
  }
  return before;
}
