// Finds the descriptors a NASM source defines and the roles the source gives them: loaded into SS, CS or a data
// segment register by `mov ss, ax` after `mov ax, SEL`, `push SEL / pop ds` or `jmp SEL:target`, or named as one
// (a label or comment that says "stack", "code", "data"). Selectors are evaluated from numbers, `equ`/`%define`
// constants and label differences such as `gdt_code - gdt_start`, against the table `lgdt` loads.
import type { Token } from './nasm-lexer';
import { findSymbol, type DataRun, type KnownByte, type NasmDocument } from './nasm-document';
import type { SegmentRole } from './load-check';

/** A descriptor whose eight bytes are all known from the source. */
export interface DescriptorSlot {
  run: number;
  offset: number;
  low: number;
  high: number;
  /** Where its bytes were written: every line and token involved. */
  bytes: KnownByte[];
  /** Its index in the GDT when it lies in the table `lgdt` loads (or the likeliest GDT). */
  index?: number;
  labels: string[];
}

export interface RoleUse {
  role: SegmentRole;
  register: string;
  selector: number;
  /** The statement that loads the register. */
  line: number;
  start: number;
  end: number;
  text: string;
  slot?: DescriptorSlot;
}

export interface NameRole {
  role: SegmentRole;
  /** The label or comment that gave the role. */
  evidence: string;
}

const SEGMENT_REGISTERS: Record<string, SegmentRole> = { cs: 'CS', ss: 'SS', ds: 'DS', es: 'DS', fs: 'DS', gs: 'DS' };
const GENERAL_16_32 = /^(?:e?[abcd]x|e?[sd]i|e?[sb]p)$/i;
const FAR_BRANCHES = new Set(['jmp', 'call']);
const MAX_EVAL_DEPTH = 16;
/** How far back `mov ax, SEL` may be from `mov ds, ax`. */
const MAX_LOOKBACK = 12;

type Value = { kind: 'number'; value: number } | { kind: 'place'; run: number; offset: number };

/** Evaluates a constant expression: numbers, symbols, + - * | & << >>, parentheses. Undefined when unknown. */
export function evaluate(doc: NasmDocument, tokens: Token[], scope: string | undefined, depth = 0): Value | undefined {
  if (depth > MAX_EVAL_DEPTH) return undefined;
  let pos = 0;
  const peek = () => tokens[pos];
  const operatorAt = (): string | undefined => {
    const t = tokens[pos];
    if (!t || t.kind !== 'punctuation') return undefined;
    const next = tokens[pos + 1];
    if ((t.text === '<' || t.text === '>') && next?.text === t.text && next.start === t.end) return t.text + t.text;
    return t.text;
  };
  const primary = (): Value | undefined => {
    const t = peek();
    if (!t) return undefined;
    pos++;
    if (t.kind === 'number') return t.value === undefined ? undefined : { kind: 'number', value: Number(t.value) };
    if (t.text === '(') {
      const v = expression(0);
      if (peek()?.text !== ')') return undefined;
      pos++;
      return v;
    }
    if (t.text === '-' || t.text === '~') {
      const v = primary();
      if (v?.kind !== 'number') return undefined;
      return { kind: 'number', value: t.text === '-' ? -v.value : ~v.value };
    }
    if (t.kind === 'identifier') {
      const place = doc.places.get(t.text.startsWith('.') && scope ? scope + t.text : t.text);
      if (place) return { kind: 'place', ...place };
      const symbol = findSymbol(doc, t.text, scope);
      if (symbol?.value) return evaluate(doc, symbol.value, symbol.parent ?? scope, depth + 1);
    }
    return undefined;
  };
  const PRECEDENCE: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6 };
  const expression = (minPrecedence: number): Value | undefined => {
    let left = primary();
    for (;;) {
      const op = operatorAt();
      if (!op || !(op in PRECEDENCE) || PRECEDENCE[op] < minPrecedence) return left;
      pos += op.length;
      const right = expression(PRECEDENCE[op] + 1);
      left = combine(op, left, right);
    }
  };
  const result = expression(0);
  return pos === tokens.length ? result : undefined;
}

function combine(op: string, a: Value | undefined, b: Value | undefined): Value | undefined {
  if (!a || !b) return undefined;
  if (a.kind === 'place' && b.kind === 'place') return op === '-' && a.run === b.run ? { kind: 'number', value: a.offset - b.offset } : undefined;
  if (a.kind === 'place' && b.kind === 'number' && (op === '+' || op === '-')) return { ...a, offset: a.offset + (op === '+' ? b.value : -b.value) };
  if (a.kind !== 'number' || b.kind !== 'number') return undefined;
  const x = a.value;
  const y = b.value;
  switch (op) {
    case '+': return { kind: 'number', value: x + y };
    case '-': return { kind: 'number', value: x - y };
    case '*': return { kind: 'number', value: x * y };
    case '/': return y === 0 ? undefined : { kind: 'number', value: Math.trunc(x / y) };
    case '|': return { kind: 'number', value: x | y };
    case '&': return { kind: 'number', value: x & y };
    case '^': return { kind: 'number', value: x ^ y };
    case '<<': return { kind: 'number', value: x << y };
    case '>>': return { kind: 'number', value: x >>> y };
  }
  return undefined;
}

/** The data run and offset the GDT starts at: the table `lgdt [ptr]` loads (ptr: `dw limit` then `dd base`). */
export function findGdtBase(doc: NasmDocument): { run: number; offset: number } | undefined {
  for (const s of doc.statements) {
    if (s.mnemonic?.text.toLowerCase() !== 'lgdt') continue;
    const pointer = s.operands[0]?.filter((t) => t.kind === 'identifier' && !/^(?:d|q|t)?word$|^fword$/i.test(t.text));
    const pointerLabel = pointer?.[0] && doc.places.get(pointer[0].text.startsWith('.') && s.scope ? s.scope + pointer[0].text : pointer[0].text);
    if (!pointerLabel) continue;
    // The base is the operand of the `dd` (or `dq`) that follows the `dw` limit in the pointer.
    const baseStatement = doc.statements.find((d) => d.place?.run === pointerLabel.run && d.place.offset === pointerLabel.offset + 2);
    const baseValue = baseStatement && evaluate(doc, baseStatement.operands[0] ?? [], baseStatement.scope);
    if (baseValue?.kind === 'place') return baseValue;
  }
  // No lgdt that can be followed: the first label that says gdt.
  for (const run of doc.runs) {
    const label = run.labels.find((l) => /gdt/i.test(l.symbol.name) && !/desc|ptr|pointer|reg|end/i.test(l.symbol.name));
    if (label) return { run: run.id, offset: label.offset };
  }
  return undefined;
}

/** The descriptor whose 8 bytes include `offset` in `run`, aligned to the table base when the run is the GDT. */
export function slotAt(doc: NasmDocument, run: DataRun, offset: number, gdt = findGdtBase(doc)): DescriptorSlot | undefined {
  let start: number | undefined;
  for (const q of run.quadStarts) if (offset >= q && offset < q + 8) start = q;
  if (start === undefined) {
    const base = gdt && gdt.run === run.id ? gdt.offset : run.labels[0]?.offset ?? 0;
    if (offset < base) return undefined;
    start = base + Math.floor((offset - base) / 8) * 8;
  }
  const bytes: KnownByte[] = [];
  for (let i = 0; i < 8; i++) {
    const b = run.bytes.get(start + i);
    if (!b) return undefined;
    bytes.push(b);
  }
  const word = (from: number) => (bytes[from].value | (bytes[from + 1].value << 8) | (bytes[from + 2].value << 16) | (bytes[from + 3].value << 24)) >>> 0;
  const slot: DescriptorSlot = { run: run.id, offset: start, low: word(0), high: word(4), bytes, labels: run.labels.filter((l) => l.offset === start).map((l) => l.symbol.name) };
  if (gdt && gdt.run === run.id && start >= gdt.offset && (start - gdt.offset) % 8 === 0) slot.index = (start - gdt.offset) / 8;
  return slot;
}

/** Every descriptor slot of the source: the GDT's entries, and each `dq` value or `dd` pair elsewhere. */
export function descriptorSlots(doc: NasmDocument): DescriptorSlot[] {
  const gdt = findGdtBase(doc);
  const slots: DescriptorSlot[] = [];
  for (const run of doc.runs) {
    const starts = new Set(run.quadStarts);
    if (gdt && gdt.run === run.id) {
      const end = Math.max(...[...run.bytes.keys(), gdt.offset]);
      for (let o = gdt.offset; o + 8 <= end + 1; o += 8) starts.add(o);
    }
    for (const start of [...starts].sort((a, b) => a - b)) {
      const slot = slotAt(doc, run, start, gdt);
      if (slot && slot.offset === start) slots.push(slot);
    }
  }
  return slots;
}

/** The GDT slot a selector names (TI=0), if the source defines it. */
export function slotForSelector(doc: NasmDocument, selector: number, gdt = findGdtBase(doc)): DescriptorSlot | undefined {
  if (!gdt || selector & 4) return undefined;
  const run = doc.runs[gdt.run];
  const slot = slotAt(doc, run, gdt.offset + (selector & ~7), gdt);
  return slot && slot.offset === gdt.offset + (selector & ~7) ? slot : undefined;
}

function operandText(tokens: Token[]): string {
  return tokens.map((t) => t.text).join(' ');
}

/** The selector value loaded into `register` (a general register) by the nearest earlier `mov register, EXPR`. */
function selectorInRegister(doc: NasmDocument, index: number, register: string): number | undefined {
  const family = register.toLowerCase().replace(/^e/, '');
  for (let i = index - 1; i >= 0 && i >= index - MAX_LOOKBACK; i--) {
    const s = doc.statements[i];
    const m = s.mnemonic?.text.toLowerCase();
    if (!m) continue;
    const target = s.operands[0]?.[0]?.text.toLowerCase().replace(/^e/, '');
    if (target !== family || s.operands[0].length !== 1) continue;
    if (m !== 'mov') return undefined; // the register was changed some other way
    const v = evaluate(doc, s.operands[1] ?? [], s.scope);
    return v?.kind === 'number' ? v.value & 0xffff : undefined;
  }
  return undefined;
}

/** Register family, so that `or al, 1` counts for EAX: a/b/c/d for the lettered registers, else the name. */
function registerFamily(name: string): string {
  const r = name.toLowerCase();
  const lettered = /^e?([abcd])[xlh]$/.exec(r);
  return lettered ? lettered[1] : r.replace(/^e/, '');
}

/** How writing `register` to CR0 changes PE, judged from the `or`/`and`/`bts`/`btr` just before; undefined if unclear. */
function peAfterCr0Write(doc: NasmDocument, index: number, register: string): boolean | undefined {
  const family = registerFamily(register);
  for (let i = index - 1; i >= 0 && i >= index - MAX_LOOKBACK; i--) {
    const s = doc.statements[i];
    const m = s.mnemonic?.text.toLowerCase();
    const target = s.operands[0];
    if (!m || target?.length !== 1 || registerFamily(target[0].text) !== family) continue;
    const v = evaluate(doc, s.operands[1] ?? [], s.scope);
    if (v?.kind !== 'number') return undefined;
    if (m === 'or') return (v.value & 1) === 1 ? true : undefined;
    if (m === 'and') return (v.value & 1) === 0 ? false : undefined;
    if (m === 'bts') return v.value === 0 ? true : undefined;
    if (m === 'btr') return v.value === 0 ? false : undefined;
    return undefined;
  }
  return undefined;
}

/**
 * The loads of segment registers whose selector the source makes evident, in code that runs in protected mode:
 * after a `mov cr0` that sets PE (and before one that clears it), or, when the source never says, under `bits 32`.
 * Real-mode loads take paragraph numbers, not selectors, and are left alone.
 */
export function segmentLoads(doc: NasmDocument): RoleUse[] {
  const uses: RoleUse[] = [];
  const gdt = findGdtBase(doc);
  let bits = 16;
  let pe: boolean | undefined;
  doc.statements.forEach((s, index) => {
    const m = s.mnemonic?.text.toLowerCase();
    if (!m || !s.mnemonic) return;
    if ((m === 'bits' || m === 'use16' || m === 'use32') && (s.operands[0]?.[0]?.value !== undefined || m !== 'bits')) {
      bits = m === 'use16' ? 16 : m === 'use32' ? 32 : Number(s.operands[0][0].value);
      return;
    }
    if (m === 'mov' && s.operands[0]?.[0]?.text.toLowerCase() === 'cr0' && s.operands[1]?.length === 1) {
      pe = peAfterCr0Write(doc, index, s.operands[1][0].text);
      return;
    }
    if (!(pe ?? bits === 32)) return;
    let register: string | undefined;
    let selector: number | undefined;
    if (m === 'mov' && s.operands.length === 2 && s.operands[0].length === 1) {
      register = s.operands[0][0].text.toLowerCase();
      const source = s.operands[1];
      if (!(register in SEGMENT_REGISTERS) || source.length !== 1 || !GENERAL_16_32.test(source[0].text)) return;
      selector = selectorInRegister(doc, index, source[0].text);
    } else if (m === 'pop' && s.operands.length === 1 && s.operands[0].length === 1) {
      register = s.operands[0][0].text.toLowerCase();
      if (!(register in SEGMENT_REGISTERS)) return;
      const previous = doc.statements.slice(0, index).reverse().find((p) => p.mnemonic);
      if (previous?.mnemonic?.text.toLowerCase() !== 'push') return;
      const tokens = (previous.operands[0] ?? []).filter((t) => !/^(?:word|dword)$/i.test(t.text));
      const v = evaluate(doc, tokens, previous.scope);
      selector = v?.kind === 'number' ? v.value & 0xffff : undefined;
    } else if (FAR_BRANCHES.has(m) && s.operands.length === 1) {
      const tokens = s.operands[0].filter((t) => !/^(?:word|dword|far)$/i.test(t.text));
      const colon = tokens.findIndex((t) => t.text === ':');
      if (colon <= 0) return;
      register = 'cs';
      const v = evaluate(doc, tokens.slice(0, colon), s.scope);
      selector = v?.kind === 'number' ? v.value & 0xffff : undefined;
    }
    if (!register || selector === undefined) return;
    const line = s.tokens;
    uses.push({
      role: SEGMENT_REGISTERS[register],
      register: register.toUpperCase(),
      selector,
      line: s.line,
      start: line[0].start,
      end: line[line.length - 1].end,
      text: `${s.mnemonic.text} ${s.operands.map(operandText).join(', ')}`,
      slot: slotForSelector(doc, selector, gdt),
    });
  });
  return uses;
}

/** The role a descriptor's label or its comments give it: "stack" → SS, "code" → CS, "data"/"video" → data. */
export function roleFromNames(doc: NasmDocument, slot: DescriptorSlot): NameRole | undefined {
  const lines = new Set(slot.bytes.map((b) => b.line));
  const first = Math.min(...lines);
  const texts: string[] = [...slot.labels];
  for (const line of lines) if (doc.statements[line].comment) texts.push(doc.statements[line].comment!);
  // A comment on its own line just above the descriptor names it too (`; stack segment` then `dq ...`).
  const above = doc.statements[first - 1];
  if (above && !above.mnemonic && above.comment) texts.push(above.comment);
  const rules: [RegExp, SegmentRole][] = [
    [/stack|(?:^|[^a-z])ss(?:[^a-z]|$)/i, 'SS'],
    [/code|(?:^|[^a-z])(?:cs|text)(?:[^a-z]|$)/i, 'CS'],
    [/data|video|vga|(?:^|[^a-z])ds(?:[^a-z]|$)/i, 'DS'],
  ];
  for (const text of texts) {
    for (const [re, role] of rules) if (re.test(text)) return { role, evidence: text };
  }
  return undefined;
}

