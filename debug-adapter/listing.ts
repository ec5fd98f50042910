// Disassembly listings served through `sourceReference` for frames without a source line (a flat binary, a ROM,
// code outside the DWARF tables). VS Code selects only frames that have a source, and shows no Variables without
// a selected frame, so every frame gets one. A listing shows some instructions before the frame's (found as the
// Disassembly view finds them, disassembly.ts) and more after, with the image's symbols as labels.

import type { Cpu } from '../engine/cpu/cpu';
import type { ImageSymbol } from '../engine/machine/loaders';
import { disassembleAround } from './disassembly';

export interface Listing {
  name: string;
  text: string;
  /** 1-based line of the requested address. */
  line: number;
}

const BEFORE = 16;
const AFTER = 64;
const SYMBOL_REACH = 0x200;

export function symbolAt(symbols: readonly ImageSymbol[], linear: number): ImageSymbol | undefined {
  let best: ImageSymbol | undefined;
  for (const s of symbols) if (s.addr <= linear && (!best || s.addr > best.addr)) best = s;
  if (best && (best.size > 0 ? linear < best.addr + best.size : linear - best.addr < SYMBOL_REACH)) return best;
  return undefined;
}

/** A listing around `linear`; `starts` are linear addresses known to begin an instruction. */
export function makeListing(cpu: Cpu, linear: number, symbols: readonly ImageSymbol[], starts: readonly number[]): Listing {
  const entries = disassembleAround(cpu, starts, linear, -BEFORE, BEFORE + AFTER).filter((e) => e.instruction !== null);
  const lines: string[] = [];
  let line = 1;
  for (const e of entries) {
    const label = symbols.find((s) => s.addr === e.linear);
    if (label) lines.push(`${label.name}:`);
    if (e.linear === linear >>> 0) line = lines.length + 1;
    const i = e.instruction!;
    const bytes = i.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${e.linear.toString(16).padStart(8, '0')}  ${bytes.padEnd(24)} ${i.text}`);
  }
  const sym = symbolAt(symbols, linear);
  return { name: `${sym ? sym.name : 'code'} @ ${(linear >>> 0).toString(16).padStart(8, '0')}.disasm`, text: lines.join('\n') + '\n', line };
}
