// The debugger's code breakpoints, whatever set them (source line, Disassembly view, function name), as one table
// keyed by linear address. The CPU's run loop only checks `cpu.breakpoints` (a Set of linear addresses); this
// table decides, when it stops there, whether the stop stands: condition, hit count, logpoint.

import type { ImageSymbol, LineRow } from '../engine/machine/loaders';
import { parseExpression, type Node, type ParseOptions } from './expression/parse';
import { evaluateNode, formatValue, truthy, type EvalContext } from './expression/evaluate';

export type BreakpointKind = 'source' | 'instruction' | 'function';

export interface BreakpointRequest {
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface BreakpointEntry {
  id: number;
  kind: BreakpointKind;
  /** Linear address, or -1 when it could not be placed. */
  address: number;
  verified: boolean;
  /** Why it is not verified, or a note for the user. */
  message?: string;
  /** Source breakpoints: the line it landed on (the first line at or after the requested one that has code). */
  line?: number;
  source?: string;
  condition: Node | null;
  hit: HitCondition | null;
  log: LogTemplate | null;
  hits: number;
}

export interface HitCondition {
  op: '==' | '>=' | '>' | '<' | '<=' | '%';
  n: number;
}

/** `5`, `== 5`, `>= 5`, `% 2` … (a plain number means "on the Nth hit"). */
export function parseHitCondition(text: string): HitCondition {
  const m = /^\s*(==|>=|<=|>|<|%)?\s*([0-9]+)\s*$/.exec(text);
  if (!m) throw new Error(`hit count "${text}" must be a number, optionally after ==, >=, >, <, <= or %`);
  const n = Number(m[2]);
  if (m[1] === '%' && n === 0) throw new Error('hit count "% 0" would divide by zero');
  return { op: (m[1] ?? '==') as HitCondition['op'], n };
}

export function hitMatches(h: HitCondition, hits: number): boolean {
  switch (h.op) {
    case '==':
      return hits === h.n;
    case '>=':
      return hits >= h.n;
    case '>':
      return hits > h.n;
    case '<':
      return hits < h.n;
    case '<=':
      return hits <= h.n;
    case '%':
      return hits % h.n === 0;
  }
}

/** A logpoint message: literal text with `{expression}` parts. `{{` and `}}` are literal braces. */
export type LogTemplate = (string | Node)[];

export function parseLogMessage(text: string, options: ParseOptions = {}): LogTemplate {
  const parts: LogTemplate = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      literal += c;
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) throw new Error(`log message: "{" at column ${i + 1} is not closed`);
      if (literal) parts.push(literal);
      literal = '';
      parts.push(parseExpression(text.slice(i + 1, end), options));
      i = end;
    } else {
      literal += c;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

export function renderLogMessage(t: LogTemplate, ctx: EvalContext): string {
  return t
    .map((p) => {
      if (typeof p === 'string') return p;
      try {
        return formatValue(evaluateNode(p, ctx));
      } catch (e) {
        return `{error: ${(e as Error).message}}`;
      }
    })
    .join('');
}

export interface HitDecision {
  stop: boolean;
  /** Breakpoints that asked for the stop. */
  ids: number[];
  /** Logpoint lines produced at this address. */
  logs: string[];
  /** Conditions that failed to evaluate (the stop is taken for them, so the user sees the problem). */
  errors: string[];
}

export class BreakpointTable {
  /** Names of the program's types, so conditions can hold casts such as `(u32)x` (set when there is DWARF). */
  isTypeName?: (name: string) => boolean;
  private nextId = 1;
  private readonly entries = new Map<BreakpointKind | string, BreakpointEntry[]>();
  /** The verified entries by address, so a stop looks only at its own (a list may hold tens of thousands). */
  private byAddress: Map<number, BreakpointEntry[]> | null = null;
  /** Conditions and log messages parsed in the current request, by text: a long list often repeats them. */
  private parsed = new Map<string, Node | LogTemplate>();

  /** Sets the breakpoints of one group (a source file, all instruction breakpoints, all function ones). */
  private replace(group: string, list: BreakpointEntry[]): BreakpointEntry[] {
    this.entries.set(group, list);
    this.byAddress = null;
    this.parsed = new Map();
    return list;
  }

  /** Parses once per distinct text (the trees are only read, so entries can share one). */
  private parseOnce<T extends Node | LogTemplate>(key: string, parse: () => T): T {
    let v = this.parsed.get(key) as T | undefined;
    if (v === undefined) {
      v = parse();
      this.parsed.set(key, v);
    }
    return v;
  }

  private make(kind: BreakpointKind, address: number, req: BreakpointRequest, message?: string): BreakpointEntry {
    const e: BreakpointEntry = { id: this.nextId++, kind, address, verified: address >= 0, message, condition: null, hit: null, log: null, hits: 0 };
    try {
      const options = { isTypeName: this.isTypeName };
      const { condition, logMessage } = req;
      if (condition?.trim()) e.condition = this.parseOnce('c' + condition, () => parseExpression(condition, options));
      if (req.hitCondition?.trim()) e.hit = parseHitCondition(req.hitCondition);
      if (logMessage !== undefined && logMessage !== '') e.log = this.parseOnce('l' + logMessage, () => parseLogMessage(logMessage, options));
    } catch (err) {
      e.verified = false;
      e.address = -1;
      e.message = (err as Error).message;
    }
    return e;
  }

  setInstruction(list: (BreakpointRequest & { address: number })[]): BreakpointEntry[] {
    return this.replace('instruction', list.map((b) => this.make('instruction', b.address, b)));
  }

  /** `cFunction` places a breakpoint on a C function after its prologue (c/c-debugger.ts), before the symbol table is asked. */
  setFunction(list: (BreakpointRequest & { name: string })[], symbols: readonly ImageSymbol[], cFunction?: (name: string) => number | undefined): BreakpointEntry[] {
    const byName = new Map<string, ImageSymbol>();
    for (const s of symbols) if (!byName.has(s.name)) byName.set(s.name, s);
    return this.replace(
      'function',
      list.map((b) => {
        const c = cFunction?.(b.name);
        if (c !== undefined) return this.make('function', c >>> 0, b);
        const sym = byName.get(b.name);
        if (!sym) {
          const note = symbols.length === 0 ? 'the image has no symbol table' : `no symbol "${b.name}" in the image`;
          return this.make('function', -1, b, note);
        }
        return this.make('function', sym.addr >>> 0, b);
      }),
    );
  }

  /** Source breakpoints for one file, placed on the first line at or after each request that has code. */
  setSource(file: string, list: (BreakpointRequest & { line: number })[], lines: readonly LineRow[]): BreakpointEntry[] {
    // The file's rows by line, then by address: the place of a line is the first row at or after it.
    const rows = lines.filter((r) => sameFile(r.file, file)).sort((x, y) => x.line - y.line || x.addr - y.addr);
    const firstAtOrAfter = (line: number): LineRow | undefined => {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (rows[mid].line < line) lo = mid + 1;
        else hi = mid;
      }
      return rows[lo];
    };
    return this.replace(
      `source:${file}`,
      list.map((b) => {
        const best = firstAtOrAfter(b.line);
        if (!best) {
          const note = lines.length === 0 ? 'the image has no DWARF line information (see the "symbols" launch attribute)' : `no code at or after line ${b.line} of this file`;
          const e = this.make('source', -1, b, note);
          e.line = b.line;
          return e;
        }
        const e = this.make('source', best.addr >>> 0, b);
        e.line = best.line;
        e.source = best.file;
        return e;
      }),
    );
  }

  all(): BreakpointEntry[] {
    return [...this.entries.values()].flat();
  }

  /** The linear addresses the CPU must check. */
  addresses(): Set<number> {
    const s = new Set<number>();
    for (const e of this.all()) if (e.verified && e.address >= 0) s.add(e.address);
    return s;
  }

  private entriesAt(address: number): readonly BreakpointEntry[] {
    if (this.byAddress === null) {
      this.byAddress = new Map();
      for (const e of this.all()) {
        if (!e.verified || e.address < 0) continue;
        const at = this.byAddress.get(e.address);
        if (at) at.push(e);
        else this.byAddress.set(e.address, [e]);
      }
    }
    return this.byAddress.get(address) ?? [];
  }

  /** Decides whether the stop at `address` stands; counts hits of the breakpoints whose condition holds. */
  decide(address: number, ctx: EvalContext): HitDecision {
    const d: HitDecision = { stop: false, ids: [], logs: [], errors: [] };
    for (const e of this.entriesAt(address)) {
      if (e.condition) {
        try {
          if (!truthy(evaluateNode(e.condition, ctx))) continue;
        } catch (err) {
          d.errors.push(`breakpoint ${e.id}: condition failed: ${(err as Error).message}`);
          d.stop = true;
          d.ids.push(e.id);
          continue;
        }
      }
      e.hits++;
      if (e.hit && !hitMatches(e.hit, e.hits)) continue;
      if (e.log) {
        d.logs.push(renderLogMessage(e.log, ctx));
        continue;
      }
      d.stop = true;
      d.ids.push(e.id);
    }
    return d;
  }
}

/** Paths from DWARF may be relative to the compilation directory; a relative one matches by its tail. */
export function sameFile(dwarfPath: string, clientPath: string): boolean {
  const a = dwarfPath.replace(/\\/g, '/').replace(/^\.\//, '');
  const b = clientPath.replace(/\\/g, '/').replace(/^\.\//, '');
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.startsWith('/')) return false;
  return long.endsWith('/' + short);
}
