// Disassembly listings served through `sourceReference` for frames without a source line (a flat binary, a ROM,
// code outside the DWARF tables). VS Code selects only frames that have a source, and shows no Variables without
// a selected frame, so every frame gets one. A listing starts at the enclosing symbol when it is near, else at
// the address itself (decoding backwards from an arbitrary byte can land mid-instruction).

import type { Cpu } from '../engine/cpu/cpu';
import { disassembleRange } from '../engine/cpu/decode/disassemble';
import type { ImageSymbol } from '../engine/machine/loaders';
import { linearReader } from './code-reader';

export interface Listing {
  name: string;
  text: string;
  /** 1-based line of the requested address. */
  line: number;
  start: number;
}

const LISTING_INSTRUCTIONS = 64;
const SYMBOL_REACH = 0x200;

export function symbolAt(symbols: readonly ImageSymbol[], linear: number): ImageSymbol | undefined {
  let best: ImageSymbol | undefined;
  for (const s of symbols) if (s.addr <= linear && (!best || s.addr > best.addr)) best = s;
  if (best && (best.size > 0 ? linear < best.addr + best.size : linear - best.addr < SYMBOL_REACH)) return best;
  return undefined;
}

/** A listing around `linear`, decoded in flat linear addressing with the given default size. */
export function makeListing(cpu: Cpu, linear: number, d32: boolean, symbols: readonly ImageSymbol[]): Listing {
  const read = linearReader(cpu);
  const sym = symbolAt(symbols, linear);
  const tryFrom = (start: number): Listing | undefined => {
    const list = disassembleRange(read, start, d32, LISTING_INSTRUCTIONS + Math.min(256, linear - start));
    const index = list.findIndex((i) => i.offset >>> 0 === linear >>> 0);
    if (index < 0) return undefined;
    const shown = list.slice(Math.max(0, index - 16), index + LISTING_INSTRUCTIONS);
    const lines = shown.map((i) => {
      const label = symbols.find((s) => s.addr === i.offset);
      const bytes = i.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      return `${label ? `${label.name}:\n` : ''}${(i.offset >>> 0).toString(16).padStart(8, '0')}  ${bytes.padEnd(24)} ${i.text}`;
    });
    const text = lines.join('\n') + '\n';
    // Count lines up to the requested instruction (labels add lines).
    const before = lines.slice(0, shown.findIndex((i) => i.offset >>> 0 === linear >>> 0)).join('\n');
    const labelHere = symbols.some((s) => s.addr === linear) ? 1 : 0;
    const line = (before ? before.split('\n').length : 0) + 1 + labelHere;
    return { name: `${sym ? sym.name : 'code'} @ ${linear.toString(16).padStart(8, '0')}.disasm`, text, line, start: shown[0].offset };
  };
  return (sym && tryFrom(sym.addr)) || tryFrom(linear)!;
}
