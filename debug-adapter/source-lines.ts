// Mapping linear addresses to source lines and back through the image's DWARF line rows (sorted by address).

import type { LineRow } from '../engine/machine/loaders';

/** The row that covers `linear`: the last row at or below it, if the next row lies above it. */
export function lineAt(lines: readonly LineRow[], linear: number): LineRow | undefined {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].addr >>> 0 <= linear) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found < 0) return undefined;
  const row = lines[found];
  // Past the last row of the table the address is not covered (no end_sequence row is kept), so allow only a
  // short distance there: one instruction's worth.
  if (found === lines.length - 1 && linear - row.addr > 15) return undefined;
  return row;
}

/** The index of the first row at or above `linear` (rows.length when none is). */
export function firstRowAtOrAbove(lines: readonly LineRow[], linear: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lines[mid].addr < linear) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The distinct source files named in the line table. */
export function sourceFiles(lines: readonly LineRow[]): string[] {
  return [...new Set(lines.map((r) => r.file))];
}
