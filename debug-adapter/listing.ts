// Disassembly listings served through `sourceReference` for frames without a source line (a flat binary, a ROM,
// code outside the DWARF tables). VS Code selects only frames that have a source, and shows no Variables without
// a selected frame, so every frame gets one.
//
// A listing covers a region that starts at a place known to begin an instruction (a symbol, the start of the
// image), shown with a few instructions before it for context, and runs for up to 4 KiB, so stepping through it keeps showing the same document with the line moving.
// When no such start is near, or decoding from it does not land on the frame's instruction (data between the
// instructions), the listing is made around the frame's address instead, with the instructions before it found as
// the Disassembly view finds them (disassembly.ts). The image's symbols are shown as labels.

import type { Cpu } from '../engine/cpu/cpu';
import type { ImageSymbol } from '../engine/machine/loaders';
import { disassembleAround, type DisassemblyEntry } from './disassembly';

export interface Listing {
  name: string;
  text: string;
  /** 1-based line of the requested address. */
  line: number;
}

const BEFORE = 16;
/** Instructions shown before a region that starts at a known instruction start. */
const CONTEXT = 8;
const AFTER = 64;
const REGION_BYTES = 0x1000;
const REGION_INSTRUCTIONS = 2048;
const SYMBOL_REACH = 0x200;

export function symbolAt(symbols: readonly ImageSymbol[], linear: number): ImageSymbol | undefined {
  let best: ImageSymbol | undefined;
  for (const s of symbols) if (s.addr <= linear && (!best || s.addr > best.addr)) best = s;
  if (best && (best.size > 0 ? linear < best.addr + best.size : linear - best.addr < SYMBOL_REACH)) return best;
  return undefined;
}

/** A listing that shows `linear`; `starts` are linear addresses known to begin an instruction. */
export function makeListing(cpu: Cpu, linear: number, symbols: readonly ImageSymbol[], starts: readonly number[]): Listing {
  linear >>>= 0;
  let anchor = -1;
  for (const s of [...starts, ...symbols.map((x) => x.addr)]) if (s <= linear && linear - s < REGION_BYTES && s > anchor) anchor = s >>> 0;
  if (anchor >= 0) {
    const entries = disassembleAround(cpu, [], anchor, 0, REGION_INSTRUCTIONS);
    const region = entries.filter((e) => e.linear >= anchor && e.linear < anchor + REGION_BYTES);
    if (region.some((e) => e.linear === linear)) {
      // A few instructions before the region too: a stop at its start (the entry point, a function's first
      // instruction) otherwise shows no context. Always the same few, so the document stays the same while stepping.
      const before = disassembleAround(cpu, starts, anchor, -CONTEXT, CONTEXT).filter((e) => e.instruction !== null && e.linear < anchor);
      region.unshift(...before);
      const sym = symbolAt(symbols, anchor);
      return render(region, linear, symbols, `${sym && sym.addr === anchor ? sym.name : 'code'} @ ${anchor.toString(16).padStart(8, '0')}.disasm`);
    }
  }
  const around = disassembleAround(cpu, starts, linear, -BEFORE, BEFORE + AFTER);
  const sym = symbolAt(symbols, linear);
  return render(around, linear, symbols, `${sym ? sym.name : 'code'} @ ${linear.toString(16).padStart(8, '0')}.disasm`);
}

function render(entries: DisassemblyEntry[], linear: number, symbols: readonly ImageSymbol[], name: string): Listing {
  const lines: string[] = [];
  let line = 1;
  // The first symbol at each address, once per listing (a kernel has symbols by the thousand).
  const labels = new Map<number, ImageSymbol>();
  for (const s of symbols) if (!labels.has(s.addr)) labels.set(s.addr, s);
  for (const e of entries) {
    if (e.instruction === null) continue;
    const label = labels.get(e.linear);
    if (label) lines.push(`${label.name}:`);
    if (e.linear === linear) line = lines.length + 1;
    const i = e.instruction;
    const bytes = i.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${e.linear.toString(16).padStart(8, '0')}  ${bytes.padEnd(24)} ${i.text}`);
  }
  return { name, text: lines.join('\n') + '\n', line };
}
