// Source lines of a flat binary, read from the listing nasm writes with `-l X.lst`, so breakpoints can be set in the
// NASM source of an image that has no DWARF. A listing row is "LINE OFFSET BYTES [<DEPTH>] SOURCE"; OFFSET counts
// from the start of the section, so with `-f bin` and one section the address is `org` + OFFSET. Lines of
// %included files carry a depth marker `<n>` and their own line numbers; so do macro expansions, whose rows are
// credited to the line that invoked the macro. Rows after a second section are left out: their addresses depend
// on section placement the listing does not show. Pure text processing, shared by the extension and the adapter.
import type { LineRow } from '../engine/machine/loaders/types';
import { parseNasmNumber } from './nasm-number';

const ROW = /^\s*(\d+)\s(?:([0-9A-F]{8})\s(\S*))?\s*(?:<(\d+)>)?\s?(.*)$/;
const INCLUDE = /^\s*%include\s+["'<]([^"'>]+)["'>]/i;
const ORG = /^\s*\[?\s*org\s+([^\]\s;]+)/i;
const SECTION = /^\s*\[?\s*(?:section|segment)\s+([^\s\]]+)/i;

interface Frame {
  file: string;
  depth: number;
}

/**
 * Line rows (address, file, line) from a nasm listing of `sourcePath`. `resolveInclude(name, fromFile)` gives
 * the path of an `%include`d file (nasm searches the including file's folder and its `-i` paths). An explicit
 * `org` overrides the one the listing shows.
 */
export function linesFromNasmListing(
  listing: string,
  sourcePath: string,
  resolveInclude: (name: string, fromFile: string) => string,
  org?: number,
): LineRow[] {
  const rows: LineRow[] = [];
  const stack: Frame[] = [{ file: sourcePath, depth: 0 }];
  let origin = org;
  let pendingInclude: string | undefined;
  let sectionSeen = false;
  /** The line that invoked a macro, waiting for the first byte the expansion emits. */
  let invoker: { file: string; line: number } | undefined;
  let lastLine = -1;
  for (const text of listing.split(/\r?\n/)) {
    const m = ROW.exec(text);
    if (!m) continue;
    const line = Number(m[1]);
    const depth = m[4] === undefined ? 0 : Number(m[4]);
    const source = m[5] ?? '';
    if (source.trim().startsWith('******')) continue; // a diagnostic nasm printed under the row
    // Leaving an include: pop back to the frame of this depth.
    while (stack.length > 1 && depth < stack[stack.length - 1].depth) stack.pop();
    let frame = stack[stack.length - 1];
    if (depth > frame.depth) {
      if (pendingInclude !== undefined) {
        frame = { file: resolveInclude(pendingInclude, frame.file), depth };
        stack.push(frame);
        pendingInclude = undefined;
      } else {
        // A macro expansion: credit its first emitted bytes to the invoking line.
        if (m[2] !== undefined && m[3] && invoker) {
          rows.push({ addr: (origin ?? 0) + parseInt(m[2], 16), file: invoker.file, line: invoker.line });
          invoker = undefined;
        }
        continue;
      }
    }
    pendingInclude = undefined;
    const include = INCLUDE.exec(source);
    if (include) {
      pendingInclude = include[1];
      continue;
    }
    // Code starts in the default .text section; naming it once is harmless, any other section ends the mapping.
    const section = SECTION.exec(source);
    if (section) {
      if (sectionSeen || section[1].toLowerCase() !== '.text') break;
      sectionSeen = true;
    }
    const orgMatch = ORG.exec(source);
    if (orgMatch && origin === undefined && frame.depth === 0) origin = parseNasmNumber(orgMatch[1]);
    if (m[2] === undefined) {
      invoker = { file: frame.file, line };
      continue;
    }
    invoker = undefined;
    // Continuation rows of long data repeat the line number: keep the first.
    if (!m[3] || (line === lastLine && rows.length > 0 && rows[rows.length - 1].file === frame.file && rows[rows.length - 1].line === line)) continue;
    lastLine = line;
    rows.push({ addr: (origin ?? 0) + parseInt(m[2], 16), file: frame.file, line });
  }
  return rows.sort((a, b) => a.addr - b.addr);
}
