// Host text as PC keyboard keys: which key (with Shift or Ctrl) types each character on a US layout, and the scan
// codes a keyboard sends for pressing and releasing it — set 1 (what the guest reads through the 8042 with
// translation on, the PC default) or set 2 (what the keyboard itself sends, read with translation off).
// Set 1 breaks are the make code | 80h; set 2 breaks are F0h followed by the make code.

/** One key of the main block: its set 1 and set 2 make codes. */
interface KeyCodes {
  set1: number;
  set2: number;
}

const SHIFT: KeyCodes = { set1: 0x2a, set2: 0x12 };
const CTRL: KeyCodes = { set1: 0x1d, set2: 0x14 };

/** Each key's unshifted and shifted character, with its codes. */
// prettier-ignore
const KEYS: [string, string, number, number][] = [
  ['1', '!', 0x02, 0x16], ['2', '@', 0x03, 0x1e], ['3', '#', 0x04, 0x26], ['4', '$', 0x05, 0x25],
  ['5', '%', 0x06, 0x2e], ['6', '^', 0x07, 0x36], ['7', '&', 0x08, 0x3d], ['8', '*', 0x09, 0x3e],
  ['9', '(', 0x0a, 0x46], ['0', ')', 0x0b, 0x45], ['-', '_', 0x0c, 0x4e], ['=', '+', 0x0d, 0x55],
  ['q', 'Q', 0x10, 0x15], ['w', 'W', 0x11, 0x1d], ['e', 'E', 0x12, 0x24], ['r', 'R', 0x13, 0x2d],
  ['t', 'T', 0x14, 0x2c], ['y', 'Y', 0x15, 0x35], ['u', 'U', 0x16, 0x3c], ['i', 'I', 0x17, 0x43],
  ['o', 'O', 0x18, 0x44], ['p', 'P', 0x19, 0x4d], ['[', '{', 0x1a, 0x54], [']', '}', 0x1b, 0x5b],
  ['a', 'A', 0x1e, 0x1c], ['s', 'S', 0x1f, 0x1b], ['d', 'D', 0x20, 0x23], ['f', 'F', 0x21, 0x2b],
  ['g', 'G', 0x22, 0x34], ['h', 'H', 0x23, 0x33], ['j', 'J', 0x24, 0x3b], ['k', 'K', 0x25, 0x42],
  ['l', 'L', 0x26, 0x4b], [';', ':', 0x27, 0x4c], ["'", '"', 0x28, 0x52], ['`', '~', 0x29, 0x0e],
  ['\\', '|', 0x2b, 0x5d], ['z', 'Z', 0x2c, 0x1a], ['x', 'X', 0x2d, 0x22], ['c', 'C', 0x2e, 0x21],
  ['v', 'V', 0x2f, 0x2a], ['b', 'B', 0x30, 0x32], ['n', 'N', 0x31, 0x31], ['m', 'M', 0x32, 0x3a],
  [',', '<', 0x33, 0x41], ['.', '>', 0x34, 0x49], ['/', '?', 0x35, 0x4a], [' ', ' ', 0x39, 0x29],
];
const ENTER: KeyCodes = { set1: 0x1c, set2: 0x5a };
const TAB: KeyCodes = { set1: 0x0f, set2: 0x0d };
const BACKSPACE: KeyCodes = { set1: 0x0e, set2: 0x66 };
const ESCAPE: KeyCodes = { set1: 0x01, set2: 0x76 };

/** A key press as typed: the key and the modifier held around it. */
export interface HostKey {
  key: KeyCodes;
  modifier: KeyCodes | null;
}

const BY_CHAR = new Map<string, HostKey>();
for (const [plain, shifted, set1, set2] of KEYS) {
  const key = { set1, set2 };
  BY_CHAR.set(plain, { key, modifier: null });
  if (shifted !== plain) BY_CHAR.set(shifted, { key, modifier: SHIFT });
}
BY_CHAR.set('\n', { key: ENTER, modifier: null });
BY_CHAR.set('\r', { key: ENTER, modifier: null });
BY_CHAR.set('\t', { key: TAB, modifier: null });
BY_CHAR.set('\b', { key: BACKSPACE, modifier: null });
BY_CHAR.set('\x7f', { key: BACKSPACE, modifier: null });
BY_CHAR.set('\x1b', { key: ESCAPE, modifier: null });
// The other control characters are Ctrl with a letter (Ctrl-C = 03h, Ctrl-D = 04h …).
for (let c = 1; c <= 26; c++) {
  const ch = String.fromCharCode(c);
  if (!BY_CHAR.has(ch)) BY_CHAR.set(ch, { key: BY_CHAR.get(String.fromCharCode(0x60 + c))!.key, modifier: CTRL });
}

/** True for the Enter key (typed by \n and \r), which ends a line of typed keys. */
export function isEnter(k: HostKey): boolean {
  return k.key.set1 === ENTER.set1 && k.modifier === null;
}

/** The keys that type `text`; throws with the first character no key types. */
export function keysForText(text: string): HostKey[] {
  const keys: HostKey[] = [];
  for (const ch of text) {
    const k = BY_CHAR.get(ch);
    if (k === undefined) {
      const code = ch.codePointAt(0)!;
      throw new RangeError(`no key on a US keyboard types ${code < 0x20 || code > 0x7e ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `"${ch}"`}`);
    }
    keys.push(k);
  }
  return keys;
}

/** The scan codes of one key press and release, in set 1 or set 2. */
export function scanCodes(k: HostKey, set: 1 | 2): number[] {
  const make = (c: KeyCodes) => (set === 1 ? [c.set1] : [c.set2]);
  const brk = (c: KeyCodes) => (set === 1 ? [c.set1 | 0x80] : [0xf0, c.set2]);
  if (k.modifier === null) return [...make(k.key), ...brk(k.key)];
  return [...make(k.modifier), ...make(k.key), ...brk(k.key), ...brk(k.modifier)];
}

/** C escapes of `--keys`: \n \r \t \b \e \a \0 \\ \' \" and \xHH; throws on an unknown one. */
export function unescapeC(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = text[++i];
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', e: '\x1b', a: '\x07', '0': '\0', '\\': '\\', "'": "'", '"': '"' };
    if (next !== undefined && next in simple) out += simple[next];
    else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new RangeError(next === undefined ? 'a lone "\\" at the end' : `unknown escape "\\${next}"`);
  }
  return out;
}
