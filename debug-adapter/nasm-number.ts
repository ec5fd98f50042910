// NASM numeric constants in every radix notation (NASM manual §3.4.1): prefixes 0x/0h, $ (then a digit), 0b/0y,
// 0o/0q, 0d/0t; suffixes h/x, b/y, o/q, d/t; underscores anywhere after the first digit.

const FORMS: [RegExp, string][] = [
  [/^(?:0x|0h)([0-9a-f]+)$/, '0x'],
  [/^\$([0-9][0-9a-f]*)$/, '0x'],
  [/^([0-9][0-9a-f]*)[hx]$/, '0x'],
  [/^(?:0b|0y)([01]+)$/, '0b'],
  [/^([01]+)[by]$/, '0b'],
  [/^(?:0o|0q)([0-7]+)$/, '0o'],
  [/^([0-7]+)[oq]$/, '0o'],
  [/^(?:0d|0t)([0-9]+)$/, ''],
  [/^([0-9]+)[dt]$/, ''],
  [/^([0-9]+)$/, ''],
];

/** The exact value of a NASM number (a bigint, since `dq` literals need all 64 bits); undefined for non-numbers. */
export function nasmNumberToBigInt(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '').toLowerCase();
  for (const [re, prefix] of FORMS) {
    const m = re.exec(t);
    if (m) return BigInt(prefix + m[1]);
  }
  return undefined;
}

/** The value as a JavaScript number; undefined for non-numbers. */
export function parseNasmNumber(text: string): number | undefined {
  const value = nasmNumberToBigInt(text);
  return value === undefined ? undefined : Number(value);
}
