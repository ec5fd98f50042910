// What a NASM source says about how its flat binary should be started, so F5 on a source with no launch.json
// starts the guest where it expects to run: `org` gives the load address and entry, a leading `bits 32` means
// protected mode, a boot signature at byte 510 makes it a boot sector, a Multiboot magic a Multiboot kernel.
// Pure text analysis; the assembler remains the judge of the source itself.
import type { ImageFormat } from '../debug-adapter/launch-attributes';
import { parseNasmNumber } from './nasm-number';

export { parseNasmNumber };

export interface SourceLaunchHints {
  format?: ImageFormat;
  loadAddress?: string;
  mode?: 'real' | 'protected';
}

const MULTIBOOT_MAGIC = 0x1badb002;
const BOOT_SIGNATURE = 0xaa55;
const BOOT_SECTOR_ORG = 0x7c00;

/** Removes a `;` comment from a line, leaving semicolons inside quotes alone. */
export function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === ';') return line.slice(0, i);
  }
  return line;
}

export function launchHintsFromSource(text: string): SourceLaunchHints {
  const hints: SourceLaunchHints = {};
  let org: number | undefined;
  let firstBits: number | undefined;
  let bootSignature = false;
  let multiboot = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripComment(rawLine).trim();
    if (!line) continue;
    const orgMatch = /^\[?\s*org\s+([^\]\s]+)\s*\]?$/i.exec(line);
    if (orgMatch && org === undefined) org = parseNasmNumber(orgMatch[1]);
    const bitsMatch = /^\[?\s*bits\s+(16|32|64)\s*\]?$/i.exec(line);
    if (bitsMatch && firstBits === undefined) firstBits = Number(bitsMatch[1]);
    // `dw 0xAA55` (or `db 0x55, 0xAA`) after padding to byte 510 is the classic boot-sector ending.
    const dataMatch = /^(?:[\w.$?@]+:?\s+)?(dw|db|dd)\s+(.+)$/i.exec(line);
    if (dataMatch) {
      const values = dataMatch[2].split(',').map((v) => parseNasmNumber(v));
      if (dataMatch[1].toLowerCase() === 'dw' && values.includes(BOOT_SIGNATURE)) bootSignature = true;
      if (dataMatch[1].toLowerCase() === 'db' && values.length === 2 && values[0] === 0x55 && values[1] === 0xaa) bootSignature = true;
      if (dataMatch[1].toLowerCase() === 'dd' && values.includes(MULTIBOOT_MAGIC)) multiboot = true;
    }
    if (/\b(?:equ|dd)\s+0x1badb002\b/i.test(line)) multiboot = true;
  }
  if (multiboot) hints.format = 'multiboot';
  else if (bootSignature && (org === undefined || org === BOOT_SECTOR_ORG)) hints.format = 'boot';
  else {
    hints.format = 'bin';
    if (org !== undefined) hints.loadAddress = `0x${org.toString(16)}`;
    hints.mode = firstBits === 32 ? 'protected' : 'real';
  }
  return hints;
}
