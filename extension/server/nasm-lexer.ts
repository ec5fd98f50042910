// Splits one line of NASM source into tokens with their columns. Enough of NASM's lexical rules for the language
// server (identifiers, local labels, numbers in every radix, strings, comments, punctuation); the assembler
// itself stays the judge of what is valid.
import { nasmNumberToBigInt } from '../nasm-number';

export type TokenKind = 'identifier' | 'number' | 'string' | 'comment' | 'punctuation';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** For numbers: the value (as a bigint, since `dq` literals need all 64 bits). */
  value?: bigint;
}

const IDENT_START = /[A-Za-z_.?@$%]/;
const IDENT_PART = /[\w.$#@~?%]/;

export function tokenizeLine(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === ';') {
      tokens.push({ kind: 'comment', text: line.slice(i), start, end: line.length });
      break;
    }
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < line.length && line[i] !== c) i += c === '`' && line[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, line.length);
      tokens.push({ kind: 'string', text: line.slice(start, i), start, end: i });
      continue;
    }
    // A `$` followed by a digit starts a hex number; `$` and `$$` alone are location symbols (identifiers here).
    if (/[0-9]/.test(c) || (c === '$' && /[0-9]/.test(line[i + 1] ?? ''))) {
      i++;
      while (i < line.length && /[\w.]/.test(line[i])) i++;
      const text = line.slice(start, i);
      tokens.push({ kind: 'number', text, start, end: i, value: nasmNumberToBigInt(text) });
      continue;
    }
    if (IDENT_START.test(c)) {
      i++;
      while (i < line.length && IDENT_PART.test(line[i])) i++;
      tokens.push({ kind: 'identifier', text: line.slice(start, i), start, end: i });
      continue;
    }
    i++;
    tokens.push({ kind: 'punctuation', text: c, start, end: i });
  }
  return tokens;
}
