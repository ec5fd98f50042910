// iced-x86 as the reference disassembler for the cross-check, with its NASM formatter set up as close to our
// output as its options allow, and a normaliser for the differences that remain (hex style, size keywords).
import { Decoder, DecoderOptions, Formatter, FormatterSyntax } from 'iced-x86';

export function icedText(bytes: Uint8Array, d32: boolean, ip: number): { text: string; length: number } {
  const decoder = new Decoder(d32 ? 32 : 16, bytes, DecoderOptions.None);
  decoder.ip = BigInt(ip >>> 0);
  const instr = decoder.decode();
  const f = new Formatter(FormatterSyntax.Nasm);
  f.hexPrefix = '0x';
  f.hexSuffix = '';
  f.uppercaseHex = false;
  f.spaceAfterOperandSeparator = true;
  f.branchLeadingZeros = false;
  f.leadingZeros = false;
  f.showBranchSize = false;
  const text = f.format(instr);
  const length = instr.length;
  const invalid = instr.isInvalid ?? false;
  instr.free();
  decoder.free();
  f.free();
  return { text: invalid ? '(bad)' : text, length };
}

/** Both syntaxes reduced to what must agree: lower case, no size/distance keywords, single spaces. */
export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/\b(byte|word|dword|qword|fword|tword|far|near|short|ptr|strict|o16|o32|a16|a32)\b\s*/g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*,\s*/g, ', ')
    .replace(/\[\s*/g, '[')
    // iced writes numbers below 10 in decimal: compare every number by value
    .replace(/\b0x([0-9a-f]+)\b/g, (_, h: string) => String(parseInt(h, 16)))
    .trim()
    // iced writes `imul r, r, imm` with the same register twice as NASM's two-operand shorthand
    .replace(/^imul (\w+), (\d+)$/, 'imul $1, $1, $2')
    // 66 90 is still NOP (iced spells out the exchange)
    .replace(/^xchg (e?ax), \1$/, 'nop')
    // XCHG is symmetric; iced puts the register first whatever the encoding
    .replace(/^((?:lock )?xchg) (.+), (.+)$/, (_, m: string, a: string, b: string) => `${m} ${[a, b].sort().join(", ")}`);
}
