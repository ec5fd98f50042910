// The debugger's expression language: what breakpoint conditions, logpoints, exception-filter conditions, the
// Debug Console, hovers and watches all accept. C-like operators over numbers, NASM-style memory operands
// (`dword [ds:esi+4]`), members (`ds.base`) and indexing (`gdt[2]`). Parsing is separate from evaluation so a
// condition is parsed once, when the breakpoint is set, and a syntax error is reported there.
//
// Grammar (lowest precedence first):
//   expr    := or
//   or      := and ('||' and)*          and := cmp ('&&' cmp)*
//   cmp     := bits (('=='|'!='|'<'|'<='|'>'|'>=') bits)?
//   bits    := shift (('|'|'^'|'&') shift)*        shift := add (('<<'|'>>') add)*
//   add     := mul (('+'|'-') mul)*                 mul := unary (('*'|'/'|'%') unary)*
//   unary   := ('-'|'!'|'~'|'*'|'&') unary | 'sizeof' (unary | '(' type ')') | '(' type ')' unary | postfix
//   postfix := primary ('.' name | '->' name | '[' expr ']')*
//   primary := number | string | name | '(' expr ')' | size? '[' (expr ':')? expr ']'
//   size    := byte | word | dword
//   type    := ('struct'|'union'|'enum') name '*'* | C base type words '*'* | a typedef name '*'*
// `*`, `&`, `->`, casts and sizeof need a C program (DWARF) to mean anything; the parser only builds them. A name
// in parentheses is a cast when the options say it names a type (`(u32)x`), as a C compiler decides.

export type Node =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'name'; name: string }
  | { kind: 'unary'; op: string; operand: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'member'; object: Node; name: string; arrow?: boolean }
  | { kind: 'cast'; type: TypeSpec; operand: Node }
  | { kind: 'sizeof'; type?: TypeSpec; operand?: Node }
  | { kind: 'index'; object: Node; index: Node }
  | { kind: 'memory'; size: 1 | 2 | 4; segment: Node | null; address: Node };

/** A C type as written in a cast or sizeof: `struct gdt_entry` with two `*` is { base: 'struct gdt_entry', pointers: 2 }. */
export interface TypeSpec {
  base: string;
  pointers: number;
}

export interface ParseOptions {
  /** True when a name is a type of the program (a typedef), so `(name)` before an operand is a cast. */
  isTypeName?: (name: string) => boolean;
}

const C_TYPE_WORDS = new Set(['void', 'char', 'short', 'int', 'long', 'signed', 'unsigned', 'float', 'double', '_Bool', 'const', 'volatile']);
const C_TAG_WORDS = new Set(['struct', 'union', 'enum']);

export class ExpressionError extends Error {}

interface Token {
  kind: 'number' | 'string' | 'name' | 'op' | 'end';
  text: string;
  value?: number;
  at: number;
}

const OPERATORS = ['->', '==', '!=', '<=', '>=', '&&', '||', '<<', '>>', '<', '>', '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '(', ')', '[', ']', '.', ':'];
const SIZES: Record<string, 1 | 2 | 4> = { byte: 1, word: 2, dword: 4 };

/** Reads a number in C, NASM (`1000h`, `0b101`) or plain decimal notation; undefined when it is none. */
export function parseNumber(text: string): number | undefined {
  const t = text.replace(/_/g, '').toLowerCase();
  let v: number;
  if (/^0x[0-9a-f]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^[0-9][0-9a-f]*h$/.test(t)) v = parseInt(t.slice(0, -1), 16);
  else if (/^0b[01]+$/.test(t)) v = parseInt(t.slice(2), 2);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else return undefined;
  return Number.isSafeInteger(v) ? v : undefined;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const word = /^[A-Za-z_$][\w$]*/.exec(rest) ?? /^[0-9][\w]*/.exec(rest);
    if (word) {
      const text = word[0];
      if (/^[0-9]/.test(text)) {
        const value = parseNumber(text);
        if (value === undefined) throw new ExpressionError(`"${text}" is not a number`);
        out.push({ kind: 'number', text, value, at: i });
      } else {
        out.push({ kind: 'name', text, at: i });
      }
      i += text.length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError(`unterminated string starting at column ${i + 1}`);
      out.push({ kind: 'string', text: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (!op) throw new ExpressionError(`unexpected "${c}" at column ${i + 1}`);
    out.push({ kind: 'op', text: op, at: i });
    i += op.length;
  }
  out.push({ kind: 'end', text: '', at: src.length });
  return out;
}

const BINARY_LEVELS: string[][] = [['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>='], ['|', '^', '&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

class Parser {
  private pos = 0;
  /** Nesting of parentheses, brackets and unary operators, bounded so that no input can exhaust the stack. */
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly options: ParseOptions = {},
  ) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  private expect(text: string): void {
    if (!this.isOp(text)) throw new ExpressionError(`expected "${text}" at column ${this.peek().at + 1}`);
    this.pos++;
  }

  parseAll(): Node {
    if (this.peek().kind === 'end') throw new ExpressionError('the expression is empty');
    const n = this.binary(0);
    const t = this.peek();
    if (t.kind !== 'end') throw new ExpressionError(`unexpected "${t.text}" at column ${t.at + 1}`);
    return n;
  }

  private binary(level: number): Node {
    if (level === BINARY_LEVELS.length) {
      if (++this.depth > 100) throw new ExpressionError('the expression nests more than 100 levels deep');
      const n = this.unary();
      this.depth--;
      return n;
    }
    let left = this.binary(level + 1);
    const ops = BINARY_LEVELS[level];
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !ops.includes(t.text)) return left;
      this.pos++;
      const right = this.binary(level + 1);
      left = { kind: 'binary', op: t.text, left, right };
      // Comparisons do not chain (`a < b < c` is a mistake, not an idiom, in this language).
      if (level === 2) return left;
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '!' || t.text === '~' || t.text === '*' || t.text === '&')) {
      this.pos++;
      return { kind: 'unary', op: t.text, operand: this.unary() };
    }
    if (t.kind === 'name' && t.text === 'sizeof') {
      this.pos++;
      if (this.isOp('(') && this.typeAhead(this.pos + 1) >= 0) {
        this.pos++;
        const type = this.typeSpec();
        this.expect(')');
        return { kind: 'sizeof', type };
      }
      return { kind: 'sizeof', operand: this.unary() };
    }
    if (this.isOp('(')) {
      const end = this.typeAhead(this.pos + 1);
      if (end >= 0 && this.tokens[end].kind === 'op' && this.tokens[end].text === ')') {
        this.pos++;
        const type = this.typeSpec();
        this.expect(')');
        return { kind: 'cast', type, operand: this.unary() };
      }
    }
    return this.postfix(this.primary());
  }

  /** When a type name starts at token `at`, the index of the token after it (and its `*`s); else -1. */
  private typeAhead(at: number): number {
    let k = at;
    const t = this.tokens[k];
    if (t.kind !== 'name') return -1;
    if (C_TAG_WORDS.has(t.text)) {
      if (this.tokens[k + 1].kind !== 'name') return -1;
      k += 2;
    } else if (C_TYPE_WORDS.has(t.text)) {
      while (this.tokens[k].kind === 'name' && C_TYPE_WORDS.has(this.tokens[k].text)) k++;
    } else if (this.tokens[k + 1].kind === 'op' && (this.tokens[k + 1].text === ')' || this.tokens[k + 1].text === '*') && this.options.isTypeName?.(t.text)) {
      // Only `(name)` and `(name *…)` can be casts; asking about other names would read every unit for nothing.
      k++;
    } else return -1;
    while (this.tokens[k].kind === 'op' && this.tokens[k].text === '*') k++;
    return k;
  }

  private typeSpec(): TypeSpec {
    const words: string[] = [];
    const t = this.peek();
    if (C_TAG_WORDS.has(t.text)) {
      words.push(t.text, this.tokens[this.pos + 1].text);
      this.pos += 2;
    } else {
      while (this.peek().kind === 'name' && (C_TYPE_WORDS.has(this.peek().text) || words.length === 0)) {
        const w = this.peek().text;
        this.pos++;
        if (w !== 'const' && w !== 'volatile') words.push(w);
      }
    }
    let pointers = 0;
    while (this.isOp('*')) {
      this.pos++;
      pointers++;
    }
    return { base: words.join(' ') || 'int', pointers };
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.isOp('.') || this.isOp('->')) {
        const arrow = this.isOp('->');
        this.pos++;
        const t = this.peek();
        if (t.kind !== 'name') throw new ExpressionError(`expected a field name after "${arrow ? '->' : '.'}" at column ${t.at + 1}`);
        this.pos++;
        node = arrow ? { kind: 'member', object: node, name: t.text, arrow } : { kind: 'member', object: node, name: t.text };
      } else if (this.isOp('[')) {
        this.pos++;
        const index = this.binary(0);
        this.expect(']');
        node = { kind: 'index', object: node, index };
      } else {
        return node;
      }
    }
  }

  private primary(): Node {
    const t = this.peek();
    if (t.kind === 'number') {
      this.pos++;
      return { kind: 'number', value: t.value! };
    }
    if (t.kind === 'string') {
      this.pos++;
      return { kind: 'string', value: t.text };
    }
    if (t.kind === 'name') {
      const size = SIZES[t.text.toLowerCase()];
      const next = this.tokens[this.pos + 1];
      if (size !== undefined && next.kind === 'op' && next.text === '[') {
        this.pos++;
        return this.memory(size);
      }
      this.pos++;
      return { kind: 'name', name: t.text };
    }
    if (this.isOp('(')) {
      this.pos++;
      const n = this.binary(0);
      this.expect(')');
      return n;
    }
    if (this.isOp('[')) return this.memory(4);
    if (t.kind === 'end') throw new ExpressionError('the expression ends too early');
    throw new ExpressionError(`unexpected "${t.text}" at column ${t.at + 1}`);
  }

  /** `[seg:offset]` or `[address]`; the caller has consumed the size keyword. */
  private memory(size: 1 | 2 | 4): Node {
    this.expect('[');
    let segment: Node | null = null;
    let address = this.binary(0);
    if (this.isOp(':')) {
      this.pos++;
      segment = address;
      address = this.binary(0);
    }
    this.expect(']');
    return { kind: 'memory', size, segment, address };
  }
}

/** Parses an expression; throws ExpressionError with the column of the problem. */
export function parseExpression(src: string, options: ParseOptions = {}): Node {
  if (typeof src !== 'string') throw new ExpressionError('the expression must be text');
  if (src.length > 4096) throw new ExpressionError('the expression is longer than 4096 characters');
  return new Parser(tokenize(src), options).parseAll();
}
