// A NASM source read into what the language server needs: statements (label, mnemonic, operands), symbol
// definitions (labels with local `.labels` scoped to their parent, `equ`, `%define`, `%macro`), sections, and the
// byte layout of contiguous data ("runs"), so that `gdt_code - gdt_start` and the bytes of a descriptor written
// as `dq`, `dd` pairs or `dw`/`db` fields can be found.
import { tokenizeLine, type Token } from './nasm-lexer';

export type SymbolKind = 'label' | 'local-label' | 'equ' | 'define' | 'macro';

export interface SymbolDef {
  /** As written (`.loop` for a local label). */
  name: string;
  /** As NASM sees it: a local label is `parent.loop`. */
  fullName: string;
  kind: SymbolKind;
  line: number;
  start: number;
  end: number;
  parent?: string;
  /** For `equ` and `%define`: the tokens of the value. */
  value?: Token[];
}

export interface SectionDef {
  name: string;
  line: number;
  start: number;
  end: number;
}

export interface Statement {
  line: number;
  tokens: Token[];
  label?: SymbolDef;
  mnemonic?: Token;
  /** Operands split at top-level commas; a `times N` prefix is removed and kept in `times`. */
  operands: Token[][];
  times?: Token[];
  comment?: string;
  /** The non-local label in whose scope the statement sits. */
  scope?: string;
  /** Where the statement's data lies, when it is part of a run of data. */
  place?: DataPlace;
}

/** A position in a run of contiguous data: run number and byte offset from the run's start. */
export interface DataPlace {
  run: number;
  offset: number;
}

/** A byte of a run whose value is known, and the token that gave it. */
export interface KnownByte {
  value: number;
  line: number;
  token: Token;
}

export interface DataRun {
  id: number;
  /** Bytes with known values, by offset. */
  bytes: Map<number, KnownByte>;
  /** Labels in the run with their offsets, in order. */
  labels: { symbol: SymbolDef; offset: number }[];
  /** Offsets at which a `dq` value or a two-value `dd` line starts: explicitly written descriptors. */
  quadStarts: Set<number>;
}

export interface NasmDocument {
  statements: Statement[];
  symbols: SymbolDef[];
  sections: SectionDef[];
  runs: DataRun[];
  /** Labels' places in data runs, by full name. */
  places: Map<string, DataPlace>;
}

const DATA_SIZES: Record<string, number> = { db: 1, dw: 2, dd: 4, dq: 8, dt: 10, do: 16, dy: 32, dz: 64 };
const RESERVE_SIZES: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8, rest: 10, reso: 16, resy: 32, resz: 64 };
const LABEL_FOLLOWERS = new Set(['equ', 'times', ...Object.keys(DATA_SIZES), ...Object.keys(RESERVE_SIZES)]);
const SECTION_WORDS = new Set(['section', 'segment']);
/** Directives that neither emit code nor break a run of data. */
const NEUTRAL_DIRECTIVES = new Set(['global', 'extern', 'common', 'static', 'align', 'alignb']);

export function isDataDirective(word: string): boolean {
  return word.toLowerCase() in DATA_SIZES;
}

/** Splits tokens at commas that are not inside brackets or parentheses. */
export function splitOperands(tokens: Token[]): Token[][] {
  const operands: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punctuation' && (t.text === '[' || t.text === '(')) depth++;
    if (t.kind === 'punctuation' && (t.text === ']' || t.text === ')')) depth--;
    if (t.kind === 'punctuation' && t.text === ',' && depth === 0) {
      operands.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.length > 0 || operands.length > 0) operands.push(current);
  return operands;
}

function stringBytes(token: Token): number[] {
  const body = token.text.slice(1, token.text.endsWith(token.text[0]) && token.text.length > 1 ? -1 : undefined);
  return [...body].map((c) => c.charCodeAt(0) & 0xff);
}

export function parseNasm(text: string): NasmDocument {
  const doc: NasmDocument = { statements: [], symbols: [], sections: [], runs: [], places: new Map() };
  let scope: string | undefined;
  let run: DataRun | undefined;
  let offset = 0;
  const startRun = () => {
    run = { id: doc.runs.length, bytes: new Map(), labels: [], quadStarts: new Set() };
    doc.runs.push(run);
    offset = 0;
    return run;
  };

  text.split(/\n/).forEach((lineText, line) => {
    const all = tokenizeLine(lineText);
    const commentToken = all.find((t) => t.kind === 'comment');
    let tokens = all.filter((t) => t.kind !== 'comment');
    const statement: Statement = { line, tokens, operands: [], comment: commentToken?.text.slice(1).trim(), scope };
    doc.statements.push(statement);
    if (tokens.length === 0) return;

    // Preprocessor lines: definitions are symbols; anything else may emit unknown bytes, so it ends a run.
    const first = tokens[0];
    if (first.kind === 'identifier' && first.text.startsWith('%')) {
      const word = first.text.toLowerCase();
      const nameToken = tokens[1];
      if (nameToken?.kind === 'identifier' && /^%(?:x|i)?define$|^%assign$|^%iassign$/.test(word)) {
        doc.symbols.push({ name: nameToken.text, fullName: nameToken.text, kind: 'define', line, start: nameToken.start, end: nameToken.end, value: tokens.slice(2) });
      } else if (nameToken?.kind === 'identifier' && /^%i?macro$/.test(word)) {
        doc.symbols.push({ name: nameToken.text, fullName: nameToken.text, kind: 'macro', line, start: nameToken.start, end: nameToken.end });
      }
      if (!/^%(?:x|i)?define$|^%i?assign$|^%undef$|^%if|^%else|^%endif|^%elif/.test(word)) run = undefined;
      return;
    }

    // `[section .data]` and friends: strip the brackets.
    if (first.text === '[' && tokens[tokens.length - 1]?.text === ']') tokens = tokens.slice(1, -1);

    let rest = tokens;
    const head = rest[0];
    const isLabelName = head.kind === 'identifier' && !head.text.startsWith('%');
    const colon = rest[1]?.kind === 'punctuation' && rest[1].text === ':';
    const followedByData = rest[1]?.kind === 'identifier' && LABEL_FOLLOWERS.has(rest[1].text.toLowerCase());
    if (isLabelName && (colon || followedByData) && !SECTION_WORDS.has(head.text.toLowerCase())) {
      const local = head.text.startsWith('.') && !head.text.startsWith('..@');
      const isEqu = rest[1]?.text.toLowerCase() === 'equ';
      const symbol: SymbolDef = {
        name: head.text,
        fullName: local && scope ? scope + head.text : head.text,
        kind: isEqu ? 'equ' : local ? 'local-label' : 'label',
        line,
        start: head.start,
        end: head.end,
        parent: local ? scope : undefined,
        value: isEqu ? rest.slice(2) : undefined,
      };
      doc.symbols.push(symbol);
      statement.label = symbol;
      if (isEqu) return;
      if (!local && !head.text.startsWith('..@')) scope = head.text;
      rest = rest.slice(colon ? 2 : 1);
      if (!run) startRun();
      run!.labels.push({ symbol, offset });
      doc.places.set(symbol.fullName, { run: run!.id, offset });
    }
    statement.scope = scope;
    if (rest.length === 0) return;

    let mnemonic = rest[0];
    let operandTokens = rest.slice(1);
    let repeat = 1;
    if (mnemonic.kind === 'identifier' && mnemonic.text.toLowerCase() === 'times') {
      // `times COUNT thing`: the count ends where the data directive or instruction begins.
      const at = operandTokens.findIndex((t) => t.kind === 'identifier' && (isDataDirective(t.text) || t.text.toLowerCase() in RESERVE_SIZES));
      statement.times = at >= 0 ? operandTokens.slice(0, at) : operandTokens;
      const count = statement.times.length === 1 ? statement.times[0].value : undefined;
      repeat = count === undefined ? NaN : Number(count);
      if (at < 0) {
        run = undefined;
        return;
      }
      mnemonic = operandTokens[at];
      operandTokens = operandTokens.slice(at + 1);
    }
    if (mnemonic.kind !== 'identifier') return;
    statement.mnemonic = mnemonic;
    statement.operands = splitOperands(operandTokens);
    const word = mnemonic.text.toLowerCase();

    if (SECTION_WORDS.has(word)) {
      const name = operandTokens[0];
      if (name) doc.sections.push({ name: name.text, line, start: name.start, end: name.end });
      run = undefined;
      return;
    }
    if (NEUTRAL_DIRECTIVES.has(word)) {
      if ((word === 'align' || word === 'alignb') && run) {
        const n = Number(operandTokens[0]?.value ?? 1n);
        if (n > 0) offset = Math.ceil(offset / n) * n;
      }
      return;
    }
    const size = DATA_SIZES[word] ?? RESERVE_SIZES[word];
    if (size === undefined || Number.isNaN(repeat)) {
      run = undefined;
      return;
    }
    if (!run) startRun();
    const r = run!;
    statement.place = { run: r.id, offset };
    if (word in RESERVE_SIZES) {
      const count = operandTokens.length === 1 ? operandTokens[0].value : undefined;
      if (count === undefined) run = undefined;
      else offset += size * Number(count) * repeat;
      return;
    }
    const values = statement.operands;
    if (repeat === 1 && ((word === 'dq' && values.length >= 1) || (word === 'dd' && values.length === 2))) {
      for (let i = 0; i < values.length; i += word === 'dq' ? 1 : 2) r.quadStarts.add(offset + i * size);
    }
    for (let n = 0; n < repeat; n++) {
      for (const operand of values) {
        if (operand.length === 1 && operand[0].kind === 'string') {
          const bytes = stringBytes(operand[0]);
          bytes.forEach((b, i) => r.bytes.set(offset + i, { value: b, line, token: operand[0] }));
          offset += Math.max(size, Math.ceil(bytes.length / size) * size);
          continue;
        }
        const value = operand.length === 1 ? operand[0].value : operand.length === 2 && operand[0].text === '-' ? negate(operand[1].value, size) : undefined;
        if (value !== undefined) {
          for (let i = 0; i < size; i++) r.bytes.set(offset + i, { value: Number((value >> BigInt(8 * i)) & 0xffn), line, token: operand[operand.length - 1] });
        }
        offset += size;
      }
    }
  });
  return doc;
}

function negate(value: bigint | undefined, size: number): bigint | undefined {
  if (value === undefined) return undefined;
  const modulus = 1n << BigInt(8 * size);
  return (modulus - (value % modulus)) % modulus;
}

/** The symbol a name at a line refers to: a local `.name` is looked up in its scope first. */
export function findSymbol(doc: NasmDocument, name: string, scope: string | undefined): SymbolDef | undefined {
  const candidates = name.startsWith('.') && !name.startsWith('..@') && scope ? [scope + name, name] : [name];
  for (const full of candidates) {
    const found = doc.symbols.find((s) => s.fullName === full);
    if (found) return found;
  }
  // NASM symbols are case-sensitive, but `%idefine` names are not; accept a case-insensitive match last.
  return doc.symbols.find((s) => s.kind === 'define' && s.fullName.toLowerCase() === name.toLowerCase());
}
